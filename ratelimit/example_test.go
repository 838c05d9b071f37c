package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/senfi-sharif/senfi/ratelimit"
)

// A login endpoint allows 3 attempts a minute per client address: the
// fourth gets 429 with Retry-After, and every response carries the
// RateLimit-Policy and RateLimit headers.
func ExampleLimiter_Handler() {
	policy, err := ratelimit.ParsePolicy("3/m")
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	login, err := ratelimit.New(ratelimit.Options{
		Name:   "login",
		Policy: policy,
		Key:    ratelimit.KeyByIP(),
		Now:    func() time.Time { return now }, // a fixed clock, for the example
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/auth/login", login.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, `{"access":"..."}`)
	})))

	for i := 1; i <= 4; i++ {
		r := httptest.NewRequest(http.MethodPost, "/api/auth/login", nil)
		r.RemoteAddr = "203.0.113.9:51234"
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		fmt.Printf("%d: %d RateLimit-Policy: %s RateLimit: %s", i, rec.Code,
			rec.Header().Get("RateLimit-Policy"), rec.Header().Get("RateLimit"))
		if ra := rec.Header().Get("Retry-After"); ra != "" {
			fmt.Printf(" Retry-After: %s %s", ra, rec.Header().Get("Content-Type"))
		}
		fmt.Println()
	}
	// Output:
	// 1: 200 RateLimit-Policy: "login";q=3;w=60 RateLimit: "login";r=2;t=20
	// 2: 200 RateLimit-Policy: "login";q=3;w=60 RateLimit: "login";r=1;t=40
	// 3: 200 RateLimit-Policy: "login";q=3;w=60 RateLimit: "login";r=0;t=60
	// 4: 429 RateLimit-Policy: "login";q=3;w=60 RateLimit: "login";r=0;t=60 Retry-After: 20 application/problem+json
}

// One limiter mounted on several routes of a ServeMux, keyed by route
// pattern and client address: each client has a budget per route, and
// new paths under one pattern share it.
func ExampleCompose() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	perRoute, err := ratelimit.New(ratelimit.Options{
		Name:   "api",
		Policy: ratelimit.Policy{Limit: 2, Period: time.Minute},
		Key:    ratelimit.Compose(ratelimit.KeyByRoute(), ratelimit.KeyByIP()),
		Now:    func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mux := http.NewServeMux()
	mux.Handle("GET /campaigns/{id}", perRoute.Handler(ok))
	mux.Handle("GET /signatures/{id}", perRoute.Handler(ok))

	for _, req := range []struct{ path, client string }{
		{"/campaigns/1", "203.0.113.9"},
		{"/campaigns/2", "203.0.113.9"},
		{"/campaigns/3", "203.0.113.9"}, // third on GET /campaigns/{id}
		{"/signatures/1", "203.0.113.9"},
		{"/campaigns/1", "198.51.100.7"},
	} {
		r := httptest.NewRequest(http.MethodGet, req.path, nil)
		r.RemoteAddr = req.client + ":443"
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		fmt.Println(req.client, req.path, rec.Code)
	}
	// Output:
	// 203.0.113.9 /campaigns/1 200
	// 203.0.113.9 /campaigns/2 200
	// 203.0.113.9 /campaigns/3 429
	// 203.0.113.9 /signatures/1 200
	// 198.51.100.7 /campaigns/1 200
}

// ParsePolicy reads django-ratelimit's notation, with an optional burst.
func ExampleParsePolicy() {
	for _, s := range []string{"5/m", "100/h", "3/10m", "10/s burst 20", "0/m", "5/week"} {
		p, err := ratelimit.ParsePolicy(s)
		if err != nil {
			fmt.Printf("%-14q invalid\n", s)
			continue
		}
		fmt.Printf("%-14q Limit %d, Period %v, Burst %d: %s\n", s, p.Limit, p.Period, p.Burst, p)
	}
	// Output:
	// "5/m"          Limit 5, Period 1m0s, Burst 0: 5/m
	// "100/h"        Limit 100, Period 1h0m0s, Burst 0: 100/h
	// "3/10m"        Limit 3, Period 10m0s, Burst 0: 3/10m
	// "10/s burst 20" Limit 10, Period 1s, Burst 20: 10/s burst 20
	// "0/m"          invalid
	// "5/week"       invalid
}
