package perf_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/perf"
)

// fakeClock is a settable clock shared by a Recorder and the handlers that
// "take time" by advancing it.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := new(fakeClock)
	c.ns.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newRecorder(t testing.TB, opts perf.Options) *perf.Recorder {
	t.Helper()
	rec, err := perf.New(opts)
	require.NoError(t, err)
	return rec
}

// takes returns a handler that advances clock by d and answers status with
// body.
func takes(clock *fakeClock, d time.Duration, status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		clock.Advance(d)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest(method, target, nil))
	return rr
}

func byKey(es []perf.EndpointStats) map[string]perf.EndpointStats {
	m := make(map[string]perf.EndpointStats, len(es))
	for _, e := range es {
		m[e.Key] = e
	}
	return m
}

func TestRecorderCountsPerRoute(t *testing.T) {
	clock := newClock()
	rec := newRecorder(t, perf.Options{Now: clock.Now})
	mux := http.NewServeMux()
	mux.Handle("GET /api/items/{id}", takes(clock, 10*time.Millisecond, http.StatusOK, "item"))
	mux.Handle("POST /api/items", takes(clock, 30*time.Millisecond, http.StatusCreated, "created!"))
	mux.Handle("/api/broken", takes(clock, time.Millisecond, http.StatusInternalServerError, ""))
	h := rec.Handler(mux)

	for i := range 10 {
		serve(h, http.MethodGet, "/api/items/"+strconv.Itoa(i))
	}
	serve(h, http.MethodPost, "/api/items")
	serve(h, http.MethodPost, "/api/items")
	serve(h, http.MethodDelete, "/api/broken")
	serve(h, "BREW", "/api/broken") // a made-up method counts as OTHER
	serve(h, http.MethodGet, "/no/such/path")
	serve(h, http.MethodPut, "/api/items") // 405: no route matched

	got := byKey(rec.Endpoints(perf.SinceStart))
	require.Len(t, got, 5, "keys: %v", got)

	items := got["GET /api/items/{id}"]
	assert.Equal(t, "GET", items.Method)
	assert.Equal(t, "/api/items/{id}", items.Route)
	assert.Equal(t, uint64(10), items.Count)
	assert.Equal(t, uint64(10), items.ByClass[2])
	assert.Equal(t, uint64(40), items.Bytes)
	assert.Equal(t, 10*time.Millisecond, items.Min)
	assert.Equal(t, 10*time.Millisecond, items.Max)
	assert.Equal(t, 10*time.Millisecond, items.Mean)
	assert.InDelta(t, float64(10*time.Millisecond), float64(items.P99), perf.RelativeError*float64(10*time.Millisecond))
	assert.Zero(t, items.Errors())

	post := got["POST /api/items"]
	assert.Equal(t, uint64(2), post.Count)
	assert.Equal(t, 60*time.Millisecond, post.Total)

	assert.Equal(t, uint64(1), got["DELETE /api/broken"].ByClass[5])
	assert.Equal(t, 100.0, got["DELETE /api/broken"].ErrorRate())
	assert.Equal(t, uint64(1), got["OTHER /api/broken"].Count)

	unmatched := got[perf.UnmatchedKey]
	assert.Equal(t, uint64(2), unmatched.Count, "the 404 and the 405 share one bucket")
	assert.Equal(t, uint64(2), unmatched.ByClass[4])

	total := rec.Stats(perf.SinceStart)
	assert.Equal(t, uint64(16), total.Count)
	assert.Equal(t, uint64(4), total.Errors())
	assert.InDelta(t, 25.0, total.ErrorRate(), 1e-9)
	assert.InDelta(t, 2*100.0/16, total.ServerErrorRate(), 1e-9)

	tracked, limit, overflowed := rec.Routes()
	assert.Equal(t, 4, tracked)
	assert.Equal(t, perf.DefaultMaxRoutes, limit)
	assert.False(t, overflowed)
}

// copying is middleware that passes a copy of the request down, as any
// middleware that adds a context value does, and wraps the writer in a
// wrapper with Unwrap, as httpsnoop-based middleware does.
func copying(next http.Handler) http.Handler {
	type key struct{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&unwrapping{w}, r.WithContext(context.WithValue(r.Context(), key{}, 1)))
	})
}

type unwrapping struct{ http.ResponseWriter }

func (u *unwrapping) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestRouteThroughRequestCopies(t *testing.T) {
	clock := newClock()
	mux := http.NewServeMux()
	mux.Handle("GET /api/campaigns/{id}", takes(clock, time.Millisecond, http.StatusOK, "c"))

	t.Run("without ReportPattern the route is lost", func(t *testing.T) {
		rec := newRecorder(t, perf.Options{Now: clock.Now})
		serve(rec.Handler(copying(mux)), http.MethodGet, "/api/campaigns/7")
		got := byKey(rec.Endpoints(perf.SinceStart))
		assert.Equal(t, uint64(1), got[perf.UnmatchedKey].Count)
	})
	t.Run("ReportPattern reports it through wrappers", func(t *testing.T) {
		rec := newRecorder(t, perf.Options{Now: clock.Now})
		serve(rec.Handler(copying(copying(perf.ReportPattern(mux)))), http.MethodGet, "/api/campaigns/7")
		serve(rec.Handler(copying(perf.ReportPattern(mux))), http.MethodHead, "/api/campaigns/8")
		got := byKey(rec.Endpoints(perf.SinceStart))
		assert.Equal(t, uint64(1), got["GET /api/campaigns/{id}"].Count, "keys: %v", got)
		assert.Equal(t, uint64(1), got["HEAD /api/campaigns/{id}"].Count)
		assert.NotContains(t, got, perf.UnmatchedKey)
	})
	t.Run("a route reported by another router", func(t *testing.T) {
		rec := newRecorder(t, perf.Options{Now: clock.Now})
		router := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			assert.True(t, perf.SetRoute(w, "/users/{userID}"))
		})
		serve(rec.Handler(copying(router)), http.MethodGet, "/users/42")
		assert.Contains(t, byKey(rec.Endpoints(perf.SinceStart)), "GET /users/{userID}")
	})
	t.Run("no Recorder above", func(t *testing.T) {
		rr := httptest.NewRecorder()
		assert.False(t, perf.SetRoute(&unwrapping{rr}, "/x"))
		assert.False(t, perf.SetUser(rr, "u1"))
		serve(perf.ReportPattern(mux), http.MethodGet, "/api/campaigns/1") // harmless
	})
}

func TestSlowRequests(t *testing.T) {
	clock := newClock()
	var reported []perf.SlowRequest
	rec := newRecorder(t, perf.Options{
		Now:          clock.Now,
		SlowRequests: 3,
		OnSlow:       func(s perf.SlowRequest) { reported = append(reported, s) },
	})
	mux := http.NewServeMux()
	mux.Handle("GET /api/report", takes(clock, 3*time.Second, http.StatusOK, "late"))
	mux.Handle("GET /api/quick", takes(clock, time.Millisecond, http.StatusOK, "ok"))
	// What audit and the authentication layer do, inside the Recorder.
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-ID", "req-"+r.URL.Query().Get("n"))
		perf.SetUser(w, "user-"+r.URL.Query().Get("n")+strings.Repeat("x", 200))
		perf.ReportPattern(mux).ServeHTTP(w, r)
	})
	h := rec.Handler(copying(inner))
	for n := range 5 {
		serve(h, http.MethodGet, "/api/report?n="+strconv.Itoa(n))
		serve(h, http.MethodGet, "/api/quick?n=q")
	}

	slow := rec.SlowRequests(0)
	require.Len(t, slow, 3, "the ring keeps the 3 most recent")
	assert.Equal(t, reported[2:], slow, "oldest first")
	first := slow[0]
	assert.Equal(t, "GET", first.Method)
	assert.Equal(t, "/api/report", first.Route)
	assert.Equal(t, "GET /api/report", first.Endpoint)
	assert.Equal(t, http.StatusOK, first.Status)
	assert.Equal(t, 3*time.Second, first.Duration)
	assert.Equal(t, "req-2", first.RequestID)
	assert.True(t, strings.HasPrefix(first.User, "user-2"))
	assert.Len(t, first.User, 128, "users are cut to 128 bytes")
	assert.Equal(t, clock.Now().Add(-2*(3*time.Second+time.Millisecond)-time.Millisecond), first.Time)

	last2 := rec.SlowRequests(2)
	assert.Equal(t, slow[1:], last2)
	assert.Len(t, reported, 5)
	assert.Equal(t, 3, rec.SlowCapacity())
	assert.Equal(t, uint64(5), rec.Stats(perf.SinceStart).Slow)
	assert.Equal(t, perf.DefaultSlowThreshold, rec.SlowThreshold())
}

func TestWindowsRoll(t *testing.T) {
	clock := newClock()
	start := clock.Now()
	rec := newRecorder(t, perf.Options{Now: clock.Now})
	h := rec.Handler(takes(clock, 0, http.StatusOK, ""))
	at := func(d time.Duration, n int) {
		clock.ns.Store(start.Add(d).UnixNano())
		for range n {
			serve(h, http.MethodGet, "/")
		}
	}
	counts := func() [4]uint64 {
		return [4]uint64{
			rec.Stats(perf.Last5Minutes).Count, rec.Stats(perf.LastHour).Count,
			rec.Stats(perf.LastDay).Count, rec.Stats(perf.SinceStart).Count,
		}
	}
	at(0, 1)
	at(30*time.Second, 2)
	assert.Equal(t, [4]uint64{3, 3, 3, 3}, counts())
	assert.Equal(t, 30*time.Second, rec.Stats(perf.LastHour).Span, "a window spans no more than the Recorder's life")
	at(3*time.Minute, 4)
	assert.Equal(t, [4]uint64{7, 7, 7, 7}, counts())
	at(5*time.Minute, 0)
	assert.Equal(t, [4]uint64{4, 7, 7, 7}, counts(), "minute 0 left the 5-minute window")
	assert.Equal(t, 4*time.Minute, rec.Stats(perf.Last5Minutes).Span)
	at(50*time.Minute, 8)
	assert.Equal(t, [4]uint64{8, 15, 15, 15}, counts())
	at(63*time.Minute, 16)
	assert.Equal(t, [4]uint64{16, 24, 31, 31}, counts())
	at(2*time.Hour+59*time.Minute, 0)
	assert.Equal(t, [4]uint64{0, 0, 31, 31}, counts())
	at(24*time.Hour+30*time.Minute, 32)
	assert.Equal(t, [4]uint64{32, 32, 48, 63}, counts(), "hour 0 left the day")
	at(50*time.Hour, 0)
	assert.Equal(t, [4]uint64{0, 0, 0, 63}, counts())
	assert.Equal(t, 50*time.Hour, rec.Stats(perf.SinceStart).Span)
	assert.Equal(t, 23*time.Hour, rec.Stats(perf.LastDay).Span, "the current hour has just begun")

	// Requests that ended "before" the last rotation (a clock stepping
	// back) are filed under the current minute, never lost.
	at(49*time.Hour, 1)
	at(50*time.Hour, 0)
	assert.Equal(t, uint64(1), rec.Stats(perf.Last5Minutes).Count)
}

func TestSeries(t *testing.T) {
	clock := newClock()
	start := clock.Now()
	rec := newRecorder(t, perf.Options{Now: clock.Now})
	mux := http.NewServeMux()
	mux.Handle("GET /a", takes(clock, 0, http.StatusOK, ""))
	mux.Handle("GET /b", takes(clock, 0, http.StatusServiceUnavailable, ""))
	h := rec.Handler(mux)
	// Minute i gets i requests to /a and one to /b, for 90 minutes.
	for i := range 90 {
		clock.ns.Store(start.Add(time.Duration(i) * time.Minute).UnixNano())
		for range i {
			serve(h, http.MethodGet, "/a")
		}
		serve(h, http.MethodGet, "/b")
	}
	clock.Advance(30 * time.Second)

	hour := rec.Series(perf.LastHour)
	require.Len(t, hour, 60)
	for j, p := range hour {
		i := 30 + j
		require.Equal(t, start.Add(time.Duration(i)*time.Minute), p.Start.UTC(), "point %d", j)
		require.Equal(t, uint64(i+1), p.Count, "minute %d", i)
		require.Equal(t, uint64(1), p.ByClass[5])
	}
	assert.Equal(t, 30*time.Second, hour[59].Span, "the current minute has lasted 30 s")
	assert.Equal(t, time.Minute, hour[0].Span)

	five := rec.Series(perf.Last5Minutes)
	assert.Equal(t, hour[55:], five)

	day := rec.Series(perf.LastDay)
	require.Len(t, day, 24)
	for _, p := range day[:22] {
		assert.Zero(t, p.Count, "before the Recorder started")
		assert.Zero(t, p.Span)
	}
	assert.Equal(t, uint64(60+59*60/2), day[22].Count, "hour 0: minutes 0–59")
	assert.Equal(t, uint64(30+(60+89)*30/2), day[23].Count, "hour 1: minutes 60–89")

	b, err := rec.EndpointSeries("GET /b", perf.LastHour)
	require.NoError(t, err)
	for _, p := range b {
		assert.Equal(t, uint64(1), p.Count)
	}
	_, err = rec.EndpointSeries("GET /nope", perf.LastHour)
	assert.ErrorIs(t, err, perf.ErrUnknownEndpoint)
	assert.Nil(t, rec.Series(perf.SinceStart))
}

func TestEndpointLookup(t *testing.T) {
	clock := newClock()
	rec := newRecorder(t, perf.Options{Now: clock.Now})
	mux := http.NewServeMux()
	mux.Handle("/api/things", takes(clock, time.Millisecond, http.StatusOK, ""))
	h := rec.Handler(mux)
	serve(h, http.MethodGet, "/api/things")
	serve(h, http.MethodPost, "/api/things")
	serve(h, http.MethodPost, "/api/things")
	serve(h, http.MethodGet, "/missing")

	one, err := rec.Endpoint("POST /api/things", perf.SinceStart)
	require.NoError(t, err)
	assert.Equal(t, perf.EndpointStats{Method: "POST", Route: "/api/things", Key: "POST /api/things", Stats: one.Stats}, one)
	assert.Equal(t, uint64(2), one.Count)

	all, err := rec.Endpoint("/api/things", perf.SinceStart)
	require.NoError(t, err)
	assert.Equal(t, "", all.Method)
	assert.Equal(t, "/api/things", all.Key)
	assert.Equal(t, uint64(3), all.Count)

	un, err := rec.Endpoint(perf.UnmatchedKey, perf.LastHour)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), un.Count)

	_, err = rec.Endpoint("GET /api/other", perf.SinceStart)
	assert.ErrorIs(t, err, perf.ErrUnknownEndpoint)
}

func TestNewValidates(t *testing.T) {
	_, err := perf.New(perf.Options{SlowThreshold: -1, SlowRequests: perf.MaxSlowRequests + 1, MaxRoutes: -1})
	require.Error(t, err)
	for _, field := range []string{"SlowThreshold", "SlowRequests", "MaxRoutes"} {
		assert.Contains(t, err.Error(), field)
	}
	rec, err := perf.New(perf.Options{})
	require.NoError(t, err)
	assert.Equal(t, perf.DefaultSlowRequests, rec.SlowCapacity())
	assert.WithinDuration(t, time.Now(), rec.Started(), time.Minute)
}

// heapAfterGC returns the live heap after a collection.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func TestDistinctPathsDoNotGrowMemory(t *testing.T) {
	const n = 100_000
	clock := newClock()
	rng := rand.New(rand.NewPCG(7, 8))
	randomPath := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString("/")
			b.WriteString(strconv.FormatUint(rng.Uint64(), 36))
		}
		return b.String()
	}
	methods := []string{"GET", "POST", "PROPFIND", "X-" + strconv.Itoa(rng.IntN(1000)), "DELETE"}

	t.Run("through a ServeMux", func(t *testing.T) {
		rec := newRecorder(t, perf.Options{Now: clock.Now})
		mux := http.NewServeMux()
		mux.Handle("GET /api/campaigns/{id}", takes(clock, time.Millisecond, http.StatusOK, ""))
		h := rec.Handler(mux)
		serve(h, http.MethodGet, "/warm-up")
		serve(h, http.MethodGet, "/api/campaigns/1")
		before := heapAfterGC()
		for i := range n {
			clock.Advance(time.Second) // crosses many minute and hour slots too
			target := randomPath()
			if i%2 == 0 {
				target = "/api/campaigns" + target
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Method = methods[i%len(methods)]
			r.URL.Path = target
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		after := heapAfterGC()
		growth := int64(after) - int64(before)
		t.Logf("heap growth after %d random paths: %d bytes", n, growth)
		// Two endpoints (GET /api/campaigns/{id}, unmatched) with a full
		// day of slots: well under 1 MiB.
		assert.Less(t, growth, int64(1<<20))
		tracked, _, _ := rec.Routes()
		assert.Equal(t, 1, tracked)
		assert.Equal(t, uint64(n+2), rec.Stats(perf.SinceStart).Count)
	})

	t.Run("reported routes are capped", func(t *testing.T) {
		const maxRoutes = 50
		rec := newRecorder(t, perf.Options{Now: clock.Now, MaxRoutes: maxRoutes})
		// A misbehaving application that reports raw paths as routes.
		h := rec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			perf.SetRoute(w, r.URL.Path)
		}))
		before := heapAfterGC()
		for range n {
			clock.Advance(time.Second)
			serve(h, http.MethodGet, randomPath())
		}
		after := heapAfterGC()
		growth := int64(after) - int64(before)
		t.Logf("heap growth after %d reported routes: %d bytes", n, growth)
		tracked, limit, overflowed := rec.Routes()
		assert.Equal(t, maxRoutes, tracked)
		assert.Equal(t, maxRoutes, limit)
		assert.True(t, overflowed)
		got := byKey(rec.Endpoints(perf.SinceStart))
		assert.Len(t, got, maxRoutes+1)
		assert.Equal(t, uint64(n-maxRoutes), got[perf.OverflowKey].Count)
		// Each endpoint saw a request or two: a few KiB of slots apiece.
		assert.Less(t, growth, int64(maxRoutes*64<<10))
	})
}

func TestStreamingBehindRecorder(t *testing.T) {
	rec := newRecorder(t, perf.Options{})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		require.NoError(t, http.NewResponseController(w).Flush())
		<-release // the client has read the first event before the handler ends
		_, _ = io.WriteString(w, "data: second\n\n")
		w.(http.Flusher).Flush()
	})
	srv := httptest.NewServer(rec.Handler(mux))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "data: first\n", line)
	close(release)
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "\ndata: second\n\n", string(rest))

	s := waitForCount(t, rec, "GET /stream", 1)
	assert.Equal(t, uint64(len("data: first\n\ndata: second\n\n")), s.Bytes)
	assert.Equal(t, uint64(1), s.ByClass[2])
}

// waitForCount waits until key has n requests: the server records a
// request after the client has read its response.
func waitForCount(t *testing.T, rec *perf.Recorder, key string, n uint64) perf.EndpointStats {
	t.Helper()
	var s perf.EndpointStats
	require.Eventually(t, func() bool {
		var err error
		s, err = rec.Endpoint(key, perf.SinceStart)
		return err == nil && s.Count == n
	}, 10*time.Second, time.Millisecond)
	return s
}

func TestHijackBehindRecorder(t *testing.T) {
	clock := newClock()
	rec := newRecorder(t, perf.Options{Now: clock.Now, SlowThreshold: time.Second})
	mux := http.NewServeMux()
	mux.Handle("GET /ws", copying(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		clock.Advance(5 * time.Millisecond) // the upgrade
		conn, brw, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = conn.Write([]byte("echo: " + line))
		clock.Advance(time.Hour) // a long-lived connection is not latency
	})))
	mux.HandleFunc("GET /ws-direct", func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if assert.NoError(t, err) {
			_, _ = conn.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
			conn.Close()
		}
	})
	srv := httptest.NewServer(rec.Handler(mux))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	_, err = io.WriteString(conn, "hello\n")
	require.NoError(t, err)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "echo: hello\n", line)

	resp2, err := http.Get(srv.URL + "/ws-direct")
	require.NoError(t, err)
	resp2.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp2.StatusCode)

	s := waitForCount(t, rec, "GET /ws", 1)
	assert.Equal(t, uint64(1), s.ByClass[1], "a hijacked request counts as 101")
	assert.Equal(t, 5*time.Millisecond, s.Max, "its duration ends at Hijack")
	assert.Empty(t, rec.SlowRequests(0))
	waitForCount(t, rec, "GET /ws-direct", 1)
}

func TestWriterPassesThroughOptionalInterfaces(t *testing.T) {
	rec := newRecorder(t, perf.Options{})
	dir := t.TempDir()
	file := filepath.Join(dir, "big.bin")
	require.NoError(t, os.WriteFile(file, []byte(strings.Repeat("x", 100_000)), 0o600))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, _ *http.Request) {
		rc := http.NewResponseController(w)
		assert.NoError(t, rc.SetWriteDeadline(time.Now().Add(time.Minute)), "found through Unwrap")
		assert.NoError(t, rc.SetReadDeadline(time.Now().Add(time.Minute)))
		f, err := os.Open(file)
		if !assert.NoError(t, err) {
			return
		}
		defer f.Close()
		_, err = w.(io.ReaderFrom).ReadFrom(f)
		assert.NoError(t, err)
	})
	mux.HandleFunc("GET /string", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints) // informational: not the final status
		_, _ = io.WriteString(w, "hello")
		assert.ErrorIs(t, w.(http.Pusher).Push("/x", nil), http.ErrNotSupported, "HTTP/1 has no push")
	})
	srv := httptest.NewServer(rec.Handler(mux))
	defer srv.Close()
	for _, path := range []string{"/file", "/string"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Equal(t, uint64(100_000), waitForCount(t, rec, "GET /file", 1).Bytes)
	s := waitForCount(t, rec, "GET /string", 1)
	assert.Equal(t, uint64(5), s.Bytes)
	assert.Equal(t, uint64(1), s.ByClass[2], "103 Early Hints is not the final status")

	// Without a server underneath, nothing can flush or hijack.
	w := &unwrapping{discard{}}
	rec.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		assert.ErrorIs(t, http.NewResponseController(w).Flush(), http.ErrNotSupported)
		w.(http.Flusher).Flush()
		_, _, err := w.(http.Hijacker).Hijack()
		assert.ErrorIs(t, err, http.ErrNotSupported)
		n, err := w.(io.ReaderFrom).ReadFrom(strings.NewReader("abc"))
		assert.NoError(t, err)
		assert.Equal(t, int64(3), n)
		_, _ = w.(io.StringWriter).WriteString("de")
	})).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	un, err := rec.Endpoint(perf.UnmatchedKey, perf.SinceStart)
	require.NoError(t, err)
	assert.Equal(t, uint64(5), un.Bytes)
}

// discard is a ResponseWriter with no optional interface.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}

func TestPanicIsRecorded(t *testing.T) {
	rec := newRecorder(t, perf.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	h := rec.Handler(copying(perf.ReportPattern(mux)))
	assert.PanicsWithValue(t, "boom", func() { serve(h, http.MethodGet, "/boom") }, "the panic continues up the chain")
	s, err := rec.Endpoint("GET /boom", perf.SinceStart)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), s.ByClass[5])
}

func TestParallelLoad(t *testing.T) {
	rec := newRecorder(t, perf.Options{SlowThreshold: time.Nanosecond, SlowRequests: 10})
	mux := http.NewServeMux()
	routes := []string{"/a", "/b/{id}", "/c"}
	for _, r := range routes {
		mux.HandleFunc("GET "+r, func(w http.ResponseWriter, _ *http.Request) { perf.SetUser(w, "u"); _, _ = w.Write([]byte("x")) })
	}
	h := rec.Handler(copying(perf.ReportPattern(mux)))
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				serve(h, http.MethodGet, fmt.Sprintf("/%c/%d", 'a'+rune((g+i)%4), i))
			}
		})
	}
	// Readers run beside the writers.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			rec.Endpoints(perf.Last5Minutes)
			rec.Series(perf.LastHour)
			rec.SlowRequests(5)
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	total := rec.Stats(perf.SinceStart)
	assert.Equal(t, uint64(workers*each), total.Count)
	assert.Equal(t, uint64(workers*each), total.Slow)
	assert.Len(t, rec.SlowRequests(0), 10)
}

func TestDurationsAreMeasuredWithTheClock(t *testing.T) {
	rec := newRecorder(t, perf.Options{})
	h := rec.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	serve(h, http.MethodGet, "/")
	s := rec.Stats(perf.SinceStart)
	assert.Equal(t, uint64(1), s.Count)
	assert.Positive(t, s.Max)
	assert.Less(t, s.Max, time.Second)
}

func TestParseWindow(t *testing.T) {
	for _, w := range []perf.Window{perf.SinceStart, perf.Last5Minutes, perf.LastHour, perf.LastDay} {
		got, err := perf.ParseWindow(w.String())
		require.NoError(t, err)
		assert.Equal(t, w, got)
	}
	_, err := perf.ParseWindow("7d")
	assert.True(t, errors.Is(err, perf.ErrUnknownWindow))
	assert.Equal(t, "Window(9)", perf.Window(9).String())
}
