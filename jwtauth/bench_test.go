package jwtauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/senfi-sharif/senfi/jwtauth"
)

// nopWriter is a ResponseWriter that costs nothing, so the benchmarks
// measure the middleware and not the recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b, nil)
	p := f.login(b, "42", "head")
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, bc := range []struct {
		name string
		mod  func(*jwtauth.Options)
	}{
		{"cached", nil},
		{"uncached", func(o *jwtauth.Options) { o.DisableCache = true }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			fx := newFixture(b, bc.mod)
			p = fx.login(b, "42", "head")
			h := fx.auth.Authenticate(final)
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+p.AccessToken)
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

func BenchmarkIssue(b *testing.B) {
	f := newFixture(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.auth.Issue(context.Background(), jwtauth.IssueOptions{Subject: "42"}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAuthenticateAllocs pins the cost of the common case: a session
// presenting the same access token again. Only the context node and the
// request copy (r.WithContext) may allocate.
func TestAuthenticateAllocs(t *testing.T) {
	f := newFixture(t, nil)
	p := f.login(t, "42", "head")
	h := f.auth.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+p.AccessToken)
	w := &nopWriter{h: http.Header{}}
	h.ServeHTTP(w, r) // fill the cache
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); n > 2 {
		t.Fatalf("Authenticate allocates %v times per request with a cached token, want <= 2", n)
	}
}
