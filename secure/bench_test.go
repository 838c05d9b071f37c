package secure_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/senfi-sharif/senfi/secure"
)

// The benchmark request: a cross-origin call from the allowed frontend to the
// API host over plain HTTP. Comparisons with other libraries live in the
// nested bench module; these benchmarks track this package alone.
const (
	benchHost   = "api.example.com"
	benchURL    = "http://" + benchHost + "/v1/items"
	benchOrigin = "https://app.example.com"
	numClients  = 10_000
)

var benchBody = []byte("ok\n")

// benchFinal is the trivial handler every benchmark wraps.
var benchFinal = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(benchBody)
})

// discardWriter is a reusable ResponseWriter that keeps headers and throws
// the rest away, so that the harness allocates nothing. Callers clear the
// header map before each request.
type discardWriter struct{ h http.Header }

func newDiscardWriter() *discardWriter               { return &discardWriter{h: make(http.Header, 32)} }
func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchRequests returns numClients requests, one per client address, sharing
// everything else. addr(i) gives the i-th RemoteAddr.
func benchRequests(method string, header http.Header, addr func(i int) string) []*http.Request {
	base := httptest.NewRequest(method, benchURL, nil)
	base.Header = header
	reqs := make([]*http.Request, numClients)
	for i := range reqs {
		r := new(http.Request)
		*r = *base
		r.RemoteAddr = addr(i)
		reqs[i] = r
	}
	return reqs
}

// benchClientAddr is the i-th of numClients distinct addresses in 198.18.0.0/15.
func benchClientAddr(i int) string { return fmt.Sprintf("198.18.%d.%d:%d", i/256, i%256, 1024+i) }

// benchProxyAddr is the i-th connection from the proxy at 10.0.0.1.
func benchProxyAddr(i int) string { return fmt.Sprintf("10.0.0.1:%d", 1024+i) }

func benchCORSGetHeader() http.Header {
	return http.Header{"Origin": {benchOrigin}, "Accept": {"application/json"}}
}

func benchPreflightHeader() http.Header {
	return http.Header{
		"Origin":                         {benchOrigin},
		"Access-Control-Request-Method":  {http.MethodPost},
		"Access-Control-Request-Headers": {"authorization,content-type"},
	}
}

func newBenchGuard(tb testing.TB, proxies ...netip.Prefix) *secure.Guard {
	tb.Helper()
	g, err := secure.New(secure.Options{
		AllowedHosts:       []string{benchHost},
		DisableSSLRedirect: true, // the requests are plain HTTP
		TrustedProxies:     proxies,
		CORS: secure.CORSOptions{
			AllowedOrigins:   []string{benchOrigin},
			AllowCredentials: true,
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// serve runs h over reqs, cycling through them, with one reused writer.
func benchServe(b *testing.B, h http.Handler, reqs []*http.Request) {
	w := newDiscardWriter()
	var rw http.ResponseWriter = w
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(rw, reqs[i])
		if i++; i == len(reqs) {
			i = 0
		}
	}
}

// expect fails b unless h answers r with status and the given headers, so a
// benchmark cannot silently measure a refusal.
func benchExpect(b *testing.B, h http.Handler, r *http.Request, status int, headers map[string]string) {
	b.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != status {
		b.Fatalf("status %d, want %d (headers %v)", rec.Code, status, rec.Header())
	}
	for k, v := range headers {
		if got := rec.Header().Get(k); got != v {
			b.Fatalf("%s = %q, want %q", k, got, v)
		}
	}
}

// benchExpectClientIP fails b unless g.ClientIP resolves r to want.
func benchExpectClientIP(b *testing.B, g *secure.Guard, r *http.Request, want string) {
	b.Helper()
	var got netip.Addr
	g.ClientIP(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got, _ = secure.ClientIPFromContext(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), r)
	if got.String() != want {
		b.Fatalf("client IP %v, want %s", got, want)
	}
}

func BenchmarkGuard(b *testing.B) {
	g := newBenchGuard(b)
	gp := newBenchGuard(b, netip.MustParsePrefix("10.0.0.0/8"))

	corsGet := benchRequests(http.MethodGet, benchCORSGetHeader(), benchClientAddr)
	plainGet := benchRequests(http.MethodGet, http.Header{"Accept": {"application/json"}}, benchClientAddr)
	preflight := benchRequests(http.MethodOptions, benchPreflightHeader(), benchClientAddr)
	refused := benchRequests(http.MethodGet, benchCORSGetHeader(), benchClientAddr)
	for _, r := range refused {
		r.Host = "evil.example.net"
	}
	// Behind the proxy 10.0.0.1: the client is the right-most untrusted entry.
	xff := benchRequests(http.MethodGet, benchCORSGetHeader(), benchProxyAddr)
	for i, r := range xff {
		r.Header = benchCORSGetHeader()
		r.Header.Set("X-Forwarded-For", "198.18."+fmt.Sprint(i/256)+"."+fmt.Sprint(i%256)+", 10.0.0.2")
	}
	// The same, after a client prepended 1,000 forged entries: the walk must
	// stop at the first untrusted entry from the right, whatever precedes it.
	xffLong := benchRequests(http.MethodGet, benchCORSGetHeader(), benchProxyAddr)
	forged := strings.Repeat("203.0.113.7, ", 1000)
	for i, r := range xffLong {
		r.Header = benchCORSGetHeader()
		r.Header.Set("X-Forwarded-For", forged+"198.18."+fmt.Sprint(i/256)+"."+fmt.Sprint(i%256)+", 10.0.0.2")
	}

	// Direct requests on connections whose context Guard.ConnContext filled.
	connCtx := benchRequests(http.MethodGet, benchCORSGetHeader(), benchClientAddr)
	for i, r := range connCtx {
		peer := net.TCPAddrFromAddrPort(netip.MustParseAddrPort(r.RemoteAddr))
		connCtx[i] = r.WithContext(g.ConnContext(context.Background(), peerConn{remote: peer}))
	}

	handler := g.Handler(benchFinal)
	frame := map[string]string{secure.HeaderXFrameOptions: secure.DefaultFrameOptions}
	benchExpect(b, benchFinal, corsGet[0], http.StatusOK, nil)
	benchExpect(b, handler, corsGet[0], http.StatusOK, map[string]string{
		secure.HeaderXFrameOptions:    secure.DefaultFrameOptions,
		"Access-Control-Allow-Origin": benchOrigin,
	})
	benchExpect(b, handler, plainGet[0], http.StatusOK, frame)
	benchExpect(b, handler, preflight[0], http.StatusNoContent, map[string]string{
		secure.HeaderXFrameOptions:     secure.DefaultFrameOptions,
		"Access-Control-Allow-Methods": http.MethodPost,
	})
	benchExpect(b, handler, refused[0], http.StatusBadRequest, frame)
	benchExpect(b, g.ClientIP(handler), corsGet[0], http.StatusOK, frame)
	benchExpectClientIP(b, g, corsGet[numClients-1], "198.18.39.15")
	benchExpectClientIP(b, gp, xff[numClients-1], "198.18.39.15")
	benchExpectClientIP(b, gp, xffLong[numClients-1], "198.18.39.15")

	b.Run("bare", func(b *testing.B) { benchServe(b, benchFinal, corsGet) })
	b.Run("ClientIP", func(b *testing.B) {
		b.Run("direct", func(b *testing.B) { benchServe(b, g.ClientIP(benchFinal), corsGet) })
		b.Run("direct-conncontext", func(b *testing.B) { benchServe(b, g.ClientIP(benchFinal), connCtx) })
		b.Run("trusted-proxy-xff", func(b *testing.B) { benchServe(b, gp.ClientIP(benchFinal), xff) })
		b.Run("trusted-proxy-xff-1000-forged", func(b *testing.B) { benchServe(b, gp.ClientIP(benchFinal), xffLong) })
	})
	b.Run("Handler", func(b *testing.B) {
		b.Run("get", func(b *testing.B) { benchServe(b, handler, corsGet) })
		b.Run("get-no-origin", func(b *testing.B) { benchServe(b, handler, plainGet) })
		b.Run("preflight", func(b *testing.B) { benchServe(b, handler, preflight) })
		b.Run("refused-host", func(b *testing.B) { benchServe(b, handler, refused) })
	})
	b.Run("chain", func(b *testing.B) {
		b.Run("get", func(b *testing.B) { benchServe(b, g.ClientIP(handler), corsGet) })
		b.Run("get-conncontext", func(b *testing.B) { benchServe(b, g.ClientIP(handler), connCtx) })
	})
}
