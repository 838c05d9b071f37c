package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/secure"
)

// testClock is a settable clock for Options.Now, safe for concurrent use.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// mustPolicy parses s or fails the test.
func mustPolicy(t testing.TB, s string) ratelimit.Policy {
	t.Helper()
	p, err := ratelimit.ParsePolicy(s)
	require.NoError(t, err)
	return p
}

// newLimiter builds a Limiter or fails the test.
func newLimiter(t testing.TB, opts ratelimit.Options) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(opts)
	require.NoError(t, err)
	return l
}

// okBody is okHandler's body.
var okBody = []byte("ok\n")

// okHandler is the final handler: 200 and a body.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(okBody)
})

// serveRec runs h on r and returns the recorded response.
func serveRec(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// statuses serves each request in turn and returns the status codes.
func statuses(h http.Handler, reqs ...*http.Request) []int {
	codes := make([]int, len(reqs))
	for i, r := range reqs {
		codes[i] = serveRec(h, r).Code
	}
	return codes
}

// repeat returns n copies of code followed by the rest.
func repeat(n, code int, rest ...int) []int {
	out := make([]int, 0, n+len(rest))
	for range n {
		out = append(out, code)
	}
	return append(out, rest...)
}

// problemBody is the JSON body of a problem+json response.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func decodeProblem(t testing.TB, rec *httptest.ResponseRecorder) problemBody {
	t.Helper()
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p problemBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p), "body %q", rec.Body.String())
	return p
}

// joinedCount returns how many errors err joins (1 for a plain error).
func joinedCount(err error) int {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return len(j.Unwrap())
	}
	return 1
}

func TestNewRefuses(t *testing.T) {
	valid := ratelimit.Options{Name: "login", Policy: ratelimit.Policy{Limit: 5, Period: time.Minute}}
	with := func(f func(*ratelimit.Options)) ratelimit.Options {
		o := valid
		f(&o)
		return o
	}
	tests := []struct {
		name      string
		opts      ratelimit.Options
		problems  int
		badPolicy bool
	}{
		{"zero Options", ratelimit.Options{}, 2, true},
		{"no name", with(func(o *ratelimit.Options) { o.Name = "" }), 1, false},
		{"upper case", with(func(o *ratelimit.Options) { o.Name = "Login" }), 1, false},
		{"space", with(func(o *ratelimit.Options) { o.Name = "log in" }), 1, false},
		{"quote", with(func(o *ratelimit.Options) { o.Name = `a"b` }), 1, false},
		{"semicolon", with(func(o *ratelimit.Options) { o.Name = "a;q=1" }), 1, false},
		{"65 characters", with(func(o *ratelimit.Options) { o.Name = strings.Repeat("a", 65) }), 1, false},
		{"non-ASCII", with(func(o *ratelimit.Options) { o.Name = "ورود" }), 1, false},
		{"zero policy", with(func(o *ratelimit.Options) { o.Policy = ratelimit.Policy{} }), 1, true},
		{"zero limit", with(func(o *ratelimit.Options) { o.Policy.Limit = 0 }), 1, true},
		{"zero period", with(func(o *ratelimit.Options) { o.Policy.Period = 0 }), 1, true},
		{"negative burst", with(func(o *ratelimit.Options) { o.Policy.Burst = -1 }), 1, true},
		{"negative timeout", with(func(o *ratelimit.Options) { o.StoreTimeout = -time.Second }), 1, false},
		{"everything at once", ratelimit.Options{Name: "Bad Name", StoreTimeout: -1}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ratelimit.New(tt.opts)
			require.Error(t, err)
			assert.Nil(t, l)
			assert.Equal(t, tt.problems, joinedCount(err), "problems reported: %v", err)
			assert.Equal(t, tt.badPolicy, errors.Is(err, ratelimit.ErrInvalidPolicy))
		})
	}
}

func TestNewAccepts(t *testing.T) {
	for _, name := range []string{"login", "a", "api.v1_write-2", strings.Repeat("z", 64), "0"} {
		t.Run(name, func(t *testing.T) {
			l := newLimiter(t, ratelimit.Options{Name: name, Policy: mustPolicy(t, "5/m")})
			assert.Equal(t, name, l.Name())
			assert.Equal(t, mustPolicy(t, "5/m"), l.Policy())
		})
	}
}

// TestLimiterBoundary spends budgets through the middleware: exactly
// Burst allowed, the next refused, one more after Period/Limit, all of them
// after Period.
func TestLimiterBoundary(t *testing.T) {
	for _, spec := range []string{"5/m", "100/h", "10/s", "1000/d", "3/10m", "10/s burst 20", "2/m burst 1"} {
		t.Run(spec, func(t *testing.T) {
			p := mustPolicy(t, spec)
			clock := newTestClock()
			var reached atomic.Int64
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached.Add(1)
				okHandler(w, r)
			})
			h := newLimiter(t, ratelimit.Options{Name: "t", Policy: p, Now: clock.Now}).Handler(next)
			r := newKeyRequest("192.0.2.1:1234")
			burst := effectiveBurst(p)
			interval := p.Period / time.Duration(p.Limit)

			for i := range burst {
				require.Equal(t, http.StatusOK, serveRec(h, r).Code, "request %d of %d", i+1, burst)
			}
			assert.Equal(t, http.StatusTooManyRequests, serveRec(h, r).Code, "request %d", burst+1)
			assert.Equal(t, int64(burst), reached.Load(), "refused requests never reach next")

			clock.Advance(interval - time.Nanosecond)
			assert.Equal(t, http.StatusTooManyRequests, serveRec(h, r).Code, "a nanosecond before Period/Limit")
			clock.Advance(time.Nanosecond)
			assert.Equal(t, []int{200, 429}, statuses(h, r, r), "one request earned back after Period/Limit")

			clock.Advance(time.Duration(burst) * interval)
			assert.Equal(t, repeat(burst, 200, 429), statuses(h, slicesRepeat(r, burst+1)...), "whole burst after a full refill")
		})
	}
}

// slicesRepeat returns n references to r.
func slicesRepeat(r *http.Request, n int) []*http.Request {
	out := make([]*http.Request, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func TestLimiterHeaders(t *testing.T) {
	clock := newTestClock()
	lim := newLimiter(t, ratelimit.Options{Name: "login", Policy: mustPolicy(t, "5/m"), Now: clock.Now})
	h := lim.Handler(okHandler)
	r := newKeyRequest("192.0.2.1:1234")

	wantRateLimit := []string{
		`"login";r=4;t=12`,
		`"login";r=3;t=24`,
		`"login";r=2;t=36`,
		`"login";r=1;t=48`,
		`"login";r=0;t=60`,
	}
	for i, want := range wantRateLimit {
		rec := serveRec(h, r)
		require.Equal(t, http.StatusOK, rec.Code, "request %d", i+1)
		assert.Equal(t, []string{`"login";q=5;w=60`}, rec.Header().Values("RateLimit-Policy"), "request %d", i+1)
		assert.Equal(t, []string{want}, rec.Header().Values("RateLimit"), "request %d", i+1)
		assert.Empty(t, rec.Header().Values("Retry-After"))
		assert.Empty(t, rec.Header().Values("X-RateLimit-Limit"), "legacy headers are off by default")
		assert.Empty(t, rec.Header().Values("X-RateLimit-Remaining"))
		assert.Empty(t, rec.Header().Values("X-RateLimit-Reset"))
	}

	rec := serveRec(h, r)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, `"login";q=5;w=60`, rec.Header().Get("RateLimit-Policy"))
	assert.Equal(t, `"login";r=0;t=60`, rec.Header().Get("RateLimit"))
	assert.Equal(t, "12", rec.Header().Get("Retry-After"))

	// Retry-After rounds up to whole seconds.
	clock.Advance(11*time.Second + time.Millisecond)
	rec = serveRec(h, r)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"), "999 ms is 1 s")
	assert.Equal(t, `"login";r=0;t=49`, rec.Header().Get("RateLimit"), "48.999 s is 49 s")
	clock.Advance(999*time.Millisecond - time.Nanosecond)
	assert.Equal(t, "1", serveRec(h, r).Header().Get("Retry-After"), "1 ns is 1 s")
}

func TestLimiterPolicyHeader(t *testing.T) {
	tests := []struct {
		policy ratelimit.Policy
		want   string
	}{
		{mustPolicy(t, "5/m"), `"x";q=5;w=60`},
		{mustPolicy(t, "100/h"), `"x";q=100;w=3600`},
		{mustPolicy(t, "10/s"), `"x";q=10;w=1`},
		{mustPolicy(t, "1000/d"), `"x";q=1000;w=86400`},
		{mustPolicy(t, "3/10m"), `"x";q=3;w=600`},
		{mustPolicy(t, "10/s burst 20"), `"x";q=10;w=1`},
		{ratelimit.Policy{Limit: 5, Period: 100 * time.Millisecond}, `"x";q=5;w=1`},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			h := newLimiter(t, ratelimit.Options{Name: "x", Policy: tt.policy}).Handler(okHandler)
			rec := serveRec(h, newKeyRequest("192.0.2.1:1"))
			assert.Equal(t, tt.want, rec.Header().Get("RateLimit-Policy"))
		})
	}
}

func TestLimiterLegacyHeaders(t *testing.T) {
	clock := newTestClock()
	h := newLimiter(t, ratelimit.Options{
		Name: "api", Policy: mustPolicy(t, "3/m"), Now: clock.Now, LegacyHeaders: true,
	}).Handler(okHandler)
	r := newKeyRequest("192.0.2.1:1")

	tests := []struct {
		status                              int
		limit, remaining, reset, rateLimitH string
	}{
		{200, "3", "2", "20", `"api";r=2;t=20`},
		{200, "3", "1", "40", `"api";r=1;t=40`},
		{200, "3", "0", "60", `"api";r=0;t=60`},
		{429, "3", "0", "60", `"api";r=0;t=60`},
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i+1), func(t *testing.T) {
			rec := serveRec(h, r)
			require.Equal(t, tt.status, rec.Code)
			assert.Equal(t, []string{tt.limit}, rec.Header().Values("X-RateLimit-Limit"))
			assert.Equal(t, []string{tt.remaining}, rec.Header().Values("X-RateLimit-Remaining"))
			assert.Equal(t, []string{tt.reset}, rec.Header().Values("X-RateLimit-Reset"))
			assert.Equal(t, []string{tt.rateLimitH}, rec.Header().Values("RateLimit"), "the IETF headers are still sent")
			assert.Equal(t, `"api";q=3;w=60`, rec.Header().Get("RateLimit-Policy"))
		})
	}
}

// TestLimiterHeaderValuesNotShared checks that a handler adding to the
// rate-limit headers of its response cannot change those of another.
func TestLimiterHeaderValuesNotShared(t *testing.T) {
	clock := newTestClock()
	appending := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("RateLimit-Policy", `"other";q=1;w=1`)
		w.Header().Add("RateLimit", `"other";r=0;t=1`)
	})
	h := newLimiter(t, ratelimit.Options{Name: "a", Policy: mustPolicy(t, "100/h"), Now: clock.Now}).Handler(appending)
	first := serveRec(h, newKeyRequest("192.0.2.1:1"))
	assert.Equal(t, []string{`"a";q=100;w=3600`, `"other";q=1;w=1`}, first.Header().Values("RateLimit-Policy"))
	assert.Equal(t, []string{`"a";r=99;t=36`, `"other";r=0;t=1`}, first.Header().Values("RateLimit"))
	second := serveRec(h, newKeyRequest("192.0.2.2:1"))
	assert.Equal(t, []string{`"a";q=100;w=3600`, `"other";q=1;w=1`}, second.Header().Values("RateLimit-Policy"))
	assert.Equal(t, []string{`"a";r=99;t=36`, `"other";r=0;t=1`}, second.Header().Values("RateLimit"))
}

func TestLimiterProblemResponse(t *testing.T) {
	clock := newTestClock()
	h := newLimiter(t, ratelimit.Options{Name: "login", Policy: mustPolicy(t, "1/m"), Now: clock.Now}).Handler(okHandler)
	r := newKeyRequest("192.0.2.1:1")
	require.Equal(t, http.StatusOK, serveRec(h, r).Code)

	rec := serveRec(h, r)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "60", rec.Header().Get("Retry-After"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	p := decodeProblem(t, rec)
	assert.Equal(t, problemBody{
		Type:   "https://pkg.go.dev/github.com/senfi-sharif/senfi/ratelimit#ErrLimited",
		Title:  "Too Many Requests",
		Status: http.StatusTooManyRequests,
		Detail: "too many requests; retry after 60 seconds",
	}, p)

	head := newKeyRequest("192.0.2.1:1")
	head.Method = http.MethodHead
	rec = serveRec(h, head)
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Empty(t, rec.Body.Bytes(), "no body for HEAD")
}

// TestLimiterSpoofedForwardingHeaders builds the documented chain, secure's
// Guard.ClientIP then the limiter, and checks that forged forwarding
// headers buy no fresh budget.
func TestLimiterSpoofedForwardingHeaders(t *testing.T) {
	const client = "203.0.113.9"
	tests := []struct {
		name    string
		trusted []netip.Prefix
		// request returns the i-th request of the attacking client, and
		// of another, honest one.
		request func(i int) *http.Request
		honest  *http.Request
	}{
		{
			name: "no trusted proxies",
			request: func(i int) *http.Request {
				return newKeyRequest(fmt.Sprintf("%s:%d", client, 40000+i),
					"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i),
					"X-Real-IP", fmt.Sprintf("198.51.100.%d", i),
					"Forwarded", fmt.Sprintf("for=198.51.100.%d", i),
					"True-Client-IP", fmt.Sprintf("198.51.100.%d", i))
			},
			honest: newKeyRequest("198.51.100.77:1"),
		},
		{
			name:    "trusted proxy, client prepends fake entries",
			trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			request: func(i int) *http.Request {
				// The client sends "X-Forwarded-For: <fakes>"; the proxy
				// appends the address it saw.
				return newKeyRequest("10.0.0.1:443",
					"X-Forwarded-For", fmt.Sprintf("198.51.100.%d, 10.9.9.%d, %s", i, i, client))
			},
			honest: newKeyRequest("10.0.0.1:443", "X-Forwarded-For", "198.51.100.77"),
		},
		{
			name:    "trusted proxy, client sends the fakes as a second header",
			trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			request: func(i int) *http.Request {
				r := newKeyRequest("10.0.0.2:443", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
				r.Header.Add("X-Forwarded-For", client)
				r.Header.Set("X-Real-IP", fmt.Sprintf("198.51.100.%d", i))
				return r
			},
			honest: newKeyRequest("10.0.0.2:443", "X-Forwarded-For", "198.51.100.77"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := secure.New(secure.Options{AllowAnyHost: true, DisableSSLRedirect: true, TrustedProxies: tt.trusted})
			require.NoError(t, err)
			clock := newTestClock()
			lim := newLimiter(t, ratelimit.Options{Name: "login", Policy: mustPolicy(t, "3/m"), Now: clock.Now})
			h := g.ClientIP(lim.Handler(okHandler))

			reqs := make([]*http.Request, 20)
			for i := range reqs {
				reqs[i] = tt.request(i)
			}
			assert.Equal(t, repeat(3, 200, repeat(17, 429)...), statuses(h, reqs...))
			assert.Equal(t, http.StatusOK, serveRec(h, tt.honest).Code, "another client has its own budget")
		})
	}
}

// TestLimiterIPv6Rotation checks that addresses inside one /64 share a
// budget, and that another /64 (or, with KeyByIPPrefix, another prefix)
// gets its own.
func TestLimiterIPv6Rotation(t *testing.T) {
	by48, err := ratelimit.KeyByIPPrefix(24, 48)
	require.NoError(t, err)
	byAddr, err := ratelimit.KeyByIPPrefix(32, 128)
	require.NoError(t, err)
	tests := []struct {
		name     string
		key      ratelimit.KeyFunc
		rotating func(i int) string // RemoteAddr of the i-th request
		fresh    string             // RemoteAddr that must have its own budget
		want     []int
	}{
		{
			name:     "default /64",
			rotating: func(i int) string { return fmt.Sprintf("[2001:db8:1:2:%x:%x::%x]:443", i*7919%0x10000, i, i+1) },
			fresh:    "[2001:db8:1:3::1]:443",
			want:     repeat(3, 200, repeat(7, 429)...),
		},
		{
			name:     "/48 covers rotating /64s",
			key:      by48,
			rotating: func(i int) string { return fmt.Sprintf("[2001:db8:1:%x::1]:443", i) },
			fresh:    "[2001:db8:2::1]:443",
			want:     repeat(3, 200, repeat(7, 429)...),
		},
		{
			name:     "IPv4 /24",
			key:      by48,
			rotating: func(i int) string { return fmt.Sprintf("192.0.2.%d:443", i+1) },
			fresh:    "192.0.3.1:443",
			want:     repeat(3, 200, repeat(7, 429)...),
		},
		{
			name:     "/128 gives every address its own budget",
			key:      byAddr,
			rotating: func(i int) string { return fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1) },
			fresh:    "[2001:db8:1:2::ffff]:443",
			want:     repeat(10, 200),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			h := newLimiter(t, ratelimit.Options{Name: "v6", Policy: mustPolicy(t, "3/m"), Key: tt.key, Now: clock.Now}).Handler(okHandler)
			reqs := make([]*http.Request, 10)
			for i := range reqs {
				reqs[i] = newKeyRequest(tt.rotating(i))
			}
			assert.Equal(t, tt.want, statuses(h, reqs...))
			assert.Equal(t, http.StatusOK, serveRec(h, newKeyRequest(tt.fresh)).Code)
		})
	}
}

// TestLimiterConcurrent hammers one key through the middleware from many
// goroutines at a fixed instant: exactly the budget gets through.
func TestLimiterConcurrent(t *testing.T) {
	clock := newTestClock()
	var limited atomic.Int64
	lim := newLimiter(t, ratelimit.Options{
		Name: "hot", Policy: mustPolicy(t, "250/h"), Now: clock.Now,
		OnLimited: func(*http.Request, ratelimit.Decision) { limited.Add(1) },
	})
	var reached atomic.Int64
	h := lim.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))

	const goroutines, each = 50, 20
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r := newKeyRequest(fmt.Sprintf("192.0.2.1:%d", 1024+g*each+i)) // one client, many connections
				switch serveRec(h, r).Code {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(250), ok.Load())
	assert.Equal(t, int64(250), reached.Load())
	assert.Equal(t, int64(goroutines*each-250), refused.Load())
	assert.Equal(t, refused.Load(), limited.Load(), "OnLimited once per refusal")
}

func TestLimiterOnLimited(t *testing.T) {
	clock := newTestClock()
	type call struct {
		remote string
		d      ratelimit.Decision
	}
	var calls []call
	h := newLimiter(t, ratelimit.Options{
		Name: "x", Policy: mustPolicy(t, "2/m"), Now: clock.Now,
		OnLimited: func(r *http.Request, d ratelimit.Decision) { calls = append(calls, call{r.RemoteAddr, d}) },
	}).Handler(okHandler)
	r := newKeyRequest("192.0.2.1:1")
	assert.Equal(t, []int{200, 200, 429, 429}, statuses(h, r, r, r, r))
	assert.Equal(t, []call{
		{"192.0.2.1:1", ratelimit.Decision{RetryAfter: 30 * time.Second, ResetAfter: time.Minute}},
		{"192.0.2.1:1", ratelimit.Decision{RetryAfter: 30 * time.Second, ResetAfter: time.Minute}},
	}, calls)
}

func TestLimiterErrorHandler(t *testing.T) {
	clock := newTestClock()
	var got []error
	lim := newLimiter(t, ratelimit.Options{
		Name: "custom", Policy: mustPolicy(t, "1/m"), Now: clock.Now,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			got = append(got, err)
			w.WriteHeader(http.StatusTeapot)
		},
	})
	h := lim.Handler(okHandler)
	r := newKeyRequest("192.0.2.1:1")
	require.Equal(t, http.StatusOK, serveRec(h, r).Code)
	rec := serveRec(h, r)
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Equal(t, `"custom";r=0;t=60`, rec.Header().Get("RateLimit"), "headers are set before the ErrorHandler runs")
	assert.Empty(t, rec.Header().Get("Retry-After"), "Retry-After is the ErrorHandler's to write")

	require.Len(t, got, 1)
	require.ErrorIs(t, got[0], ratelimit.ErrLimited)
	var le *ratelimit.LimitError
	require.ErrorAs(t, got[0], &le)
	assert.Equal(t, "custom", le.Name)
	assert.Equal(t, ratelimit.Decision{RetryAfter: time.Minute, ResetAfter: time.Minute}, le.Decision)
	assert.False(t, errors.Is(got[0], ratelimit.ErrStoreUnavailable))
}

func TestLimiterNoKeyExempts(t *testing.T) {
	var storeCalls atomic.Int64
	store := ratelimit.StoreFunc(func(context.Context, string, ratelimit.Policy, time.Time) (ratelimit.Decision, error) {
		storeCalls.Add(1)
		return ratelimit.Decision{}, nil // would refuse
	})
	exemptInternal := func(r *http.Request, dst []byte) ([]byte, error) {
		if strings.HasPrefix(r.RemoteAddr, "10.") {
			return dst, fmt.Errorf("internal caller: %w", ratelimit.ErrNoKey)
		}
		return ratelimit.KeyByIP()(r, dst)
	}
	lim := newLimiter(t, ratelimit.Options{Name: "x", Policy: mustPolicy(t, "1/m"), Key: exemptInternal, Store: store})
	h := lim.Handler(okHandler)

	for range 5 {
		rec := serveRec(h, newKeyRequest("10.0.0.1:1"))
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Header().Get("RateLimit"), "an exempt request carries no rate-limit headers")
	}
	assert.Zero(t, storeCalls.Load())
	_, err := lim.Allow(newKeyRequest("10.0.0.1:1"))
	assert.ErrorIs(t, err, ratelimit.ErrNoKey)

	assert.Equal(t, http.StatusTooManyRequests, serveRec(h, newKeyRequest("192.0.2.1:1")).Code)
	assert.Equal(t, int64(1), storeCalls.Load())
}

// TestLimiterStoreFailure covers FailOpen with a store that fails and one
// that blocks until its context is done (StoreTimeout must bound it).
func TestLimiterStoreFailure(t *testing.T) {
	boom := errors.New("redis: connection refused at 10.1.2.3:6379")
	failing := ratelimit.StoreFunc(func(context.Context, string, ratelimit.Policy, time.Time) (ratelimit.Decision, error) {
		return ratelimit.Decision{}, boom
	})
	blocking := ratelimit.StoreFunc(func(ctx context.Context, _ string, _ ratelimit.Policy, _ time.Time) (ratelimit.Decision, error) {
		if _, ok := ctx.Deadline(); !ok {
			return ratelimit.Decision{}, errors.New("store called without a deadline")
		}
		<-ctx.Done()
		return ratelimit.Decision{}, ctx.Err()
	})
	keyFails := func(*http.Request, []byte) ([]byte, error) { return nil, boom }

	tests := []struct {
		name     string
		store    ratelimit.Store
		key      ratelimit.KeyFunc
		failOpen bool
		cause    error
		want     int
	}{
		{"failing store, fail closed", failing, nil, false, boom, http.StatusServiceUnavailable},
		{"failing store, fail open", failing, nil, true, boom, http.StatusOK},
		{"blocking store, fail closed", blocking, nil, false, context.DeadlineExceeded, http.StatusServiceUnavailable},
		{"blocking store, fail open", blocking, nil, true, context.DeadlineExceeded, http.StatusOK},
		{"failing key, fail closed", nil, keyFails, false, boom, http.StatusServiceUnavailable},
		{"failing key, fail open", nil, keyFails, true, boom, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var storeErrs, handlerErrs []error
			var reached int
			lim := newLimiter(t, ratelimit.Options{
				Name: "x", Policy: mustPolicy(t, "5/m"), Store: tt.store, Key: tt.key,
				StoreTimeout: 20 * time.Millisecond, FailOpen: tt.failOpen,
				OnStoreError: func(_ *http.Request, err error) { storeErrs = append(storeErrs, err) },
			})
			h := lim.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reached++
				okHandler(w, r)
			}))
			rec := serveRec(h, newKeyRequest("192.0.2.1:1"))
			assert.Equal(t, tt.want, rec.Code)
			assert.Equal(t, tt.failOpen, reached == 1, "next is reached only when failing open")
			require.Len(t, storeErrs, 1, "OnStoreError is called either way")
			assert.ErrorIs(t, storeErrs[0], tt.cause)
			assert.Empty(t, rec.Header().Get("RateLimit"), "no decision, no RateLimit header")

			if !tt.failOpen {
				assert.Equal(t, "1", rec.Header().Get("Retry-After"))
				p := decodeProblem(t, rec)
				assert.Equal(t, http.StatusServiceUnavailable, p.Status)
				assert.Equal(t, "https://pkg.go.dev/github.com/senfi-sharif/senfi/ratelimit#ErrStoreUnavailable", p.Type)
				assert.NotContains(t, rec.Body.String(), "10.1.2.3", "no internal error text in the body")
				assert.NotContains(t, rec.Body.String(), "deadline")
			}

			// The same through a replaced ErrorHandler, and through Allow.
			lim = newLimiter(t, ratelimit.Options{
				Name: "x", Policy: mustPolicy(t, "5/m"), Store: tt.store, Key: tt.key,
				StoreTimeout: 20 * time.Millisecond, FailOpen: tt.failOpen,
				ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
					handlerErrs = append(handlerErrs, err)
					w.WriteHeader(599)
				},
			})
			rec = serveRec(lim.Handler(okHandler), newKeyRequest("192.0.2.1:1"))
			if tt.failOpen {
				assert.Equal(t, http.StatusOK, rec.Code)
				assert.Empty(t, handlerErrs)
			} else {
				assert.Equal(t, 599, rec.Code)
				require.Len(t, handlerErrs, 1)
				assert.ErrorIs(t, handlerErrs[0], ratelimit.ErrStoreUnavailable)
				assert.ErrorIs(t, handlerErrs[0], tt.cause)
				assert.False(t, errors.Is(handlerErrs[0], ratelimit.ErrLimited))
			}
			_, err := lim.Allow(newKeyRequest("192.0.2.1:1"))
			assert.ErrorIs(t, err, ratelimit.ErrStoreUnavailable)
			assert.ErrorIs(t, err, tt.cause)
		})
	}
}

// TestLimiterStoreArguments checks what a Store is handed: the limiter's
// name before the key, its policy, its clock, and a context derived from
// the request's with the StoreTimeout (default 100 ms).
func TestLimiterStoreArguments(t *testing.T) {
	type ctxKey struct{}
	clock := newTestClock()
	var gotKey string
	var gotPolicy ratelimit.Policy
	var gotNow time.Time
	var gotValue any
	var gotDeadline time.Duration
	store := ratelimit.StoreFunc(func(ctx context.Context, key string, p ratelimit.Policy, now time.Time) (ratelimit.Decision, error) {
		gotKey, gotPolicy, gotNow, gotValue = key, p, now, ctx.Value(ctxKey{})
		if dl, ok := ctx.Deadline(); ok {
			gotDeadline = time.Until(dl)
		}
		return ratelimit.Decision{Allowed: true, Remaining: 4, ResetAfter: 12 * time.Second}, nil
	})
	lim := newLimiter(t, ratelimit.Options{Name: "login", Policy: mustPolicy(t, "5/m"), Store: store, Now: clock.Now})
	r := newKeyRequest("192.0.2.1:1")
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, "request value"))
	rec := serveRec(lim.Handler(okHandler), r)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, `"login";r=4;t=12`, rec.Header().Get("RateLimit"))
	assert.Equal(t, "login:ip:192.0.2.1", gotKey)
	assert.Equal(t, mustPolicy(t, "5/m"), gotPolicy)
	assert.True(t, clock.Now().Equal(gotNow))
	assert.Equal(t, "request value", gotValue)
	assert.Positive(t, gotDeadline)
	assert.LessOrEqual(t, gotDeadline, ratelimit.DefaultStoreTimeout)
}

// TestLimitersShareAStore checks that limiters sharing one store keep
// separate budgets (the name prefixes the key), and that a limiter without
// a Store gets its own.
func TestLimitersShareAStore(t *testing.T) {
	clock := newTestClock()
	store := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
	a := newLimiter(t, ratelimit.Options{Name: "a", Policy: mustPolicy(t, "1/m"), Store: store, Now: clock.Now}).Handler(okHandler)
	b := newLimiter(t, ratelimit.Options{Name: "b", Policy: mustPolicy(t, "1/m"), Store: store, Now: clock.Now}).Handler(okHandler)
	r := newKeyRequest("192.0.2.1:1")
	assert.Equal(t, []int{200, 429}, statuses(a, r, r))
	assert.Equal(t, []int{200, 429}, statuses(b, r, r))
	assert.Equal(t, 2, store.Len())

	// The same Limiter wrapping two routes: one budget.
	lim := newLimiter(t, ratelimit.Options{Name: "c", Policy: mustPolicy(t, "1/m"), Now: clock.Now})
	assert.Equal(t, []int{200, 429}, statuses(lim.Handler(okHandler), r, r))
	assert.Equal(t, []int{429}, statuses(lim.Handler(okHandler), r))
	// Its own MemoryStore, not the shared one.
	assert.Equal(t, 2, store.Len())
}

func TestLimiterKeyByUser(t *testing.T) {
	clock := newTestClock()
	h := newLimiter(t, ratelimit.Options{
		Name: "u", Policy: mustPolicy(t, "2/m"), Key: ratelimit.KeyByUser(userFromContext), Now: clock.Now,
	}).Handler(okHandler)
	anon := newKeyRequest("192.0.2.1:1")
	alice := withUser(newKeyRequest("192.0.2.1:2"), "alice")
	bob := withUser(newKeyRequest("192.0.2.1:3"), "bob")
	aliceElsewhere := withUser(newKeyRequest("198.51.100.7:1"), "alice")

	assert.Equal(t, []int{200, 200, 429}, statuses(h, anon, anon, anon), "anonymous requests from one address share a budget")
	assert.Equal(t, []int{200, 200, 429}, statuses(h, alice, alice, aliceElsewhere), "a user's budget follows the user")
	assert.Equal(t, []int{200}, statuses(h, bob), "users on one address do not share")
	assert.Equal(t, []int{200}, statuses(h, newKeyRequest("198.51.100.7:1")), "another anonymous address")
}

// TestLimiterKeyByRoute mounts one limiter on several patterns of a real
// ServeMux: paths matching one pattern share its budget.
func TestLimiterKeyByRoute(t *testing.T) {
	clock := newTestClock()
	lim := newLimiter(t, ratelimit.Options{
		Name: "r", Policy: mustPolicy(t, "2/m"), Key: ratelimit.Compose(ratelimit.KeyByRoute(), ratelimit.KeyByIP()), Now: clock.Now,
	})
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}", lim.Handler(okHandler))
	mux.Handle("GET /users/{id}", lim.Handler(okHandler))
	get := func(path, remote string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = remote
		return r
	}
	assert.Equal(t, []int{200, 200, 429},
		statuses(mux, get("/items/1", "192.0.2.1:1"), get("/items/2", "192.0.2.1:1"), get("/items/3", "192.0.2.1:1")),
		"new paths under one pattern buy no budget")
	assert.Equal(t, []int{200, 200, 429},
		statuses(mux, get("/users/1", "192.0.2.1:1"), get("/users/1", "192.0.2.1:1"), get("/users/2", "192.0.2.1:1")),
		"another pattern has its own")
	assert.Equal(t, []int{200}, statuses(mux, get("/items/1", "192.0.2.2:1")), "another client has its own")
}

func TestLimiterAllow(t *testing.T) {
	clock := newTestClock()
	lim := newLimiter(t, ratelimit.Options{Name: "x", Policy: mustPolicy(t, "2/m"), Now: clock.Now})
	r := newKeyRequest("192.0.2.1:1")
	want := []ratelimit.Decision{
		{Allowed: true, Remaining: 1, ResetAfter: 30 * time.Second},
		{Allowed: true, Remaining: 0, ResetAfter: time.Minute},
		{RetryAfter: 30 * time.Second, ResetAfter: time.Minute},
	}
	for i, w := range want {
		d, err := lim.Allow(r)
		require.NoError(t, err)
		assert.Equal(t, w, d, "call %d", i+1)
	}
	// Allow and Handler spend the same budget.
	assert.Equal(t, http.StatusTooManyRequests, serveRec(lim.Handler(okHandler), r).Code)
}

// TestLimiterLongKeys checks keys longer than the pooled buffer, from a
// MemoryStore and a Store taking strings.
func TestLimiterLongKeys(t *testing.T) {
	long := strings.Repeat("k", 4096)
	key := func(r *http.Request, dst []byte) ([]byte, error) {
		return append(append(dst, long...), r.Header.Get("X-Suffix")...), nil
	}
	var seen []string
	stores := map[string]ratelimit.Store{
		"memory": ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{}),
		"func": ratelimit.StoreFunc(func(_ context.Context, k string, _ ratelimit.Policy, _ time.Time) (ratelimit.Decision, error) {
			seen = append(seen, k)
			return ratelimit.Decision{Allowed: true}, nil
		}),
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			clock := newTestClock()
			h := newLimiter(t, ratelimit.Options{Name: "x", Policy: mustPolicy(t, "1/m"), Key: key, Store: store, Now: clock.Now}).Handler(okHandler)
			a := newKeyRequest("192.0.2.1:1", "X-Suffix", "a")
			b := newKeyRequest("192.0.2.1:1", "X-Suffix", "b")
			if name == "memory" {
				assert.Equal(t, []int{200, 429, 200, 429}, statuses(h, a, a, b, b))
				return
			}
			statuses(h, a, b)
			assert.Equal(t, []string{"x:" + long + "a", "x:" + long + "b"}, seen)
		})
	}
}

// TestLimiterHeaderValuesMany spends a large budget one request at a time,
// so that the cached header values are replaced many times over, and checks
// every value.
func TestLimiterHeaderValuesMany(t *testing.T) {
	clock := newTestClock()
	p := mustPolicy(t, "3000/h") // one per 1.2 s
	h := newLimiter(t, ratelimit.Options{Name: "many", Policy: p, Now: clock.Now, LegacyHeaders: true}).Handler(okHandler)
	r := newKeyRequest("192.0.2.1:1")
	for i := range 3000 {
		rec := serveRec(h, r)
		require.Equal(t, http.StatusOK, rec.Code, "request %d", i+1)
		remaining := 2999 - i
		reset := (1200*(i+1) + 999) / 1000 // ceil((i+1) × 1.2 s)
		require.Equal(t, fmt.Sprintf(`"many";r=%d;t=%d`, remaining, reset), rec.Header().Get("RateLimit"), "request %d", i+1)
		require.Equal(t, strconv.Itoa(remaining), rec.Header().Get("X-RateLimit-Remaining"), "request %d", i+1)
		require.Equal(t, strconv.Itoa(reset), rec.Header().Get("X-RateLimit-Reset"), "request %d", i+1)
	}
	assert.Equal(t, http.StatusTooManyRequests, serveRec(h, r).Code)
}
