package perf

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// Names of the two endpoints that do not correspond to a route.
const (
	// UnmatchedKey names the bucket of every request no route matched
	// (404s, 405s), whatever its method and path.
	UnmatchedKey = "(unmatched)"
	// OverflowKey names the bucket of the requests of routes seen after
	// Options.MaxRoutes distinct ones were tracked.
	OverflowKey = "(overflow)"
)

// Defaults and limits of Options.
const (
	// DefaultSlowThreshold is the Django original's: 2 s.
	DefaultSlowThreshold = 2 * time.Second
	// DefaultSlowRequests is how many slow requests are kept (the
	// original's 100).
	DefaultSlowRequests = 100
	// DefaultMaxRoutes bounds the endpoints tracked: far more than the
	// Senfi API's routes and methods.
	DefaultMaxRoutes = 200
	// MaxSlowRequests bounds Options.SlowRequests.
	MaxSlowRequests = 100_000
	// MaxMaxRoutes bounds Options.MaxRoutes.
	MaxMaxRoutes = 10_000
)

// Options configures a Recorder. The zero value is ready to use.
type Options struct {
	// SlowThreshold is the duration from which a request is slow: it is
	// counted in Stats.Slow and logged in the slow-request ring. Zero
	// value: DefaultSlowThreshold (2 s, the Django original's).
	SlowThreshold time.Duration
	// SlowRequests is how many of the most recent slow requests are kept.
	// Zero value: DefaultSlowRequests (100); at most MaxSlowRequests.
	SlowRequests int
	// MaxRoutes bounds the number of method+route endpoints tracked; the
	// requests of any further ones are counted under OverflowKey. Each
	// endpoint takes about 12 KiB plus its history (about 80 KiB for a busy
	// route, at most about 320 KiB). Zero value: DefaultMaxRoutes (200); at
	// most MaxMaxRoutes.
	MaxRoutes int
	// OnSlow is called with each slow request, on the request's goroutine
	// after the handler returned (so keep it quick: log it, count it).
	// Zero value: nothing.
	OnSlow func(SlowRequest)
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// Recorder measures the requests that pass through its Handler, per method
// and route pattern, and keeps the most recent slow ones. It is safe for
// concurrent use; build it with New.
//
// Memory is bounded whatever clients send: endpoints are keyed by the
// route pattern (never the raw path) and the method (methods outside RFC
// 9110's count as OTHER), requests no route matched share UnmatchedKey, at
// most Options.MaxRoutes endpoints are tracked, each keeps a fixed number
// of time slots, and the slow-request ring has a fixed capacity.
type Recorder struct {
	now        func() time.Time
	realClock  bool // now is time.Now
	start      time.Time
	startNanos int64 // start.UnixNano()
	slowAfter  time.Duration
	maxRoutes  int
	onSlow     func(SlowRequest)

	routes    atomic.Pointer[map[routeKey]*endpoint] // copied on insert
	full      atomic.Bool                            // MaxRoutes reached
	mu        sync.Mutex                             // serialises inserts
	unmatched *endpoint
	overflow  *endpoint

	slow slowRing
	pool sync.Pool // *writer
}

type routeKey struct {
	method string // one of the method names methodName returns
	route  string
}

// New validates opts and returns a Recorder. Every problem is reported at
// once.
func New(opts Options) (*Recorder, error) {
	var errs []error
	if opts.SlowThreshold < 0 {
		errs = append(errs, errors.New("perf: Options.SlowThreshold is negative; use 0 for the default (2s)"))
	}
	if opts.SlowRequests < 0 || opts.SlowRequests > MaxSlowRequests {
		errs = append(errs, fmt.Errorf("perf: Options.SlowRequests %d is outside 0–%d", opts.SlowRequests, MaxSlowRequests))
	}
	if opts.MaxRoutes < 0 || opts.MaxRoutes > MaxMaxRoutes {
		errs = append(errs, fmt.Errorf("perf: Options.MaxRoutes %d is outside 0–%d", opts.MaxRoutes, MaxMaxRoutes))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rec := &Recorder{
		now:       opts.Now,
		slowAfter: orDefault(opts.SlowThreshold, DefaultSlowThreshold),
		maxRoutes: orDefault(opts.MaxRoutes, DefaultMaxRoutes),
		onSlow:    opts.OnSlow,
	}
	if rec.now == nil {
		rec.now, rec.realClock = time.Now, true
	}
	rec.start = rec.now()
	nanos := rec.start.UnixNano()
	rec.startNanos = nanos
	rec.unmatched = newEndpoint("", UnmatchedKey, UnmatchedKey, nanos)
	rec.overflow = newEndpoint("", OverflowKey, OverflowKey, nanos)
	rec.routes.Store(&map[routeKey]*endpoint{})
	rec.slow.buf = make([]SlowRequest, orDefault(opts.SlowRequests, DefaultSlowRequests))
	rec.pool.New = func() any { return new(writer) }
	return rec, nil
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Handler is the middleware that measures every request through next.
//
// The route comes from, in order: SetRoute (or ReportPattern) called by an
// inner layer, then r.Pattern of the request the Recorder received. The
// ServeMux sets Pattern on the request it receives, so r.Pattern is only
// seen here when the Recorder wraps the mux directly or a single route, or
// when the middleware in between passes the request itself down; otherwise
// wrap the mux with ReportPattern. Requests with no route are counted under
// UnmatchedKey.
//
// A request costs no allocation. Its duration ends when the handler returns
// (or calls Hijack); a handler that panics is recorded with status 500
// unless it wrote one, and the panic continues up the chain.
func (rec *Recorder) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := rec.pool.Get().(*writer)
		pw.reset(w, rec)
		start := rec.elapsed()
		defer rec.finish(pw, r, start)
		next.ServeHTTP(pw, r)
		pw.done = true
	})
}

// elapsed returns the time since the Recorder was made. With the real
// clock this is one monotonic clock reading, cheaper than time.Now: request
// durations and time slots follow the monotonic clock from the Recorder's
// start, so a step of the wall clock neither distorts a duration nor moves
// requests between slots.
func (rec *Recorder) elapsed() time.Duration {
	if rec.realClock {
		return time.Since(rec.start)
	}
	return rec.now().Sub(rec.start)
}

// finish records the request served on pw, which started at start (see
// elapsed), and returns pw to the pool.
func (rec *Recorder) finish(pw *writer, r *http.Request, start time.Duration) {
	end := pw.hijackedAt
	if !pw.hijacked {
		end = rec.elapsed()
	}
	d := end - start
	status := pw.status
	if !pw.wroteHeader {
		status = http.StatusOK
		if !pw.done {
			status = http.StatusInternalServerError
		}
	}
	route := pw.route
	if route == "" {
		route = r.Pattern
	}
	e := rec.endpointFor(r.Method, route)
	slow := d >= rec.slowAfter
	e.record(rec.startNanos+int64(end), d, classOf(status), pw.bytes, slow)
	if slow {
		rec.addSlow(pw, e, rec.start.Add(end), d, status)
	}
	pw.reset(nil, nil)
	rec.pool.Put(pw)
}

func classOf(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status / 100
}

// maxStoredText bounds the request ID and user kept per slow request.
const maxStoredText = 128

func (rec *Recorder) addSlow(pw *writer, e *endpoint, end time.Time, d time.Duration, status int) {
	s := SlowRequest{
		Time:      end,
		Method:    e.method,
		Route:     e.route,
		Endpoint:  e.key,
		Status:    status,
		Duration:  d,
		RequestID: strings.Clone(truncate(pw.rw.Header().Get(problem.HeaderRequestID), maxStoredText)),
		User:      strings.Clone(truncate(pw.user, maxStoredText)),
	}
	rec.slow.add(s)
	if rec.onSlow != nil {
		rec.onSlow(s)
	}
}

// methodName returns the method's name if RFC 9110 (or RFC 5789, PATCH)
// defines it, else "OTHER": clients cannot mint endpoints with made-up
// methods.
func methodName(m string) string {
	for _, known := range [...]string{
		http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace,
	} {
		if m == known {
			return known // the constant, not the request's copy
		}
	}
	return "OTHER"
}

// routeOf returns a ServeMux pattern without its method: "GET /x/{id}"
// becomes "/x/{id}".
func routeOf(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		if c := pattern[i]; c == ' ' || c == '\t' {
			for i < len(pattern) && (pattern[i] == ' ' || pattern[i] == '\t') {
				i++
			}
			return pattern[i:]
		}
	}
	return pattern
}

// endpointFor returns the endpoint of a request; pattern "" is unmatched.
func (rec *Recorder) endpointFor(method, pattern string) *endpoint {
	if pattern == "" {
		return rec.unmatched
	}
	k := routeKey{methodName(method), routeOf(pattern)}
	if k.route == "" {
		return rec.unmatched
	}
	if e, ok := (*rec.routes.Load())[k]; ok {
		return e
	}
	if rec.full.Load() {
		return rec.overflow
	}
	return rec.addRoute(k)
}

func (rec *Recorder) addRoute(k routeKey) *endpoint {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	old := *rec.routes.Load()
	if e, ok := old[k]; ok {
		return e
	}
	if len(old) >= rec.maxRoutes {
		rec.full.Store(true)
		return rec.overflow
	}
	k.route = strings.Clone(k.route)
	e := newEndpoint(k.method, k.route, k.method+" "+k.route, rec.startNanos+int64(rec.elapsed()))
	m := make(map[routeKey]*endpoint, len(old)+1)
	maps.Copy(m, old)
	m[k] = e
	rec.routes.Store(&m)
	return e
}

// endpoints returns every endpoint, the special ones last.
func (rec *Recorder) endpoints() []*endpoint {
	m := *rec.routes.Load()
	all := make([]*endpoint, 0, len(m)+2)
	for _, e := range m {
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b *endpoint) int { return strings.Compare(a.key, b.key) })
	return append(all, rec.unmatched, rec.overflow)
}

// Started returns when the Recorder was made.
func (rec *Recorder) Started() time.Time { return rec.start }

// SlowThreshold returns the duration from which a request is slow.
func (rec *Recorder) SlowThreshold() time.Duration { return rec.slowAfter }

// Routes returns the number of endpoints tracked (unmatched and overflow
// apart), the most that will be, and whether requests have been counted
// under OverflowKey because that limit was reached.
func (rec *Recorder) Routes() (tracked, limit int, overflowed bool) {
	return len(*rec.routes.Load()), rec.maxRoutes, rec.full.Load()
}

// clock returns now and its minute, on the same monotonic basis as the
// requests' times (see elapsed).
func (rec *Recorder) clock() (time.Time, int64) {
	now := rec.start.Add(rec.elapsed())
	return now, floorDiv(now.UnixNano(), minuteNanos)
}

// span returns how much of window w, ending at now (minute m), has elapsed
// since the Recorder was made.
func (rec *Recorder) span(w Window, now time.Time, m int64) time.Duration {
	var from time.Time
	switch w {
	case SinceStart:
		from = rec.start
	case LastDay:
		from = time.Unix(0, (floorDiv(m, 60)-hourSlots+1)*60*minuteNanos)
	default:
		from = time.Unix(0, (m-int64(w.minutes())+1)*minuteNanos)
	}
	if from.Before(rec.start) {
		from = rec.start
	}
	return max(now.Sub(from), 0)
}

// Stats returns the figures of every request in window w.
func (rec *Recorder) Stats(w Window) Stats {
	now, m := rec.clock()
	acc := newHist()
	for _, e := range rec.endpoints() {
		e.addWindow(acc, w, m)
	}
	return statsOf(acc, rec.span(w, now, m))
}

// Endpoints returns the figures of every endpoint with requests in window
// w, sorted by key, with UnmatchedKey and OverflowKey last.
func (rec *Recorder) Endpoints(w Window) []EndpointStats {
	var out []EndpointStats
	rec.eachEndpoint(w, func(es EndpointStats, _ *hist) { out = append(out, es) })
	return out
}

// eachEndpoint calls fn with the figures and histogram of every endpoint
// with requests in window w, in the order of Endpoints. The histogram is
// reused between calls.
func (rec *Recorder) eachEndpoint(w Window, fn func(EndpointStats, *hist)) {
	now, m := rec.clock()
	span := rec.span(w, now, m)
	acc := newHist()
	for _, e := range rec.endpoints() {
		acc.reset()
		e.addWindow(acc, w, m)
		if !acc.empty() {
			fn(EndpointStats{Method: e.method, Route: e.route, Key: e.key, Stats: statsOf(acc, span)}, acc)
		}
	}
}

// Distribution is how the durations of an endpoint's requests spread, for
// exporting histograms (perf/promperf does).
type Distribution struct {
	EndpointStats
	// Below[i] is the number of requests that took less than the i-th
	// bound passed to Distributions.
	Below []uint64
}

// Distributions returns the Distribution of every endpoint with requests
// in window w over bounds, which must be ascending. A count is exact when
// its bound is a bucket boundary: a whole number of microseconds that is
// below 16 or has at most five significant binary digits (every power of
// two does); otherwise requests in the bucket the bound falls into are
// left out of it (they are within RelativeError of the bound). Durations
// of 2^32 µs (about 71.6 minutes) and more are below no bound.
func (rec *Recorder) Distributions(w Window, bounds []time.Duration) []Distribution {
	var out []Distribution
	rec.eachEndpoint(w, func(es EndpointStats, h *hist) {
		out = append(out, Distribution{EndpointStats: es, Below: h.below(bounds)})
	})
	return out
}

// ErrUnknownEndpoint is returned by Recorder.Endpoint and
// Recorder.EndpointSeries for a key no request has been recorded under.
var ErrUnknownEndpoint = errors.New("perf: no requests recorded for this endpoint")

// match returns the endpoints a key names: "METHOD route" names one, a
// bare route names all of its methods, UnmatchedKey and OverflowKey name
// their buckets. method is "" for a bare route.
func (rec *Recorder) match(key string) (method, route string, es []*endpoint) {
	for _, e := range rec.endpoints() {
		switch {
		case e.key == key:
			if e.method == "" && !e.hasData() {
				return "", key, nil // the unmatched or overflow bucket, still empty
			}
			return e.method, e.route, []*endpoint{e}
		case e.method != "" && e.route == key:
			es = append(es, e)
		}
	}
	return "", key, es
}

// Endpoint returns the figures of the endpoint key names in window w. A
// key is "METHOD route" (EndpointStats.Key), a bare route (every method of
// it combined; Method is then "" and Key the route), UnmatchedKey or
// OverflowKey. The error wraps ErrUnknownEndpoint when no request was ever
// recorded under key.
func (rec *Recorder) Endpoint(key string, w Window) (EndpointStats, error) {
	method, route, es := rec.match(key)
	if len(es) == 0 {
		return EndpointStats{}, fmt.Errorf("%w: %q", ErrUnknownEndpoint, truncate(key, 200))
	}
	now, m := rec.clock()
	acc := newHist()
	for _, e := range es {
		e.addWindow(acc, w, m)
	}
	out := EndpointStats{Method: method, Route: route, Key: route, Stats: statsOf(acc, rec.span(w, now, m))}
	if method != "" {
		out.Key = es[0].key
	}
	return out, nil
}

// Series returns all requests slot by slot, oldest first, ending with the
// current slot: 5 or 60 minutes for Last5Minutes and LastHour, 24 hours
// for LastDay. SinceStart has no series: it returns nil.
func (rec *Recorder) Series(w Window) []Point {
	return rec.series(rec.endpoints(), w)
}

// EndpointSeries is Series for the endpoint key names (as in Endpoint).
func (rec *Recorder) EndpointSeries(key string, w Window) ([]Point, error) {
	_, _, es := rec.match(key)
	if len(es) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEndpoint, truncate(key, 200))
	}
	return rec.series(es, w), nil
}

func (rec *Recorder) series(es []*endpoint, w Window) []Point {
	var n int
	var slotLen time.Duration
	switch w {
	case Last5Minutes, LastHour:
		n, slotLen = w.minutes(), time.Minute
	case LastDay:
		n, slotLen = hourSlots, time.Hour
	default:
		return nil
	}
	now, m := rec.clock()
	acc := make([]*hist, n)
	for i := range acc {
		acc[i] = newHist()
	}
	for _, e := range es {
		e.addSeries(acc, w == LastDay, m)
	}
	last := time.Unix(0, m*minuteNanos)
	if w == LastDay {
		last = time.Unix(0, floorDiv(m, 60)*60*minuteNanos)
	}
	points := make([]Point, n)
	for i, h := range acc {
		start := last.Add(-time.Duration(n-1-i) * slotLen)
		from, to := start, start.Add(slotLen)
		if now.Before(to) {
			to = now
		}
		if from.Before(rec.start) {
			from = rec.start
		}
		points[i] = Point{Start: start, Stats: statsOf(h, max(to.Sub(from), 0))}
	}
	return points
}

// SlowRequest is one request that took at least the slow threshold.
type SlowRequest struct {
	// Time is when the request ended.
	Time time.Time
	// Method and Route are those of its endpoint; Endpoint is their key.
	Method, Route, Endpoint string
	// Status is the response status.
	Status int
	// Duration is how long the request took.
	Duration time.Duration
	// RequestID is the X-Request-ID response header (set by the audit
	// middleware), at most 128 bytes.
	RequestID string
	// User is what SetUser reported, at most 128 bytes.
	User string
}

// slowRing keeps the most recent slow requests.
type slowRing struct {
	mu   sync.Mutex
	buf  []SlowRequest
	next int
	n    int
}

func (s *slowRing) add(r SlowRequest) {
	s.mu.Lock()
	s.buf[s.next] = r
	s.next = (s.next + 1) % len(s.buf)
	s.n = min(s.n+1, len(s.buf))
	s.mu.Unlock()
}

// SlowRequests returns the most recent limit slow requests, oldest first;
// limit ≤ 0 returns all those kept.
func (rec *Recorder) SlowRequests(limit int) []SlowRequest {
	s := &rec.slow
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	if limit > 0 && limit < n {
		n = limit
	}
	out := make([]SlowRequest, n)
	for i := range out {
		out[i] = s.buf[mod(int64(s.next-n+i), len(s.buf))]
	}
	return out
}

// SlowCapacity returns how many slow requests are kept.
func (rec *Recorder) SlowCapacity() int { return len(rec.slow.buf) }
