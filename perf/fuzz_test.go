package perf_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/senfi-sharif/senfi/perf"
)

// FuzzHandlerQueries sends arbitrary query strings to every JSON handler:
// each answers 200 with JSON or 400 problem+json naming one of its
// parameters, never anything else.
func FuzzHandlerQueries(f *testing.F) {
	for _, q := range []string{
		"", "window=5m", "window=1h&top=3", "window=all&window=24h", "top=-1", "top=99999999999999999999",
		"limit=0", "limit=10", "limit=abc", "limit=1e3", "hours=0.5", "hours=NaN", "hours=-Inf", "hours=0x10",
		"points=5", "window=%00", "window=%ff%fe", "endpoint=GET%20%2Fa", "%zz=1", "a=1;b=2", strings.Repeat("top=1&", 50),
	} {
		f.Add(q)
	}
	s := newSite(f)
	s.traffic(f)
	params := []string{"window", "top", "limit", "hours", "points", "endpoint"}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, path := range []string{"summary", "endpoints", "endpoints/" + perf.UnmatchedKey, "slow-requests", "system-metrics"} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.URL.Path = "/api/performance/" + path
			r.URL.RawQuery = rawQuery
			rr := httptest.NewRecorder()
			s.handler.ServeHTTP(rr, r)
			switch rr.Code {
			case http.StatusOK:
				if !json.Valid(rr.Body.Bytes()) {
					t.Fatalf("%s?%s: invalid JSON: %s", path, rawQuery, rr.Body.String())
				}
			case http.StatusBadRequest:
				var p struct {
					Errors []struct{ Field string } `json:"errors"`
				}
				if rr.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rr.Body.Bytes(), &p) != nil ||
					len(p.Errors) != 1 || !slices.Contains(params, p.Errors[0].Field) {
					t.Fatalf("%s?%s: 400 without a problem naming a parameter: %s", path, rawQuery, rr.Body.String())
				}
			default:
				t.Fatalf("%s?%s: status %d: %s", path, rawQuery, rr.Code, rr.Body.String())
			}
		}
	})
}

// FuzzEndpointLookup asks for arbitrary endpoint names: 200 for a known
// one, 404 for an unknown one, 400 for an empty or oversized one.
func FuzzEndpointLookup(f *testing.F) {
	for _, k := range []string{"GET /api/campaigns/{id}", "/api/campaigns/{id}", perf.UnmatchedKey, perf.OverflowKey, "", "GET", " ", "%", "GET /api/campaigns/{id} ", strings.Repeat("x", 2000)} {
		f.Add(k)
	}
	s := newSite(f)
	s.traffic(f)
	h, err := perfHandlers(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.RawQuery = "endpoint=" + strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "#", "%23").Replace(key)
		rr := httptest.NewRecorder()
		h.Endpoint().ServeHTTP(rr, r)
		got := r.URL.Query().Get("endpoint")
		switch {
		case got == "" || len(got) > 1024:
			if rr.Code != http.StatusBadRequest {
				t.Fatalf("%q: status %d, want 400", got, rr.Code)
			}
		case rr.Code != http.StatusOK && rr.Code != http.StatusNotFound:
			t.Fatalf("%q: status %d: %s", got, rr.Code, rr.Body.String())
		}
	})
}

// FuzzRecorderKeys records requests with arbitrary methods and reported
// routes: the endpoint table stays within MaxRoutes, methods within RFC
// 9110's set, and every request is counted once.
func FuzzRecorderKeys(f *testing.F) {
	f.Add("GET", "GET /a/{id}")
	f.Add("BREW", "/pot")
	f.Add("get", "")
	f.Add("", "POST\t /x")
	f.Add("DELETE", "  ")
	f.Add("PATCH", "example.com/x")
	const maxRoutes = 8
	f.Fuzz(func(t *testing.T, method, route string) {
		rec, err := perf.New(perf.Options{MaxRoutes: maxRoutes})
		if err != nil {
			t.Fatal(err)
		}
		h := rec.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { perf.SetRoute(w, route) }))
		for i := range 3 * maxRoutes {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Method = method
			h.ServeHTTP(httptest.NewRecorder(), r)
			// A second, varying route from the same client input.
			r.Method = method + strings.Repeat("X", i%3)
			rec.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				perf.SetRoute(w, route+strings.Repeat("/x", i))
			})).ServeHTTP(httptest.NewRecorder(), r)
		}
		eps := rec.Endpoints(perf.SinceStart)
		if len(eps) > maxRoutes+2 {
			t.Fatalf("%d endpoints", len(eps))
		}
		known := []string{"", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "OTHER"}
		var n uint64
		for _, e := range eps {
			if !slices.Contains(known, e.Method) {
				t.Fatalf("method %q", e.Method)
			}
			n += e.Count
		}
		if n != 6*maxRoutes {
			t.Fatalf("%d requests counted, want %d", n, 6*maxRoutes)
		}
	})
}
