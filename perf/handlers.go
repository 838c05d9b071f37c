package perf

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// HandlerOptions configures the JSON handlers and the dashboard.
type HandlerOptions struct {
	// Recorder supplies the request figures. Required.
	Recorder *Recorder
	// Sampler supplies the system figures and health. Zero value: none;
	// system_health is then "unknown" and system_metrics empty.
	Sampler *Sampler
	// TopEndpoints is how many endpoints the summary lists by default
	// (?top= overrides it, up to 100). Zero value: 5, as the original.
	TopEndpoints int
	// ErrorHandler writes the response of a bad request: err wraps
	// ErrBadParameter (400) or ErrUnknownEndpoint (404). Zero value:
	// WriteError (problem+json).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Handlers serve the Django original's performance endpoints as JSON,
// with richer content, and the dashboard page. Make them with NewHandlers
// and mount them with Register (or one by one). Every JSON response has
// "success": true and the original's member name: performance,
// endpoint_performance, slow_requests or system_metrics.
//
// The data handlers expose route names, user identifiers and host
// figures: mount them behind authorization (Register insists). The
// dashboard page holds no data and fetches it with the visitor's token.
type Handlers struct {
	rec     *Recorder
	sys     *Sampler
	top     int
	onError func(w http.ResponseWriter, r *http.Request, err error)
	assets  map[string]asset
}

// MaxTopEndpoints bounds ?top= and HandlerOptions.TopEndpoints.
const MaxTopEndpoints = 100

// NewHandlers validates opts and returns the handlers.
func NewHandlers(opts HandlerOptions) (*Handlers, error) {
	var errs []error
	if opts.Recorder == nil {
		errs = append(errs, errors.New("perf: HandlerOptions.Recorder is required"))
	}
	if opts.TopEndpoints < 0 || opts.TopEndpoints > MaxTopEndpoints {
		errs = append(errs, errors.New("perf: HandlerOptions.TopEndpoints must be from 0 to 100"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	h := &Handlers{rec: opts.Recorder, sys: opts.Sampler, top: orDefault(opts.TopEndpoints, 5), onError: opts.ErrorHandler, assets: assets}
	if h.onError == nil {
		h.onError = WriteError
	}
	return h, nil
}

// Register mounts every handler on mux under prefix (e.g.
// "/api/performance"): GET prefix/summary, /endpoints,
// /endpoints/{endpoint...}, /slow-requests and /system-metrics wrapped in
// protect (the application's authorization middleware), and the dashboard
// at GET prefix/dashboard and prefix/dashboard/{asset}, not wrapped. A nil
// protect is refused: to serve the data openly (a metrics listener bound
// to localhost), pass a middleware that returns its argument.
func (h *Handlers) Register(mux *http.ServeMux, prefix string, protect func(http.Handler) http.Handler) error {
	if protect == nil {
		return errors.New("perf: Register needs a protect middleware: the data handlers must not be public")
	}
	if !strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") || strings.ContainsAny(prefix, " \t{}") {
		return errors.New(`perf: Register prefix must start with "/", not end with one, and hold no spaces or braces`)
	}
	for _, rt := range []struct {
		path string
		h    http.Handler
	}{
		{"/summary", protect(h.Summary())},
		{"/endpoints", protect(h.Endpoints())},
		{"/endpoints/{endpoint...}", protect(h.Endpoint())},
		{"/slow-requests", protect(h.SlowRequests())},
		{"/system-metrics", protect(h.SystemMetrics())},
		{"/dashboard", h.Dashboard()},
		{"/dashboard/{asset}", h.Dashboard()},
	} {
		mux.Handle("GET "+prefix+rt.path, rt.h)
	}
	return nil
}

// handle adapts a JSON producer: GET and HEAD only, bad parameters to the
// ErrorHandler, the value as an uncached JSON body.
func (h *Handlers) handle(fn func(r *http.Request, q url.Values) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Write(w, r, problem.New(http.StatusMethodNotAllowed, "use GET"))
			return
		}
		v, err := fn(r, r.URL.Query())
		if err != nil {
			h.onError(w, r, err)
			return
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			h.onError(w, r, err)
			return
		}
		hd := w.Header()
		hd.Set("Content-Type", "application/json")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	})
}

// statsJSON is Stats in the original's terms: times in seconds, error_rate
// in percent of requests with status ≥ 400.
type statsJSON struct {
	Count             uint64     `json:"count"`
	TotalTime         float64    `json:"total_time"`
	AvgTime           float64    `json:"avg_time"`
	MinTime           float64    `json:"min_time"`
	MaxTime           float64    `json:"max_time"`
	P50Time           float64    `json:"p50_time"`
	P90Time           float64    `json:"p90_time"`
	P95Time           float64    `json:"p95_time"`
	P99Time           float64    `json:"p99_time"`
	Errors            uint64     `json:"errors"`
	ErrorRate         float64    `json:"error_rate"`
	ServerErrors      uint64     `json:"server_errors"`
	ServerErrorRate   float64    `json:"server_error_rate"`
	Status            statusJSON `json:"status"`
	Bytes             uint64     `json:"bytes"`
	Slow              uint64     `json:"slow"`
	RequestsPerSecond float64    `json:"requests_per_second"`
	SpanSeconds       float64    `json:"span_seconds"`
}

type statusJSON struct {
	S1xx  uint64 `json:"1xx"`
	S2xx  uint64 `json:"2xx"`
	S3xx  uint64 `json:"3xx"`
	S4xx  uint64 `json:"4xx"`
	S5xx  uint64 `json:"5xx"`
	Other uint64 `json:"other"`
}

func toJSON(s Stats) statsJSON {
	return statsJSON{
		Count: s.Count, TotalTime: s.Total.Seconds(), AvgTime: s.Mean.Seconds(),
		MinTime: s.Min.Seconds(), MaxTime: s.Max.Seconds(),
		P50Time: s.P50.Seconds(), P90Time: s.P90.Seconds(), P95Time: s.P95.Seconds(), P99Time: s.P99.Seconds(),
		Errors: s.Errors(), ErrorRate: s.ErrorRate(), ServerErrors: s.ByClass[5], ServerErrorRate: s.ServerErrorRate(),
		Status: statusJSON{s.ByClass[1], s.ByClass[2], s.ByClass[3], s.ByClass[4], s.ByClass[5], s.ByClass[0]},
		Bytes:  s.Bytes, Slow: s.Slow, RequestsPerSecond: s.Rate(), SpanSeconds: s.Span.Seconds(),
	}
}

type pointJSON struct {
	Start time.Time `json:"start"`
	statsJSON
}

type windowsJSON struct {
	M5  statsJSON `json:"5m"`
	H1  statsJSON `json:"1h"`
	H24 statsJSON `json:"24h"`
	All statsJSON `json:"all"`
}

type seriesJSON struct {
	H1  []pointJSON `json:"1h"`
	H24 []pointJSON `json:"24h"`
}

func windowsOf(stats func(Window) Stats) windowsJSON {
	return windowsJSON{toJSON(stats(Last5Minutes)), toJSON(stats(LastHour)), toJSON(stats(LastDay)), toJSON(stats(SinceStart))}
}

func pointsJSON(ps []Point) []pointJSON {
	out := make([]pointJSON, len(ps))
	for i, p := range ps {
		out[i] = pointJSON{Start: p.Start.UTC(), statsJSON: toJSON(p.Stats)}
	}
	return out
}

type topEndpointJSON struct {
	Endpoint  string  `json:"endpoint"`
	Method    string  `json:"method"`
	Route     string  `json:"route"`
	Count     uint64  `json:"count"`
	AvgTime   float64 `json:"avg_time"`
	P95Time   float64 `json:"p95_time"`
	ErrorRate float64 `json:"error_rate"`
}

type routesJSON struct {
	Tracked    int  `json:"tracked"`
	Max        int  `json:"max"`
	Overflowed bool `json:"overflowed"`
}

type summaryJSON struct {
	// The original's members.
	TotalRequests   uint64            `json:"total_requests"`
	AvgResponseTime float64           `json:"avg_response_time"`
	SlowRequests    uint64            `json:"slow_requests"`
	ErrorRate       float64           `json:"error_rate"`
	TopEndpoints    []topEndpointJSON `json:"top_endpoints"`
	SystemHealth    Health            `json:"system_health"`
	// Ours.
	Window               string         `json:"window"`
	Stats                statsJSON      `json:"stats"`
	Windows              windowsJSON    `json:"windows"`
	Series               seriesJSON     `json:"series"`
	SlowThresholdSeconds float64        `json:"slow_threshold_seconds"`
	StartedAt            time.Time      `json:"started_at"`
	UptimeSeconds        float64        `json:"uptime_seconds"`
	GeneratedAt          time.Time      `json:"generated_at"`
	Routes               routesJSON     `json:"routes"`
	System               *SystemSample  `json:"system"`
	Extra                map[string]any `json:"extra"`
}

// Summary serves {"success": true, "performance": {...}}: the original's
// total_requests, avg_response_time (seconds), slow_requests, error_rate
// (percent), top_endpoints and system_health, for ?window= (5m, 1h, 24h or
// all, the default), plus the full figures of every window, per-minute
// (last hour) and per-hour (last day) series, route-table use, the latest
// system sample and the application's extra figures. ?top= (0–100) sets
// how many endpoints are listed.
func (h *Handlers) Summary() http.Handler {
	return h.handle(func(_ *http.Request, q url.Values) (any, error) {
		w, err := windowParam(q, SinceStart)
		if err != nil {
			return nil, err
		}
		top, err := intParam(q, "top", h.top, 0, MaxTopEndpoints)
		if err != nil {
			return nil, err
		}
		rec := h.rec
		stats := rec.Stats(w)
		eps := rec.Endpoints(w)
		slices.SortStableFunc(eps, func(a, b EndpointStats) int { return cmp.Compare(b.Count, a.Count) })
		tops := make([]topEndpointJSON, 0, min(top, len(eps)))
		for _, e := range eps[:min(top, len(eps))] {
			tops = append(tops, topEndpointJSON{
				Endpoint: e.Key, Method: e.Method, Route: e.Route, Count: e.Count,
				AvgTime: e.Mean.Seconds(), P95Time: e.P95.Seconds(), ErrorRate: e.ErrorRate(),
			})
		}
		tracked, limit, overflowed := rec.Routes()
		now, _ := rec.clock()
		s := summaryJSON{
			TotalRequests: stats.Count, AvgResponseTime: stats.Mean.Seconds(), SlowRequests: stats.Slow,
			ErrorRate: stats.ErrorRate(), TopEndpoints: tops, SystemHealth: HealthUnknown,
			Window: w.String(), Stats: toJSON(stats), Windows: windowsOf(rec.Stats),
			Series:               seriesJSON{pointsJSON(rec.Series(LastHour)), pointsJSON(rec.Series(LastDay))},
			SlowThresholdSeconds: rec.SlowThreshold().Seconds(),
			StartedAt:            rec.Started().UTC(), UptimeSeconds: now.Sub(rec.Started()).Seconds(), GeneratedAt: now.UTC(),
			Routes: routesJSON{tracked, limit, overflowed},
		}
		if h.sys != nil {
			if smp, ok := h.sys.Latest(); ok {
				s.System, s.SystemHealth = &smp, smp.Health
			}
			s.Extra = h.sys.Extra()
		}
		return map[string]any{"success": true, "performance": s}, nil
	})
}

type endpointJSON struct {
	Method string `json:"method"`
	Route  string `json:"route"`
	statsJSON
}

// Endpoints serves {"success": true, "endpoint_performance": {key:
// {...}}, "window": w}: every endpoint with requests in ?window= (all by
// default), keyed "METHOD /route/{pattern}", with the original's count,
// total_time, avg_time, min_time, max_time and errors and the rest of
// statsJSON.
func (h *Handlers) Endpoints() http.Handler {
	return h.handle(func(_ *http.Request, q url.Values) (any, error) {
		w, err := windowParam(q, SinceStart)
		if err != nil {
			return nil, err
		}
		out := map[string]endpointJSON{}
		for _, e := range h.rec.Endpoints(w) {
			out[e.Key] = endpointJSON{Method: e.Method, Route: e.Route, statsJSON: toJSON(e.Stats)}
		}
		return map[string]any{"success": true, "endpoint_performance": out, "window": w.String()}, nil
	})
}

type endpointDetailJSON struct {
	Endpoint string `json:"endpoint"`
	Method   string `json:"method"`
	Route    string `json:"route"`
	Window   string `json:"window"`
	statsJSON
	Windows windowsJSON `json:"windows"`
	Series  seriesJSON  `json:"series"`
}

// Endpoint serves {"success": true, "endpoint_performance": {...}} for one
// endpoint: the original's endpoint, count, avg_time, min_time, max_time
// and error_rate for ?window= (all by default), every window's figures and
// its series. The endpoint comes from the {endpoint...} path wildcard
// (Register mounts it so), or else ?endpoint=: "METHOD /route" (URL-escaped
// as needed), a bare route pattern for all its methods, or UnmatchedKey.
// An endpoint without requests is 404.
func (h *Handlers) Endpoint() http.Handler {
	return h.handle(func(r *http.Request, q url.Values) (any, error) {
		key := r.PathValue("endpoint")
		if key == "" {
			key = q.Get("endpoint")
		}
		if key == "" || len(key) > 1024 {
			return nil, &ParamError{Name: "endpoint", Reason: "must name an endpoint, e.g. \"GET /api/items/{id}\" (at most 1024 bytes)"}
		}
		w, err := windowParam(q, SinceStart)
		if err != nil {
			return nil, err
		}
		e, err := h.rec.Endpoint(key, w)
		if err != nil {
			return nil, err
		}
		stats := func(w Window) Stats {
			s, _ := h.rec.Endpoint(key, w)
			return s.Stats
		}
		hour, _ := h.rec.EndpointSeries(key, LastHour)
		day, _ := h.rec.EndpointSeries(key, LastDay)
		return map[string]any{"success": true, "endpoint_performance": endpointDetailJSON{
			Endpoint: e.Key, Method: e.Method, Route: e.Route, Window: w.String(), statsJSON: toJSON(e.Stats),
			Windows: windowsOf(stats), Series: seriesJSON{pointsJSON(hour), pointsJSON(day)},
		}}, nil
	})
}

type slowJSON struct {
	Timestamp    time.Time `json:"timestamp"`
	Endpoint     string    `json:"endpoint"`
	Method       string    `json:"method"`
	Route        string    `json:"route"`
	Status       int       `json:"status"`
	ResponseTime float64   `json:"response_time"`
	RequestID    string    `json:"request_id"`
	User         string    `json:"user"`
	UserEmail    string    `json:"user_email"`
}

// SlowRequests serves {"success": true, "slow_requests": [...]}: the most
// recent ?limit= slow requests (default 10, as the original; 0 for all
// kept), oldest first, each with the original's timestamp, endpoint (the
// endpoint key rather than the raw path), method, response_time (seconds)
// and user_email (what SetUser reported, also as user), plus route,
// status and request_id.
func (h *Handlers) SlowRequests() http.Handler {
	return h.handle(func(_ *http.Request, q url.Values) (any, error) {
		limit, err := intParam(q, "limit", 10, 0, MaxSlowRequests)
		if err != nil {
			return nil, err
		}
		slow := h.rec.SlowRequests(limit)
		out := make([]slowJSON, len(slow))
		for i, s := range slow {
			out[i] = slowJSON{
				Timestamp: s.Time.UTC(), Endpoint: s.Endpoint, Method: s.Method, Route: s.Route, Status: s.Status,
				ResponseTime: s.Duration.Seconds(), RequestID: s.RequestID, User: s.User, UserEmail: s.User,
			}
		}
		return map[string]any{
			"success": true, "slow_requests": out,
			"threshold_seconds": h.rec.SlowThreshold().Seconds(), "capacity": h.rec.SlowCapacity(),
		}, nil
	})
}

// maxHours bounds ?hours= of SystemMetrics.
const maxHours = 24 * 7

type systemJSON struct {
	Success         bool           `json:"success"`
	SystemMetrics   []SystemSample `json:"system_metrics"`
	Current         *SystemSample  `json:"current"`
	Health          Health         `json:"health"`
	IntervalSeconds float64        `json:"interval_seconds"`
	Extra           map[string]any `json:"extra"`
	// The bare figures the Django HEAD version returned, from Current.
	CPUPercent        *float64 `json:"cpu_percent,omitempty"`
	MemoryPercent     *float64 `json:"memory_percent,omitempty"`
	MemoryAvailableGB *float64 `json:"memory_available_gb,omitempty"`
	DiskPercent       *float64 `json:"disk_percent,omitempty"`
	DiskFreeGB        *float64 `json:"disk_free_gb,omitempty"`
}

// defaultPoints is how many samples SystemMetrics returns at most unless
// ?points= says otherwise: a day at one sample per 5 minutes.
const defaultPoints = 288

// SystemMetrics serves {"success": true, "system_metrics": [...]}: the
// samples of the last ?hours= (default 24, as the original; up to 168),
// oldest first, thinned to at most ?points= (default 288; 0 for every
// sample kept), plus the
// current sample, its health, the application's extra figures, and the
// bare cpu_percent, memory_percent, memory_available_gb, disk_percent and
// disk_free_gb of the Django HEAD version. Samples come from the Sampler's
// background loop: the request never waits for one.
func (h *Handlers) SystemMetrics() http.Handler {
	return h.handle(func(_ *http.Request, q url.Values) (any, error) {
		hours, err := hoursParam(q, 24, maxHours)
		if err != nil {
			return nil, err
		}
		points, err := intParam(q, "points", defaultPoints, 0, MaxHistory)
		if err != nil {
			return nil, err
		}
		out := systemJSON{Success: true, SystemMetrics: []SystemSample{}, Health: HealthUnknown}
		if h.sys == nil {
			return out, nil
		}
		out.IntervalSeconds = h.sys.Interval().Seconds()
		out.Extra = h.sys.Extra()
		since := h.sys.now().Add(-time.Duration(hours * float64(time.Hour)))
		out.SystemMetrics = thin(h.sys.History(since), points)
		if smp, ok := h.sys.Latest(); ok {
			const gb = 1 << 30
			memGB, diskGB := float64(smp.MemoryAvailable)/gb, float64(smp.DiskFree)/gb
			out.Current, out.Health = &smp, smp.Health
			out.CPUPercent, out.MemoryPercent, out.DiskPercent = &smp.CPUPercent, &smp.MemoryPercent, &smp.DiskPercent
			out.MemoryAvailableGB, out.DiskFreeGB = &memGB, &diskGB
		}
		return out, nil
	})
}

// thin keeps at most n samples (n ≤ 0: all), evenly spread, always
// keeping the newest.
func thin(s []SystemSample, n int) []SystemSample {
	if n <= 0 || len(s) <= n {
		return s
	}
	out := make([]SystemSample, n)
	for i := range out {
		out[n-1-i] = s[len(s)-1-i*len(s)/n]
	}
	return out
}
