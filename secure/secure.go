package secure

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/senfi-sharif/senfi/internal/clientip"
)

// Guard applies the compiled [Options]. It is safe for concurrent use and
// immutable after [New]. Its two middlewares go at different places in a
// chain: [Guard.ClientIP] first of all, [Guard.Handler] after logging and
// metrics (so that their records include refused requests).
type Guard struct {
	c       *compiled
	ips     *clientip.Resolver
	onError func(w http.ResponseWriter, r *http.Request, err error)
}

// New validates opts and precomputes every header value, host matcher and
// proxy prefix, so that the request path neither parses nor formats
// anything. It returns every problem at once, each naming the option to fix.
func New(opts Options) (*Guard, error) {
	c, err := opts.compile()
	if err != nil {
		return nil, err
	}
	g := &Guard{
		c:       c,
		ips:     clientip.NewResolver(c.proxies, c.ipHeader),
		onError: opts.ErrorHandler,
	}
	if g.onError == nil {
		g.onError = WriteError
	}
	if c.cop != nil {
		// Check is called directly; this handler is never reached.
		c.cop.SetDenyHandler(http.NotFoundHandler())
	}
	return g, nil
}

// ClientIP is the middleware that resolves the client address once and
// stores it in the request context, where [ClientIPFromContext] and the other
// packages of the kit read it. Put it first in the chain. With no
// TrustedProxies it stores the direct peer's address and ignores forwarding
// headers.
//
// Storing a value in a request's context costs two allocations (the context
// node and the request copy of r.WithContext). When the server's ConnContext
// is [Guard.ConnContext] and the request came straight from its peer, the
// address is already in the context and ClientIP allocates nothing.
func (g *Guard) ClientIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := g.ips.Resolve(r)
		if cur, ok := clientip.FromContext(r.Context()); ok && cur == addr {
			next.ServeHTTP(w, r) // stored per connection by ConnContext
			return
		}
		next.ServeHTTP(w, r.WithContext(clientip.NewContext(r.Context(), addr)))
	})
}

// ConnContext is an [http.Server] ConnContext hook that stores the
// connection's peer address in the context of every request on it, once per
// connection:
//
//	srv := &http.Server{Handler: chain, ConnContext: guard.ConnContext}
//
// It is an optimization of [Guard.ClientIP], which still resolves every
// request (a request through a trusted proxy gets the forwarded client's
// address), but need not allocate when the answer is the peer.
func (g *Guard) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return clientip.NewContext(ctx, connPeer(c.RemoteAddr()))
}

func connPeer(a net.Addr) netip.Addr {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr().Unmap().WithZone("")
	}
	if a == nil {
		return netip.Addr{}
	}
	return clientip.Peer(a.String())
}

// ClientIPFromContext returns the client address stored by [Guard.ClientIP].
// ok is false when the middleware did not run. The address is the zero Addr
// when the connection has no IP address (a Unix socket).
func ClientIPFromContext(ctx context.Context) (addr netip.Addr, ok bool) {
	return clientip.FromContext(ctx)
}

// Handler is the middleware that enforces the rest of the Options, in this
// order: security headers (on every response, refusals included); the
// allowed-hosts check (400); the HTTPS redirect; CORS (preflights are
// answered here); cross-origin protection (403); body limit (413) and JSON
// content type (415). Headers, hosts and the redirect check allocate nothing;
// a request with a body costs one request copy (for the body limit); rs/cors
// allocates 16 bytes on requests carrying Origin.
func (g *Guard) Handler(next http.Handler) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.afterCORS(w, r, next)
	})
	var corsNext http.Handler = inner
	if g.c.cors != nil {
		corsNext = g.c.cors.c.Handler(inner)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peerTrusted := g.ips.PeerTrusted(r)
		https := r.TLS != nil || (peerTrusted && g.proxySaysHTTPS(r))
		h := w.Header()
		for _, kv := range g.c.headers {
			h[kv.key] = kv.value
		}
		if g.c.hsts != nil && (https || g.c.forceHSTS) {
			h[HeaderStrictTransportSecurity] = g.c.hsts
		}
		host := g.requestHost(r, peerTrusted)
		if !g.hostAllowed(host) {
			g.onError(w, r, reqErr(ErrHostNotAllowed, "", "the Host header names a host this server does not serve"))
			return
		}
		if g.c.redirect && !https {
			g.redirectHTTPS(w, r, host)
			return
		}
		corsNext.ServeHTTP(w, r)
	})
}

func (g *Guard) afterCORS(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if g.c.cop != nil {
		if err := g.c.cop.Check(r); err != nil {
			g.onError(w, r, reqErr(ErrCrossOrigin, "", "cross-origin requests that change state are not accepted from this origin"))
			return
		}
	}
	if hasBody(r) {
		if r.ContentLength > g.c.maxBody {
			g.onError(w, r, reqErr(ErrBodyTooLarge, "", bodyLimitDetail(g.c.maxBody)))
			return
		}
		if g.c.requireJSON && !isJSONContentType(r.Header.Get("Content-Type")) {
			g.onError(w, r, reqErr(ErrUnsupportedMediaType, "", "the request body must be JSON: send Content-Type: application/json"))
			return
		}
		r2 := *r // never modify the caller's request
		r2.Body = http.MaxBytesReader(w, r.Body, g.c.maxBody)
		r = &r2
	}
	next.ServeHTTP(w, r)
}

// proxySaysHTTPS reports whether a trusted proxy marked the request as HTTPS.
func (g *Guard) proxySaysHTTPS(r *http.Request) bool {
	for _, sh := range g.c.sslHeaders {
		if v := r.Header[sh.key]; len(v) > 0 && strings.EqualFold(rightmost(v[len(v)-1]), sh.value) {
			return true
		}
	}
	return false
}

func (g *Guard) redirectHTTPS(w http.ResponseWriter, r *http.Request, host string) {
	if g.c.sslHost != "" {
		host = g.c.sslHost
	}
	target := "https://" + host + r.URL.RequestURI()
	code := http.StatusMovedPermanently
	switch {
	case g.c.tempRedirect:
		code = http.StatusTemporaryRedirect
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		code = http.StatusPermanentRedirect
	}
	w.Header().Set("Location", target)
	w.WriteHeader(code)
}

// hasBody reports whether r carries a request body.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// isJSONContentType accepts application/json and application/*+json, with
// any parameters, case-insensitively.
func isJSONContentType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	if len(ct) < len("application/json") || !strings.EqualFold(ct[:len("application/")], "application/") {
		return false
	}
	sub := ct[len("application/"):]
	return strings.EqualFold(sub, "json") ||
		(len(sub) > len("+json") && strings.EqualFold(sub[len(sub)-len("+json"):], "+json"))
}
