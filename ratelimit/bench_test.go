package ratelimit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/ratelimit"
)

// benchClients is how many distinct client addresses the benchmarks cycle
// through.
const benchClients = 10_000

// benchPolicy is large enough that no benchmark request is refused: each
// client comes back long after it has earned its request back.
const benchPolicy = "1000000/m"

// decisionSink keeps benchmark results alive.
var decisionSink ratelimit.Decision

// checkAllowed serves every request once and fails the benchmark unless
// all of them are allowed, so that the measurement is of the allow path.
func checkAllowed(b *testing.B, h http.Handler, reqs []*http.Request) {
	b.Helper()
	for _, r := range reqs {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("request from %s: status %d, want 200", r.RemoteAddr, rec.Code)
		}
	}
}

// benchServe runs h over reqs in turn with one reused writer, serially or
// from GOMAXPROCS goroutines (each with its own writer, starting at its own
// offset).
func benchServe(b *testing.B, h http.Handler, reqs []*http.Request, parallel bool) {
	b.ReportAllocs()
	if !parallel {
		w := newDiscardWriter()
		var rw http.ResponseWriter = w
		i := 0
		for b.Loop() {
			clear(w.h)
			h.ServeHTTP(rw, reqs[i])
			if i++; i == len(reqs) {
				i = 0
			}
		}
		return
	}
	var offset atomic.Int64
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

// BenchmarkLimiter measures an allowed request through Limiter.Handler
// with a MemoryStore and the real clock, over 10,000 client addresses,
// next to the final handler alone.
func BenchmarkLimiter(b *testing.B) {
	p := mustPolicy(b, benchPolicy)
	v4 := clientRequests(benchClients)
	v6 := clientRequests(benchClients)
	for i, r := range v6 {
		r.RemoteAddr = fmt.Sprintf("[2001:db8:%x:%x::1]:443", i/256, i%256)
	}
	byRouteIP := ratelimit.Compose(ratelimit.KeyByRoute(), ratelimit.KeyByIP())
	impls := []struct {
		name string
		h    http.Handler
		reqs []*http.Request
	}{
		{"bare", okHandler, v4},
		{"senfi", newLimiter(b, ratelimit.Options{Name: "api", Policy: p}).Handler(okHandler), v4},
		{"senfi-ipv6", newLimiter(b, ratelimit.Options{Name: "api", Policy: p}).Handler(okHandler), v6},
		{"senfi-legacy-headers", newLimiter(b, ratelimit.Options{Name: "api", Policy: p, LegacyHeaders: true}).Handler(okHandler), v4},
		{"senfi-route+ip", newLimiter(b, ratelimit.Options{Name: "api", Policy: p, Key: byRouteIP}).Handler(okHandler), v4},
	}
	for _, impl := range impls {
		checkAllowed(b, impl.h, impl.reqs)
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) { benchServe(b, impl.h, impl.reqs, false) })
		b.Run(impl.name+"-parallel", func(b *testing.B) { benchServe(b, impl.h, impl.reqs, true) })
	}
}

// BenchmarkLimiterRefused measures a refused request: the 429 problem+json
// response, one client over its limit.
func BenchmarkLimiterRefused(b *testing.B) {
	clock := newTestClock()
	h := newLimiter(b, ratelimit.Options{Name: "login", Policy: mustPolicy(b, "1/h"), Now: clock.Now}).Handler(okHandler)
	reqs := clientRequests(1)
	serveRec(h, reqs[0])
	if code := serveRec(h, reqs[0]).Code; code != http.StatusTooManyRequests {
		b.Fatalf("status %d, want 429", code)
	}
	benchServe(b, h, reqs, false)
}

// BenchmarkKeyFuncs measures the key functions alone.
func BenchmarkKeyFuncs(b *testing.B) {
	byUser := ratelimit.KeyByUser(userFromContext)
	byHeader, err := ratelimit.KeyByHeader("X-Api-Key")
	if err != nil {
		b.Fatal(err)
	}
	v4 := newKeyRequest("198.18.1.2:1234")
	v6 := newKeyRequest("[2001:db8:1:2:3:4:5:6]:443")
	user := withUser(v4, "12345")
	routed := newKeyRequest("198.18.1.2:1234")
	routed.Pattern = "POST /api/auth/login"
	hdr := newKeyRequest("198.18.1.2:1234", "X-Api-Key", "k-0123456789abcdef")
	benches := []struct {
		name string
		kf   ratelimit.KeyFunc
		r    *http.Request
	}{
		{"KeyByIP/ipv4", ratelimit.KeyByIP(), v4},
		{"KeyByIP/ipv6", ratelimit.KeyByIP(), v6},
		{"KeyByIP/resolved", ratelimit.KeyByIP(), withClientIP(v4, "203.0.113.9")},
		{"KeyByUser", byUser, user},
		{"KeyByRoute", ratelimit.KeyByRoute(), routed},
		{"KeyByHeader", byHeader, hdr},
		{"Compose(route,ip)", ratelimit.Compose(ratelimit.KeyByRoute(), ratelimit.KeyByIP()), routed},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			buf := make([]byte, 0, 128)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = bb.kf(bb.r, buf[:0])
			}
		})
	}
}

// BenchmarkMemoryStore measures Take: on known keys, and on a stream of
// new keys into a full store (every Take evicts, as under a flood of new
// addresses).
func BenchmarkMemoryStore(b *testing.B) {
	p := mustPolicy(b, benchPolicy)
	keys := make([]string, benchClients)
	for i := range keys {
		keys[i] = fmt.Sprintf("api:ip:198.18.%d.%d", i/256, i%256)
	}
	ctx := context.Background()

	b.Run("known-keys", func(b *testing.B) {
		s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
		now := time.Now()
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			decisionSink, _ = s.Take(ctx, keys[i], p, now)
			if i++; i == len(keys) {
				i = 0
			}
		}
	})
	b.Run("known-keys-parallel", func(b *testing.B) {
		s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
		now := time.Now()
		var offset atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(offset.Add(1)*1237) % len(keys)
			for pb.Next() {
				decisionSink, _ = s.Take(ctx, keys[i], p, now)
				if i++; i == len(keys) {
					i = 0
				}
			}
		})
	})
	b.Run("new-keys-full-store", func(b *testing.B) {
		s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{MaxKeys: benchClients})
		now := time.Now()
		buf := make([]byte, 0, 32)
		n := 0
		b.ReportAllocs()
		for b.Loop() {
			buf = strconv.AppendInt(append(buf[:0], "api:ip:"...), int64(n), 10)
			decisionSink, _ = s.Take(ctx, string(buf), p, now)
			n++
		}
		if s.Len() > benchClients {
			b.Fatalf("Len %d > MaxKeys %d", s.Len(), benchClients)
		}
	})
}

// BenchmarkMemoryStoreMillionKeys fills a store with 1,000,000 distinct
// keys and reports the heap each tracked key costs (B/key) and the time
// per insert.
func BenchmarkMemoryStoreMillionKeys(b *testing.B) {
	const keys = 1_000_000
	p := mustPolicy(b, "5/m")
	now := time.Now()
	buf := make([]byte, 0, 32)
	var perKey float64
	for b.Loop() {
		before := heapInUse()
		s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
		for i := range keys {
			buf = strconv.AppendInt(append(buf[:0], "api:ip:198.18."...), int64(i), 10)
			decisionSink, _ = s.Take(context.Background(), string(buf), p, now)
		}
		b.StopTimer()
		perKey = float64(heapInUse()-before) / float64(s.Len())
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(perKey, "B/key")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*keys), "ns/key")
}
