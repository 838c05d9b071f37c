package promperf_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/perf"
	"github.com/senfi-sharif/senfi/perf/promperf"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fixture records requests of known durations and takes a system sample.
func fixture(t *testing.T) (*perf.Recorder, *perf.Sampler, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	rec, err := perf.New(perf.Options{Now: c.now, SlowThreshold: time.Second})
	require.NoError(t, err)
	mux := http.NewServeMux()
	for _, rt := range []struct {
		pattern string
		d       time.Duration
		status  int
	}{
		{"GET /api/items/{id}", 3 * time.Millisecond, http.StatusOK},
		{"POST /api/items", 1500 * time.Millisecond, http.StatusInternalServerError},
	} {
		mux.HandleFunc(rt.pattern, func(w http.ResponseWriter, _ *http.Request) {
			c.t = c.t.Add(rt.d)
			w.WriteHeader(rt.status)
			_, _ = io.WriteString(w, "body")
		})
	}
	h := rec.Handler(mux)
	for i := range 10 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/items/"+string(rune('0'+i)), nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/api/items", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nope", nil))

	lastBackup := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	sampler, err := perf.NewSampler(perf.SamplerOptions{
		DataDir:   t.TempDir(),
		CgroupDir: filepath.Join("..", "testdata", "cgroup", "limited"),
		Logger:    slog.New(slog.DiscardHandler),
		Extra: func(context.Context) map[string]any {
			return map[string]any{
				"backup_age":       9 * time.Hour,
				"backup_last_good": lastBackup,
				"backup_failing":   true,
				"backup_size":      int64(1 << 20),
				"note":             "not a number",
			}
		},
	})
	require.NoError(t, err)
	_, err = sampler.Sample(context.Background())
	require.NoError(t, err)
	return rec, sampler, c
}

func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry() // checks descriptors and label consistency
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// find returns the metric of family name with exactly these labels.
func find(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	mf, ok := mfs[name]
	require.True(t, ok, "no family %s", name)
	for _, m := range mf.GetMetric() {
		if assert.ObjectsAreEqual(want, labels(m)) {
			return m
		}
	}
	t.Fatalf("%s has no series %v", name, want)
	return nil
}

func TestCollector(t *testing.T) {
	rec, sampler, _ := fixture(t)
	c, err := promperf.New(promperf.Options{
		Recorder: rec, Sampler: sampler,
		ExtraGauges: []promperf.ExtraGauge{
			{Key: "backup_age", Name: "backup_age_seconds", Help: "Age of the last good backup."},
			{Key: "backup_last_good", Name: "backup_last_success_timestamp_seconds"},
			{Key: "backup_failing", Name: "backup_failing"},
			{Key: "backup_size", Name: "backup_size_bytes"},
			{Key: "note", Name: "note"},
			{Key: "absent", Name: "absent"},
		},
	})
	require.NoError(t, err)
	mfs := gather(t, c)

	get := map[string]string{"method": "GET", "route": "/api/items/{id}"}
	post := map[string]string{"method": "POST", "route": "/api/items"}
	ok := find(t, mfs, "senfi_http_requests_total", map[string]string{"method": "GET", "route": "/api/items/{id}", "status": "2xx"})
	assert.Equal(t, 10.0, ok.GetCounter().GetValue())
	fail := find(t, mfs, "senfi_http_requests_total", map[string]string{"method": "POST", "route": "/api/items", "status": "5xx"})
	assert.Equal(t, 1.0, fail.GetCounter().GetValue())
	find(t, mfs, "senfi_http_requests_total", map[string]string{"method": "", "route": perf.UnmatchedKey, "status": "4xx"})

	hist := find(t, mfs, "senfi_http_request_duration_seconds", get).GetHistogram()
	assert.Equal(t, uint64(10), hist.GetSampleCount())
	assert.InDelta(t, 0.03, hist.GetSampleSum(), 1e-9)
	for _, b := range hist.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() > 0.003 {
			want = 10
		}
		assert.Equal(t, want, b.GetCumulativeCount(), "le %v", b.GetUpperBound())
	}
	assert.Equal(t, 0.000256, hist.GetBucket()[0].GetUpperBound())
	assert.Len(t, hist.GetBucket(), 18)

	q99 := find(t, mfs, "senfi_http_request_duration_recent_seconds", map[string]string{"method": "POST", "route": "/api/items", "quantile": "0.99"})
	assert.InDelta(t, 1.5, q99.GetGauge().GetValue(), 1.5*perf.RelativeError)
	assert.Equal(t, 40.0, find(t, mfs, "senfi_http_response_bytes_total", get).GetCounter().GetValue())
	assert.Equal(t, 1.0, find(t, mfs, "senfi_http_slow_requests_total", post).GetCounter().GetValue())
	assert.Equal(t, 0.0, find(t, mfs, "senfi_http_slow_requests_total", get).GetCounter().GetValue())
	assert.Equal(t, 2.0, find(t, mfs, "senfi_http_routes_tracked", map[string]string{}).GetGauge().GetValue())

	smp, _ := sampler.Latest()
	states := 0.0
	for _, m := range mfs["senfi_system_health"].GetMetric() {
		states += m.GetGauge().GetValue()
		if m.GetGauge().GetValue() == 1 {
			assert.Equal(t, string(smp.Health), labels(m)["state"])
		}
	}
	assert.Equal(t, 1.0, states, "exactly one state is current")
	assert.Equal(t, smp.MemoryPercent, find(t, mfs, "senfi_system_memory_used_percent", map[string]string{}).GetGauge().GetValue())
	assert.Equal(t, float64(smp.DiskFree), find(t, mfs, "senfi_system_disk_free_bytes", map[string]string{"path": smp.DiskPath}).GetGauge().GetValue())
	assert.Equal(t, float64(smp.Process.RSS), find(t, mfs, "senfi_process_resident_memory_bytes", map[string]string{}).GetGauge().GetValue())
	assert.Equal(t, float64(512<<20), find(t, mfs, "senfi_cgroup_memory_limit_bytes", map[string]string{}).GetGauge().GetValue())
	assert.Equal(t, 1.0, find(t, mfs, "senfi_cgroup_oom_kills_total", map[string]string{}).GetCounter().GetValue())
	assert.Equal(t, 256.0, find(t, mfs, "senfi_cgroup_pids_limit", map[string]string{}).GetGauge().GetValue())
	find(t, mfs, "senfi_go_gc_pause_seconds", map[string]string{"quantile": "0.99"})

	assert.Equal(t, 9*3600.0, find(t, mfs, "senfi_backup_age_seconds", map[string]string{}).GetGauge().GetValue())
	assert.Equal(t, float64(time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC).Unix()),
		find(t, mfs, "senfi_backup_last_success_timestamp_seconds", map[string]string{}).GetGauge().GetValue())
	assert.Equal(t, 1.0, find(t, mfs, "senfi_backup_failing", map[string]string{}).GetGauge().GetValue())
	assert.Equal(t, float64(1<<20), find(t, mfs, "senfi_backup_size_bytes", map[string]string{}).GetGauge().GetValue())
	assert.NotContains(t, mfs, "senfi_note", "a string is not exported")
	assert.NotContains(t, mfs, "senfi_absent")
}

func TestCollectorWithoutSampleOrCgroup(t *testing.T) {
	sampler, err := perf.NewSampler(perf.SamplerOptions{DataDir: t.TempDir(), CgroupDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	c, err := promperf.New(promperf.Options{Sampler: sampler, Namespace: "app"})
	require.NoError(t, err)
	mfs := gather(t, c)
	assert.Equal(t, 1.0, find(t, mfs, "app_system_health", map[string]string{"state": "unknown"}).GetGauge().GetValue())
	assert.NotContains(t, mfs, "app_system_cpu_percent", "nothing to report before the first sample")
	assert.NotContains(t, mfs, "app_http_routes_tracked", "no Recorder")

	_, err = sampler.Sample(context.Background())
	require.NoError(t, err)
	mfs = gather(t, c)
	assert.Contains(t, mfs, "app_system_cpu_percent")
	assert.NotContains(t, mfs, "app_cgroup_memory_usage_bytes", "no cgroup in an empty directory")
}

func TestNewValidates(t *testing.T) {
	_, err := promperf.New(promperf.Options{})
	assert.ErrorContains(t, err, "Recorder, a Sampler or both")
	rec, err := perf.New(perf.Options{})
	require.NoError(t, err)
	_, err = promperf.New(promperf.Options{
		Recorder: rec, Namespace: "bad-name",
		ExtraGauges: []promperf.ExtraGauge{{Name: "x"}, {Key: "k", Name: "1x"}, {Key: "k", Name: "x"}},
	})
	require.Error(t, err)
	for _, want := range []string{"Namespace", "ExtraGauges[0].Key", "ExtraGauges[1].Name", "ExtraGauges[2].Name", "need a Sampler"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestScrapeOverHTTP(t *testing.T) {
	rec, sampler, _ := fixture(t)
	c, err := promperf.New(promperf.Options{Recorder: rec, Sampler: sampler})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	rr := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rr, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rr.Code)
	body := rr.Body.String()
	assert.Contains(t, body, `senfi_http_requests_total{method="GET",route="/api/items/{id}",status="2xx"} 10`)
	assert.Contains(t, body, `senfi_http_request_duration_seconds_bucket{method="GET",route="/api/items/{id}",le="0.004096"} 10`)
	assert.NotContains(t, body, "/api/items/3", "raw paths never become labels")
	assert.True(t, strings.Contains(body, "senfi_system_health{state="))
}
