// Package promperf exports what a perf.Recorder and a perf.Sampler measure
// as Prometheus metrics, so that /metrics and the JSON endpoints tell the
// same story. It lives apart from perf so that importing perf does not
// pull in the Prometheus client.
//
// # Use
//
//	c, err := promperf.New(promperf.Options{Recorder: rec, Sampler: sampler})
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(c)
//	metricsMux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Serve /metrics on a listener of its own (the Senfi example binds it to
// 127.0.0.1:9100): route names and host figures are not for the public.
//
// # Metrics
//
// With the default namespace "senfi", per method and route pattern (the
// labels are bounded like the Recorder's endpoints: route patterns, never
// raw paths):
//
//	senfi_http_requests_total{method,route,status}        counter, status "2xx", "4xx", ...
//	senfi_http_request_duration_seconds{method,route}     histogram, since start
//	senfi_http_request_duration_recent_seconds{method,route,quantile}  gauge, last 5 minutes
//	senfi_http_response_bytes_total{method,route}         counter
//	senfi_http_slow_requests_total{method,route}          counter
//	senfi_http_routes_tracked, senfi_http_routes_limit    gauges
//
// The histogram's buckets are powers of two of microseconds, from 256 µs
// to about 33.6 s, which are boundaries of the Recorder's own buckets: its
// counts are exact, not interpolated.
//
// From the latest system sample: senfi_system_health{state},
// senfi_system_cpu_percent, _load1/5/15, _memory_*, _swap_used_percent,
// _disk_*{path}, senfi_process_* (RSS, open FDs, CPU, threads),
// senfi_go_goroutines, senfi_go_gc_pause_seconds{quantile}, senfi_cgroup_*
// (when the process has a cgroup), senfi_uptime_seconds. The application's
// own figures (perf.SamplerOptions.Extra) become gauges when declared in
// Options.ExtraGauges. Counters are cumulative since the Recorder (or the
// cgroup) started, as Prometheus expects.
package promperf

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/senfi-sharif/senfi/perf"
)

// Options configures a Collector. At least one of Recorder and Sampler is
// required.
type Options struct {
	// Recorder supplies the request metrics. Zero value: none.
	Recorder *perf.Recorder
	// Sampler supplies the system metrics and the extra figures. Zero
	// value: none.
	Sampler *perf.Sampler
	// Namespace prefixes every metric name. Zero value: "senfi".
	Namespace string
	// ExtraGauges exports figures of the Sampler's Extra map as gauges.
	// Zero value: none.
	ExtraGauges []ExtraGauge
}

// ExtraGauge declares one of the application's extra figures as a gauge.
type ExtraGauge struct {
	// Key is the figure's key in the map SamplerOptions.Extra returns.
	// Numbers and booleans (1 or 0) are exported as they are,
	// time.Duration in seconds, time.Time as Unix seconds (the zero time is
	// left out); a missing key or another type exports nothing.
	Key string
	// Name is the metric name after the namespace, e.g.
	// "backup_last_success_age_seconds": letters, digits and underscores.
	Name string
	// Help describes the figure.
	Help string
}

// Collector is a prometheus.Collector of a Recorder's and a Sampler's
// figures. Register it once; each scrape reads the current figures (the
// system ones from the Sampler's latest background sample, so a scrape
// never waits for one).
type Collector struct {
	rec    *perf.Recorder
	sys    *perf.Sampler
	extras []extraDesc
	bounds []time.Duration
	les    []float64

	requests, duration, recent, bytes, slow, tracked, limit *prometheus.Desc
	health                                                  *prometheus.Desc
	gauges                                                  []sampleGauge
	gcPause                                                 *prometheus.Desc
}

type extraDesc struct {
	key  string
	desc *prometheus.Desc
}

// sampleGauge is one figure of a system sample; value reports false when
// the sample does not have it.
type sampleGauge struct {
	desc   *prometheus.Desc
	kind   prometheus.ValueType
	value  func(*perf.SystemSample) (float64, bool)
	labels func(*perf.SystemSample) []string
}

// validName reports whether s is a Prometheus metric name without colons.
func validName(s string) bool {
	for i, c := range []byte(s) {
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// New validates opts and returns a Collector.
func New(opts Options) (*Collector, error) {
	var errs []error
	if opts.Recorder == nil && opts.Sampler == nil {
		errs = append(errs, errors.New("promperf: Options needs a Recorder, a Sampler or both"))
	}
	ns := opts.Namespace
	if ns == "" {
		ns = "senfi"
	}
	if !validName(ns) {
		errs = append(errs, fmt.Errorf("promperf: Options.Namespace %q must be letters, digits and underscores", ns))
	}
	if len(opts.ExtraGauges) > 0 && opts.Sampler == nil {
		errs = append(errs, errors.New("promperf: Options.ExtraGauges need a Sampler, whose Extra figures they export"))
	}
	c := &Collector{rec: opts.Recorder, sys: opts.Sampler}
	seen := map[string]bool{}
	for i, g := range opts.ExtraGauges {
		switch {
		case g.Key == "":
			errs = append(errs, fmt.Errorf("promperf: ExtraGauges[%d].Key is empty", i))
		case !validName(g.Name):
			errs = append(errs, fmt.Errorf("promperf: ExtraGauges[%d].Name %q must be letters, digits and underscores", i, g.Name))
		case seen[g.Name]:
			errs = append(errs, fmt.Errorf("promperf: ExtraGauges[%d].Name %q is used twice", i, g.Name))
		}
		seen[g.Name] = true
		help := g.Help
		if help == "" {
			help = "Extra figure " + strconv.Quote(g.Key) + " of the application."
		}
		c.extras = append(c.extras, extraDesc{g.Key, prometheus.NewDesc(ns+"_"+g.Name, help, nil, nil)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for e := 8; e <= 25; e++ {
		b := time.Duration(1<<e) * time.Microsecond
		c.bounds = append(c.bounds, b)
		c.les = append(c.les, b.Seconds())
	}
	c.describeRequests(ns)
	c.describeSystem(ns)
	return c, nil
}

func (c *Collector) describeRequests(ns string) {
	route := []string{"method", "route"}
	c.requests = prometheus.NewDesc(ns+"_http_requests_total", "Requests served, by method, route pattern and status class.", append(route, "status"), nil)
	c.duration = prometheus.NewDesc(ns+"_http_request_duration_seconds", "Request durations since start, by method and route pattern.", route, nil)
	c.recent = prometheus.NewDesc(ns+"_http_request_duration_recent_seconds", "Request duration quantiles over the last 5 minutes, by method and route pattern.", append(route, "quantile"), nil)
	c.bytes = prometheus.NewDesc(ns+"_http_response_bytes_total", "Response body bytes written, by method and route pattern.", route, nil)
	c.slow = prometheus.NewDesc(ns+"_http_slow_requests_total", "Requests that took at least the slow threshold, by method and route pattern.", route, nil)
	c.tracked = prometheus.NewDesc(ns+"_http_routes_tracked", "Method and route pairs tracked.", nil, nil)
	c.limit = prometheus.NewDesc(ns+"_http_routes_limit", "Most method and route pairs tracked; more count under (overflow).", nil, nil)
}

func (c *Collector) describeSystem(ns string) {
	c.health = prometheus.NewDesc(ns+"_system_health", "1 for the current system health state (healthy, warning, critical, unknown), 0 for the others.", []string{"state"}, nil)
	c.gcPause = prometheus.NewDesc(ns+"_go_gc_pause_seconds", "Go GC stop-the-world pause quantiles since the process started.", []string{"quantile"}, nil)
	gauge := func(name, help string, v func(*perf.SystemSample) float64) sampleGauge {
		return sampleGauge{desc: prometheus.NewDesc(ns+"_"+name, help, nil, nil), kind: prometheus.GaugeValue,
			value: func(s *perf.SystemSample) (float64, bool) { return v(s), true }}
	}
	disk := func(name, help string, v func(*perf.SystemSample) float64) sampleGauge {
		g := gauge(name, help, v)
		g.desc = prometheus.NewDesc(ns+"_"+name, help, []string{"path"}, nil)
		g.labels = func(s *perf.SystemSample) []string { return []string{s.DiskPath} }
		return g
	}
	cgroup := func(name, help string, kind prometheus.ValueType, v func(*perf.CgroupStats) (float64, bool)) sampleGauge {
		return sampleGauge{desc: prometheus.NewDesc(ns+"_cgroup_"+name, help, nil, nil), kind: kind,
			value: func(s *perf.SystemSample) (float64, bool) {
				if s.Cgroup == nil {
					return 0, false
				}
				return v(s.Cgroup)
			}}
	}
	limited := func(v uint64) (float64, bool) { return float64(v), v > 0 }
	c.gauges = []sampleGauge{
		gauge("system_sample_timestamp_seconds", "When the latest system sample was taken.", func(s *perf.SystemSample) float64 { return float64(s.Time.UnixNano()) / 1e9 }),
		gauge("system_cpu_percent", "Host CPU use, all CPUs, between the last two samples.", func(s *perf.SystemSample) float64 { return s.CPUPercent }),
		gauge("system_cpus", "Logical CPUs of the host.", func(s *perf.SystemSample) float64 { return float64(s.CPUs) }),
		gauge("system_load1", "Host load average over 1 minute.", func(s *perf.SystemSample) float64 { return s.Load1 }),
		gauge("system_load5", "Host load average over 5 minutes.", func(s *perf.SystemSample) float64 { return s.Load5 }),
		gauge("system_load15", "Host load average over 15 minutes.", func(s *perf.SystemSample) float64 { return s.Load15 }),
		gauge("system_memory_total_bytes", "Host memory.", func(s *perf.SystemSample) float64 { return float64(s.MemoryTotal) }),
		gauge("system_memory_available_bytes", "Host memory available.", func(s *perf.SystemSample) float64 { return float64(s.MemoryAvailable) }),
		gauge("system_memory_used_percent", "Host memory used.", func(s *perf.SystemSample) float64 { return s.MemoryPercent }),
		gauge("system_swap_used_percent", "Host swap used.", func(s *perf.SystemSample) float64 { return s.SwapPercent }),
		disk("system_disk_total_bytes", "Size of the file system of the data directory.", func(s *perf.SystemSample) float64 { return float64(s.DiskTotal) }),
		disk("system_disk_free_bytes", "Free space on the file system of the data directory.", func(s *perf.SystemSample) float64 { return float64(s.DiskFree) }),
		disk("system_disk_used_percent", "Used share of the file system of the data directory.", func(s *perf.SystemSample) float64 { return s.DiskPercent }),
		gauge("process_resident_memory_bytes", "Resident set size of the process.", func(s *perf.SystemSample) float64 { return float64(s.Process.RSS) }),
		gauge("process_open_fds", "Open file descriptors of the process.", func(s *perf.SystemSample) float64 { return float64(s.Process.OpenFDs) }),
		gauge("process_threads", "OS threads of the process.", func(s *perf.SystemSample) float64 { return float64(s.Process.Threads) }),
		gauge("process_cpu_percent", "CPU use of the process between the last two samples, in percent of one core.", func(s *perf.SystemSample) float64 { return s.Process.CPUPercent }),
		gauge("uptime_seconds", "Time since the Sampler started.", func(s *perf.SystemSample) float64 { return s.Process.UptimeSeconds }),
		gauge("go_goroutines", "Goroutines.", func(s *perf.SystemSample) float64 { return float64(s.Go.Goroutines) }),
		gauge("go_heap_bytes", "Memory of live and unswept heap objects.", func(s *perf.SystemSample) float64 { return float64(s.Go.HeapBytes) }),
		cgroup("memory_limit_bytes", "Memory limit of the cgroup (absent when none).", prometheus.GaugeValue, func(cg *perf.CgroupStats) (float64, bool) { return limited(cg.MemoryLimit) }),
		cgroup("memory_usage_bytes", "Memory used by the cgroup.", prometheus.GaugeValue, func(cg *perf.CgroupStats) (float64, bool) { return float64(cg.MemoryUsage), true }),
		cgroup("memory_used_percent", "Memory used by the cgroup, in percent of its limit.", prometheus.GaugeValue, func(cg *perf.CgroupStats) (float64, bool) { return cg.MemoryPercent, cg.MemoryLimit > 0 }),
		cgroup("cpu_limit_cores", "CPU quota of the cgroup in cores (absent when none).", prometheus.GaugeValue, func(cg *perf.CgroupStats) (float64, bool) { return cg.CPULimit, cg.CPULimit > 0 }),
		cgroup("cpu_percent", "CPU use of the cgroup between the last two samples, in percent of its quota (or of one core).", prometheus.GaugeValue, func(cg *perf.CgroupStats) (float64, bool) { return cg.CPUPercent, true }),
		cgroup("cpu_usage_seconds_total", "CPU time used by the cgroup.", prometheus.CounterValue, func(cg *perf.CgroupStats) (float64, bool) { return cg.CPUUsageSeconds, true }),
		cgroup("cpu_throttled_periods_total", "Periods in which the CPU quota stopped the cgroup.", prometheus.CounterValue, func(cg *perf.CgroupStats) (float64, bool) { return float64(cg.ThrottledPeriods), true }),
		cgroup("oom_kills_total", "Processes of the cgroup killed for lack of memory.", prometheus.CounterValue, func(cg *perf.CgroupStats) (float64, bool) { return float64(cg.OOMKills), true }),
		cgroup("pids_current", "Processes and threads in the cgroup.", prometheus.GaugeValue, func(cg *perf.CgroupStats) (float64, bool) { return float64(cg.PidsCurrent), true }),
		cgroup("pids_limit", "Limit of processes and threads in the cgroup (absent when none).", prometheus.GaugeValue, func(cg *perf.CgroupStats) (float64, bool) { return limited(cg.PidsLimit) }),
	}
}

// Describe sends the descriptors of every metric the Collector can export.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	if c.rec != nil {
		for _, d := range []*prometheus.Desc{c.requests, c.duration, c.recent, c.bytes, c.slow, c.tracked, c.limit} {
			ch <- d
		}
	}
	if c.sys != nil {
		ch <- c.health
		ch <- c.gcPause
		for _, g := range c.gauges {
			ch <- g.desc
		}
		for _, e := range c.extras {
			ch <- e.desc
		}
	}
}

// Collect sends the current figures.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.rec != nil {
		c.collectRequests(ch)
	}
	if c.sys != nil {
		c.collectSystem(ch)
	}
}

func (c *Collector) collectRequests(ch chan<- prometheus.Metric) {
	classes := [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}
	for _, d := range c.rec.Distributions(perf.SinceStart, c.bounds) {
		m, r := d.Method, d.Route
		for i, n := range d.ByClass {
			if n > 0 {
				ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(n), m, r, classes[i])
			}
		}
		buckets := make(map[float64]uint64, len(c.les))
		for i, le := range c.les {
			buckets[le] = d.Below[i]
		}
		ch <- prometheus.MustNewConstHistogram(c.duration, d.Count, d.Total.Seconds(), buckets, m, r)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(d.Bytes), m, r)
		ch <- prometheus.MustNewConstMetric(c.slow, prometheus.CounterValue, float64(d.Slow), m, r)
	}
	for _, e := range c.rec.Endpoints(perf.Last5Minutes) {
		for _, q := range []struct {
			label string
			v     time.Duration
		}{{"0.5", e.P50}, {"0.9", e.P90}, {"0.95", e.P95}, {"0.99", e.P99}} {
			ch <- prometheus.MustNewConstMetric(c.recent, prometheus.GaugeValue, q.v.Seconds(), e.Method, e.Route, q.label)
		}
	}
	tracked, limit, _ := c.rec.Routes()
	ch <- prometheus.MustNewConstMetric(c.tracked, prometheus.GaugeValue, float64(tracked))
	ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(limit))
}

func (c *Collector) collectSystem(ch chan<- prometheus.Metric) {
	s, ok := c.sys.Latest()
	state := perf.HealthUnknown
	if ok {
		state = s.Health
	}
	for _, h := range []perf.Health{perf.HealthHealthy, perf.HealthWarning, perf.HealthCritical, perf.HealthUnknown} {
		v := 0.0
		if h == state {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.health, prometheus.GaugeValue, v, string(h))
	}
	if ok {
		for _, g := range c.gauges {
			v, present := g.value(&s)
			if !present {
				continue
			}
			var labels []string
			if g.labels != nil {
				labels = g.labels(&s)
			}
			ch <- prometheus.MustNewConstMetric(g.desc, g.kind, v, labels...)
		}
		for _, q := range []struct {
			label string
			v     float64
		}{{"0.5", s.Go.GCPauseP50}, {"0.9", s.Go.GCPauseP90}, {"0.99", s.Go.GCPauseP99}, {"1", s.Go.GCPauseMax}} {
			ch <- prometheus.MustNewConstMetric(c.gcPause, prometheus.GaugeValue, q.v, q.label)
		}
	}
	extra := c.sys.Extra()
	for _, e := range c.extras {
		if v, ok := number(extra[e.key]); ok {
			ch <- prometheus.MustNewConstMetric(e.desc, prometheus.GaugeValue, v)
		}
	}
}

// number converts an extra figure to a gauge value.
func number(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case bool:
		if x {
			f = 1
		}
	case time.Duration:
		f = x.Seconds()
	case time.Time:
		if x.IsZero() {
			return 0, false
		}
		f = float64(x.UnixNano()) / 1e9
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	default:
		rv := reflect.ValueOf(v)
		switch {
		case rv.CanInt():
			f = float64(rv.Int())
		case rv.CanUint():
			f = float64(rv.Uint())
		case rv.CanFloat():
			f = rv.Float()
		default:
			return 0, false
		}
	}
	return f, !math.IsNaN(f)
}
