package perf_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/senfi-sharif/senfi/perf"
)

// BenchmarkRecorder measures what the Recorder adds to a request: "bare"
// is the handler alone; "recorder" has the route reported with SetRoute
// (what ReportPattern does when middleware copies the request), so that no
// ServeMux is measured. bench/'s BenchmarkPerf compares it with promhttp.
// Run with -cpu 1,2,4 to see contention on one endpoint under RunParallel.
func BenchmarkRecorder(b *testing.B) {
	ok := []byte("ok")
	final := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		perf.SetRoute(w, "GET /api/items/{id}")
		_, _ = w.Write(ok)
	})
	rec, err := perf.New(perf.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", final},
		{"recorder", rec.Handler(final)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/api/items/7", nil)
			w := &nopWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, r)
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest(http.MethodGet, "/api/items/7", nil)
				w := &nopWriter{h: make(http.Header)}
				for pb.Next() {
					bc.h.ServeHTTP(w, r)
				}
			})
		})
	}
}
