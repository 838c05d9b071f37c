package audit_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/senfi-sharif/senfi/audit"
)

// Example logs two security events to stdout. Secrets are redacted by key
// and by value; ctx supplies the request ID.
func Example() {
	log, err := audit.New(audit.Options{
		Sinks: []audit.Sink{audit.NewWriterSink("stdout", os.Stdout)},
		Now:   exampleClock, // a fixed clock, for the example's output
	})
	if err != nil {
		panic(err)
	}
	defer log.Close()
	ctx := audit.WithRequestID(context.Background(), "req-1")

	log.Log(ctx, audit.AuthnLoginFail, audit.Failure,
		slog.String(audit.KeyUserEmail, "ali@example.com"),
		slog.String("password", "hunter2"),
		slog.String("reason", "bad_password"))
	log.Log(ctx, audit.AuthnTokenReuse, audit.Failure,
		slog.String(audit.KeyUserID, "42"),
		slog.String("presented", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl"))
	// Output:
	// {"time":"2026-01-02T03:04:05.000Z","level":"WARN","event":"authn_login_fail","outcome":"failure","request_id":"req-1","user_email":"ali@example.com","password":"[REDACTED]","reason":"bad_password"}
	// {"time":"2026-01-02T03:04:05.000Z","level":"CRITICAL","event":"authn_token_reuse","outcome":"failure","request_id":"req-1","user_id":"42","presented":"[REDACTED]"}
}

// ExampleLogger_Recover shows the response a panic becomes: a 500
// problem+json with the request ID and nothing about the failure.
func ExampleLogger_Recover() {
	log, err := audit.New(audit.Options{Sinks: []audit.Sink{audit.NewWriterSink("discard", discard{})}})
	if err != nil {
		panic(err)
	}
	defer log.Close()
	h := log.Requests(log.Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("database password rejected")
	})))
	req := httptest.NewRequest(http.MethodGet, "/api/campaigns", nil)
	req.Header.Set(audit.HeaderRequestID, "req-7")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body.String())
	// Output:
	// 500 application/problem+json
	// {"type":"about:blank","title":"Internal Server Error","status":500,"detail":"The server failed to process the request. Quote the request ID if you report the problem.","request_id":"req-7"}
}

// ExampleVerify chains a file sink, deletes a record from the file, and
// verifies it.
func ExampleVerify() {
	dir, err := os.MkdirTemp("", "audit-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.log")
	key := []byte("an example key of at least 32 bytes, from crypto/rand in real life")

	file, err := audit.NewFileSink(audit.FileOptions{Path: path})
	if err != nil {
		panic(err)
	}
	chain, err := audit.NewChain(file, audit.ChainOptions{Key: key})
	if err != nil {
		panic(err)
	}
	log, err := audit.New(audit.Options{Sinks: []audit.Sink{chain}})
	if err != nil {
		panic(err)
	}
	for _, user := range []string{"1", "2", "3", "4"} {
		log.Log(context.Background(), audit.AuthnLoginSuccess, audit.Success, slog.String(audit.KeyUserID, user))
	}
	log.Close()

	rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: key})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.OK(), rep.Records)

	// Someone removes the third line.
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(path, []byte(lines[0]+lines[1]+lines[3]), 0o600)

	rep, err = audit.Verify([]string{path}, audit.VerifyOptions{Key: key})
	if err != nil {
		panic(err)
	}
	p := rep.Problem
	fmt.Printf("%s at line %d: %s\n", p.Kind, p.Line, p.Detail)
	// Output:
	// true 4
	// removed at line 3: seq 3 is missing before seq 4
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func ExampleSetUser() {
	log, err := audit.New(audit.Options{Sinks: []audit.Sink{audit.NewWriterSink("stdout", os.Stdout)}, Now: exampleClock})
	if err != nil {
		panic(err)
	}
	// authenticated stands for the authentication middleware: it knows the
	// user and reports it to the request log, which runs outside it.
	authenticated := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			audit.SetUser(w, "42", "ali@example.com")
			next.ServeHTTP(w, r)
		})
	}
	h := log.Requests(authenticated(okHandler))
	req := httptest.NewRequest(http.MethodGet, "/api/auth/user", nil)
	req.Header.Set(audit.HeaderRequestID, "req-1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	log.Close()
	// Output:
	// {"time":"2026-01-02T03:04:05.000Z","level":"INFO","event":"http_request","outcome":"success","request_id":"req-1","client_ip":"192.0.2.1","user_id":"42","user_email":"ali@example.com","method":"GET","path":"/api/auth/user","status":200,"bytes":2,"duration_ms":0}
}
