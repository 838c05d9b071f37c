package bench

import (
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"golang.org/x/time/rate"

	"github.com/senfi-sharif/senfi/ratelimit"
)

// The policy every implementation enforces per client address. It is far
// above what a benchmark sends (each of the numClients addresses comes back
// every numClients requests), so no request is refused and every
// implementation is measured on its allow path.
const (
	rlLimit  = 1_000_000
	rlWindow = time.Minute
)

// httprateKeyByIP is httprate's (deprecated) KeyByIP spelled out: the
// RemoteAddr host, IPv6 grouped by /64, which is what senfi's KeyByIP does
// when no client-IP resolver ran.
func httprateKeyByIP(r *http.Request) (string, error) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return httprate.CanonicalizeIP(ip), nil
}

// naiveLimiter is the limiter people write first: a mutex-guarded map of
// golang.org/x/time/rate limiters keyed by the IP string. Unlike the others
// it is unbounded in memory and sends no headers.
type naiveLimiter struct {
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	limit    rate.Limit
	burst    int
}

func newNaive(limit int, window time.Duration) *naiveLimiter {
	return &naiveLimiter{
		limiters: make(map[string]*rate.Limiter),
		limit:    rate.Limit(float64(limit) / window.Seconds()),
		burst:    limit,
	}
}

// naiveHeaders is naiveLimiter sending the two header fields senfi sends,
// written as a first implementation would: the policy precomputed, the
// RateLimit value formatted on every request from the limiter's tokens. It
// tells the cost of the limiting apart from the cost of the fields the
// issue requires, which naive does not send.
type naiveHeaders struct {
	*naiveLimiter
	policy []string
}

func newNaiveHeaders(limit int, window time.Duration) *naiveHeaders {
	return &naiveHeaders{
		naiveLimiter: newNaive(limit, window),
		policy:       []string{`"api";q=` + strconv.Itoa(limit) + ";w=" + strconv.Itoa(int(window.Seconds()))},
	}
}

func (n *naiveHeaders) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := n.limiter(r)
		now := time.Now() // one clock read for the decision and the tokens left
		allowed := l.AllowN(now, 1)
		tokens := l.TokensAt(now) // RateLimit's r
		reset := math.Ceil((float64(n.burst) - tokens) / float64(n.limit))
		h := w.Header()
		h["Ratelimit-Policy"] = n.policy // canonical keys, as Header().Set would store them
		h["Ratelimit"] = []string{`"api";r=` + strconv.Itoa(int(tokens)) + ";t=" + strconv.Itoa(int(reset))}
		if !allowed {
			http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limiter returns the limiter of r's address, made on first use.
func (n *naiveLimiter) limiter(r *http.Request) *rate.Limiter {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	n.mu.Lock()
	l, ok := n.limiters[ip]
	if !ok {
		l = rate.NewLimiter(n.limit, n.burst)
		n.limiters[ip] = l
	}
	n.mu.Unlock()
	return l
}

func (n *naiveLimiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := n.limiter(r)
		if !l.Allow() {
			http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serveParallel is serve from GOMAXPROCS goroutines, each with its own
// writer and its own starting point in reqs.
func serveParallel(b *testing.B, h http.Handler, reqs []*http.Request) {
	var offset atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := newDiscardWriter()
		var rw http.ResponseWriter = w
		i := int(offset.Add(1)*1237) % len(reqs)
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(rw, reqs[i])
			if i++; i == len(reqs) {
				i = 0
			}
		}
	})
}

// BenchmarkRateLimit compares an allowed request through senfi's
// ratelimit.Limiter (MemoryStore, KeyByIP) with github.com/go-chi/httprate
// (LimitBy with its KeyByIP) and a naive map of *rate.Limiter, all enforcing
// the same per-IP policy over the same numClients requests, serially and
// with b.RunParallel.
//
// senfi sends RateLimit-Policy and RateLimit, httprate X-RateLimit-Limit,
// -Remaining and -Reset; senfi-legacy adds the X-RateLimit-* trio to
// senfi's, for a like-for-like header count; naive sends none and
// naive-headers senfi's two.
func BenchmarkRateLimit(b *testing.B) {
	reqs := makeRequests(http.MethodGet, http.Header{"Accept": {"application/json"}})
	policy := ratelimit.Policy{Limit: rlLimit, Period: rlWindow}
	senfi, err := ratelimit.New(ratelimit.Options{Name: "api", Policy: policy, Key: ratelimit.KeyByIP()})
	if err != nil {
		b.Fatal(err)
	}
	senfiLegacy, err := ratelimit.New(ratelimit.Options{Name: "api", Policy: policy, Key: ratelimit.KeyByIP(), LegacyHeaders: true})
	if err != nil {
		b.Fatal(err)
	}
	impls := []struct {
		name    string
		handler http.Handler
		want    expectation
	}{
		{"bare", final, expectation{status: http.StatusOK}},
		{"senfi", senfi.Handler(final), expectation{status: http.StatusOK, headers: map[string]string{
			"RateLimit-Policy": `"api";q=1000000;w=60`,
			"RateLimit":        `"api";r=999999;t=1`,
		}}},
		{"senfi-legacy", senfiLegacy.Handler(final), expectation{status: http.StatusOK, headers: map[string]string{
			"RateLimit-Policy":  `"api";q=1000000;w=60`,
			"X-RateLimit-Limit": "1000000",
		}}},
		{"httprate", httprate.LimitBy(rlLimit, rlWindow, httprateKeyByIP)(final), expectation{status: http.StatusOK, headers: map[string]string{
			"X-RateLimit-Limit": "1000000",
		}}},
		{"naive", newNaive(rlLimit, rlWindow).Handler(final), expectation{status: http.StatusOK}},
		{"naive-headers", newNaiveHeaders(rlLimit, rlWindow).Handler(final), expectation{status: http.StatusOK, headers: map[string]string{
			"RateLimit-Policy": `"api";q=1000000;w=60`,
		}}},
	}

	// Every implementation must allow every request before anything is
	// measured: a benchmark of refusals would compare nothing.
	for _, impl := range impls {
		impl.want.check(b, impl.handler, reqs)
		for _, r := range reqs {
			rec := httptest.NewRecorder()
			impl.handler.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Fatalf("%s: request from %s: status %d", impl.name, r.RemoteAddr, rec.Code)
			}
		}
	}

	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) { serve(b, impl.handler, reqs) })
	}
	for _, impl := range impls {
		b.Run(impl.name+"-parallel", func(b *testing.B) { serveParallel(b, impl.handler, reqs) })
	}
}
