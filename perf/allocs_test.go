package perf_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/senfi-sharif/senfi/perf"
)

// nopWriter is a reusable ResponseWriter that keeps nothing, so that only
// the middleware's allocations are counted.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// TestRequestAllocs holds the package to its goal: a request through the
// Recorder costs no allocation, on the paths of a route read from
// r.Pattern, one reported through a request copy, the unmatched bucket, and
// a slow request's bookkeeping aside. (A minute rotation allocates a new
// slot per endpoint, once a minute; it is not measured here.)
func TestRequestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, which then allocates")
	}
	rec := newRecorder(t, perf.Options{})
	ok := []byte("ok")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/items/{id}", func(w http.ResponseWriter, _ *http.Request) {
		perf.SetUser(w, "42")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(ok)
	})
	tests := []struct {
		name    string
		handler http.Handler
		path    string
	}{
		{"route from r.Pattern", rec.Handler(mux), "/api/items/7"},
		{"route through ReportPattern", rec.Handler(copying(perf.ReportPattern(mux))), "/api/items/7"},
		{"unmatched", rec.Handler(mux), "/nope"},
	}
	// The mux itself allocates (path values, the 404 body): what the
	// Recorder adds is measured against the same request without it.
	allocs := func(h http.Handler, path string) float64 {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		w := &nopWriter{h: make(http.Header)}
		h.ServeHTTP(w, r) // creates the endpoint
		return testing.AllocsPerRun(1000, func() {
			clear(w.h)
			r.Pattern = ""
			h.ServeHTTP(w, r)
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bare := allocs(mux, tt.path)
			if tt.name == "route through ReportPattern" {
				bare = allocs(copying(mux), tt.path)
			}
			assert.Equal(t, bare, allocs(tt.handler, tt.path))
		})
	}
	t.Run("plain handler", func(t *testing.T) {
		h := rec.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			perf.SetRoute(w, "/plain")
			_, _ = w.Write(ok)
		}))
		assert.Zero(t, allocs(h, "/plain"))
	})
}
