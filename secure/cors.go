package secure

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
)

// corsConfig is the compiled CORS configuration; nil means CORS is off.
type corsConfig struct {
	c *cors.Cors
}

var (
	defaultCORSMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	defaultCORSHeaders = []string{"Accept", "Authorization", "Content-Type", "X-Request-ID"}
	defaultCORSExposed = []string{"X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy"}
)

// compile validates the CORS options and builds the rs/cors handler. It
// returns nil (CORS off) when no origin is allowed.
func (o CORSOptions) compile() (*corsConfig, []error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("secure: CORS."+format, args...))
	}
	var origins []string
	all := false
	for _, origin := range o.AllowedOrigins {
		norm, err := normalizeOrigin(origin)
		if err != nil {
			bad("AllowedOrigins: %v", err)
			continue
		}
		if norm == "*" {
			all = true
		}
		origins = append(origins, norm)
	}
	if all && o.AllowCredentials {
		bad("AllowedOrigins: \"*\" together with AllowCredentials would let every web site act with your users' credentials; list the origins of your frontends instead")
	}
	if all && len(origins) > 1 {
		bad("AllowedOrigins: \"*\" already allows every origin; remove the other entries")
	}
	for _, m := range o.AllowedMethods {
		if !validHeaderName(m) {
			bad("AllowedMethods: %q is not a method name", m)
		}
	}
	for _, h := range append(append([]string(nil), o.AllowedHeaders...), o.ExposedHeaders...) {
		if !validHeaderName(h) {
			bad("AllowedHeaders/ExposedHeaders: %q is not a header name", h)
		}
	}
	if o.MaxAge < 0 {
		bad("MaxAge: %v is negative", o.MaxAge)
	}
	if len(errs) > 0 || len(origins) == 0 {
		return nil, errs
	}
	maxAge := int(o.MaxAge.Seconds())
	if o.MaxAge == 0 {
		maxAge = int(DefaultCORSMaxAge.Seconds())
	}
	c := cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   orDefaultList(o.AllowedMethods, defaultCORSMethods),
		AllowedHeaders:   orDefaultList(o.AllowedHeaders, defaultCORSHeaders),
		ExposedHeaders:   orDefaultList(o.ExposedHeaders, defaultCORSExposed),
		AllowCredentials: o.AllowCredentials,
		MaxAge:           maxAge,
	})
	return &corsConfig{c: c}, nil
}

func orDefaultList(v, def []string) []string {
	if len(v) == 0 {
		return append([]string(nil), def...)
	}
	return append([]string(nil), v...)
}

// normalizeOrigin validates one AllowedOrigins entry and returns it lower-cased.
func normalizeOrigin(origin string) (string, error) {
	o := strings.TrimSpace(origin)
	switch {
	case o == "*":
		return o, nil
	case o == "":
		return "", fmt.Errorf("empty origin")
	case strings.EqualFold(o, "null"):
		return "", fmt.Errorf("%q: the null origin is shared by sandboxed frames and local files of every site; it cannot be allowed", origin)
	}
	u, err := url.Parse(o)
	if err != nil {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port]): %v", origin, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: the scheme must be http or https", origin)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("%q is not an origin: only scheme://host[:port] is allowed", origin)
	}
	if u.Path != "" {
		if u.Path == "/" {
			return "", fmt.Errorf("%q: remove the trailing slash (browsers send origins without one)", origin)
		}
		return "", fmt.Errorf("%q is not an origin: it has a path", origin)
	}
	host := u.Host
	if strings.HasPrefix(host, "*.") {
		rest := host[2:]
		if strings.Contains(rest, "*") || !validHostPort(rest) || !strings.Contains(strings.Split(rest, ":")[0], ".") {
			return "", fmt.Errorf("%q: a wildcard must be the whole left-most label of a domain with at least two labels, as in https://*.example.com", origin)
		}
	} else if strings.Contains(host, "*") || !validHostPort(host) {
		return "", fmt.Errorf("%q does not have a valid host", origin)
	}
	return strings.ToLower(u.Scheme + "://" + host), nil
}
