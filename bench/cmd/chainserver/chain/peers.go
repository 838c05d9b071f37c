package chain

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/httprate"
	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/cors"
	unrolled "github.com/unrolled/secure"

	"github.com/senfi-sharif/senfi/secure"
)

// Peers returns the mux serving [Final] behind the peer libraries, in the
// order a service assembles them: github.com/unrolled/secure (allowed
// hosts, security headers) → github.com/rs/cors → github.com/go-chi/httprate
// (per client address) → github.com/golang-jwt/jwt/v5 (HS256 Bearer token,
// issuer, audience and expiry required; claims put in the context).
//
// Each is configured to do what the senfi chain's corresponding layer does
// for the same request, with exceptions in the peers' favour: they have no
// request log, panic recovery or per-route metrics, golang-jwt checks no
// revocation, and unrolled/secure cannot send Cache-Control. unrolled/secure compares the Host header exactly, port
// included, so every host is also allowed with each of o.Ports.
func Peers(o Options) (http.Handler, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	hosts := make([]string, 0, len(o.Hosts)*(1+len(o.Ports)))
	for _, h := range o.Hosts {
		hosts = append(hosts, h)
		for _, p := range o.Ports {
			hosts = append(hosts, net.JoinHostPort(h, p))
		}
	}
	headers := unrolled.New(UnrolledOptions(hosts))
	c := cors.New(cors.Options{
		AllowedOrigins:   []string{o.Origin},
		AllowedMethods:   CORSMethods,
		AllowedHeaders:   corsAllowed,
		ExposedHeaders:   CORSExposed,
		AllowCredentials: true,
		MaxAge:           int(secure.DefaultCORSMaxAge.Seconds()),
	})
	limit := httprate.LimitBy(o.limit(), time.Minute, peerIP)
	return headers.Handler(c.Handler(limit(bearerJWT(o.Secret)(newMux(Final))))), nil
}

// peerIP is httprate's former KeyByIP: the peer address, IPv6 grouped by
// /64, as senfi's ratelimit.KeyByIP does for a direct peer.
func peerIP(r *http.Request) (string, error) {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return httprate.CanonicalizeIP(ip), nil
}

type claimsKey struct{}

// bearerJWT is the usual golang-jwt middleware: parse and verify the Bearer
// token on every request (HS256 only, issuer and audience pinned, expiry
// required), 401 otherwise, and put the claims in the request context.
func bearerJWT(secret []byte) func(http.Handler) http.Handler {
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
	)
	key := func(*jwt.Token) (any, error) { return secret, nil }
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			claims := jwt.MapClaims{}
			if ok {
				_, err := parser.ParseWithClaims(raw, claims, key)
				ok = err == nil
			}
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
		})
	}
}

// UnrolledOptions is the peers' unrolled/secure configuration for hosts:
// every header senfi's development preset sends, with the same values
// (unrolled/secure cannot send Cache-Control), plain HTTP, no HSTS.
// BenchmarkSecure adds HSTS to it for the production comparison.
func UnrolledOptions(hosts []string) unrolled.Options {
	return unrolled.Options{
		AllowedHosts:                  hosts,
		SSLRedirect:                   false, // plain HTTP, as secure.Development
		FrameDeny:                     true,
		ContentTypeNosniff:            true,
		BrowserXssFilter:              true,
		CustomBrowserXssValue:         "0", // as senfi; BrowserXssFilter alone sends "1; mode=block"
		ReferrerPolicy:                secure.DefaultReferrerPolicy,
		ContentSecurityPolicy:         secure.DefaultContentSecurityPolicy,
		PermissionsPolicy:             secure.DefaultPermissionsPolicy,
		CrossOriginOpenerPolicy:       secure.DefaultCrossOriginOpenerPolicy,
		CrossOriginEmbedderPolicy:     secure.DefaultCrossOriginEmbedderPolicy,
		CrossOriginResourcePolicy:     secure.DefaultCrossOriginResourcePolicy,
		XPermittedCrossDomainPolicies: "none",
	}
}
