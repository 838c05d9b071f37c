package openapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/senfi-sharif/senfi/example/internal/openapi"
)

// Serve the document and its viewers, and fetch the JSON form as Swagger
// UI does.
func ExampleHandlers_Register() {
	doc, err := openapi.New(openapi.Options{AppVersion: "1.0.0"})
	if err != nil {
		panic(err)
	}
	h, err := openapi.NewHandlers(openapi.HandlerOptions{Document: doc})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	if err := h.Register(mux); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res, err := http.Get(srv.URL + "/api/schema/?format=json")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	fmt.Println(string(body[:20]))

	res, err = http.Get(srv.URL + "/api/docs/")
	if err != nil {
		panic(err)
	}
	_ = res.Body.Close()
	fmt.Println(strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "default-src 'none'; script-src 'self';"))
	// Output:
	// 200 application/json
	// {"openapi":"3.1.0","
	// true
}

// Check a response against the document: here one that lacks a member the
// document requires.
func ExampleSpec_Check() {
	doc, err := openapi.New(openapi.Options{AppVersion: "1.0.0"})
	if err != nil {
		panic(err)
	}
	spec, err := doc.Load(context.Background())
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/campaigns/approved", nil)
	err = spec.Check(context.Background(), openapi.Exchange{
		Request: req,
		Status:  http.StatusOK,
		Header:  http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}},
		Body:    []byte(`{"success": true, "campaigns": []}`),
	})
	fmt.Println(err != nil && strings.Contains(err.Error(), "total"))
	// Output:
	// true
}
