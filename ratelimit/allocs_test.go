package ratelimit_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/ratelimit"
)

// discardWriter is a reusable ResponseWriter that keeps headers and drops
// the body, so that measuring the middleware does not measure the writer.
// The caller clears the header map before each request.
type discardWriter struct {
	h    http.Header
	code int
}

func newDiscardWriter() *discardWriter { return &discardWriter{h: make(http.Header, 8)} }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// clientRequests returns n GET requests from n distinct IPv4 clients.
func clientRequests(n int) []*http.Request {
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = newKeyRequest(fmt.Sprintf("198.18.%d.%d:%d", i/256, i%256, 1024+i))
	}
	return reqs
}

// TestAllowedRequestAllocs holds the package to its goal: with a
// MemoryStore, an allowed request through Limiter.Handler costs no
// allocation once its header values are cached.
func TestAllowedRequestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, which then allocates")
	}
	// 100 clients in turn, the clock moving 10 ms per request: each client
	// comes back a Period later, with its whole budget, so every response
	// carries the same (cached) header values.
	const clients = 100
	p := mustPolicy(t, "100/s")
	tests := []struct {
		name string
		opts ratelimit.Options
	}{
		{"KeyByIP", ratelimit.Options{}},
		{"legacy headers", ratelimit.Options{LegacyHeaders: true}},
		{"shared store", ratelimit.Options{Store: ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{MaxKeys: 1000})}},
		{"route and IP", ratelimit.Options{Key: ratelimit.Compose(ratelimit.KeyByRoute(), ratelimit.KeyByIP())}},
		{"IPv6 /64", ratelimit.Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			opts := tt.opts
			opts.Name, opts.Policy, opts.Now = "api", p, clock.Now
			h := newLimiter(t, opts).Handler(okHandler)
			reqs := clientRequests(clients)
			if tt.name == "IPv6 /64" {
				for i, r := range reqs {
					r.RemoteAddr = fmt.Sprintf("[2001:db8:%x::1]:443", i)
				}
			}
			w := newDiscardWriter()
			i := 0
			serve := func() {
				clear(w.h)
				w.code = 0
				h.ServeHTTP(w, reqs[i])
				if i++; i == len(reqs) {
					i = 0
				}
				clock.Advance(p.Period / clients)
			}
			for range 2 * clients { // warm up: cache the header values
				serve()
			}
			require.Equal(t, http.StatusOK, w.code)
			require.Equal(t, `"api";r=99;t=1`, w.h.Get("RateLimit"))

			allocs := testing.AllocsPerRun(10*clients, serve)
			assert.Zero(t, allocs, "allocations per allowed request")
			assert.Equal(t, http.StatusOK, w.code)
		})
	}
}

// TestMemoryStoreTakeAllocs checks the store alone: Take with a string key
// does not allocate, for new keys and known ones.
func TestMemoryStoreTakeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation figures differ under the race detector")
	}
	s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{MaxKeys: 64})
	p := mustPolicy(t, "5/m")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:198.18.%d.%d", i/256, i%256)
	}
	for _, k := range keys { // fill the store: from here on every new key evicts one
		memTake(t, s, k, p, now)
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		memTake(t, s, keys[i], p, now)
		i = (i + 1) % len(keys)
	})
	assert.Zero(t, allocs)
}
