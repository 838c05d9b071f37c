package perf_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/perf"
)

// site is an application with a Recorder, a Sampler and the handlers
// mounted as the Senfi example mounts them.
type site struct {
	clock   *fakeClock
	rec     *perf.Recorder
	sampler *perf.Sampler
	handler http.Handler
}

// allow is the "protect" middleware of tests: everyone may read.
func allow(h http.Handler) http.Handler { return h }

func newSite(t testing.TB) *site {
	t.Helper()
	s := &site{clock: newClock()}
	s.rec = newRecorder(t, perf.Options{Now: s.clock.Now, SlowThreshold: time.Second})
	s.sampler = newSampler(t, perf.SamplerOptions{
		Now:   s.clock.Now,
		Extra: func(context.Context) map[string]any { return map[string]any{"backup_age_seconds": 90.5} },
	})
	h, err := perfHandlers(s)
	require.NoError(t, err)
	mux := http.NewServeMux()
	require.NoError(t, h.Register(mux, "/api/performance", allow))
	mux.Handle("GET /api/campaigns/{id}", takes(s.clock, 20*time.Millisecond, http.StatusOK, "campaign"))
	mux.Handle("POST /api/campaigns/{id}/sign", takes(s.clock, 1500*time.Millisecond, http.StatusConflict, "dup"))
	mux.Handle("GET /api/report", takes(s.clock, 3*time.Second, http.StatusOK, "report"))
	// What audit (request IDs) and authentication (users) do inside
	// the Recorder in the Senfi chain.
	var n atomic.Int64
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-ID", "req-"+strconv.FormatInt(n.Add(1), 10))
		if strings.HasPrefix(r.URL.Path, "/api/campaigns/") {
			perf.SetUser(w, "user-7")
		}
		perf.ReportPattern(mux).ServeHTTP(w, r)
	})
	s.handler = s.rec.Handler(copying(inner))
	return s
}

// newHandlers returns handlers of a new Recorder, without a Sampler.
func newHandlers(t testing.TB) *perf.Handlers {
	t.Helper()
	h, err := perf.NewHandlers(perf.HandlerOptions{Recorder: newRecorder(t, perf.Options{})})
	require.NoError(t, err)
	return h
}

// perfHandlers returns the handlers of s's Recorder and Sampler.
func perfHandlers(s *site) (*perf.Handlers, error) {
	return perf.NewHandlers(perf.HandlerOptions{Recorder: s.rec, Sampler: s.sampler})
}

func (s *site) traffic(t testing.TB) {
	t.Helper()
	for i := range 20 {
		serve(s.handler, http.MethodGet, "/api/campaigns/"+string(rune('0'+i%10)))
	}
	serve(s.handler, http.MethodPost, "/api/campaigns/3/sign")
	serve(s.handler, http.MethodGet, "/api/report")
	serve(s.handler, http.MethodGet, "/api/nothing-here")
	_, err := s.sampler.Sample(context.Background())
	require.NoError(t, err)
}

// get serves target and decodes the JSON body into a generic map.
func (s *site) get(t testing.TB, target string) (int, http.Header, map[string]any) {
	t.Helper()
	rr := serve(s.handler, http.MethodGet, target)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &body), "%s: %s", target, rr.Body.String())
	return rr.Code, rr.Header(), body
}

// requireKeys fails unless m has every key.
func requireKeys(t testing.TB, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		require.Contains(t, m, k)
	}
}

// The members the Django original returned, and that its frontend reads.
var (
	originalSummaryKeys  = []string{"total_requests", "avg_response_time", "slow_requests", "error_rate", "top_endpoints", "system_health"}
	originalTopKeys      = []string{"endpoint", "count", "avg_time", "error_rate"}
	originalEndpointKeys = []string{"count", "total_time", "avg_time", "min_time", "max_time", "errors"}
	originalDetailKeys   = []string{"endpoint", "count", "avg_time", "min_time", "max_time", "error_rate"}
	originalSlowKeys     = []string{"timestamp", "endpoint", "method", "response_time", "user_email"}
	originalSystemKeys   = []string{"timestamp", "cpu_percent", "memory_percent", "memory_available", "disk_percent", "disk_free"}
	headSystemKeys       = []string{"cpu_percent", "memory_percent", "memory_available_gb", "disk_percent", "disk_free_gb"}
)

func TestSummaryHandler(t *testing.T) {
	s := newSite(t)
	s.traffic(t)
	code, hdr, body := s.get(t, "/api/performance/summary")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "application/json", hdr.Get("Content-Type"))
	assert.Equal(t, "no-store", hdr.Get("Cache-Control"))
	assert.Equal(t, true, body["success"])
	perfm := body["performance"].(map[string]any)
	requireKeys(t, perfm, originalSummaryKeys...)
	requireKeys(t, perfm, "window", "stats", "windows", "series", "slow_threshold_seconds", "started_at",
		"uptime_seconds", "generated_at", "routes", "system", "extra")

	assert.Equal(t, 23.0, perfm["total_requests"])
	assert.Equal(t, 2.0, perfm["slow_requests"], "the 3 s report and the 1.5 s signature")
	assert.InDelta(t, 2*100.0/23, perfm["error_rate"], 1e-9) // the 409 and the 404
	assert.InDelta(t, (20*0.02+1.5+3)/23, perfm["avg_response_time"], 1e-9)
	assert.Contains(t, []any{"healthy", "warning", "critical"}, perfm["system_health"])
	assert.Equal(t, "all", perfm["window"])
	assert.Equal(t, map[string]any{"backup_age_seconds": 90.5}, perfm["extra"])
	assert.Equal(t, map[string]any{"tracked": 3.0, "max": float64(perf.DefaultMaxRoutes), "overflowed": false}, perfm["routes"])

	tops := perfm["top_endpoints"].([]any)
	require.Len(t, tops, 4)
	first := tops[0].(map[string]any)
	requireKeys(t, first, originalTopKeys...)
	assert.Equal(t, "GET /api/campaigns/{id}", first["endpoint"])
	assert.Equal(t, 20.0, first["count"])

	windows := perfm["windows"].(map[string]any)
	requireKeys(t, windows, "5m", "1h", "24h", "all")
	for _, w := range windows {
		requireKeys(t, w.(map[string]any), "count", "p50_time", "p90_time", "p95_time", "p99_time", "status", "requests_per_second")
	}
	series := perfm["series"].(map[string]any)
	assert.Len(t, series["1h"], 60)
	assert.Len(t, series["24h"], 24)
	last := series["1h"].([]any)[59].(map[string]any)
	assert.Equal(t, 23.0, last["count"])
	requireKeys(t, last, "start", "error_rate", "p50_time", "p95_time", "p99_time")
	requireKeys(t, perfm["system"].(map[string]any), originalSystemKeys...)

	_, _, body = s.get(t, "/api/performance/summary?window=5m&top=1")
	perfm = body["performance"].(map[string]any)
	assert.Equal(t, "5m", perfm["window"])
	assert.Len(t, perfm["top_endpoints"], 1)
}

func TestSummaryWithoutSampler(t *testing.T) {
	h := newHandlers(t)
	rr := httptest.NewRecorder()
	h.Summary().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/", nil))
	var body struct {
		Performance struct {
			TotalRequests int            `json:"total_requests"`
			SystemHealth  string         `json:"system_health"`
			System        *any           `json:"system"`
			TopEndpoints  []any          `json:"top_endpoints"`
			Extra         map[string]any `json:"extra"`
		} `json:"performance"`
	}
	require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &body))
	assert.Equal(t, "unknown", body.Performance.SystemHealth, "the original's answer before any system sample")
	assert.Nil(t, body.Performance.System)
	assert.NotNil(t, body.Performance.TopEndpoints, "an empty list, not null")
	assert.Zero(t, body.Performance.TotalRequests)

	rr = httptest.NewRecorder()
	h.SystemMetrics().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.JSONEq(t, `{"success":true,"system_metrics":[],"current":null,"health":"unknown","interval_seconds":0,"extra":null}`, rr.Body.String())
}

func TestEndpointsHandler(t *testing.T) {
	s := newSite(t)
	s.traffic(t)
	code, _, body := s.get(t, "/api/performance/endpoints")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, true, body["success"])
	assert.Equal(t, "all", body["window"])
	eps := body["endpoint_performance"].(map[string]any)
	require.Len(t, eps, 4)
	sign := eps["POST /api/campaigns/{id}/sign"].(map[string]any)
	requireKeys(t, sign, originalEndpointKeys...)
	assert.Equal(t, 1.0, sign["count"])
	assert.Equal(t, 1.0, sign["errors"])
	assert.Equal(t, 1.5, sign["total_time"])
	assert.Equal(t, "POST", sign["method"])
	assert.Equal(t, "/api/campaigns/{id}/sign", sign["route"])
	assert.Equal(t, map[string]any{"1xx": 0.0, "2xx": 0.0, "3xx": 0.0, "4xx": 1.0, "5xx": 0.0, "other": 0.0}, sign["status"])
	assert.Contains(t, eps, perf.UnmatchedKey)

	// An hour later nothing is in the 5-minute window.
	s.clock.Advance(time.Hour)
	_, _, body = s.get(t, "/api/performance/endpoints?window=5m")
	assert.Empty(t, body["endpoint_performance"])
}

func TestEndpointHandler(t *testing.T) {
	s := newSite(t)
	s.traffic(t)
	for _, target := range []string{
		"/api/performance/endpoints/" + url.PathEscape("GET /api/campaigns/{id}"),
		"/api/performance/endpoints/GET%20/api/campaigns/%7Bid%7D",
		"/api/performance/endpoints/GET%20%2Fapi%2Fcampaigns%2F%7Bid%7D?window=1h",
	} {
		code, _, body := s.get(t, target)
		require.Equal(t, http.StatusOK, code, target)
		ep := body["endpoint_performance"].(map[string]any)
		requireKeys(t, ep, originalDetailKeys...)
		requireKeys(t, ep, "method", "route", "windows", "series", "p95_time")
		assert.Equal(t, "GET /api/campaigns/{id}", ep["endpoint"])
		assert.Equal(t, 20.0, ep["count"])
		assert.Equal(t, 0.0, ep["error_rate"])
		assert.InDelta(t, 0.02, ep["avg_time"], 1e-12)
	}

	// A bare route combines its methods.
	code, _, body := s.get(t, "/api/performance/endpoints/"+url.PathEscape("/api/campaigns/{id}/sign"))
	require.Equal(t, http.StatusOK, code)
	ep := body["endpoint_performance"].(map[string]any)
	assert.Equal(t, "/api/campaigns/{id}/sign", ep["endpoint"])
	assert.Equal(t, "", ep["method"])
	assert.Equal(t, 100.0, ep["error_rate"])

	code, _, body = s.get(t, "/api/performance/endpoints/"+url.PathEscape("GET /api/never"))
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, 404.0, body["status"])
}

func TestSlowRequestsHandler(t *testing.T) {
	s := newSite(t)
	s.traffic(t)
	serve(s.handler, http.MethodPost, "/api/campaigns/4/sign")
	code, _, body := s.get(t, "/api/performance/slow-requests")
	require.Equal(t, http.StatusOK, code)
	slow := body["slow_requests"].([]any)
	require.Len(t, slow, 3)
	first := slow[0].(map[string]any)
	requireKeys(t, first, originalSlowKeys...)
	requireKeys(t, first, "route", "status", "request_id", "user")
	assert.Equal(t, "POST /api/campaigns/{id}/sign", first["endpoint"])
	assert.Equal(t, 409.0, first["status"])
	assert.Equal(t, 1.5, first["response_time"])
	assert.Equal(t, "req-21", first["request_id"], "the 21st request of the site")
	assert.Equal(t, "user-7", first["user"])
	assert.Equal(t, "user-7", first["user_email"], "the original's member, holding what SetUser reported")
	assert.Equal(t, 1.0, body["threshold_seconds"])
	assert.Equal(t, float64(perf.DefaultSlowRequests), body["capacity"])

	_, _, body = s.get(t, "/api/performance/slow-requests?limit=1")
	slow = body["slow_requests"].([]any)
	require.Len(t, slow, 1)
	assert.Equal(t, "POST /api/campaigns/{id}/sign", slow[0].(map[string]any)["endpoint"], "the most recent")
}

func TestSystemMetricsHandler(t *testing.T) {
	s := newSite(t)
	for range 4 {
		s.clock.Advance(time.Hour)
		_, err := s.sampler.Sample(context.Background())
		require.NoError(t, err)
	}
	code, _, body := s.get(t, "/api/performance/system-metrics")
	require.Equal(t, http.StatusOK, code)
	requireKeys(t, body, headSystemKeys...)
	requireKeys(t, body, "success", "system_metrics", "current", "health", "interval_seconds", "extra")
	samples := body["system_metrics"].([]any)
	require.Len(t, samples, 4)
	for _, smp := range samples {
		requireKeys(t, smp.(map[string]any), originalSystemKeys...)
		requireKeys(t, smp.(map[string]any), "process", "go", "load1", "swap_percent", "health")
	}
	assert.Equal(t, body["cpu_percent"], body["current"].(map[string]any)["cpu_percent"])

	_, _, body = s.get(t, "/api/performance/system-metrics?hours=2.5")
	assert.Len(t, body["system_metrics"], 3, "samples taken after now − 2.5 h")
	_, _, body = s.get(t, "/api/performance/system-metrics?points=2")
	thinned := body["system_metrics"].([]any)
	require.Len(t, thinned, 2)
	assert.Equal(t, samples[3], thinned[1], "the newest is kept")
}

func TestHandlersRefuseBadParameters(t *testing.T) {
	s := newSite(t)
	s.traffic(t)
	for _, target := range []string{
		"/api/performance/summary?window=7d",
		"/api/performance/summary?window=5m&window=1h",
		"/api/performance/summary?top=-1",
		"/api/performance/summary?top=101",
		"/api/performance/summary?top=" + strings.Repeat("9", 100),
		"/api/performance/endpoints?window=",
		"/api/performance/endpoints?window=ALL",
		"/api/performance/endpoints/GET%20%2Fapi%2Fcampaigns%2F%7Bid%7D?window=x",
		"/api/performance/slow-requests?limit=abc",
		"/api/performance/slow-requests?limit=1.5",
		"/api/performance/slow-requests?limit=-3",
		"/api/performance/system-metrics?hours=0",
		"/api/performance/system-metrics?hours=NaN",
		"/api/performance/system-metrics?hours=1e9",
		"/api/performance/system-metrics?hours=Inf",
		"/api/performance/system-metrics?points=x",
	} {
		rr := serve(s.handler, http.MethodGet, target)
		if target == "/api/performance/endpoints?window=" {
			assert.Equal(t, http.StatusOK, rr.Code, "an empty value means the default")
			continue
		}
		require.Equal(t, http.StatusBadRequest, rr.Code, target)
		assert.Equal(t, "application/problem+json", rr.Header().Get("Content-Type"), target)
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
			Errors []struct {
				Field string `json:"field"`
			} `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(rr.Body.Bytes(), &p), target)
		assert.Equal(t, 400, p.Status)
		require.Len(t, p.Errors, 1)
		name := p.Errors[0].Field
		assert.Contains(t, target, name+"=", "the problem names the parameter")
		assert.Contains(t, p.Detail, name)
	}
	// Unknown parameters (cache busters) are ignored.
	assert.Equal(t, http.StatusOK, serve(s.handler, http.MethodGet, "/api/performance/summary?_=123").Code)
}

func TestHandlersRefuseOtherMethods(t *testing.T) {
	h := newHandlers(t)
	rr := httptest.NewRecorder()
	h.Summary().ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rr.Code)
	assert.Equal(t, "GET, HEAD", rr.Header().Get("Allow"))
	rr = httptest.NewRecorder()
	h.Endpoint().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/?endpoint="+url.QueryEscape(perf.UnmatchedKey), nil))
	assert.Equal(t, http.StatusNotFound, rr.Code, "nothing recorded yet")
	rr = httptest.NewRecorder()
	h.Endpoint().ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, http.StatusBadRequest, rr.Code, "no endpoint named")
}

func TestNewHandlersAndRegisterValidate(t *testing.T) {
	_, err := perf.NewHandlers(perf.HandlerOptions{TopEndpoints: 1000})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Recorder")
	assert.Contains(t, err.Error(), "TopEndpoints")

	h := newHandlers(t)
	mux := http.NewServeMux()
	assert.ErrorContains(t, h.Register(mux, "/api/performance", nil), "protect")
	for _, prefix := range []string{"", "api", "/api/", "/a b", "/{x}"} {
		assert.Error(t, h.Register(mux, prefix, allow), prefix)
	}
}

func TestRegisterProtectsTheData(t *testing.T) {
	h := newHandlers(t)
	deny := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) })
	}
	mux := http.NewServeMux()
	require.NoError(t, h.Register(mux, "/perf", deny))
	for _, path := range []string{"/perf/summary", "/perf/endpoints", "/perf/endpoints/x", "/perf/slow-requests", "/perf/system-metrics"} {
		assert.Equal(t, http.StatusForbidden, serve(mux, http.MethodGet, path).Code, path)
	}
	assert.Equal(t, http.StatusOK, serve(mux, http.MethodGet, "/perf/dashboard").Code, "the page holds no data")
}

func TestDashboardAssets(t *testing.T) {
	h := newHandlers(t)
	mux := http.NewServeMux()
	require.NoError(t, h.Register(mux, "/api/performance", allow))
	for path, ctype := range map[string]string{
		"/api/performance/dashboard":         "text/html; charset=utf-8",
		"/api/performance/dashboard/app.js":  "text/javascript; charset=utf-8",
		"/api/performance/dashboard/app.css": "text/css; charset=utf-8",
	} {
		rr := serve(mux, http.MethodGet, path)
		require.Equal(t, http.StatusOK, rr.Code, path)
		assert.Equal(t, ctype, rr.Header().Get("Content-Type"))
		assert.Equal(t, perf.DashboardCSP, rr.Header().Get("Content-Security-Policy"))
		assert.Equal(t, "nosniff", rr.Header().Get("X-Content-Type-Options"))
		assert.Equal(t, "DENY", rr.Header().Get("X-Frame-Options"))
		etag := rr.Header().Get("ETag")
		require.NotEmpty(t, etag)

		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("If-None-Match", etag)
		rr2 := httptest.NewRecorder()
		mux.ServeHTTP(rr2, r)
		assert.Equal(t, http.StatusNotModified, rr2.Code, path)
	}
	page := serve(mux, http.MethodGet, "/api/performance/dashboard").Body.String()
	assert.NotContains(t, page, "<script>", "no inline script: the CSP forbids it")
	assert.NotContains(t, page, "style=", "no inline style")
	assert.NotContains(t, page, "http://", "nothing from elsewhere")
	assert.NotContains(t, page, "https://")
	rr := serve(mux, http.MethodGet, "/api/performance/dashboard/other.js")
	assert.Equal(t, http.StatusNotFound, rr.Code)
	head := httptest.NewRecorder()
	mux.ServeHTTP(head, httptest.NewRequest(http.MethodHead, "/api/performance/dashboard", nil))
	assert.Equal(t, http.StatusOK, head.Code)
	assert.Empty(t, head.Body.String())
	js, err := io.ReadAll(serve(mux, http.MethodGet, "/api/performance/dashboard/app.js").Body)
	require.NoError(t, err)
	assert.NotContains(t, string(js), "innerHTML", "data is inserted as text")
}
