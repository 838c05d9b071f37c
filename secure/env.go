package secure

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FromEnv returns base with every option that is set in the environment
// replaced, reading variables named prefix + NAME (FromEnv("SENFI_", base)
// reads SENFI_ALLOWED_HOSTS). Pass Options{} as base for the production
// preset or [Development] for local work; variables that are unset or empty
// leave base's value. The Django names of the Senfi original are accepted as aliases; when
// both are set, the prefixed name wins. An invalid value is an error naming
// the variable; all such errors are returned at once.
//
//	NAME                          Django alias                            field / meaning
//	DEVELOPMENT                   DJANGO_DEBUG                            bool: true starts from Development() instead of base
//	ALLOWED_HOSTS                 DJANGO_ALLOWED_HOSTS                    AllowedHosts (comma list; "*" means AllowAnyHost)
//	HOSTS_PROXY_HEADERS                                                   HostsProxyHeaders (comma list)
//	USE_X_FORWARDED_HOST          DJANGO_USE_X_FORWARDED_HOST             bool: true adds X-Forwarded-Host to HostsProxyHeaders
//	TRUSTED_PROXIES                                                       TrustedProxies (comma list of IPs and CIDRs)
//	CLIENT_IP_HEADER                                                      ClientIPHeader
//	SSL_REDIRECT                  DJANGO_SECURE_SSL_REDIRECT              bool: false sets DisableSSLRedirect
//	SSL_TEMPORARY_REDIRECT                                                SSLTemporaryRedirect
//	SSL_HOST                                                              SSLHost
//	HSTS_SECONDS                  DJANGO_SECURE_HSTS_SECONDS              STSSeconds; 0 omits the HSTS header (Django's meaning)
//	HSTS_INCLUDE_SUBDOMAINS       DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS   bool: false sets STSExcludeSubdomains
//	HSTS_PRELOAD                  DJANGO_SECURE_HSTS_PRELOAD              STSPreload
//	FORCE_STS_HEADER                                                      ForceSTSHeader
//	FRAME_OPTIONS                 DJANGO_X_FRAME_OPTIONS                  FrameOptions
//	CONTENT_TYPE_NOSNIFF          DJANGO_SECURE_CONTENT_TYPE_NOSNIFF      bool: false omits X-Content-Type-Options
//	BROWSER_XSS_FILTER            DJANGO_SECURE_BROWSER_XSS_FILTER        bool, accepted for compatibility; X-XSS-Protection is always "0"
//	REFERRER_POLICY               DJANGO_SECURE_REFERRER_POLICY           ReferrerPolicy
//	CONTENT_SECURITY_POLICY                                               ContentSecurityPolicy
//	CONTENT_SECURITY_POLICY_REPORT_ONLY                                   ContentSecurityPolicyReportOnly
//	PERMISSIONS_POLICY                                                    PermissionsPolicy
//	CROSS_ORIGIN_OPENER_POLICY                                            CrossOriginOpenerPolicy
//	CROSS_ORIGIN_EMBEDDER_POLICY                                          CrossOriginEmbedderPolicy
//	CROSS_ORIGIN_RESOURCE_POLICY                                          CrossOriginResourcePolicy
//	CACHE_CONTROL                                                         CacheControl
//	OMIT_HEADERS                                                          OmitHeaders (comma list)
//	CORS_ALLOWED_ORIGINS          DJANGO_CORS_ALLOWED_ORIGINS             CORS.AllowedOrigins (comma list)
//	CORS_ALLOW_ALL_ORIGINS        DJANGO_CORS_ALLOW_ALL_ORIGINS           bool: true means CORS.AllowedOrigins = ["*"]
//	CORS_ALLOW_CREDENTIALS        DJANGO_CORS_ALLOW_CREDENTIALS           CORS.AllowCredentials
//	CORS_ALLOWED_METHODS                                                  CORS.AllowedMethods (comma list)
//	CORS_ALLOWED_HEADERS                                                  CORS.AllowedHeaders (comma list)
//	CORS_EXPOSED_HEADERS                                                  CORS.ExposedHeaders (comma list)
//	CORS_MAX_AGE                                                          CORS.MaxAge (seconds, or a duration such as "2h")
//	CROSS_ORIGIN_PROTECTION                                               CrossOriginProtection
//	CROSS_ORIGIN_TRUSTED_ORIGINS                                          CrossOriginTrustedOrigins (comma list)
//	MAX_BODY_BYTES                                                        MaxBodyBytes (bytes, or with a KiB/MiB/GiB suffix)
//	REQUIRE_JSON                                                          RequireJSON
//	                              DJANGO_SESSION_COOKIE_SECURE            bool, accepted for compatibility: the kit sets no session cookie
//	                              DJANGO_CSRF_COOKIE_SECURE               bool, accepted for compatibility: the kit sets no CSRF cookie
//
// Booleans accept 1/0, t/f, true/false, y/n, yes/no and on/off in any case.
// List variables replace base's list, except OMIT_HEADERS, which adds to it
// (so that it combines with HSTS_SECONDS=0 and CONTENT_TYPE_NOSNIFF=false). Unlike
// Django, DJANGO_DEBUG does not make the other variables ignored: they still
// apply, field by field, on top of the development preset.
func FromEnv(prefix string, base Options) (Options, error) {
	return fromLookup(prefix, base, os.LookupEnv)
}

type envReader struct {
	prefix string
	lookup func(string) (string, bool)
	errs   []error
}

// get returns the value and the name of the variable it came from.
func (e *envReader) get(name, alias string) (value, from string, ok bool) {
	if name == "" {
		// alias-only variable
	} else if v, ok := e.lookup(e.prefix + name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v), e.prefix + name, true
	}
	if alias != "" {
		if v, ok := e.lookup(alias); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), alias, true
		}
	}
	return "", "", false
}

func (e *envReader) fail(from, format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("secure: %s: "+format, append([]any{from}, args...)...))
}

func (e *envReader) str(name, alias string, dst *string) {
	if v, _, ok := e.get(name, alias); ok {
		*dst = v
	}
}

func (e *envReader) list(name, alias string, dst *[]string) {
	if v, _, ok := e.get(name, alias); ok {
		*dst = splitList(v)
	}
}

// boolean reads a bool; set is called only when the variable is present.
func (e *envReader) boolean(name, alias string, set func(bool)) {
	v, from, ok := e.get(name, alias)
	if !ok {
		return
	}
	b, err := parseBool(v)
	if err != nil {
		e.fail(from, "%q is not a boolean (use true or false)", v)
		return
	}
	set(b)
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		return true, nil
	case "0", "f", "false", "no", "n", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func fromLookup(prefix string, base Options, lookup func(string) (string, bool)) (Options, error) {
	e := &envReader{prefix: prefix, lookup: lookup}
	o := base
	o.OmitHeaders = slices.Clone(base.OmitHeaders) // appended to below
	e.boolean("DEVELOPMENT", "DJANGO_DEBUG", func(b bool) {
		if b {
			o = Development()
		}
	})

	if v, from, ok := e.get("ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS"); ok {
		o.AllowedHosts, o.AllowAnyHost = nil, false
		for _, h := range splitList(v) {
			if h == "*" {
				o.AllowAnyHost = true
				continue
			}
			if _, err := parseHostPattern(h); err != nil {
				e.fail(from, "%v", err)
				continue
			}
			o.AllowedHosts = append(o.AllowedHosts, h)
		}
	}
	e.list("HOSTS_PROXY_HEADERS", "", &o.HostsProxyHeaders)
	e.boolean("USE_X_FORWARDED_HOST", "DJANGO_USE_X_FORWARDED_HOST", func(b bool) {
		if b && len(o.HostsProxyHeaders) == 0 {
			o.HostsProxyHeaders = []string{"X-Forwarded-Host"}
		}
	})
	if v, from, ok := e.get("TRUSTED_PROXIES", ""); ok {
		o.TrustedProxies = nil // replace base's list; never append into its array
		for _, s := range splitList(v) {
			p, err := ParsePrefix(s)
			if err != nil {
				e.fail(from, "%v", err)
				continue
			}
			o.TrustedProxies = append(o.TrustedProxies, p)
		}
	}
	e.str("CLIENT_IP_HEADER", "", &o.ClientIPHeader)

	e.boolean("SSL_REDIRECT", "DJANGO_SECURE_SSL_REDIRECT", func(b bool) { o.DisableSSLRedirect = !b })
	e.boolean("SSL_TEMPORARY_REDIRECT", "", func(b bool) { o.SSLTemporaryRedirect = b })
	e.str("SSL_HOST", "", &o.SSLHost)
	if v, from, ok := e.get("HSTS_SECONDS", "DJANGO_SECURE_HSTS_SECONDS"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil || n < 0:
			e.fail(from, "%q is not a whole number of seconds (0 turns HSTS off)", v)
		case n == 0:
			o.OmitHeaders = appendUnique(o.OmitHeaders, HeaderStrictTransportSecurity)
		default:
			o.STSSeconds = n
			o.OmitHeaders = remove(o.OmitHeaders, HeaderStrictTransportSecurity)
		}
	}
	e.boolean("HSTS_INCLUDE_SUBDOMAINS", "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", func(b bool) { o.STSExcludeSubdomains = !b })
	e.boolean("HSTS_PRELOAD", "DJANGO_SECURE_HSTS_PRELOAD", func(b bool) { o.STSPreload = b })
	e.boolean("FORCE_STS_HEADER", "", func(b bool) { o.ForceSTSHeader = b })
	e.str("FRAME_OPTIONS", "DJANGO_X_FRAME_OPTIONS", &o.FrameOptions)
	e.boolean("CONTENT_TYPE_NOSNIFF", "DJANGO_SECURE_CONTENT_TYPE_NOSNIFF", func(b bool) {
		if b {
			o.OmitHeaders = remove(o.OmitHeaders, HeaderXContentTypeOptions)
		} else {
			o.OmitHeaders = appendUnique(o.OmitHeaders, HeaderXContentTypeOptions)
		}
	})
	e.boolean("BROWSER_XSS_FILTER", "DJANGO_SECURE_BROWSER_XSS_FILTER", func(bool) {})
	e.str("REFERRER_POLICY", "DJANGO_SECURE_REFERRER_POLICY", &o.ReferrerPolicy)
	e.str("CONTENT_SECURITY_POLICY", "", &o.ContentSecurityPolicy)
	e.str("CONTENT_SECURITY_POLICY_REPORT_ONLY", "", &o.ContentSecurityPolicyReportOnly)
	e.str("PERMISSIONS_POLICY", "", &o.PermissionsPolicy)
	e.str("CROSS_ORIGIN_OPENER_POLICY", "", &o.CrossOriginOpenerPolicy)
	e.str("CROSS_ORIGIN_EMBEDDER_POLICY", "", &o.CrossOriginEmbedderPolicy)
	e.str("CROSS_ORIGIN_RESOURCE_POLICY", "", &o.CrossOriginResourcePolicy)
	e.str("CACHE_CONTROL", "", &o.CacheControl)
	if v, _, ok := e.get("OMIT_HEADERS", ""); ok {
		for _, h := range splitList(v) {
			o.OmitHeaders = appendUnique(o.OmitHeaders, h)
		}
	}

	e.list("CORS_ALLOWED_ORIGINS", "DJANGO_CORS_ALLOWED_ORIGINS", &o.CORS.AllowedOrigins)
	e.boolean("CORS_ALLOW_ALL_ORIGINS", "DJANGO_CORS_ALLOW_ALL_ORIGINS", func(b bool) {
		if b {
			o.CORS.AllowedOrigins = []string{"*"}
		}
	})
	e.boolean("CORS_ALLOW_CREDENTIALS", "DJANGO_CORS_ALLOW_CREDENTIALS", func(b bool) { o.CORS.AllowCredentials = b })
	e.list("CORS_ALLOWED_METHODS", "", &o.CORS.AllowedMethods)
	e.list("CORS_ALLOWED_HEADERS", "", &o.CORS.AllowedHeaders)
	e.list("CORS_EXPOSED_HEADERS", "", &o.CORS.ExposedHeaders)
	if v, from, ok := e.get("CORS_MAX_AGE", ""); ok {
		d, err := parseSeconds(v)
		if err != nil {
			e.fail(from, "%q is not a number of seconds or a duration such as \"2h\"", v)
		} else {
			o.CORS.MaxAge = d
		}
	}
	e.boolean("CROSS_ORIGIN_PROTECTION", "", func(b bool) { o.CrossOriginProtection = b })
	e.list("CROSS_ORIGIN_TRUSTED_ORIGINS", "", &o.CrossOriginTrustedOrigins)
	if v, from, ok := e.get("MAX_BODY_BYTES", ""); ok {
		n, err := ParseBytes(v)
		if err != nil {
			e.fail(from, "%v", err)
		} else {
			o.MaxBodyBytes = n
		}
	}
	e.boolean("REQUIRE_JSON", "", func(b bool) { o.RequireJSON = b })
	e.boolean("", "DJANGO_SESSION_COOKIE_SECURE", func(bool) {})
	e.boolean("", "DJANGO_CSRF_COOKIE_SECURE", func(bool) {})

	return o, errors.Join(e.errs...)
}

func appendUnique(list []string, s string) []string {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return list
		}
	}
	return append(list, s)
}

func remove(list []string, s string) []string {
	var out []string
	for _, v := range list {
		if !strings.EqualFold(v, s) {
			out = append(out, v)
		}
	}
	return out
}

func parseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n <= math.MaxInt64/int64(time.Second) {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, errors.New("invalid")
	}
	return d, nil
}

// ParsePrefix parses a trusted-proxy entry: a CIDR prefix ("10.0.0.0/8") or
// a single address ("192.0.2.7", which becomes a /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP prefix such as 10.0.0.0/8", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or prefix", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseBytes parses a size: a whole number of bytes, or one with a suffix
// KB/KiB (1024), MB/MiB or GB/GiB, as in "1MiB" or "512 KiB".
func ParseBytes(s string) (int64, error) {
	v := strings.TrimSpace(s)
	mult := int64(1)
	upper := strings.ToUpper(v)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(upper, u.suffix) {
			mult = u.mult
			v = strings.TrimSpace(v[:len(v)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a positive size such as 1048576 or 1MiB", s)
	}
	return n * mult, nil
}

// FromEnvLookup is [FromEnv] with the environment read through lookup
// (os.LookupEnv has this signature), for configuration kept elsewhere and for
// tests.
func FromEnvLookup(prefix string, base Options, lookup func(string) (string, bool)) (Options, error) {
	return fromLookup(prefix, base, lookup)
}
