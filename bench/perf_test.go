package bench

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/senfi-sharif/senfi/perf"
)

// perfRoute is the route every implementation labels the benchmark request
// with (benchURL's path).
const perfRoute = "/v1/items"

// newPerfMux returns a ServeMux serving final at perfRoute, wrapped by
// route (nil: final itself).
func newPerfMux(route func(http.Handler) http.Handler) *http.ServeMux {
	h := http.Handler(final)
	if route != nil {
		h = route(final)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+perfRoute, h)
	return mux
}

// promInstrumented is promhttp's per-route instrumentation as its docs show
// it: a request counter and a duration histogram (default buckets), both by
// status code and method, curried with the route, the route's handler
// wrapped in InstrumentHandlerDuration and InstrumentHandlerCounter. It
// records what senfi's Recorder records (count by status, latency
// distribution, per route and method), less the response bytes, the
// rolling windows and the slow-request log.
func promInstrumented(b *testing.B) func(http.Handler) http.Handler {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "Requests by route, status code and method.",
	}, []string{"handler", "code", "method"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "Request durations by route, status code and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{"handler", "code", "method"})
	reg.MustRegister(requests, duration)
	route := prometheus.Labels{"handler": perfRoute}
	return func(next http.Handler) http.Handler {
		return promhttp.InstrumentHandlerDuration(duration.MustCurryWith(route),
			promhttp.InstrumentHandlerCounter(requests.MustCurryWith(route), next))
	}
}

// BenchmarkPerf compares the per-request cost of senfi's perf.Recorder
// (around the ServeMux, route from r.Pattern) with promhttp's
// InstrumentHandlerDuration + InstrumentHandlerCounter on the route, both
// measuring GET /v1/items served by the same mux, serially and with
// b.RunParallel (all goroutines on the one route: the contended case).
// The Recorder also keeps the response bytes, rolling windows and the
// slow-request log; promhttp's figures are since start only.
func BenchmarkPerf(b *testing.B) {
	reqs := makeRequests(http.MethodGet, http.Header{"Accept": {"application/json"}})
	rec, err := perf.New(perf.Options{})
	if err != nil {
		b.Fatal(err)
	}
	impls := []struct {
		name    string
		handler http.Handler
	}{
		{"bare", newPerfMux(nil)},
		{"senfi", rec.Handler(newPerfMux(nil))},
		{"promhttp", newPerfMux(promInstrumented(b))},
	}
	for _, impl := range impls {
		expectation{status: http.StatusOK}.check(b, impl.handler, reqs)
	}
	if _, err := rec.Endpoint("GET "+perfRoute, perf.SinceStart); err != nil {
		b.Fatalf("the Recorder did not file the request under its route: %v", err)
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) { serve(b, impl.handler, reqs) })
	}
	for _, impl := range impls {
		b.Run(impl.name+"-parallel", func(b *testing.B) { serveParallel(b, impl.handler, reqs) })
	}
}
