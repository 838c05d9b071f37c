package perf_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/senfi-sharif/senfi/perf"
)

// The Recorder sits outside middleware that passes a copy of the request
// down (here one that sets X-Request-ID and reports the user, as the audit
// and authentication layers do), so ReportPattern carries the pattern the
// ServeMux matched back up to it. A fixed clock that handlers advance
// makes the durations exact for the example.
func ExampleRecorder_Handler() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	rec, err := perf.New(perf.Options{Now: clock, SlowThreshold: 2 * time.Second})
	if err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/campaigns/{id}", func(w http.ResponseWriter, _ *http.Request) {
		now = now.Add(40 * time.Millisecond)
		_, _ = io.WriteString(w, `{"id":1}`)
	})
	mux.HandleFunc("GET /api/report", func(w http.ResponseWriter, _ *http.Request) {
		now = now.Add(2500 * time.Millisecond)
		_, _ = io.WriteString(w, "{}")
	})
	type ctxKey struct{}
	auditAndAuth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-ID", "req-1")
			perf.SetUser(w, "user-42")
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, true)))
		})
	}
	h := rec.Handler(auditAndAuth(perf.ReportPattern(mux)))

	for _, path := range []string{"/api/campaigns/1", "/api/campaigns/2", "/api/report", "/wp-login.php"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	for _, e := range rec.Endpoints(perf.LastHour) {
		fmt.Printf("%-26s count %d, mean %v, errors %d\n", e.Key, e.Count, e.Mean, e.Errors())
	}
	for _, s := range rec.SlowRequests(0) {
		fmt.Printf("slow: %s took %v (request %s, user %s)\n", s.Endpoint, s.Duration, s.RequestID, s.User)
	}
	// Output:
	// GET /api/campaigns/{id}    count 2, mean 40ms, errors 0
	// GET /api/report            count 1, mean 2.5s, errors 0
	// (unmatched)                count 1, mean 0s, errors 1
	// slow: GET /api/report took 2.5s (request req-1, user user-42)
}

// Handlers serve the Django original's /api/performance/* endpoints. The
// data needs authorization (here a stand-in that checks a header); the
// dashboard page does not, because it holds no data.
func ExampleHandlers_Register() {
	rec, err := perf.New(perf.Options{})
	if err != nil {
		panic(err)
	}
	handlers, err := perf.NewHandlers(perf.HandlerOptions{Recorder: rec})
	if err != nil {
		panic(err)
	}
	adminsOnly := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer admin" {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	if err := handlers.Register(mux, "/api/performance", adminsOnly); err != nil {
		panic(err)
	}

	get := func(target, auth string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Header.Set("Authorization", auth)
		rr := httptest.NewRecorder()
		mux.ServeHTTP(rr, r)
		return rr
	}
	fmt.Println(get("/api/performance/slow-requests", "").Code)
	fmt.Print(get("/api/performance/slow-requests?limit=5", "Bearer admin").Body.String())
	rr := get("/api/performance/slow-requests?limit=many", "Bearer admin")
	fmt.Println(rr.Code, rr.Header().Get("Content-Type"))
	page := get("/api/performance/dashboard", "")
	fmt.Println(page.Code, strings.Contains(page.Header().Get("Content-Security-Policy"), "script-src 'self'"))
	// Output:
	// 403
	// {"capacity":100,"slow_requests":[],"success":true,"threshold_seconds":2}
	// 400 application/problem+json
	// 200 true
}
