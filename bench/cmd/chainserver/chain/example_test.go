package chain_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/senfi-sharif/senfi/bench/cmd/chainserver/chain"
)

// The senfi chain around the trivial handler, its layers, and an
// authenticated request through it.
func ExampleNewSenfi() {
	dir, err := os.MkdirTemp("", "chain-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	opts := chain.Options{
		Hosts:  []string{"api.example.com"},
		Origin: "https://app.example.com",
		Secret: chain.NewSecret(),
		Dir:    dir,
	}
	s, err := chain.NewSenfi(opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	var names []string
	for _, l := range s.Layers() {
		names = append(names, l.Name)
	}
	fmt.Println(strings.Join(names, " → "))

	token, _ := s.Token(context.Background())
	r := httptest.NewRequest(http.MethodGet, "http://api.example.com"+chain.Path, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	fmt.Print(rec.Code, " ", rec.Body.String())

	_ = s.Close()
	rep, err := s.VerifyLog(opts.Secret)
	fmt.Println("security log records:", rep.Records, err)
	// Output:
	// clientip → perf → problem → audit → recover → secure → ratelimit → jwtauth → report
	// 200 ok
	// security log records: 1 <nil>
}
