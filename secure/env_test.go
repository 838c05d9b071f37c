package secure_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/secure"
)

// envLookup returns a lookup function backed by env, with the signature of
// os.LookupEnv.
func envLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// fromEnv calls FromEnvLookup with the SENFI_ prefix and requires success.
func fromEnv(t *testing.T, base secure.Options, env map[string]string) secure.Options {
	t.Helper()
	o, err := secure.FromEnvLookup("SENFI_", base, envLookup(env))
	require.NoError(t, err)
	return o
}

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestFromEnvLookupEmpty(t *testing.T) {
	bases := []struct {
		name string
		base secure.Options
	}{
		{name: "zero", base: secure.Options{}},
		{name: "development", base: secure.Development()},
		{name: "customized", base: secure.Options{
			AllowedHosts:   []string{"api.example.com"},
			TrustedProxies: prefixes(t, "10.0.0.0/8"),
			STSSeconds:     600,
			OmitHeaders:    []string{secure.HeaderCrossOriginEmbedderPolicy},
			CORS:           secure.CORSOptions{AllowedOrigins: []string{"https://app.example.com"}, MaxAge: time.Minute},
			MaxBodyBytes:   1 << 10,
		}},
	}
	envs := []struct {
		name string
		env  map[string]string
	}{
		{name: "nothing set", env: nil},
		{name: "unrelated variables", env: map[string]string{"PATH": "/bin", "DJANGO_SECRET_KEY": "x", "EMAIL_PASS": "y", "SENFI_UNKNOWN": "z"}},
		{name: "empty and blank values", env: map[string]string{
			"SENFI_ALLOWED_HOSTS": "", "SENFI_HSTS_SECONDS": "  ", "SENFI_SSL_REDIRECT": "\t",
			"DJANGO_DEBUG": "", "DJANGO_ALLOWED_HOSTS": " ", "SENFI_MAX_BODY_BYTES": "",
		}},
		{name: "other prefix", env: map[string]string{"APP_ALLOWED_HOSTS": "other.example.com", "APP_DEVELOPMENT": "true"}},
	}
	for _, b := range bases {
		for _, e := range envs {
			t.Run(b.name+"/"+e.name, func(t *testing.T) {
				assert.Equal(t, b.base, fromEnv(t, b.base, e.env))
			})
		}
	}
}

func TestFromEnvLookupFields(t *testing.T) {
	tests := []struct {
		name string
		base secure.Options
		env  map[string]string
		want func(o *secure.Options) // applied to base to give the expected result
	}{
		{name: "allowed hosts trimmed, empty entries dropped",
			env:  map[string]string{"SENFI_ALLOWED_HOSTS": " api.example.com , ,.example.org,,127.0.0.1 "},
			want: func(o *secure.Options) { o.AllowedHosts = []string{"api.example.com", ".example.org", "127.0.0.1"} }},
		{name: "allowed hosts replace the base's", base: secure.Development(),
			env:  map[string]string{"SENFI_ALLOWED_HOSTS": "api.example.com"},
			want: func(o *secure.Options) { o.AllowedHosts = []string{"api.example.com"} }},
		{name: "allowed hosts star",
			env:  map[string]string{"SENFI_ALLOWED_HOSTS": "*"},
			want: func(o *secure.Options) { o.AllowAnyHost = true }},
		{name: "allowed hosts star and names",
			env: map[string]string{"SENFI_ALLOWED_HOSTS": "api.example.com, *"},
			want: func(o *secure.Options) {
				o.AllowAnyHost = true
				o.AllowedHosts = []string{"api.example.com"}
			}},
		{name: "hosts proxy headers",
			env:  map[string]string{"SENFI_HOSTS_PROXY_HEADERS": "X-Forwarded-Host, X-Original-Host"},
			want: func(o *secure.Options) { o.HostsProxyHeaders = []string{"X-Forwarded-Host", "X-Original-Host"} }},
		{name: "use x-forwarded-host",
			env:  map[string]string{"SENFI_USE_X_FORWARDED_HOST": "true"},
			want: func(o *secure.Options) { o.HostsProxyHeaders = []string{"X-Forwarded-Host"} }},
		{name: "use x-forwarded-host keeps explicit headers",
			env:  map[string]string{"SENFI_USE_X_FORWARDED_HOST": "true", "SENFI_HOSTS_PROXY_HEADERS": "X-Original-Host"},
			want: func(o *secure.Options) { o.HostsProxyHeaders = []string{"X-Original-Host"} }},
		{name: "use x-forwarded-host false",
			env:  map[string]string{"SENFI_USE_X_FORWARDED_HOST": "false"},
			want: func(o *secure.Options) {}},
		{name: "trusted proxies",
			env: map[string]string{"SENFI_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,, 172.16.5.4/12, 2001:db8::1, 2001:db8:1::/48, ::ffff:198.51.100.1"},
			want: func(o *secure.Options) {
				o.TrustedProxies = prefixes(t, "10.0.0.0/8", "192.0.2.7/32", "172.16.0.0/12", "2001:db8::1/128", "2001:db8:1::/48", "198.51.100.1/32")
			}},
		{name: "trusted proxies replace the base's", base: secure.Options{TrustedProxies: prefixes(t, "10.0.0.0/8")},
			env:  map[string]string{"SENFI_TRUSTED_PROXIES": "192.0.2.1"},
			want: func(o *secure.Options) { o.TrustedProxies = prefixes(t, "192.0.2.1/32") }},
		{name: "client ip header",
			env:  map[string]string{"SENFI_CLIENT_IP_HEADER": "Forwarded"},
			want: func(o *secure.Options) { o.ClientIPHeader = "Forwarded" }},
		{name: "ssl redirect false",
			env:  map[string]string{"SENFI_SSL_REDIRECT": "false"},
			want: func(o *secure.Options) { o.DisableSSLRedirect = true }},
		{name: "ssl redirect true on development", base: secure.Development(),
			env:  map[string]string{"SENFI_SSL_REDIRECT": "true"},
			want: func(o *secure.Options) { o.DisableSSLRedirect = false }},
		{name: "ssl temporary redirect",
			env:  map[string]string{"SENFI_SSL_TEMPORARY_REDIRECT": "on"},
			want: func(o *secure.Options) { o.SSLTemporaryRedirect = true }},
		{name: "ssl host",
			env:  map[string]string{"SENFI_SSL_HOST": "secure.example.com:8443"},
			want: func(o *secure.Options) { o.SSLHost = "secure.example.com:8443" }},
		{name: "hsts 0 omits the header",
			env:  map[string]string{"SENFI_HSTS_SECONDS": "0"},
			want: func(o *secure.Options) { o.OmitHeaders = []string{secure.HeaderStrictTransportSecurity} }},
		{name: "hsts 0 on development adds no second entry", base: secure.Development(),
			env:  map[string]string{"SENFI_HSTS_SECONDS": "0"},
			want: func(o *secure.Options) {}},
		{name: "hsts 600",
			env:  map[string]string{"SENFI_HSTS_SECONDS": "600"},
			want: func(o *secure.Options) { o.STSSeconds = 600 }},
		{name: "hsts 600 on development brings the header back", base: secure.Development(),
			env: map[string]string{"SENFI_HSTS_SECONDS": "600"},
			want: func(o *secure.Options) {
				o.STSSeconds = 600
				o.OmitHeaders = nil
			}},
		{name: "hsts 600 keeps other omitted headers", base: secure.Options{OmitHeaders: []string{"strict-transport-security", secure.HeaderCacheControl}},
			env: map[string]string{"SENFI_HSTS_SECONDS": "600"},
			want: func(o *secure.Options) {
				o.STSSeconds = 600
				o.OmitHeaders = []string{secure.HeaderCacheControl}
			}},
		{name: "hsts include subdomains false",
			env:  map[string]string{"SENFI_HSTS_INCLUDE_SUBDOMAINS": "false"},
			want: func(o *secure.Options) { o.STSExcludeSubdomains = true }},
		{name: "hsts preload",
			env:  map[string]string{"SENFI_HSTS_PRELOAD": "true"},
			want: func(o *secure.Options) { o.STSPreload = true }},
		{name: "force sts header",
			env:  map[string]string{"SENFI_FORCE_STS_HEADER": "1"},
			want: func(o *secure.Options) { o.ForceSTSHeader = true }},
		{name: "frame options",
			env:  map[string]string{"SENFI_FRAME_OPTIONS": "SAMEORIGIN"},
			want: func(o *secure.Options) { o.FrameOptions = "SAMEORIGIN" }},
		{name: "content type nosniff false",
			env:  map[string]string{"SENFI_CONTENT_TYPE_NOSNIFF": "false"},
			want: func(o *secure.Options) { o.OmitHeaders = []string{secure.HeaderXContentTypeOptions} }},
		{name: "content type nosniff true restores the header", base: secure.Options{OmitHeaders: []string{secure.HeaderXContentTypeOptions}},
			env:  map[string]string{"SENFI_CONTENT_TYPE_NOSNIFF": "true"},
			want: func(o *secure.Options) { o.OmitHeaders = nil }},
		{name: "browser xss filter accepted and ignored",
			env:  map[string]string{"SENFI_BROWSER_XSS_FILTER": "true"},
			want: func(o *secure.Options) {}},
		{name: "referrer policy",
			env:  map[string]string{"SENFI_REFERRER_POLICY": "strict-origin-when-cross-origin"},
			want: func(o *secure.Options) { o.ReferrerPolicy = "strict-origin-when-cross-origin" }},
		{name: "content security policy",
			env:  map[string]string{"SENFI_CONTENT_SECURITY_POLICY": "default-src 'none'; frame-ancestors 'none'"},
			want: func(o *secure.Options) { o.ContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'" }},
		{name: "content security policy report only",
			env:  map[string]string{"SENFI_CONTENT_SECURITY_POLICY_REPORT_ONLY": "default-src 'self'"},
			want: func(o *secure.Options) { o.ContentSecurityPolicyReportOnly = "default-src 'self'" }},
		{name: "permissions policy",
			env:  map[string]string{"SENFI_PERMISSIONS_POLICY": "camera=()"},
			want: func(o *secure.Options) { o.PermissionsPolicy = "camera=()" }},
		{name: "cross-origin policies",
			env: map[string]string{
				"SENFI_CROSS_ORIGIN_OPENER_POLICY":   "same-origin-allow-popups",
				"SENFI_CROSS_ORIGIN_EMBEDDER_POLICY": "credentialless",
				"SENFI_CROSS_ORIGIN_RESOURCE_POLICY": "same-site",
			},
			want: func(o *secure.Options) {
				o.CrossOriginOpenerPolicy = "same-origin-allow-popups"
				o.CrossOriginEmbedderPolicy = "credentialless"
				o.CrossOriginResourcePolicy = "same-site"
			}},
		{name: "cache control",
			env:  map[string]string{"SENFI_CACHE_CONTROL": "private, max-age=60"},
			want: func(o *secure.Options) { o.CacheControl = "private, max-age=60" }},
		{name: "omit headers",
			env: map[string]string{"SENFI_OMIT_HEADERS": "Cross-Origin-Embedder-Policy, ,Permissions-Policy"},
			want: func(o *secure.Options) {
				o.OmitHeaders = []string{"Cross-Origin-Embedder-Policy", "Permissions-Policy"}
			}},
		{name: "omit headers add to hsts 0 without duplicates",
			env: map[string]string{"SENFI_HSTS_SECONDS": "0", "SENFI_OMIT_HEADERS": "strict-transport-security, Cache-Control"},
			want: func(o *secure.Options) {
				o.OmitHeaders = []string{secure.HeaderStrictTransportSecurity, "Cache-Control"}
			}},
		{name: "cors allowed origins",
			env: map[string]string{"SENFI_CORS_ALLOWED_ORIGINS": "https://a.example.com, http://localhost:3000,"},
			want: func(o *secure.Options) {
				o.CORS.AllowedOrigins = []string{"https://a.example.com", "http://localhost:3000"}
			}},
		{name: "cors allow all origins",
			env:  map[string]string{"SENFI_CORS_ALLOW_ALL_ORIGINS": "true", "SENFI_CORS_ALLOWED_ORIGINS": "https://a.example.com"},
			want: func(o *secure.Options) { o.CORS.AllowedOrigins = []string{"*"} }},
		{name: "cors allow all origins false keeps the list",
			env:  map[string]string{"SENFI_CORS_ALLOW_ALL_ORIGINS": "false", "SENFI_CORS_ALLOWED_ORIGINS": "https://a.example.com"},
			want: func(o *secure.Options) { o.CORS.AllowedOrigins = []string{"https://a.example.com"} }},
		{name: "cors allow credentials",
			env:  map[string]string{"SENFI_CORS_ALLOW_CREDENTIALS": "yes"},
			want: func(o *secure.Options) { o.CORS.AllowCredentials = true }},
		{name: "cors lists",
			env: map[string]string{
				"SENFI_CORS_ALLOWED_METHODS": "GET, POST",
				"SENFI_CORS_ALLOWED_HEADERS": "Authorization,Content-Type",
				"SENFI_CORS_EXPOSED_HEADERS": " X-Request-ID ",
			},
			want: func(o *secure.Options) {
				o.CORS.AllowedMethods = []string{"GET", "POST"}
				o.CORS.AllowedHeaders = []string{"Authorization", "Content-Type"}
				o.CORS.ExposedHeaders = []string{"X-Request-ID"}
			}},
		{name: "cors max age seconds",
			env:  map[string]string{"SENFI_CORS_MAX_AGE": "3600"},
			want: func(o *secure.Options) { o.CORS.MaxAge = time.Hour }},
		{name: "cors max age duration",
			env:  map[string]string{"SENFI_CORS_MAX_AGE": "2h"},
			want: func(o *secure.Options) { o.CORS.MaxAge = 2 * time.Hour }},
		{name: "cors max age compound duration",
			env:  map[string]string{"SENFI_CORS_MAX_AGE": "1m30s"},
			want: func(o *secure.Options) { o.CORS.MaxAge = 90 * time.Second }},
		{name: "cross-origin protection",
			env: map[string]string{"SENFI_CROSS_ORIGIN_PROTECTION": "true", "SENFI_CROSS_ORIGIN_TRUSTED_ORIGINS": "https://a.example.com, https://b.example.com"},
			want: func(o *secure.Options) {
				o.CrossOriginProtection = true
				o.CrossOriginTrustedOrigins = []string{"https://a.example.com", "https://b.example.com"}
			}},
		{name: "max body bytes number",
			env:  map[string]string{"SENFI_MAX_BODY_BYTES": "1048576"},
			want: func(o *secure.Options) { o.MaxBodyBytes = 1 << 20 }},
		{name: "max body bytes MiB",
			env:  map[string]string{"SENFI_MAX_BODY_BYTES": "1MiB"},
			want: func(o *secure.Options) { o.MaxBodyBytes = 1 << 20 }},
		{name: "max body bytes KiB with space",
			env:  map[string]string{"SENFI_MAX_BODY_BYTES": "512 KiB"},
			want: func(o *secure.Options) { o.MaxBodyBytes = 512 << 10 }},
		{name: "require json",
			env:  map[string]string{"SENFI_REQUIRE_JSON": "true"},
			want: func(o *secure.Options) { o.RequireJSON = true }},
		{name: "development",
			env:  map[string]string{"SENFI_DEVELOPMENT": "true"},
			want: func(o *secure.Options) { *o = secure.Development() }},
		{name: "development replaces the base", base: secure.Options{AllowedHosts: []string{"api.example.com"}, STSSeconds: 600},
			env:  map[string]string{"SENFI_DEVELOPMENT": "true"},
			want: func(o *secure.Options) { *o = secure.Development() }},
		{name: "development false keeps the base", base: secure.Options{AllowedHosts: []string{"api.example.com"}},
			env:  map[string]string{"SENFI_DEVELOPMENT": "false"},
			want: func(o *secure.Options) {}},
		{name: "development then fields on top",
			env: map[string]string{"SENFI_DEVELOPMENT": "true", "SENFI_ALLOWED_HOSTS": "dev.example.com", "SENFI_FRAME_OPTIONS": "SAMEORIGIN"},
			want: func(o *secure.Options) {
				*o = secure.Development()
				o.AllowedHosts = []string{"dev.example.com"}
				o.FrameOptions = "SAMEORIGIN"
			}},
		{name: "values are trimmed",
			env:  map[string]string{"SENFI_FRAME_OPTIONS": "  SAMEORIGIN\n", "SENFI_HSTS_SECONDS": " 600 "},
			want: func(o *secure.Options) { o.FrameOptions = "SAMEORIGIN"; o.STSSeconds = 600 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := cloneOptions(tt.base)
			tt.want(&want)
			assert.Equal(t, want, fromEnv(t, tt.base, tt.env))
		})
	}
}

// cloneOptions copies the slices of o, so that a test's expectation cannot
// share memory with the base it passes in.
func cloneOptions(o secure.Options) secure.Options {
	o.AllowedHosts = slices.Clone(o.AllowedHosts)
	o.HostsProxyHeaders = slices.Clone(o.HostsProxyHeaders)
	o.TrustedProxies = slices.Clone(o.TrustedProxies)
	o.OmitHeaders = slices.Clone(o.OmitHeaders)
	o.CrossOriginTrustedOrigins = slices.Clone(o.CrossOriginTrustedOrigins)
	o.CORS.AllowedOrigins = slices.Clone(o.CORS.AllowedOrigins)
	o.CORS.AllowedMethods = slices.Clone(o.CORS.AllowedMethods)
	o.CORS.AllowedHeaders = slices.Clone(o.CORS.AllowedHeaders)
	o.CORS.ExposedHeaders = slices.Clone(o.CORS.ExposedHeaders)
	return o
}

func TestFromEnvLookupBooleans(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"true", true}, {"TRUE", true}, {"True", true}, {"1", true}, {"yes", true}, {"YES", true}, {"Yes", true},
		{"on", true}, {"ON", true}, {"On", true}, {" true ", true},
		{"false", false}, {"FALSE", false}, {"False", false}, {"0", false}, {"no", false}, {"NO", false}, {"No", false},
		{"off", false}, {"OFF", false}, {"Off", false}, {"\tfalse\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			// Start from the opposite, so that each value must take effect.
			base := secure.Options{RequireJSON: !tt.want, STSPreload: !tt.want, DisableSSLRedirect: tt.want}
			o := fromEnv(t, base, map[string]string{
				"SENFI_REQUIRE_JSON":         tt.value,
				"DJANGO_SECURE_HSTS_PRELOAD": tt.value,
				"SENFI_SSL_REDIRECT":         tt.value,
			})
			assert.Equal(t, tt.want, o.RequireJSON)
			assert.Equal(t, tt.want, o.STSPreload)
			assert.Equal(t, !tt.want, o.DisableSSLRedirect)
		})
	}
}

func TestFromEnvLookupDjangoAliases(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(o *secure.Options)
	}{
		{name: "DJANGO_ALLOWED_HOSTS",
			env:  map[string]string{"DJANGO_ALLOWED_HOSTS": "senfi.sharif.ir, api.senfi.sharif.ir"},
			want: func(o *secure.Options) { o.AllowedHosts = []string{"senfi.sharif.ir", "api.senfi.sharif.ir"} }},
		{name: "DJANGO_DEBUG True",
			env:  map[string]string{"DJANGO_DEBUG": "True"},
			want: func(o *secure.Options) { *o = secure.Development() }},
		{name: "DJANGO_DEBUG False",
			env:  map[string]string{"DJANGO_DEBUG": "False"},
			want: func(o *secure.Options) {}},
		{name: "DJANGO_CORS_ALLOWED_ORIGINS",
			env: map[string]string{"DJANGO_CORS_ALLOWED_ORIGINS": "https://senfi.sharif.ir,https://www.senfi.sharif.ir"},
			want: func(o *secure.Options) {
				o.CORS.AllowedOrigins = []string{"https://senfi.sharif.ir", "https://www.senfi.sharif.ir"}
			}},
		{name: "DJANGO_CORS_ALLOW_ALL_ORIGINS True",
			env:  map[string]string{"DJANGO_CORS_ALLOW_ALL_ORIGINS": "True"},
			want: func(o *secure.Options) { o.CORS.AllowedOrigins = []string{"*"} }},
		{name: "DJANGO_CORS_ALLOW_ALL_ORIGINS False",
			env:  map[string]string{"DJANGO_CORS_ALLOW_ALL_ORIGINS": "False"},
			want: func(o *secure.Options) {}},
		{name: "DJANGO_CORS_ALLOW_CREDENTIALS",
			env:  map[string]string{"DJANGO_CORS_ALLOW_CREDENTIALS": "True"},
			want: func(o *secure.Options) { o.CORS.AllowCredentials = true }},
		{name: "DJANGO_SECURE_SSL_REDIRECT False",
			env:  map[string]string{"DJANGO_SECURE_SSL_REDIRECT": "False"},
			want: func(o *secure.Options) { o.DisableSSLRedirect = true }},
		{name: "DJANGO_SECURE_SSL_REDIRECT True",
			env:  map[string]string{"DJANGO_SECURE_SSL_REDIRECT": "True"},
			want: func(o *secure.Options) {}},
		{name: "DJANGO_SECURE_HSTS_SECONDS",
			env:  map[string]string{"DJANGO_SECURE_HSTS_SECONDS": "31536000"},
			want: func(o *secure.Options) { o.STSSeconds = 31536000 }},
		{name: "DJANGO_SECURE_HSTS_SECONDS 0",
			env:  map[string]string{"DJANGO_SECURE_HSTS_SECONDS": "0"},
			want: func(o *secure.Options) { o.OmitHeaders = []string{secure.HeaderStrictTransportSecurity} }},
		{name: "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS False",
			env:  map[string]string{"DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "False"},
			want: func(o *secure.Options) { o.STSExcludeSubdomains = true }},
		{name: "DJANGO_SECURE_HSTS_PRELOAD",
			env:  map[string]string{"DJANGO_SECURE_HSTS_PRELOAD": "True"},
			want: func(o *secure.Options) { o.STSPreload = true }},
		{name: "DJANGO_X_FRAME_OPTIONS",
			env:  map[string]string{"DJANGO_X_FRAME_OPTIONS": "SAMEORIGIN"},
			want: func(o *secure.Options) { o.FrameOptions = "SAMEORIGIN" }},
		{name: "DJANGO_SECURE_REFERRER_POLICY",
			env:  map[string]string{"DJANGO_SECURE_REFERRER_POLICY": "same-origin"},
			want: func(o *secure.Options) { o.ReferrerPolicy = "same-origin" }},
		{name: "DJANGO_SECURE_CONTENT_TYPE_NOSNIFF False",
			env:  map[string]string{"DJANGO_SECURE_CONTENT_TYPE_NOSNIFF": "False"},
			want: func(o *secure.Options) { o.OmitHeaders = []string{secure.HeaderXContentTypeOptions} }},
		{name: "DJANGO_SECURE_CONTENT_TYPE_NOSNIFF True",
			env:  map[string]string{"DJANGO_SECURE_CONTENT_TYPE_NOSNIFF": "True"},
			want: func(o *secure.Options) {}},
		{name: "DJANGO_SECURE_BROWSER_XSS_FILTER True",
			env:  map[string]string{"DJANGO_SECURE_BROWSER_XSS_FILTER": "True"},
			want: func(o *secure.Options) {}},
		{name: "DJANGO_SECURE_BROWSER_XSS_FILTER False",
			env:  map[string]string{"DJANGO_SECURE_BROWSER_XSS_FILTER": "False"},
			want: func(o *secure.Options) {}},
		{name: "DJANGO_SESSION_COOKIE_SECURE",
			env:  map[string]string{"DJANGO_SESSION_COOKIE_SECURE": "True"},
			want: func(o *secure.Options) {}},
		{name: "DJANGO_CSRF_COOKIE_SECURE",
			env:  map[string]string{"DJANGO_CSRF_COOKIE_SECURE": "False"},
			want: func(o *secure.Options) {}},
		{name: "DJANGO_USE_X_FORWARDED_HOST True",
			env:  map[string]string{"DJANGO_USE_X_FORWARDED_HOST": "True"},
			want: func(o *secure.Options) { o.HostsProxyHeaders = []string{"X-Forwarded-Host"} }},
		{name: "SESSION_COOKIE_SECURE has no SENFI_ name",
			env:  map[string]string{"SENFI_SESSION_COOKIE_SECURE": "maybe", "SENFI_CSRF_COOKIE_SECURE": "maybe"},
			want: func(o *secure.Options) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want secure.Options
			tt.want(&want)
			assert.Equal(t, want, fromEnv(t, secure.Options{}, tt.env))
		})
	}
}

func TestFromEnvLookupPrefixedNameWins(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(o *secure.Options)
	}{
		{name: "frame options",
			env:  map[string]string{"SENFI_FRAME_OPTIONS": "DENY", "DJANGO_X_FRAME_OPTIONS": "SAMEORIGIN"},
			want: func(o *secure.Options) { o.FrameOptions = "DENY" }},
		{name: "development false over DJANGO_DEBUG True",
			env:  map[string]string{"SENFI_DEVELOPMENT": "false", "DJANGO_DEBUG": "True"},
			want: func(o *secure.Options) {}},
		{name: "hsts seconds",
			env:  map[string]string{"SENFI_HSTS_SECONDS": "600", "DJANGO_SECURE_HSTS_SECONDS": "0"},
			want: func(o *secure.Options) { o.STSSeconds = 600 }},
		{name: "allowed hosts",
			env:  map[string]string{"SENFI_ALLOWED_HOSTS": "new.example.com", "DJANGO_ALLOWED_HOSTS": "old.example.com"},
			want: func(o *secure.Options) { o.AllowedHosts = []string{"new.example.com"} }},
		{name: "cors allow all false over alias true",
			env:  map[string]string{"SENFI_CORS_ALLOW_ALL_ORIGINS": "false", "DJANGO_CORS_ALLOW_ALL_ORIGINS": "True"},
			want: func(o *secure.Options) {}},
		{name: "invalid alias is not read when the prefixed name is set",
			env:  map[string]string{"SENFI_SSL_REDIRECT": "false", "DJANGO_SECURE_SSL_REDIRECT": "maybe"},
			want: func(o *secure.Options) { o.DisableSSLRedirect = true }},
		{name: "empty prefixed name falls back to the alias",
			env:  map[string]string{"SENFI_FRAME_OPTIONS": " ", "DJANGO_X_FRAME_OPTIONS": "SAMEORIGIN"},
			want: func(o *secure.Options) { o.FrameOptions = "SAMEORIGIN" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want secure.Options
			tt.want(&want)
			assert.Equal(t, want, fromEnv(t, secure.Options{}, tt.env))
		})
	}
}

func TestFromEnvLookupOtherPrefix(t *testing.T) {
	o, err := secure.FromEnvLookup("APP_", secure.Options{}, envLookup(map[string]string{
		"APP_ALLOWED_HOSTS":   "app.example.com",
		"SENFI_ALLOWED_HOSTS": "senfi.example.com",
		"DJANGO_DEBUG":        "True",
	}))
	require.NoError(t, err)
	want := secure.Development()
	want.AllowedHosts = []string{"app.example.com"}
	assert.Equal(t, want, o)
}

// TestFromEnv reads the process environment; the prefix is unique to this
// test, and no Django alias is set.
func TestFromEnv(t *testing.T) {
	t.Setenv("SENFI_ENVTEST_ALLOWED_HOSTS", "api.example.com")
	t.Setenv("SENFI_ENVTEST_MAX_BODY_BYTES", "2MiB")
	o, err := secure.FromEnv("SENFI_ENVTEST_", secure.Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"api.example.com"}, o.AllowedHosts)
	assert.Equal(t, int64(2<<20), o.MaxBodyBytes)

	t.Setenv("SENFI_ENVTEST_HSTS_SECONDS", "a year")
	_, err = secure.FromEnv("SENFI_ENVTEST_", secure.Options{})
	assert.ErrorContains(t, err, "SENFI_ENVTEST_HSTS_SECONDS")
}

func TestFromEnvLookupInvalid(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		names []string // variables the error must name
	}{
		{name: "hsts not a number", env: map[string]string{"SENFI_HSTS_SECONDS": "one year"}, names: []string{"SENFI_HSTS_SECONDS"}},
		{name: "hsts negative", env: map[string]string{"SENFI_HSTS_SECONDS": "-1"}, names: []string{"SENFI_HSTS_SECONDS"}},
		{name: "hsts fraction", env: map[string]string{"SENFI_HSTS_SECONDS": "1.5"}, names: []string{"SENFI_HSTS_SECONDS"}},
		{name: "hsts duration", env: map[string]string{"DJANGO_SECURE_HSTS_SECONDS": "1h"}, names: []string{"DJANGO_SECURE_HSTS_SECONDS"}},
		{name: "django ssl redirect maybe", env: map[string]string{"DJANGO_SECURE_SSL_REDIRECT": "maybe"}, names: []string{"DJANGO_SECURE_SSL_REDIRECT"}},
		{name: "django debug", env: map[string]string{"DJANGO_DEBUG": "sometimes"}, names: []string{"DJANGO_DEBUG"}},
		{name: "django session cookie", env: map[string]string{"DJANGO_SESSION_COOKIE_SECURE": "2"}, names: []string{"DJANGO_SESSION_COOKIE_SECURE"}},
		{name: "bool number", env: map[string]string{"SENFI_REQUIRE_JSON": "2"}, names: []string{"SENFI_REQUIRE_JSON"}},
		{name: "bool enabled", env: map[string]string{"SENFI_CORS_ALLOW_CREDENTIALS": "enabled"}, names: []string{"SENFI_CORS_ALLOW_CREDENTIALS"}},
		{name: "bad host", env: map[string]string{"SENFI_ALLOWED_HOSTS": "api.example.com, exa mple.com"}, names: []string{"SENFI_ALLOWED_HOSTS"}},
		{name: "bad cidr", env: map[string]string{"SENFI_TRUSTED_PROXIES": "10.0.0.0/33"}, names: []string{"SENFI_TRUSTED_PROXIES", "10.0.0.0/33"}},
		{name: "bad ip", env: map[string]string{"SENFI_TRUSTED_PROXIES": "10.0.0.1, proxy.internal"}, names: []string{"SENFI_TRUSTED_PROXIES", "proxy.internal"}},
		{name: "ip with zone", env: map[string]string{"SENFI_TRUSTED_PROXIES": "fe80::1%eth0"}, names: []string{"SENFI_TRUSTED_PROXIES"}},
		{name: "bad size", env: map[string]string{"SENFI_MAX_BODY_BYTES": "lots"}, names: []string{"SENFI_MAX_BODY_BYTES", "lots"}},
		{name: "fractional size", env: map[string]string{"SENFI_MAX_BODY_BYTES": "1.5MiB"}, names: []string{"SENFI_MAX_BODY_BYTES"}},
		{name: "zero size", env: map[string]string{"SENFI_MAX_BODY_BYTES": "0"}, names: []string{"SENFI_MAX_BODY_BYTES"}},
		{name: "negative size", env: map[string]string{"SENFI_MAX_BODY_BYTES": "-1"}, names: []string{"SENFI_MAX_BODY_BYTES"}},
		{name: "bad duration", env: map[string]string{"SENFI_CORS_MAX_AGE": "soon"}, names: []string{"SENFI_CORS_MAX_AGE", "soon"}},
		{name: "negative seconds", env: map[string]string{"SENFI_CORS_MAX_AGE": "-5"}, names: []string{"SENFI_CORS_MAX_AGE"}},
		{name: "negative duration", env: map[string]string{"SENFI_CORS_MAX_AGE": "-1h"}, names: []string{"SENFI_CORS_MAX_AGE"}},
		{name: "seconds overflow a duration", env: map[string]string{"SENFI_CORS_MAX_AGE": "20000000000"}, names: []string{"SENFI_CORS_MAX_AGE"}},
		{name: "several at once",
			env: map[string]string{
				"SENFI_HSTS_SECONDS":         "x",
				"DJANGO_SECURE_SSL_REDIRECT": "maybe",
				"SENFI_TRUSTED_PROXIES":      "10.0.0.0/33",
				"SENFI_MAX_BODY_BYTES":       "big",
				"SENFI_CORS_MAX_AGE":         "forever",
				"DJANGO_DEBUG":               "perhaps",
				"SENFI_ALLOWED_HOSTS":        "api.example.com", // valid ones still fine
			},
			names: []string{"SENFI_HSTS_SECONDS", "DJANGO_SECURE_SSL_REDIRECT", "SENFI_TRUSTED_PROXIES", "SENFI_MAX_BODY_BYTES", "SENFI_CORS_MAX_AGE", "DJANGO_DEBUG"}},
		{name: "several bad entries in one list",
			env:   map[string]string{"SENFI_TRUSTED_PROXIES": "bad-one, 10.0.0.1, bad-two"},
			names: []string{"bad-one", "bad-two"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := secure.FromEnvLookup("SENFI_", secure.Options{}, envLookup(tt.env))
			require.Error(t, err)
			// The message must name each variable: finding it is its point.
			for _, name := range tt.names {
				assert.ErrorContains(t, err, name)
			}
		})
	}
}

// The seed project's environment files (docs FINAL_SECURITY_SUMMARY):
// production and development settings of the Django original.
var (
	seedProductionEnv = map[string]string{
		"DJANGO_SECRET_KEY":                  "your-secure-secret-key",
		"DJANGO_DEBUG":                       "False",
		"DJANGO_CORS_ALLOW_ALL_ORIGINS":      "False",
		"DJANGO_CORS_ALLOWED_ORIGINS":        "https://senfi.sharif.ir",
		"DJANGO_SECURE_BROWSER_XSS_FILTER":   "True",
		"DJANGO_SECURE_CONTENT_TYPE_NOSNIFF": "True",
		"DJANGO_X_FRAME_OPTIONS":             "DENY",
		"DJANGO_SECURE_SSL_REDIRECT":         "True",
		"DJANGO_SECURE_HSTS_SECONDS":         "31536000",
		"DJANGO_SESSION_COOKIE_SECURE":       "True",
		"EMAIL_SERVER":                       "mail.senfi-sharif.ir",
		"EMAIL_USER":                         "admin@senfi-sharif.ir",
		"EMAIL_PASS":                         "xxxx",
	}
	seedDevelopmentEnv = map[string]string{
		"DJANGO_SECRET_KEY":                  "dev-secret-key",
		"DJANGO_DEBUG":                       "True",
		"DJANGO_CORS_ALLOW_ALL_ORIGINS":      "True",
		"DJANGO_SECURE_BROWSER_XSS_FILTER":   "False",
		"DJANGO_SECURE_CONTENT_TYPE_NOSNIFF": "False",
		"DJANGO_X_FRAME_OPTIONS":             "SAMEORIGIN",
		"DJANGO_SECURE_SSL_REDIRECT":         "False",
		"DJANGO_SECURE_HSTS_SECONDS":         "0",
		"DJANGO_SESSION_COOKIE_SECURE":       "False",
	}
)

func withEnv(env map[string]string, extra ...string) map[string]string {
	out := make(map[string]string, len(env)+len(extra)/2)
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		out[extra[i]] = extra[i+1]
	}
	return out
}

func TestFromEnvLookupSeedEnvironments(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    func(o *secure.Options)
		wantNew string // a fragment of New's error naming the option; "" when New must accept
	}{
		{name: "production",
			env: withEnv(seedProductionEnv, "SENFI_ALLOWED_HOSTS", "senfi.sharif.ir"),
			want: func(o *secure.Options) {
				o.AllowedHosts = []string{"senfi.sharif.ir"}
				o.CORS.AllowedOrigins = []string{"https://senfi.sharif.ir"}
				o.FrameOptions = "DENY"
				o.STSSeconds = 31536000
			}},
		{name: "production behind a proxy",
			env: withEnv(seedProductionEnv, "DJANGO_ALLOWED_HOSTS", "senfi.sharif.ir", "SENFI_TRUSTED_PROXIES", "10.0.0.2",
				"DJANGO_USE_X_FORWARDED_HOST", "True", "DJANGO_SECURE_HSTS_PRELOAD", "True"),
			want: func(o *secure.Options) {
				o.AllowedHosts = []string{"senfi.sharif.ir"}
				o.TrustedProxies = prefixes(t, "10.0.0.2/32")
				o.HostsProxyHeaders = []string{"X-Forwarded-Host"}
				o.CORS.AllowedOrigins = []string{"https://senfi.sharif.ir"}
				o.FrameOptions = "DENY"
				o.STSSeconds = 31536000
				o.STSPreload = true
			}},
		{name: "production without hosts",
			env: seedProductionEnv,
			want: func(o *secure.Options) {
				o.CORS.AllowedOrigins = []string{"https://senfi.sharif.ir"}
				o.FrameOptions = "DENY"
				o.STSSeconds = 31536000
			},
			wantNew: "AllowedHosts"},
		{name: "development",
			env: seedDevelopmentEnv,
			want: func(o *secure.Options) {
				*o = secure.Development()
				o.CORS.AllowedOrigins = []string{"*"}
				o.FrameOptions = "SAMEORIGIN"
				o.OmitHeaders = []string{secure.HeaderStrictTransportSecurity, secure.HeaderXContentTypeOptions}
			}},
		{name: "development with credentials (weakness #13)",
			env: withEnv(seedDevelopmentEnv, "SENFI_CORS_ALLOW_CREDENTIALS", "true"),
			want: func(o *secure.Options) {
				*o = secure.Development()
				o.CORS.AllowedOrigins = []string{"*"}
				o.CORS.AllowCredentials = true
				o.FrameOptions = "SAMEORIGIN"
				o.OmitHeaders = []string{secure.HeaderStrictTransportSecurity, secure.HeaderXContentTypeOptions}
			},
			wantNew: "AllowCredentials"},
		{name: "development with credentials through the Django name",
			env: withEnv(seedDevelopmentEnv, "DJANGO_CORS_ALLOW_CREDENTIALS", "True"),
			want: func(o *secure.Options) {
				*o = secure.Development()
				o.CORS.AllowedOrigins = []string{"*"}
				o.CORS.AllowCredentials = true
				o.FrameOptions = "SAMEORIGIN"
				o.OmitHeaders = []string{secure.HeaderStrictTransportSecurity, secure.HeaderXContentTypeOptions}
			},
			wantNew: "AllowCredentials"},
		{name: "production with credentials for a listed origin",
			env: withEnv(seedProductionEnv, "SENFI_ALLOWED_HOSTS", "senfi.sharif.ir", "DJANGO_CORS_ALLOW_CREDENTIALS", "True"),
			want: func(o *secure.Options) {
				o.AllowedHosts = []string{"senfi.sharif.ir"}
				o.CORS.AllowedOrigins = []string{"https://senfi.sharif.ir"}
				o.CORS.AllowCredentials = true
				o.FrameOptions = "DENY"
				o.STSSeconds = 31536000
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fromEnv(t, secure.Options{}, tt.env)
			var want secure.Options
			tt.want(&want)
			assert.Equal(t, want, o)

			g, err := secure.New(o)
			if tt.wantNew == "" {
				require.NoError(t, err)
				require.NotNil(t, g)
				return
			}
			// The message must name the option to fix.
			require.ErrorContains(t, err, tt.wantNew)
			assert.Nil(t, g)
		})
	}
}

func TestFromEnvLookupDoesNotMutateBase(t *testing.T) {
	// Spare capacity lets a careless append write into the caller's array.
	omit := make([]string, 1, 8)
	omit[0] = secure.HeaderCrossOriginEmbedderPolicy
	proxies := make([]netip.Prefix, 1, 8)
	proxies[0] = netip.MustParsePrefix("10.0.0.0/8")
	hosts := make([]string, 1, 8)
	hosts[0] = "api.example.com"
	base := secure.Options{AllowedHosts: hosts, TrustedProxies: proxies, OmitHeaders: omit}
	env := map[string]string{
		"SENFI_HSTS_SECONDS":           "0",
		"SENFI_CONTENT_TYPE_NOSNIFF":   "false",
		"SENFI_OMIT_HEADERS":           "Permissions-Policy",
		"SENFI_TRUSTED_PROXIES":        "192.0.2.1",
		"SENFI_ALLOWED_HOSTS":          "other.example.com",
		"SENFI_USE_X_FORWARDED_HOST":   "true",
		"SENFI_CORS_ALLOWED_ORIGINS":   "https://a.example.com",
		"SENFI_CORS_ALLOWED_METHODS":   "GET",
		"SENFI_CORS_ALLOW_ALL_ORIGINS": "false",
	}

	o := fromEnv(t, base, env)
	assert.Equal(t, []string{secure.HeaderCrossOriginEmbedderPolicy, secure.HeaderStrictTransportSecurity, secure.HeaderXContentTypeOptions, "Permissions-Policy"}, o.OmitHeaders)
	assert.Equal(t, []string{secure.HeaderCrossOriginEmbedderPolicy, "", "", "", "", "", "", ""}, omit[:cap(omit)], "base OmitHeaders written")
	assert.Equal(t, make([]netip.Prefix, 7), proxies[1:cap(proxies)], "base TrustedProxies written")
	assert.Equal(t, []string{"api.example.com", "", "", "", "", "", "", ""}, hosts[:cap(hosts)], "base AllowedHosts written")

	t.Run("development base", func(t *testing.T) {
		base := secure.Development()
		base.OmitHeaders = slices.Grow(base.OmitHeaders, 8)
		before := slices.Clone(base.OmitHeaders[:cap(base.OmitHeaders)])
		o := fromEnv(t, base, map[string]string{"SENFI_HSTS_SECONDS": "600", "SENFI_CONTENT_TYPE_NOSNIFF": "false"})
		assert.Equal(t, []string{secure.HeaderXContentTypeOptions}, o.OmitHeaders)
		assert.Equal(t, before, base.OmitHeaders[:cap(base.OmitHeaders)])
		assert.Equal(t, []string{secure.HeaderStrictTransportSecurity}, base.OmitHeaders)
	})
	t.Run("result does not alias base", func(t *testing.T) {
		base := secure.Options{OmitHeaders: []string{secure.HeaderCacheControl}}
		o := fromEnv(t, base, map[string]string{"SENFI_FRAME_OPTIONS": "SAMEORIGIN"})
		o.OmitHeaders[0] = "changed"
		assert.Equal(t, []string{secure.HeaderCacheControl}, base.OmitHeaders)
	})
}

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in      string
		want    string // "" when an error is expected
		wantErr bool
	}{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: " 192.0.2.7 ", want: "192.0.2.7/32"},
		{in: "192.0.2.7", want: "192.0.2.7/32"},
		{in: "192.0.2.7/32", want: "192.0.2.7/32"},
		{in: "2001:db8::1", want: "2001:db8::1/128"},
		{in: "2001:DB8::1", want: "2001:db8::1/128"},
		{in: "2001:db8::/32", want: "2001:db8::/32"},
		{in: "2001:db8:ffff::1/32", want: "2001:db8::/32"},
		{in: "::1", want: "::1/128"},
		{in: "::ffff:192.0.2.7", want: "192.0.2.7/32"},
		{in: "0.0.0.0/0", want: "0.0.0.0/0"}, // parses; New refuses it
		{in: "", wantErr: true},
		{in: "   ", wantErr: true},
		{in: "10.0.0.0/33", wantErr: true},
		{in: "2001:db8::/129", wantErr: true},
		{in: "10.0.0.0/", wantErr: true},
		{in: "/8", wantErr: true},
		{in: "10.0.0.0/8/8", wantErr: true},
		{in: "10.0.0.0/-1", wantErr: true},
		{in: "300.1.1.1", wantErr: true},
		{in: "10.0.0", wantErr: true},
		{in: "010.0.0.1", wantErr: true},
		{in: "fe80::1%eth0", wantErr: true},
		{in: "fe80::1%eth0/64", wantErr: true},
		{in: "proxy.internal", wantErr: true},
		{in: "10.0.0.1:8080", wantErr: true},
		{in: "[::1]", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := secure.ParsePrefix(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				// The message quotes the entry: it is what the operator must fix.
				assert.ErrorContains(t, err, strings.TrimSpace(tt.in))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, netip.MustParsePrefix(tt.want), got)
		})
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "1", want: 1},
		{in: "1048576", want: 1 << 20},
		{in: " 1048576 ", want: 1 << 20},
		{in: "100B", want: 100},
		{in: "100 b", want: 100},
		{in: "1KiB", want: 1 << 10},
		{in: "1KB", want: 1 << 10},
		{in: "512 KiB", want: 512 << 10},
		{in: "512kib", want: 512 << 10},
		{in: "1MiB", want: 1 << 20},
		{in: "1mib", want: 1 << 20},
		{in: "3MB", want: 3 << 20},
		{in: "1 GiB", want: 1 << 30},
		{in: "2gb", want: 2 << 30},
		{in: "4294967296GiB", want: 1 << 62},
		{in: "4611686018427387904", want: 1 << 62},
		{in: "", wantErr: true},
		{in: "0", wantErr: true},
		{in: "0MiB", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "-1KiB", wantErr: true},
		{in: "1.5MiB", wantErr: true},
		{in: "MiB", wantErr: true},
		{in: "1TiB", wantErr: true},
		{in: "1 M", wantErr: true},
		{in: "1e6", wantErr: true},
		{in: "0x100", wantErr: true},
		{in: "1 000", wantErr: true},
		{in: "lots", wantErr: true},
		{in: "4611686018427387905", wantErr: true},
		{in: "9223372036854775807", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
		{in: "4294967297GiB", wantErr: true},
		{in: "1KiBKiB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := secure.ParseBytes(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				assert.ErrorContains(t, err, tt.in, "the message quotes the value")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFromEnvAllowedHostsReplacesAnyHost(t *testing.T) {
	o, err := secure.FromEnvLookup("SENFI_", secure.Options{AllowAnyHost: true}, func(k string) (string, bool) {
		if k == "SENFI_ALLOWED_HOSTS" {
			return "api.example.com", true
		}
		return "", false
	})
	require.NoError(t, err)
	assert.False(t, o.AllowAnyHost, "a host list replaces the base's AllowAnyHost")
	assert.Equal(t, []string{"api.example.com"}, o.AllowedHosts)
}
