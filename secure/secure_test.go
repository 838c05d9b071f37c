package secure_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/secure"
)

// newGuard builds a Guard or fails the test.
func newGuard(t *testing.T, o secure.Options) *secure.Guard {
	t.Helper()
	g, err := secure.New(o)
	require.NoError(t, err)
	return g
}

// ok is the final handler: it answers 200 "ok" and records that it ran.
type ok struct{ called bool }

func (h *ok) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.called = true
	_, _ = io.WriteString(w, "ok")
}

// serve runs r through g.ClientIP and g.Handler and returns the response and
// whether the final handler ran.
func serve(t *testing.T, g *secure.Guard, r *http.Request) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	final := &ok{}
	rec := httptest.NewRecorder()
	g.ClientIP(g.Handler(final)).ServeHTTP(rec, r)
	return rec, final.called
}

func get(target string) *http.Request {
	return httptest.NewRequest(http.MethodGet, target, nil)
}

// problemBody decodes a problem+json response.
func problemBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
	return m
}

var prodHosts = []string{"api.example.com"}

func TestHeadersPreset(t *testing.T) {
	g := newGuard(t, secure.Options{AllowedHosts: prodHosts})
	r := get("https://api.example.com/x")
	r.TLS = &tls.ConnectionState{}
	rec, called := serve(t, g, r)
	require.True(t, called)
	want := map[string]string{
		"Strict-Transport-Security":         "max-age=31536000; includeSubDomains",
		"X-Content-Type-Options":            "nosniff",
		"X-Frame-Options":                   "DENY",
		"Referrer-Policy":                   "no-referrer",
		"Content-Security-Policy":           secure.DefaultContentSecurityPolicy,
		"Permissions-Policy":                secure.DefaultPermissionsPolicy,
		"Cross-Origin-Opener-Policy":        "same-origin",
		"Cross-Origin-Embedder-Policy":      "require-corp",
		"Cross-Origin-Resource-Policy":      "same-origin",
		"Cache-Control":                     "no-store, max-age=0",
		"X-XSS-Protection":                  "0",
		"X-Permitted-Cross-Domain-Policies": "none",
	}
	for k, v := range want {
		assert.Equal(t, v, rec.Header().Get(k), k)
	}
	for _, k := range []string{"Server", "X-Powered-By", "Content-Security-Policy-Report-Only", "Access-Control-Allow-Origin"} {
		assert.Empty(t, rec.Header().Values(k), k)
	}
}

func TestHeadersOptions(t *testing.T) {
	tests := []struct {
		name   string
		opts   secure.Options
		https  bool
		header string
		want   string // "" means absent
	}{
		{"no hsts on plain http", secure.Options{DisableSSLRedirect: true}, false, "Strict-Transport-Security", ""},
		{"forced hsts on plain http", secure.Options{DisableSSLRedirect: true, ForceSTSHeader: true}, false, "Strict-Transport-Security", "max-age=31536000; includeSubDomains"},
		{"hsts seconds", secure.Options{STSSeconds: 600}, true, "Strict-Transport-Security", "max-age=600; includeSubDomains"},
		{"hsts exclude subdomains", secure.Options{STSExcludeSubdomains: true}, true, "Strict-Transport-Security", "max-age=31536000"},
		{"hsts preload", secure.Options{STSPreload: true, STSSeconds: 63072000}, true, "Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload"},
		{"hsts omitted", secure.Options{OmitHeaders: []string{"strict-transport-security"}}, true, "Strict-Transport-Security", ""},
		{"frame sameorigin", secure.Options{FrameOptions: "sameorigin"}, true, "X-Frame-Options", "SAMEORIGIN"},
		{"frame omitted", secure.Options{OmitHeaders: []string{"X-Frame-Options"}}, true, "X-Frame-Options", ""},
		{"nosniff omitted", secure.Options{OmitHeaders: []string{"X-Content-Type-Options"}}, true, "X-Content-Type-Options", ""},
		{"referrer", secure.Options{ReferrerPolicy: "strict-origin-when-cross-origin"}, true, "Referrer-Policy", "strict-origin-when-cross-origin"},
		{"referrer fallback list", secure.Options{ReferrerPolicy: "no-referrer, strict-origin-when-cross-origin"}, true, "Referrer-Policy", "no-referrer, strict-origin-when-cross-origin"},
		{"csp", secure.Options{ContentSecurityPolicy: "default-src 'none'"}, true, "Content-Security-Policy", "default-src 'none'"},
		{"csp report only", secure.Options{ContentSecurityPolicyReportOnly: "default-src 'self'; report-to csp"}, true, "Content-Security-Policy-Report-Only", "default-src 'self'; report-to csp"},
		{"permissions", secure.Options{PermissionsPolicy: "camera=()"}, true, "Permissions-Policy", "camera=()"},
		{"coop", secure.Options{CrossOriginOpenerPolicy: "same-origin-allow-popups"}, true, "Cross-Origin-Opener-Policy", "same-origin-allow-popups"},
		{"coep", secure.Options{CrossOriginEmbedderPolicy: "credentialless"}, true, "Cross-Origin-Embedder-Policy", "credentialless"},
		{"corp", secure.Options{CrossOriginResourcePolicy: "cross-origin"}, true, "Cross-Origin-Resource-Policy", "cross-origin"},
		{"cache control", secure.Options{CacheControl: "private, max-age=60"}, true, "Cache-Control", "private, max-age=60"},
		{"xss omitted", secure.Options{OmitHeaders: []string{"X-XSS-Protection"}}, true, "X-XSS-Protection", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.AllowedHosts = prodHosts
			g := newGuard(t, tt.opts)
			r := get("http://api.example.com/")
			if tt.https {
				r.TLS = &tls.ConnectionState{}
			}
			rec, called := serve(t, g, r)
			require.True(t, called)
			if tt.want == "" {
				assert.Empty(t, rec.Header().Values(tt.header))
			} else {
				assert.Equal(t, []string{tt.want}, rec.Header().Values(tt.header))
			}
		})
	}
}

func TestHandlerMayOverrideHeaders(t *testing.T) {
	g := newGuard(t, secure.Options{AllowedHosts: prodHosts, DisableSSLRedirect: true})
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'")
		w.Header().Add("Cache-Control", "extra")
	})
	rec := httptest.NewRecorder()
	g.Handler(page).ServeHTTP(rec, get("http://api.example.com/"))
	assert.Equal(t, "default-src 'self'; script-src 'self'", rec.Header().Get("Content-Security-Policy"))
	assert.Equal(t, []string{"no-store, max-age=0", "extra"}, rec.Header().Values("Cache-Control"))

	// The handler's Add must not have written into the Guard's shared value.
	rec2 := httptest.NewRecorder()
	g.Handler(&ok{}).ServeHTTP(rec2, get("http://api.example.com/"))
	assert.Equal(t, []string{"no-store, max-age=0"}, rec2.Header().Values("Cache-Control"))
}

func TestAllowedHosts(t *testing.T) {
	g := newGuard(t, secure.Options{
		AllowedHosts:       []string{"api.example.com", ".example.org", "*.example.net", "127.0.0.1", "::1"},
		DisableSSLRedirect: true,
	})
	tests := []struct {
		host string
		ok   bool
	}{
		{"api.example.com", true},
		{"API.Example.COM", true},
		{"api.example.com:8443", true},
		{"api.example.com.", true},
		{"example.com", false},
		{"evil.api.example.com", false},
		{"api.example.com.evil.com", false},
		{"example.org", true},
		{"a.b.example.org", true},
		{"badexample.org", false},
		{"x.example.net", true},
		{"example.net", false},
		{"127.0.0.1", true},
		{"127.0.0.1:8000", true},
		{"[::1]:8000", true},
		{"[0:0::1]", true},
		{"::1", false}, // bare IPv6 is not a valid Host
		{"127.0.0.2", false},
		{"", false},
		{"api.example.com@evil.com", false},
		{"api.example.com/evil", false},
		{"api.example.com:80:80", false},
		{"api.example.com:http", false},
		{"[::1", false},
		{"кارزار.example.org", false},
		{"api.example.com\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			r := get("http://placeholder/")
			r.Host = tt.host
			rec, called := serve(t, g, r)
			assert.Equal(t, tt.ok, called)
			if !tt.ok {
				assert.Equal(t, http.StatusBadRequest, rec.Code)
				body := problemBody(t, rec)
				assert.Equal(t, "https://pkg.go.dev/github.com/senfi-sharif/senfi/secure#ErrHostNotAllowed", body["type"])
				assert.NotContains(t, rec.Body.String(), "evil", "the refused host is not echoed")
				assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"), "refusals carry the security headers")
			}
		})
	}
}

func TestAllowAnyHostStillRejectsMalformed(t *testing.T) {
	g := newGuard(t, secure.Options{AllowAnyHost: true, DisableSSLRedirect: true})
	for host, want := range map[string]bool{"anything.example": true, "10.1.2.3:99": true, "a b": false, "x/y": false, "": false} {
		r := get("http://placeholder/")
		r.Host = host
		_, called := serve(t, g, r)
		assert.Equal(t, want, called, host)
	}
}

func TestHostsProxyHeaders(t *testing.T) {
	g := newGuard(t, secure.Options{
		AllowedHosts:       prodHosts,
		HostsProxyHeaders:  []string{"X-Forwarded-Host"},
		TrustedProxies:     []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		DisableSSLRedirect: true,
	})
	tests := []struct {
		name   string
		peer   string
		host   string
		fwHost string
		ok     bool
	}{
		{"trusted proxy forwards allowed host", "10.0.0.1:1", "internal:8080", "api.example.com", true},
		{"trusted proxy forwards bad host", "10.0.0.1:1", "api.example.com", "evil.com", false},
		{"untrusted peer cannot choose host", "203.0.113.9:1", "evil.com", "api.example.com", false},
		{"untrusted peer header ignored", "203.0.113.9:1", "api.example.com", "evil.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get("http://placeholder/")
			r.RemoteAddr, r.Host = tt.peer, tt.host
			r.Header.Set("X-Forwarded-Host", tt.fwHost)
			_, called := serve(t, g, r)
			assert.Equal(t, tt.ok, called)
		})
	}
}

func TestSSLRedirect(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name     string
		opts     secure.Options
		method   string
		peer     string
		headers  map[string]string
		tls      bool
		code     int // 0: passed through
		location string
	}{
		{"get redirected", secure.Options{}, "GET", "203.0.113.1:1", nil, false, 301, "https://api.example.com/p?q=1"},
		{"head redirected", secure.Options{}, "HEAD", "203.0.113.1:1", nil, false, 301, "https://api.example.com/p?q=1"},
		{"post keeps method", secure.Options{}, "POST", "203.0.113.1:1", nil, false, 308, "https://api.example.com/p?q=1"},
		{"temporary", secure.Options{SSLTemporaryRedirect: true}, "GET", "203.0.113.1:1", nil, false, 307, "https://api.example.com/p?q=1"},
		{"ssl host", secure.Options{SSLHost: "secure.example.com:8443"}, "GET", "203.0.113.1:1", nil, false, 301, "https://secure.example.com:8443/p?q=1"},
		{"tls passes", secure.Options{}, "GET", "203.0.113.1:1", nil, true, 0, ""},
		{"trusted proxy says https", secure.Options{TrustedProxies: proxies}, "GET", "10.1.1.1:1", map[string]string{"X-Forwarded-Proto": "https"}, false, 0, ""},
		{"trusted proxy list right-most", secure.Options{TrustedProxies: proxies}, "GET", "10.1.1.1:1", map[string]string{"X-Forwarded-Proto": "http, https"}, false, 0, ""},
		{"trusted proxy says http", secure.Options{TrustedProxies: proxies}, "GET", "10.1.1.1:1", map[string]string{"X-Forwarded-Proto": "http"}, false, 301, "https://api.example.com/p?q=1"},
		{"spoofed proto from untrusted peer", secure.Options{TrustedProxies: proxies}, "GET", "203.0.113.1:1", map[string]string{"X-Forwarded-Proto": "https"}, false, 301, "https://api.example.com/p?q=1"},
		{"spoofed proto without proxies", secure.Options{}, "GET", "10.1.1.1:1", map[string]string{"X-Forwarded-Proto": "https"}, false, 301, "https://api.example.com/p?q=1"},
		{"custom proxy header", secure.Options{TrustedProxies: proxies, SSLProxyHeaders: map[string]string{"X-Forwarded-Ssl": "on"}}, "GET", "10.1.1.1:1", map[string]string{"X-Forwarded-Ssl": "on"}, false, 0, ""},
		{"custom proxy header replaces default", secure.Options{TrustedProxies: proxies, SSLProxyHeaders: map[string]string{"X-Forwarded-Ssl": "on"}}, "GET", "10.1.1.1:1", map[string]string{"X-Forwarded-Proto": "https"}, false, 301, "https://api.example.com/p?q=1"},
		{"disabled", secure.Options{DisableSSLRedirect: true}, "GET", "203.0.113.1:1", nil, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.AllowedHosts = prodHosts
			g := newGuard(t, tt.opts)
			r := httptest.NewRequest(tt.method, "http://api.example.com/p?q=1", nil)
			r.RemoteAddr = tt.peer
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			rec, called := serve(t, g, r)
			if tt.code == 0 {
				assert.True(t, called)
				if !tt.opts.DisableSSLRedirect {
					assert.Equal(t, "max-age=31536000; includeSubDomains", rec.Header().Get("Strict-Transport-Security"), "HSTS on HTTPS")
				}
				return
			}
			assert.False(t, called)
			assert.Equal(t, tt.code, rec.Code)
			assert.Equal(t, tt.location, rec.Header().Get("Location"))
			assert.Empty(t, rec.Header().Get("Strict-Transport-Security"), "no HSTS on plain HTTP")
		})
	}
}

func TestRedirectNeverToUnallowedHost(t *testing.T) {
	g := newGuard(t, secure.Options{AllowedHosts: prodHosts})
	r := get("http://evil.com/")
	rec, _ := serve(t, g, r)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Empty(t, rec.Header().Get("Location"))
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	tests := []struct {
		name    string
		opts    secure.Options
		peer    string
		headers map[string][]string
		want    string
	}{
		{"peer", secure.Options{}, "203.0.113.7:5555", nil, "203.0.113.7"},
		{"spoofed xff without proxies", secure.Options{}, "203.0.113.7:5555", map[string][]string{"X-Forwarded-For": {"1.1.1.1"}}, "203.0.113.7"},
		{"spoofed xff from untrusted peer", secure.Options{TrustedProxies: proxies}, "203.0.113.7:5555", map[string][]string{"X-Forwarded-For": {"1.1.1.1"}}, "203.0.113.7"},
		{"spoofed forwarded from untrusted peer", secure.Options{TrustedProxies: proxies, ClientIPHeader: "Forwarded"}, "203.0.113.7:5555", map[string][]string{"Forwarded": {"for=1.1.1.1"}}, "203.0.113.7"},
		{"x-real-ip is never read", secure.Options{TrustedProxies: proxies}, "10.0.0.1:5555", map[string][]string{"X-Real-Ip": {"1.1.1.1"}}, "10.0.0.1"},
		{"trusted proxy", secure.Options{TrustedProxies: proxies}, "10.0.0.1:5555", map[string][]string{"X-Forwarded-For": {"198.51.100.4"}}, "198.51.100.4"},
		{"client prepends fake hops", secure.Options{TrustedProxies: proxies}, "10.0.0.1:5555", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 10.9.9.9, 198.51.100.4, 10.0.0.2"}}, "198.51.100.4"},
		{"several header lines", secure.Options{TrustedProxies: proxies}, "10.0.0.1:5555", map[string][]string{"X-Forwarded-For": {"1.1.1.1", "198.51.100.4"}}, "198.51.100.4"},
		{"forwarded header", secure.Options{TrustedProxies: proxies, ClientIPHeader: "Forwarded"}, "10.0.0.1:5555", map[string][]string{"Forwarded": {`for=1.1.1.1, for="[2001:db8::7]:4711";proto=https`}}, "2001:db8::7"},
		{"xff ignored when forwarded configured", secure.Options{TrustedProxies: proxies, ClientIPHeader: "Forwarded"}, "10.0.0.1:5555", map[string][]string{"X-Forwarded-For": {"1.1.1.1"}}, "10.0.0.1"},
		{"ipv6 peer", secure.Options{}, "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"ipv6 proxy", secure.Options{TrustedProxies: proxies}, "[2001:db8:ffff::1]:443", map[string][]string{"X-Forwarded-For": {"2001:db8:1::5"}}, "2001:db8:1::5"},
		{"4in6 peer unmapped", secure.Options{}, "[::ffff:203.0.113.7]:1", nil, "203.0.113.7"},
		{"4in6 proxy prefix", secure.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}}, "10.0.0.1:1", map[string][]string{"X-Forwarded-For": {"198.51.100.4"}}, "198.51.100.4"},
		{"garbage stops the walk", secure.Options{TrustedProxies: proxies}, "10.0.0.1:5555", map[string][]string{"X-Forwarded-For": {"198.51.100.4, <script>, 10.0.0.3"}}, "10.0.0.3"},
		{"malformed header", secure.Options{TrustedProxies: proxies}, "10.0.0.1:5555", map[string][]string{"X-Forwarded-For": {"'; DROP TABLE users; --"}}, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.AllowAnyHost = true
			g := newGuard(t, tt.opts)
			r := get("http://api.example.com/")
			r.RemoteAddr = tt.peer
			for k, vs := range tt.headers {
				r.Header[k] = vs
			}
			var got netip.Addr
			var found bool
			g.ClientIP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, found = secure.ClientIPFromContext(r.Context())
			})).ServeHTTP(httptest.NewRecorder(), r)
			require.True(t, found)
			assert.Equal(t, tt.want, got.String())
		})
	}
}

func TestClientIPFromContextWithoutMiddleware(t *testing.T) {
	_, found := secure.ClientIPFromContext(get("/").Context())
	assert.False(t, found)
}

func TestCORS(t *testing.T) {
	g := newGuard(t, secure.Options{
		AllowedHosts:       prodHosts,
		DisableSSLRedirect: true,
		CORS: secure.CORSOptions{
			AllowedOrigins:   []string{"https://app.example.com", "https://*.example.org", "http://localhost:3000"},
			AllowCredentials: true,
		},
	})
	preflight := func(origin, method, headers string) *http.Request {
		r := httptest.NewRequest(http.MethodOptions, "http://api.example.com/api/auth/login", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			r.Header.Set("Access-Control-Request-Headers", headers)
		}
		return r
	}
	t.Run("preflight allowed", func(t *testing.T) {
		rec, called := serve(t, g, preflight("https://app.example.com", "POST", "authorization,content-type")) // browsers send the list sorted
		assert.False(t, called, "preflights are answered by the Guard")
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assert.Equal(t, "https://app.example.com", rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, "POST", rec.Header().Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "7200", rec.Header().Get("Access-Control-Max-Age"))
		assert.Contains(t, strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers")), "authorization")
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "preflights carry security headers")
	})
	t.Run("preflight wildcard subdomain", func(t *testing.T) {
		rec, _ := serve(t, g, preflight("https://a.b.example.org", "PUT", ""))
		assert.Equal(t, "https://a.b.example.org", rec.Header().Get("Access-Control-Allow-Origin"))
	})
	for _, origin := range []string{"https://evil.com", "https://example.org", "https://app.example.com.evil.com", "http://app.example.com", "null", "https://evilexample.org"} {
		t.Run("preflight refused "+origin, func(t *testing.T) {
			rec, called := serve(t, g, preflight(origin, "POST", ""))
			assert.False(t, called)
			assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
			assert.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"))
		})
	}
	t.Run("preflight method refused", func(t *testing.T) {
		rec, _ := serve(t, g, preflight("https://app.example.com", "TRACE", ""))
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	})
	t.Run("preflight header refused", func(t *testing.T) {
		rec, _ := serve(t, g, preflight("https://app.example.com", "POST", "x-evil"))
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	})
	t.Run("actual request", func(t *testing.T) {
		r := get("http://api.example.com/")
		r.Header.Set("Origin", "http://localhost:3000")
		rec, called := serve(t, g, r)
		assert.True(t, called)
		assert.Equal(t, "http://localhost:3000", rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Contains(t, rec.Header().Values("Vary"), "Origin")
		assert.Contains(t, rec.Header().Get("Access-Control-Expose-Headers"), "X-Request-Id")
	})
	t.Run("actual request from other origin", func(t *testing.T) {
		r := get("http://api.example.com/")
		r.Header.Set("Origin", "https://evil.com")
		rec, called := serve(t, g, r)
		assert.True(t, called, "CORS does not block; the browser does")
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	})
}

func TestCORSOffByDefault(t *testing.T) {
	g := newGuard(t, secure.Options{AllowedHosts: prodHosts, DisableSSLRedirect: true})
	r := httptest.NewRequest(http.MethodOptions, "http://api.example.com/", nil)
	r.Header.Set("Origin", "https://evil.com")
	r.Header.Set("Access-Control-Request-Method", "POST")
	rec, called := serve(t, g, r)
	assert.True(t, called, "with no origins the preflight reaches the app, which does not serve OPTIONS")
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestCORSStarWithoutCredentials(t *testing.T) {
	g := newGuard(t, secure.Options{AllowedHosts: prodHosts, DisableSSLRedirect: true, CORS: secure.CORSOptions{AllowedOrigins: []string{"*"}}})
	r := get("http://api.example.com/")
	r.Header.Set("Origin", "https://anyone.example")
	rec, _ := serve(t, g, r)
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"))
}

func TestCrossOriginProtection(t *testing.T) {
	g := newGuard(t, secure.Options{
		AllowedHosts:          prodHosts,
		DisableSSLRedirect:    true,
		CrossOriginProtection: true,
		CORS:                  secure.CORSOptions{AllowedOrigins: []string{"https://app.example.com"}},
	})
	tests := []struct {
		name    string
		method  string
		headers map[string]string
		ok      bool
	}{
		{"same origin fetch", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"cross site form", "POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.com"}, false},
		{"old browser cross origin", "POST", map[string]string{"Origin": "https://evil.com"}, false},
		{"trusted cors origin", "POST", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.com"}, true},
		{"safe method", "GET", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.com"}, true},
		{"non-browser client", "POST", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://api.example.com/", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			rec, called := serve(t, g, r)
			assert.Equal(t, tt.ok, called)
			if !tt.ok {
				assert.Equal(t, http.StatusForbidden, rec.Code)
				assert.Contains(t, problemBody(t, rec)["type"], "ErrCrossOrigin")
			}
		})
	}
}

func TestBodyLimitAndJSON(t *testing.T) {
	g := newGuard(t, secure.Options{AllowedHosts: prodHosts, DisableSSLRedirect: true, MaxBodyBytes: 64, RequireJSON: true})
	decode := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := secure.DecodeJSON(r, &v, secure.JSONOptions{}); err != nil {
			secure.WriteError(w, r, err)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	tests := []struct {
		name   string
		method string
		body   string
		ctype  string
		length int64 // -1: streamed (unknown length)
		code   int
	}{
		{"small json", "POST", `{"a":1}`, "application/json", 0, 200},
		{"content-length too big", "POST", `{"a":"` + strings.Repeat("x", 100) + `"}`, "application/json", 0, 413},
		{"streamed too big", "POST", `{"a":"` + strings.Repeat("x", 100) + `"}`, "application/json", -1, 413},
		{"form body", "POST", `a=1`, "application/x-www-form-urlencoded", 0, 415},
		{"no content type", "POST", `{"a":1}`, "", 0, 415},
		{"empty post without content type", "POST", ``, "", 0, 400}, // reaches the handler, which wants JSON
		{"get", "GET", ``, "", 0, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tt.body)
			if tt.body == "" {
				body = nil
			}
			r := httptest.NewRequest(tt.method, "http://api.example.com/", body)
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			if tt.length == -1 {
				r.ContentLength = -1
				r.Body = io.NopCloser(strings.NewReader(tt.body))
			}
			rec := httptest.NewRecorder()
			var final http.Handler = decode
			if tt.method == "GET" {
				final = &ok{}
			}
			g.ClientIP(g.Handler(final)).ServeHTTP(rec, r)
			assert.Equal(t, tt.code, rec.Code, rec.Body.String())
			if tt.code >= 400 {
				problemBody(t, rec)
			}
		})
	}
}

func TestEmptyBodyPassesRequireJSON(t *testing.T) {
	g := newGuard(t, secure.Options{AllowedHosts: prodHosts, DisableSSLRedirect: true, RequireJSON: true})
	r := httptest.NewRequest(http.MethodPost, "http://api.example.com/logout", nil)
	_, called := serve(t, g, r)
	assert.True(t, called, "a POST with no body needs no Content-Type")
}

func TestRequestNotModified(t *testing.T) {
	g := newGuard(t, secure.Options{AllowedHosts: prodHosts, DisableSSLRedirect: true})
	r := httptest.NewRequest(http.MethodPost, "http://api.example.com/", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	body := r.Body
	ctx := r.Context()
	serve(t, g, r)
	assert.True(t, body == r.Body, "the caller's request keeps its body")
	assert.Equal(t, ctx, r.Context(), "the caller's request keeps its context")
}

func TestCustomErrorHandler(t *testing.T) {
	var got error
	g := newGuard(t, secure.Options{
		AllowedHosts: prodHosts,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTeapot)
		},
	})
	r := get("http://evil.com/")
	rec, _ := serve(t, g, r)
	assert.Equal(t, http.StatusTeapot, rec.Code)
	require.ErrorIs(t, got, secure.ErrHostNotAllowed)
	var re *secure.RequestError
	require.ErrorAs(t, got, &re)
	assert.Equal(t, http.StatusBadRequest, re.Status())
}

// TestStreamingThroughChain checks that the Guard keeps Flusher and Hijacker
// working on a real server.
func TestStreamingThroughChain(t *testing.T) {
	g := newGuard(t, secure.Options{AllowAnyHost: true, DisableSSLRedirect: true})
	srv := httptest.NewServer(g.ClientIP(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_, _ = io.WriteString(w, "first\n")
		if err := rc.Flush(); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = io.WriteString(w, "second\n")
	}))))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	sc := bufio.NewScanner(resp.Body)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	assert.Equal(t, []string{"first", "second"}, lines)
	assert.Empty(t, resp.Header.Get("Server"))
}

func TestCrossOriginProtectionTrustsNormalizedOrigins(t *testing.T) {
	g := newGuard(t, secure.Options{
		AllowedHosts:              prodHosts,
		DisableSSLRedirect:        true,
		CrossOriginProtection:     true,
		CORS:                      secure.CORSOptions{AllowedOrigins: []string{" https://App.Example.com"}},
		CrossOriginTrustedOrigins: []string{"HTTPS://Other.Example.com"},
	})
	for _, origin := range []string{"https://app.example.com", "https://other.example.com"} {
		r := httptest.NewRequest(http.MethodPost, "http://api.example.com/", nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Origin", origin)
		_, called := serve(t, g, r)
		assert.True(t, called, origin)
	}
}

func TestDecodeJSONHugeLimit(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":1}`))
	r.Header.Set("Content-Type", "application/json")
	var v map[string]int
	require.NoError(t, secure.DecodeJSON(r, &v, secure.JSONOptions{MaxBytes: math.MaxInt64}))
	assert.Equal(t, 1, v["a"])
}
