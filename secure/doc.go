// Package secure is the outer layer of an HTTP API: security response
// headers, HTTPS enforcement, allowed hosts, CORS, client-IP resolution
// behind trusted proxies, body limits and strict JSON decoding.
//
// # Use
//
// Build one [Guard] from [Options] and put its two middlewares in the chain:
//
//	g, err := secure.New(secure.Options{
//		AllowedHosts:   []string{"api.example.com"},
//		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
//		CORS: secure.CORSOptions{
//			AllowedOrigins:   []string{"https://app.example.com"},
//			AllowCredentials: true,
//		},
//		RequireJSON: true,
//	})
//	if err != nil {
//		log.Fatal(err) // names every option that is wrong, and how to fix it
//	}
//	h := alice.New(g.ClientIP, logging, g.Handler, auth).Then(mux)
//	srv := &http.Server{Handler: h, ConnContext: g.ConnContext}
//
// [Guard.ClientIP] comes first so that every later layer (logs, metrics, rate
// limits) sees the same client address, read with [ClientIPFromContext].
// [Guard.Handler] comes after logging and metrics, so refused requests are
// still logged, and before rate limiting and authentication, so that even a
// 429 or 401 carries the security headers.
//
// Handlers decode bodies with [DecodeJSON] and hand its error to
// [WriteError]:
//
//	var in struct{ Email string `json:"email"` }
//	if err := secure.DecodeJSON(r, &in, secure.JSONOptions{}); err != nil {
//		secure.WriteError(w, r, err) // 400, 413 or 415 problem+json naming the field
//		return
//	}
//
// # Defaults
//
// The zero Options is the production preset for an API, matching the OWASP
// Secure Headers Project's recommendations: HSTS (one year,
// includeSubDomains) on HTTPS responses, X-Content-Type-Options: nosniff,
// X-Frame-Options: DENY, Referrer-Policy: no-referrer, a restrictive
// Content-Security-Policy and Permissions-Policy, Cross-Origin-Opener-,
// Embedder- and Resource-Policy, Cache-Control: no-store,
// X-Permitted-Cross-Domain-Policies: none and X-XSS-Protection: 0 (the legacy
// "1; mode=block" enables the browser's XSS auditor, which itself leaked
// data; OWASP recommends 0). Plain-HTTP requests are redirected to HTTPS. No
// Server or X-Powered-By header is ever sent. [Development] returns the few
// relaxations a localhost server needs; everything else stays.
//
// Handlers may override a header on their own responses (an HTML page sets
// its own Content-Security-Policy, a cacheable resource its Cache-Control):
// the Guard sets its headers before calling the next handler.
//
// # Trust model
//
// Forwarding headers (X-Forwarded-For, Forwarded, X-Forwarded-Proto,
// X-Forwarded-Host) are read only when the direct peer is one of
// Options.TrustedProxies; otherwise they are ignored, whatever they say. The
// client address is the right-most address in the forwarding header that is
// not a trusted proxy: everything to its left was written by the client and
// can be forged. Unparseable entries stop the walk. IPv4-mapped IPv6
// addresses are unmapped and zones dropped, so one client has one address.
// unrolled/secure believes X-Forwarded-Proto from anyone; this package does
// not.
//
// # Why not unrolled/secure
//
// The option names follow github.com/unrolled/secure, but the header writer
// is this package's own. unrolled/secure builds a new header map, copies it
// into the response and formats the HSTS value on every request: 31
// allocations per request, measured in BENCHMARKS.md. Here every header
// value is formatted once in [New] and assigned by reference on the request
// path, so headers, hosts and the HTTPS redirect check cost no allocation.
// CORS is github.com/rs/cors behind stricter validation: an empty origin
// list allows nothing (rs/cors would allow everything), and "*" with
// credentials, "null", paths and malformed origins are refused by [New].
// rs/cors v1.11.1 allocates 16 bytes per request that carries an Origin
// header (the argument list of a debug-log call it makes even with logging
// off); requests without Origin allocate nothing.
//
// [Guard.ClientIP] stores the address in the request context, which costs
// two allocations per request, unless the server's ConnContext is
// [Guard.ConnContext]: then a request that came straight from its peer
// costs none.
//
// # Configuration from the environment
//
// [FromEnv] reads every option from environment variables and accepts the
// Django names of the Senfi original as aliases; see its documentation for
// the table.
package secure
