package secure

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// hostPattern is one compiled AllowedHosts entry.
type hostPattern struct {
	name   string     // lower case, without brackets
	suffix string     // ".example.com" for subdomain patterns
	apex   bool       // ".example.com" also matches example.com
	addr   netip.Addr // for IP literals
}

// parseHostPattern validates one AllowedHosts entry.
func parseHostPattern(s string) (hostPattern, error) {
	h := strings.ToLower(strings.TrimSpace(s))
	switch {
	case h == "":
		return hostPattern{}, fmt.Errorf("empty entry")
	case h == "*":
		return hostPattern{}, fmt.Errorf("%q allows every host; set AllowAnyHost instead", s)
	case strings.HasPrefix(h, "*."):
		if !validDomain(h[2:]) || !strings.Contains(h[2:], ".") {
			return hostPattern{}, fmt.Errorf("%q: the wildcard must be followed by a domain with at least two labels", s)
		}
		return hostPattern{suffix: h[1:]}, nil
	case strings.HasPrefix(h, "."):
		if !validDomain(h[1:]) {
			return hostPattern{}, fmt.Errorf("%q is not a domain", s)
		}
		return hostPattern{name: h[1:], suffix: h, apex: true}, nil
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return hostPattern{}, fmt.Errorf("%q: zones are not allowed", s)
		}
		return hostPattern{name: a.String(), addr: a}, nil
	}
	if strings.Contains(h, ":") {
		return hostPattern{}, fmt.Errorf("%q: give the host without a port (any port matches)", s)
	}
	if !validDomain(h) {
		return hostPattern{}, fmt.Errorf("%q is not a host name", s)
	}
	return hostPattern{name: h}, nil
}

// match reports whether the lower-cased host matches the pattern. It never
// allocates.
func (p hostPattern) match(host string) bool {
	if p.suffix != "" {
		if len(host) > len(p.suffix) && strings.EqualFold(host[len(host)-len(p.suffix):], p.suffix) {
			return true
		}
		return p.apex && strings.EqualFold(host, p.name)
	}
	return strings.EqualFold(host, p.name)
}

// validDomain checks RFC 1123 host-name syntax (letters, digits, hyphens,
// underscores tolerated, labels of 1–63 bytes, 253 bytes in all).
func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 || s[i-1] == '-' {
				return false
			}
			label = 0
			continue
		case c == '-':
			if label == 0 {
				return false
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		default:
			return false
		}
		label++
		if label > 63 {
			return false
		}
	}
	return label > 0 && s[len(s)-1] != '-'
}

// validHostPort checks a host with an optional port, as in a Host header.
func validHostPort(s string) bool {
	host, ok := splitHost(s)
	if !ok {
		return false
	}
	if strings.HasPrefix(s, "[") {
		return true
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return validDomain(strings.TrimSuffix(host, "."))
}

// splitHost strips the port from a Host header value and brackets from an
// IPv6 literal. ok is false for syntactically invalid values.
func splitHost(hostport string) (host string, ok bool) {
	if hostport == "" {
		return "", false
	}
	if hostport[0] == '[' {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", false
		}
		if rest := hostport[end+1:]; rest != "" && !validPort(rest) {
			return "", false
		}
		a, err := netip.ParseAddr(hostport[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", false
		}
		return hostport[1:end], true
	}
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		if strings.IndexByte(hostport[:i], ':') >= 0 {
			return "", false // bare IPv6 is not valid in Host
		}
		if !validPort(hostport[i:]) {
			return "", false
		}
		hostport = hostport[:i]
	}
	return hostport, hostport != ""
}

func validPort(s string) bool {
	if len(s) < 2 || len(s) > 6 || s[0] != ':' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// requestHost returns the host a request is for: Host, or a HostsProxyHeaders
// value when the peer is a trusted proxy.
func (g *Guard) requestHost(r *http.Request, peerTrusted bool) string {
	if peerTrusted {
		for _, h := range g.c.hostHeaders {
			if v := r.Header[h]; len(v) > 0 && v[len(v)-1] != "" {
				return rightmost(v[len(v)-1])
			}
		}
	}
	return r.Host
}

// hostAllowed reports whether hostport passes AllowedHosts.
func (g *Guard) hostAllowed(hostport string) bool {
	host, ok := splitHost(hostport)
	if !ok {
		return false
	}
	host = strings.TrimSuffix(host, ".") // FQDN form
	if g.c.anyHost {
		return validHostPort(hostport)
	}
	if strings.IndexByte(host, ':') >= 0 {
		// IPv6 literal: compare in canonical form.
		a, err := netip.ParseAddr(host)
		if err != nil {
			return false
		}
		for _, p := range g.c.hosts {
			if p.addr.IsValid() && p.addr == a {
				return true
			}
		}
		return false
	}
	if !validDomain(host) {
		if _, err := netip.ParseAddr(host); err != nil {
			return false
		}
	}
	for _, p := range g.c.hosts {
		if p.match(host) {
			return true
		}
	}
	return false
}

// rightmost returns the last comma-separated element of a header value,
// trimmed.
func rightmost(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}
