package bench

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/rs/cors"
	unrolled "github.com/unrolled/secure"

	"github.com/senfi-sharif/senfi/bench/cmd/chainserver/chain"
	"github.com/senfi-sharif/senfi/secure"
)

// The request every implementation serves: a cross-origin call from the
// allowed frontend to the API host, over plain HTTP, from one of numClients
// distinct client addresses.
const (
	benchHost   = "api.example.com"
	benchURL    = "http://" + benchHost + "/v1/items"
	benchOrigin = "https://app.example.com"
	numClients  = 10_000

	// What browsers send in a preflight: Access-Control-Request-Headers is
	// lower-case and sorted (Fetch standard, "CORS-unsafe request-header
	// names"); rs/cors refuses any other order.
	preflightMethod  = http.MethodPost
	preflightHeaders = "authorization,content-type"
)

// The CORS settings of secure.CORSOptions' zero values, spelled out for
// rs/cors so that both configurations send the same CORS headers.
var (
	corsHeaders = []string{"Accept", "Authorization", "Content-Type", "X-Request-ID"}
	corsMaxAge  = int(secure.DefaultCORSMaxAge.Seconds())
)

var okBody = []byte("ok\n")

// final is the trivial handler every implementation wraps.
var final = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(okBody)
})

// discardWriter is a reusable ResponseWriter that keeps headers and throws
// the rest away, so that the harness itself allocates nothing (as rs/cors's
// bench_test.go does). The caller clears the header map before each request.
// Build it with newDiscardWriter.
type discardWriter struct{ h http.Header }

// newDiscardWriter returns a discardWriter whose header map starts as small
// as net/http's per-response one (make(http.Header)) and keeps whatever it
// grows to. Clearing a map costs in proportion to its capacity, not to what
// it holds, so the map pre-sized for 32 fields these benchmarks once used
// billed each two-header middleware ~80 ns of harness work per request.
func newDiscardWriter() *discardWriter { return &discardWriter{h: make(http.Header)} }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// peerConn is a net.Conn that only reports its remote address, for
// Guard.ConnContext.
type peerConn struct {
	net.Conn
	remote net.Addr
}

func (c peerConn) RemoteAddr() net.Addr { return c.remote }

// clientAddrs returns numClients distinct RemoteAddr values in the
// benchmarking range 198.18.0.0/15.
func clientAddrs() []string {
	addrs := make([]string, numClients)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("198.18.%d.%d:%d", i/256, i%256, 1024+i)
	}
	return addrs
}

// makeRequests builds one request per client address, all sharing method,
// URL and header map (nothing under test modifies them).
func makeRequests(method string, header http.Header) []*http.Request {
	base := httptest.NewRequest(method, benchURL, nil)
	base.Header = header
	reqs := make([]*http.Request, 0, numClients)
	for _, addr := range clientAddrs() {
		r := new(http.Request)
		*r = *base
		r.RemoteAddr = addr
		reqs = append(reqs, r)
	}
	return reqs
}

// serve runs h over reqs, cycling through them, with one reused writer.
func serve(b *testing.B, h http.Handler, reqs []*http.Request) {
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

// expectation is what a configuration must answer for a kind of request, so
// that a benchmark cannot silently measure a refusal.
type expectation struct {
	status  int
	headers map[string]string
}

func (e expectation) check(b *testing.B, h http.Handler, reqs []*http.Request) http.Header {
	b.Helper()
	var got http.Header
	for _, r := range []*http.Request{reqs[0], reqs[len(reqs)/2], reqs[len(reqs)-1]} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != e.status {
			b.Fatalf("%s from %s: status %d, want %d (headers %v)", r.Method, r.RemoteAddr, rec.Code, e.status, rec.Header())
		}
		for k, v := range e.headers {
			if g := rec.Header().Get(k); g != v {
				b.Fatalf("%s from %s: %s = %q, want %q", r.Method, r.RemoteAddr, k, g, v)
			}
		}
		got = rec.Header()
	}
	return got
}

func union(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

func newSenfi(b *testing.B) *secure.Guard {
	g, err := secure.New(secure.Options{
		AllowedHosts: []string{benchHost},
		// The harness speaks plain HTTP; unrolled/secure gets SSLRedirect
		// false too. HSTS is forced on both so that it is written, as it
		// would be on an HTTPS request in production.
		DisableSSLRedirect: true,
		ForceSTSHeader:     true,
		CORS: secure.CORSOptions{
			AllowedOrigins:   []string{benchOrigin},
			AllowCredentials: true,
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// newPeers builds unrolled/secure around rs/cors, configured to send the
// same headers as newSenfi. unrolled/secure has no Cache-Control option, so
// senfi writes one header more.
func newPeers(next http.Handler) http.Handler {
	opts := chain.UnrolledOptions([]string{benchHost})
	opts.STSSeconds, opts.STSIncludeSubdomains, opts.ForceSTSHeader = secure.DefaultSTSSeconds, true, true
	s := unrolled.New(opts)
	c := cors.New(cors.Options{
		AllowedOrigins:   []string{benchOrigin},
		AllowedMethods:   chain.CORSMethods,
		AllowedHeaders:   corsHeaders,
		ExposedHeaders:   chain.CORSExposed,
		AllowCredentials: true,
		MaxAge:           corsMaxAge,
	})
	return s.Handler(c.Handler(next))
}

// BenchmarkSecure compares the security headers, allowed-hosts check and
// CORS of secure.Guard with unrolled/secure wrapping rs/cors, on a CORS GET
// and a CORS preflight.
//
// senfi is the kit's full composition, g.ClientIP(g.Handler(final)), so it
// also resolves the client address, which the peers do not do at all;
// senfi-handler is g.Handler alone, the like-for-like comparison. Every
// request carries the context a server with ConnContext: g.ConnContext gives
// it (the set-up the secure package documents); the peers ignore it.
func BenchmarkSecure(b *testing.B) {
	g := newSenfi(b)
	impls := []struct {
		name    string
		handler http.Handler
	}{
		{"bare", final},
		{"senfi", g.ClientIP(g.Handler(final))},
		{"senfi-handler", g.Handler(final)},
		{"unrolled+rscors", newPeers(final)},
	}

	securityHeaders := map[string]string{
		"Strict-Transport-Security":         "max-age=" + strconv.Itoa(secure.DefaultSTSSeconds) + "; includeSubDomains",
		"X-Frame-Options":                   secure.DefaultFrameOptions,
		"X-Content-Type-Options":            "nosniff",
		"X-Xss-Protection":                  "0",
		"Referrer-Policy":                   secure.DefaultReferrerPolicy,
		"Content-Security-Policy":           secure.DefaultContentSecurityPolicy,
		"Permissions-Policy":                secure.DefaultPermissionsPolicy,
		"Cross-Origin-Opener-Policy":        secure.DefaultCrossOriginOpenerPolicy,
		"Cross-Origin-Embedder-Policy":      secure.DefaultCrossOriginEmbedderPolicy,
		"Cross-Origin-Resource-Policy":      secure.DefaultCrossOriginResourcePolicy,
		"X-Permitted-Cross-Domain-Policies": "none",
	}
	kinds := []struct {
		name      string
		reqs      []*http.Request
		bare, mid expectation // bare: the final handler alone; mid: with middleware
	}{
		{
			name: "get",
			reqs: makeRequests(http.MethodGet, http.Header{
				"Origin": {benchOrigin},
				"Accept": {"application/json"},
			}),
			bare: expectation{status: http.StatusOK},
			mid: expectation{status: http.StatusOK, headers: union(securityHeaders, map[string]string{
				"Access-Control-Allow-Origin":      benchOrigin,
				"Access-Control-Allow-Credentials": "true",
				"Vary":                             "Origin",
			})},
		},
		{
			name: "preflight",
			reqs: makeRequests(http.MethodOptions, http.Header{
				"Origin":                         {benchOrigin},
				"Access-Control-Request-Method":  {preflightMethod},
				"Access-Control-Request-Headers": {preflightHeaders},
			}),
			bare: expectation{status: http.StatusOK},
			mid: expectation{status: http.StatusNoContent, headers: union(securityHeaders, map[string]string{
				"Access-Control-Allow-Origin":      benchOrigin,
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods":     preflightMethod,
				"Access-Control-Allow-Headers":     preflightHeaders,
				"Access-Control-Max-Age":           strconv.Itoa(corsMaxAge),
			})},
		},
	}

	for _, k := range kinds {
		for i, r := range k.reqs {
			peer := net.TCPAddrFromAddrPort(netip.MustParseAddrPort(r.RemoteAddr))
			k.reqs[i] = r.WithContext(g.ConnContext(context.Background(), peerConn{remote: peer}))
		}
	}

	// Check every configuration before measuring any, and that senfi and
	// the peers answer with the same header names (but Cache-Control, which
	// unrolled/secure cannot set).
	for _, k := range kinds {
		names := map[string][]string{}
		for _, impl := range impls {
			want := k.mid
			if impl.name == "bare" {
				want = k.bare
			}
			got := want.check(b, impl.handler, k.reqs)
			got.Del("Cache-Control")
			got.Del("Content-Type") // sniffed by the recorder
			names[impl.name] = slices.Sorted(maps.Keys(got))
		}
		if !slices.Equal(names["senfi"], names["unrolled+rscors"]) {
			b.Fatalf("%s: senfi sends %v, unrolled+rscors %v", k.name, names["senfi"], names["unrolled+rscors"])
		}
	}

	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			for _, k := range kinds {
				b.Run(k.name, func(b *testing.B) {
					serve(b, impl.handler, k.reqs)
				})
			}
		})
	}
}
