package secure

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Default values applied by [New] to zero fields of [Options]. The header
// values are the OWASP Secure Headers Project's recommendations
// (ci/headers_add.json, last updated 2024-07-19).
const (
	DefaultSTSSeconds                = 31536000 // one year
	DefaultFrameOptions              = "DENY"
	DefaultReferrerPolicy            = "no-referrer"
	DefaultContentSecurityPolicy     = "default-src 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'; upgrade-insecure-requests; block-all-mixed-content"
	DefaultPermissionsPolicy         = "accelerometer=(), autoplay=(), camera=(), cross-origin-isolated=(), display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), keyboard-map=(), magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), sync-xhr=(self), usb=(), web-share=(), xr-spatial-tracking=(), clipboard-read=(), clipboard-write=(), gamepad=(), hid=(), idle-detection=(), interest-cohort=(), serial=(), unload=()"
	DefaultCrossOriginOpenerPolicy   = "same-origin"
	DefaultCrossOriginEmbedderPolicy = "require-corp"
	DefaultCrossOriginResourcePolicy = "same-origin"
	DefaultCacheControl              = "no-store, max-age=0"
	DefaultMaxBodyBytes              = 1 << 20 // 1 MiB
	DefaultCORSMaxAge                = 2 * time.Hour
)

// Options configures a [Guard]. Its zero value is the production API preset:
// every security header on with the OWASP-recommended value, HTTPS enforced by
// redirect and HSTS, no cross-origin access, a 1 MiB body limit, forwarding
// headers ignored. Only AllowedHosts (or AllowAnyHost) must be set. Relax a
// protection by setting the one field that controls it; [Development] shows
// the relaxations local development needs.
//
// Option names follow github.com/unrolled/secure where the meaning is the
// same, so its users feel at home; where unrolled/secure's zero value is
// unsafe (FrameDeny, ContentTypeNosniff, ... default to off there), ours is
// inverted so that the zero value is the safe one.
type Options struct {
	// AllowedHosts lists the host names the server answers to (Django's
	// ALLOWED_HOSTS): "api.example.com" matches exactly (case-insensitive, any
	// port), ".example.com" matches example.com and every subdomain,
	// "*.example.com" every subdomain but not example.com itself. IP literals
	// are allowed ("127.0.0.1", "::1"). Requests for any other Host get 400.
	// Zero value: an error from New, unless AllowAnyHost is set.
	AllowedHosts []string
	// AllowAnyHost accepts every Host header. Use it only when a proxy in front
	// already checks Host. Zero value: false.
	AllowAnyHost bool
	// HostsProxyHeaders are headers (such as "X-Forwarded-Host") whose value
	// replaces Host for the allowed-hosts check and the redirect, read only
	// when the direct peer is in TrustedProxies. Zero value: none.
	HostsProxyHeaders []string

	// TrustedProxies are the addresses of reverse proxies whose forwarding
	// headers are believed. Zero value: none; forwarding headers are ignored
	// and the client is the direct peer. A prefix of length 0 is refused.
	TrustedProxies []netip.Prefix
	// ClientIPHeader is the header the trusted proxies write: "X-Forwarded-For"
	// or "Forwarded" (RFC 7239). Configure the one your proxy sets; a client can
	// send the other one and the proxy will pass it on untouched.
	// Zero value: "X-Forwarded-For".
	ClientIPHeader string

	// DisableSSLRedirect turns off the redirect of plain-HTTP requests to
	// https. Zero value: false, so GET and HEAD are redirected with 301 (307
	// with SSLTemporaryRedirect) and other methods with 308 (which keeps the
	// method and body).
	DisableSSLRedirect bool
	// SSLTemporaryRedirect uses 307 instead of 301/308. Zero value: false.
	SSLTemporaryRedirect bool
	// SSLHost is the host the redirect points to. Zero value: the request's
	// (already validated) host.
	SSLHost string
	// SSLProxyHeaders maps a header to the value by which a trusted proxy says
	// the original request was HTTPS. Read only from TrustedProxies; of a
	// comma-separated list only the right-most (nearest proxy's) entry counts.
	// Zero value: {"X-Forwarded-Proto": "https"}.
	SSLProxyHeaders map[string]string

	// STSSeconds is the HSTS max-age. Zero value: 31536000 (one year).
	STSSeconds int64
	// STSExcludeSubdomains drops includeSubDomains from HSTS. Zero value:
	// false (includeSubDomains is sent, as OWASP recommends).
	STSExcludeSubdomains bool
	// STSPreload adds the preload directive. Only set it once you mean to
	// submit the domain to the browsers' preload lists. Zero value: false.
	STSPreload bool
	// ForceSTSHeader sends HSTS on plain-HTTP responses too (browsers ignore
	// it there; useful when TLS ends at a proxy not listed in
	// TrustedProxies). Zero value: false.
	ForceSTSHeader bool

	// FrameOptions is the X-Frame-Options value: "DENY" or "SAMEORIGIN".
	// Zero value: "DENY".
	FrameOptions string
	// ReferrerPolicy is the Referrer-Policy value. Zero value: "no-referrer".
	ReferrerPolicy string
	// ContentSecurityPolicy is the Content-Security-Policy value. A handler
	// serving HTML may override it on its own responses with Header().Set.
	// Zero value: DefaultContentSecurityPolicy.
	ContentSecurityPolicy string
	// ContentSecurityPolicyReportOnly, when set, is sent as
	// Content-Security-Policy-Report-Only. Zero value: not sent.
	ContentSecurityPolicyReportOnly string
	// PermissionsPolicy is the Permissions-Policy value. Zero value:
	// DefaultPermissionsPolicy (every powerful feature off).
	PermissionsPolicy string
	// CrossOriginOpenerPolicy is the Cross-Origin-Opener-Policy value.
	// Zero value: "same-origin".
	CrossOriginOpenerPolicy string
	// CrossOriginEmbedderPolicy is the Cross-Origin-Embedder-Policy value.
	// Zero value: "require-corp".
	CrossOriginEmbedderPolicy string
	// CrossOriginResourcePolicy is the Cross-Origin-Resource-Policy value.
	// It does not affect CORS requests. Zero value: "same-origin".
	CrossOriginResourcePolicy string
	// CacheControl is the Cache-Control value set before the handler runs;
	// a handler may override it for cacheable responses.
	// Zero value: "no-store, max-age=0".
	CacheControl string
	// OmitHeaders names headers of the preset that are not sent at all, e.g.
	// "Cross-Origin-Embedder-Policy" or "Strict-Transport-Security". Only the
	// headers listed in [PresetHeaders] may be named. Zero value: none.
	OmitHeaders []string

	// CORS configures cross-origin resource sharing. Zero value: no origin is
	// allowed; no CORS headers are sent.
	CORS CORSOptions

	// CrossOriginProtection refuses cross-origin state-changing requests
	// (POST, PUT, DELETE, ...) from browsers, using Sec-Fetch-Site and Origin
	// (Go's http.CrossOriginProtection). Turn it on when authentication rides
	// on cookies; bearer-token APIs do not need it. Origins in CORS
	// AllowedOrigins (exact ones) and CrossOriginTrustedOrigins are let
	// through. Zero value: false.
	CrossOriginProtection bool
	// CrossOriginTrustedOrigins are further origins ("https://app.example.com")
	// allowed by CrossOriginProtection. Zero value: none.
	CrossOriginTrustedOrigins []string

	// MaxBodyBytes limits request bodies: a larger Content-Length gets 413 at
	// once, a longer streamed body fails its read (and DecodeJSON reports 413).
	// Zero value: 1 MiB.
	MaxBodyBytes int64
	// RequireJSON refuses requests that carry a body with a Content-Type other
	// than application/json or application/*+json (415). Requests without a
	// body pass. Zero value: false.
	RequireJSON bool

	// ErrorHandler writes the response when the Guard refuses a request. err
	// is a *RequestError wrapping one of the package's sentinels. Zero value:
	// [WriteError], an RFC 9457 problem+json response.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// CORSOptions configures CORS, applied through github.com/rs/cors. Unlike
// rs/cors, an empty AllowedOrigins allows nothing.
type CORSOptions struct {
	// AllowedOrigins lists origins allowed to make cross-origin requests:
	// exact ("https://app.example.com", "http://localhost:3000") or with one
	// leading wildcard label ("https://*.example.com", which matches every
	// subdomain but not example.com). "*" allows every origin and is refused
	// together with AllowCredentials. Malformed origins, paths, trailing
	// slashes and "null" are refused by New. Zero value: none.
	AllowedOrigins []string
	// AllowedMethods are the methods allowed in cross-origin requests.
	// Zero value: GET, HEAD, POST, PUT, PATCH, DELETE.
	AllowedMethods []string
	// AllowedHeaders are the request headers allowed in cross-origin
	// requests. Zero value: Accept, Authorization, Content-Type, X-Request-ID.
	AllowedHeaders []string
	// ExposedHeaders are the response headers a cross-origin caller may read.
	// Zero value: X-Request-ID, Retry-After, RateLimit, RateLimit-Policy.
	ExposedHeaders []string
	// AllowCredentials lets browsers send cookies and read responses of
	// credentialed requests. Zero value: false.
	AllowCredentials bool
	// MaxAge is how long browsers may cache a preflight answer, rounded down
	// to seconds. Chromium caps it at two hours. Zero value: two hours.
	MaxAge time.Duration
}

// Development returns the options for local development: the production
// preset with exactly the relaxations a plain-HTTP localhost server needs.
// SSL redirect is off; HSTS is omitted (a browser that once saw HSTS for
// localhost would force https on every local project); the hosts are
// localhost, 127.0.0.1 and ::1. Every other header stays as in production.
func Development() Options {
	return Options{
		AllowedHosts:       []string{"localhost", "127.0.0.1", "::1"},
		DisableSSLRedirect: true,
		OmitHeaders:        []string{HeaderStrictTransportSecurity},
	}
}

// Header names of the preset.
const (
	HeaderStrictTransportSecurity         = "Strict-Transport-Security"
	HeaderXFrameOptions                   = "X-Frame-Options"
	HeaderXContentTypeOptions             = "X-Content-Type-Options"
	HeaderReferrerPolicy                  = "Referrer-Policy"
	HeaderContentSecurityPolicy           = "Content-Security-Policy"
	HeaderContentSecurityPolicyReportOnly = "Content-Security-Policy-Report-Only"
	HeaderPermissionsPolicy               = "Permissions-Policy"
	HeaderCrossOriginOpenerPolicy         = "Cross-Origin-Opener-Policy"
	HeaderCrossOriginEmbedderPolicy       = "Cross-Origin-Embedder-Policy"
	HeaderCrossOriginResourcePolicy       = "Cross-Origin-Resource-Policy"
	HeaderCacheControl                    = "Cache-Control"
	HeaderXXSSProtection                  = "X-XSS-Protection"
	HeaderXPermittedCrossDomainPolicies   = "X-Permitted-Cross-Domain-Policies"
)

// PresetHeaders lists, in the order they are written, the response headers a
// [Guard] sets and that Options.OmitHeaders may name.
var PresetHeaders = []string{
	HeaderStrictTransportSecurity,
	HeaderXContentTypeOptions,
	HeaderXFrameOptions,
	HeaderReferrerPolicy,
	HeaderContentSecurityPolicy,
	HeaderContentSecurityPolicyReportOnly,
	HeaderPermissionsPolicy,
	HeaderCrossOriginOpenerPolicy,
	HeaderCrossOriginEmbedderPolicy,
	HeaderCrossOriginResourcePolicy,
	HeaderCacheControl,
	HeaderXXSSProtection,
	HeaderXPermittedCrossDomainPolicies,
}

var referrerPolicies = []string{
	"no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
	"same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
}

// compiled is the validated, precomputed form of Options.
type compiled struct {
	hosts        []hostPattern
	anyHost      bool
	hostHeaders  []string
	headers      []headerValue // set on every response
	hsts         []string      // nil when omitted
	forceHSTS    bool
	redirect     bool
	tempRedirect bool
	sslHost      string
	sslHeaders   []sslHeader
	proxies      []netip.Prefix
	ipHeader     string
	maxBody      int64
	requireJSON  bool
	cors         *corsConfig
	cop          *http.CrossOriginProtection
}

type headerValue struct {
	key   string
	value []string // len == cap == 1, so a handler's Add never writes into it
}

type sslHeader struct{ key, value string }

func one(v string) []string { return []string{v}[:1:1] }

// compile validates o and precomputes everything the request path needs. It
// returns every problem at once.
func (o Options) compile() (*compiled, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("secure: "+format, args...))
	}
	c := &compiled{}

	// Hosts.
	c.anyHost = o.AllowAnyHost
	if len(o.AllowedHosts) == 0 && !o.AllowAnyHost {
		bad("Options.AllowedHosts is empty: list the host names this server answers to (for example \"api.example.com\"), or set AllowAnyHost when a proxy in front already checks Host")
	}
	for _, h := range o.AllowedHosts {
		p, err := parseHostPattern(h)
		if err != nil {
			bad("Options.AllowedHosts: %v", err)
			continue
		}
		c.hosts = append(c.hosts, p)
	}
	for _, h := range o.HostsProxyHeaders {
		if !validHeaderName(h) {
			bad("Options.HostsProxyHeaders: %q is not a valid header name", h)
			continue
		}
		c.hostHeaders = append(c.hostHeaders, http.CanonicalHeaderKey(h))
	}

	// Proxies.
	for _, p := range o.TrustedProxies {
		switch {
		case !p.IsValid():
			bad("Options.TrustedProxies: %v is not a valid prefix", p)
		case p.Bits() == 0:
			bad("Options.TrustedProxies: %v trusts every address, which lets any client choose its IP through forwarding headers; list your proxies' addresses", p)
		default:
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			c.proxies = append(c.proxies, p.Masked())
		}
	}
	switch {
	case o.ClientIPHeader == "" || strings.EqualFold(o.ClientIPHeader, "X-Forwarded-For"):
		c.ipHeader = "X-Forwarded-For"
	case strings.EqualFold(o.ClientIPHeader, "Forwarded"):
		c.ipHeader = "Forwarded"
	default:
		bad("Options.ClientIPHeader: %q is not supported; use \"X-Forwarded-For\" or \"Forwarded\"", o.ClientIPHeader)
	}

	// HTTPS.
	c.redirect = !o.DisableSSLRedirect
	c.tempRedirect = o.SSLTemporaryRedirect
	if o.SSLHost != "" {
		if !validHostPort(o.SSLHost) {
			bad("Options.SSLHost: %q is not a host name with an optional port", o.SSLHost)
		}
		c.sslHost = o.SSLHost
	}
	if o.SSLProxyHeaders == nil {
		c.sslHeaders = []sslHeader{{"X-Forwarded-Proto", "https"}}
	}
	for _, k := range sortedKeys(o.SSLProxyHeaders) {
		if !validHeaderName(k) {
			bad("Options.SSLProxyHeaders: %q is not a valid header name", k)
			continue
		}
		c.sslHeaders = append(c.sslHeaders, sslHeader{http.CanonicalHeaderKey(k), o.SSLProxyHeaders[k]})
	}

	// Headers.
	omit := map[string]bool{}
	for _, h := range o.OmitHeaders {
		k := http.CanonicalHeaderKey(h)
		if !slices.ContainsFunc(PresetHeaders, func(p string) bool { return http.CanonicalHeaderKey(p) == k }) {
			bad("Options.OmitHeaders: %q is not one of the preset headers (%s)", h, strings.Join(PresetHeaders, ", "))
			continue
		}
		omit[k] = true
	}
	if o.STSSeconds < 0 {
		bad("Options.STSSeconds: %d is negative; to send no HSTS header, list %q in OmitHeaders", o.STSSeconds, HeaderStrictTransportSecurity)
	}
	if !omit[http.CanonicalHeaderKey(HeaderStrictTransportSecurity)] {
		secs := o.STSSeconds
		if secs == 0 {
			secs = DefaultSTSSeconds
		}
		v := fmt.Sprintf("max-age=%d", secs)
		if !o.STSExcludeSubdomains {
			v += "; includeSubDomains"
		}
		if o.STSPreload {
			if o.STSExcludeSubdomains || secs < DefaultSTSSeconds {
				bad("Options.STSPreload: the preload lists require includeSubDomains and a max-age of at least %d", DefaultSTSSeconds)
			}
			v += "; preload"
		}
		c.hsts = one(v)
		c.forceHSTS = o.ForceSTSHeader
	}
	frame := strings.ToUpper(strings.TrimSpace(o.FrameOptions))
	switch frame {
	case "":
		frame = DefaultFrameOptions
	case "DENY", "SAMEORIGIN":
	default:
		bad("Options.FrameOptions: %q must be DENY or SAMEORIGIN (ALLOW-FROM is obsolete; use a CSP frame-ancestors directive)", o.FrameOptions)
	}
	ref := orDefault(o.ReferrerPolicy, DefaultReferrerPolicy)
	for _, tok := range strings.Split(ref, ",") {
		if !slices.Contains(referrerPolicies, strings.ToLower(strings.TrimSpace(tok))) {
			bad("Options.ReferrerPolicy: %q is not a referrer policy (one of %s)", tok, strings.Join(referrerPolicies, ", "))
		}
	}
	add := func(key, value, field string) {
		key = http.CanonicalHeaderKey(key)
		if omit[key] || value == "" {
			return
		}
		if !validHeaderValue(value) {
			bad("Options.%s: the value contains control characters", field)
			return
		}
		c.headers = append(c.headers, headerValue{key, one(value)})
	}
	add(HeaderXContentTypeOptions, "nosniff", "OmitHeaders")
	add(HeaderXFrameOptions, frame, "FrameOptions")
	add(HeaderReferrerPolicy, ref, "ReferrerPolicy")
	add(HeaderContentSecurityPolicy, orDefault(o.ContentSecurityPolicy, DefaultContentSecurityPolicy), "ContentSecurityPolicy")
	add(HeaderContentSecurityPolicyReportOnly, o.ContentSecurityPolicyReportOnly, "ContentSecurityPolicyReportOnly")
	add(HeaderPermissionsPolicy, orDefault(o.PermissionsPolicy, DefaultPermissionsPolicy), "PermissionsPolicy")
	add(HeaderCrossOriginOpenerPolicy, oneOf(&errs, "CrossOriginOpenerPolicy", orDefault(o.CrossOriginOpenerPolicy, DefaultCrossOriginOpenerPolicy),
		"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none"), "CrossOriginOpenerPolicy")
	add(HeaderCrossOriginEmbedderPolicy, oneOf(&errs, "CrossOriginEmbedderPolicy", orDefault(o.CrossOriginEmbedderPolicy, DefaultCrossOriginEmbedderPolicy),
		"require-corp", "credentialless", "unsafe-none"), "CrossOriginEmbedderPolicy")
	add(HeaderCrossOriginResourcePolicy, oneOf(&errs, "CrossOriginResourcePolicy", orDefault(o.CrossOriginResourcePolicy, DefaultCrossOriginResourcePolicy),
		"same-origin", "same-site", "cross-origin"), "CrossOriginResourcePolicy")
	add(HeaderCacheControl, orDefault(o.CacheControl, DefaultCacheControl), "CacheControl")
	add(HeaderXXSSProtection, "0", "OmitHeaders")
	add(HeaderXPermittedCrossDomainPolicies, "none", "OmitHeaders")

	// CORS and cross-origin protection.
	cc, corsErrs := o.CORS.compile()
	errs = append(errs, corsErrs...)
	c.cors = cc
	if o.CrossOriginProtection {
		c.cop = http.NewCrossOriginProtection()
		// Browsers send origins lower-case and CrossOriginProtection compares
		// exactly: trust the normalized forms.
		for _, origin := range o.CrossOriginTrustedOrigins {
			norm, err := normalizeOrigin(origin)
			if err == nil && (norm == "*" || strings.Contains(norm, "*")) {
				err = fmt.Errorf("%q: wildcards are not supported here", origin)
			}
			if err == nil {
				err = c.cop.AddTrustedOrigin(norm)
			}
			if err != nil {
				bad("Options.CrossOriginTrustedOrigins: %v", err)
			}
		}
		for _, origin := range o.CORS.AllowedOrigins {
			if norm, err := normalizeOrigin(origin); err == nil && norm != "*" && !strings.Contains(norm, "*") {
				_ = c.cop.AddTrustedOrigin(norm) // already validated by CORS
			}
		}
	} else if len(o.CrossOriginTrustedOrigins) > 0 {
		bad("Options.CrossOriginTrustedOrigins is set but CrossOriginProtection is off")
	}

	// Bodies.
	switch {
	case o.MaxBodyBytes < 0:
		bad("Options.MaxBodyBytes: %d is negative", o.MaxBodyBytes)
	case o.MaxBodyBytes == 0:
		c.maxBody = DefaultMaxBodyBytes
	default:
		c.maxBody = o.MaxBodyBytes
	}
	c.requireJSON = o.RequireJSON

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

func oneOf(errs *[]error, field, v string, allowed ...string) string {
	if !slices.Contains(allowed, strings.ToLower(v)) {
		*errs = append(*errs, fmt.Errorf("secure: Options.%s: %q must be one of %s", field, v, strings.Join(allowed, ", ")))
		return ""
	}
	return strings.ToLower(v)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
