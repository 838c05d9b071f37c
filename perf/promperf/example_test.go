package promperf_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/senfi-sharif/senfi/perf"
	"github.com/senfi-sharif/senfi/perf/promperf"
)

// A Recorder's figures on /metrics: request counts by route pattern and
// status class, and an exact duration histogram.
func ExampleNew() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec, err := perf.New(perf.Options{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/items/{id}", func(http.ResponseWriter, *http.Request) { now = now.Add(3 * time.Millisecond) })
	app := rec.Handler(mux)
	for _, id := range []string{"1", "2", "3"} {
		app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/items/"+id, nil))
	}

	collector, err := promperf.New(promperf.Options{Recorder: rec})
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector)
	rr := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))

	sc := bufio.NewScanner(rr.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "senfi_http_requests_total{") ||
			strings.Contains(line, `le="0.002048"`) || strings.Contains(line, `le="0.004096"`) ||
			strings.HasPrefix(line, "senfi_http_request_duration_seconds_count") {
			fmt.Println(line)
		}
	}
	// Output:
	// senfi_http_request_duration_seconds_bucket{method="GET",route="/api/items/{id}",le="0.002048"} 0
	// senfi_http_request_duration_seconds_bucket{method="GET",route="/api/items/{id}",le="0.004096"} 3
	// senfi_http_request_duration_seconds_count{method="GET",route="/api/items/{id}"} 3
	// senfi_http_requests_total{method="GET",route="/api/items/{id}",status="2xx"} 3
}
