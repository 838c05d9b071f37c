// Package clientip resolves the address of the client behind trusted reverse
// proxies and carries it in the request context. secure's client-IP middleware
// resolves it once, first in the chain; ratelimit and audit read it back with
// FromRequest, which falls back to RemoteAddr when no resolver ran. No other
// package reads forwarding headers.
//
// Trust model: a forwarding header is only as honest as whoever wrote its
// right-most entries. When the direct peer is not a trusted proxy, forwarding
// headers are ignored and the peer is the client. When it is, the header is
// walked from the right, skipping trusted proxies; the first address that is
// not trusted is the client. If the walk meets an entry that is not an IP
// address (garbage, "unknown", an obfuscated RFC 7239 identifier), it stops
// and returns the last trusted hop, because nothing to its left can be
// believed. If every entry is trusted, the left-most one is returned.
package clientip

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Header names the forwarding headers a Resolver can read.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// MaxForwardedBytes bounds the Forwarded header a Resolver parses. Quoted
// strings force a left-to-right scan of the whole value, so a longer header
// (only an attacker sends one: real chains are a few elements long) is not
// parsed and the trusted peer's address is returned instead.
const MaxForwardedBytes = 8 << 10

func totalLen(values []string) int {
	n := 0
	for _, v := range values {
		n += len(v)
	}
	return n
}

// Resolver finds the client address of a request. It is safe for concurrent
// use and does not allocate.
type Resolver struct {
	trusted   []netip.Prefix
	forwarded bool // read RFC 7239 Forwarded instead of X-Forwarded-For
}

// NewResolver returns a Resolver that trusts the given prefixes and reads the
// named header (HeaderXForwardedFor or HeaderForwarded). The prefixes must be
// valid and masked; the caller validates them.
func NewResolver(trusted []netip.Prefix, header string) *Resolver {
	return &Resolver{
		trusted:   append([]netip.Prefix(nil), trusted...),
		forwarded: strings.EqualFold(header, HeaderForwarded),
	}
}

// Trusted reports whether a is inside one of the trusted prefixes.
func (rv *Resolver) Trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range rv.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// PeerTrusted reports whether the direct peer of r is a trusted proxy.
func (rv *Resolver) PeerTrusted(r *http.Request) bool {
	return len(rv.trusted) > 0 && rv.Trusted(Peer(r.RemoteAddr))
}

// Resolve returns the client address of r: the peer's address, or, when the
// peer is a trusted proxy, the right-most untrusted address of the configured
// forwarding header. The result is normalized (IPv4-mapped IPv6 unmapped, no
// zone). It is the zero Addr only when RemoteAddr is not an IP address (a Unix
// socket, for instance) and no trusted proxy said otherwise.
func (rv *Resolver) Resolve(r *http.Request) netip.Addr {
	peer := Peer(r.RemoteAddr)
	if len(rv.trusted) == 0 || !rv.Trusted(peer) {
		return peer
	}
	if rv.forwarded {
		values := r.Header.Values(HeaderForwarded)
		if n := totalLen(values); n > MaxForwardedBytes {
			return peer // see MaxForwardedBytes
		}
		return rv.walkForwarded(values, peer)
	}
	return rv.walkXFF(r.Header.Values(HeaderXForwardedFor), peer)
}

// walkXFF walks X-Forwarded-For entries from the right. last is the nearest
// trusted hop seen so far (initially the peer).
func (rv *Resolver) walkXFF(values []string, last netip.Addr) netip.Addr {
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for {
			var entry string
			j := strings.LastIndexByte(v, ',')
			if j < 0 {
				entry, v = v, ""
			} else {
				entry, v = v[j+1:], v[:j]
			}
			entry = trimOWS(entry)
			if entry != "" { // empty list elements are allowed by RFC 9110 §5.6.1
				a, ok := ParseNode(entry)
				if !ok {
					return last
				}
				if !rv.Trusted(a) {
					return a
				}
				last = a
			}
			if j < 0 {
				break
			}
		}
	}
	return last
}

// walkForwarded scans RFC 7239 Forwarded elements from the left (quoted
// strings make a right-to-left scan ambiguous) and picks the same answer as a
// right-to-left walk: the right-most untrusted "for" node, unless an
// unparseable node lies to its right.
func (rv *Resolver) walkForwarded(values []string, peer netip.Addr) netip.Addr {
	var (
		untrusted    netip.Addr // right-most untrusted node so far
		afterBad     netip.Addr // left-most trusted node right of the right-most bad node
		leftTrusted  netip.Addr // left-most trusted node overall
		seenBad      bool       // a bad node lies right of untrusted
		untrustedSet bool
	)
	for _, v := range values {
		for v != "" {
			elem, rest, closed := nextElement(v)
			v = rest
			node, present, ok := forNode(elem)
			if !closed {
				// An unterminated quoted string runs to the end of the line and
				// may have swallowed elements a proxy appended: treat it as bad.
				present, ok = true, false
			}
			if !present {
				continue // an element without for= says nothing about the client
			}
			a, parsed := netip.Addr{}, false
			if ok {
				a, parsed = ParseNode(node)
			}
			switch {
			case !parsed:
				seenBad, afterBad = true, netip.Addr{}
				untrustedSet = false
			case !rv.Trusted(a):
				untrusted, untrustedSet = a, true
				seenBad = false
			default:
				if !leftTrusted.IsValid() {
					leftTrusted = a
				}
				if seenBad && !afterBad.IsValid() {
					afterBad = a
				}
			}
		}
	}
	switch {
	case untrustedSet:
		return untrusted
	case seenBad:
		if afterBad.IsValid() {
			return afterBad
		}
		return peer
	case leftTrusted.IsValid():
		return leftTrusted
	default:
		return peer
	}
}

// nextElement splits the first comma-separated element off a Forwarded field
// value, honouring quoted strings. closed is false when a quoted string is
// still open at the end of v.
func nextElement(v string) (elem, rest string, closed bool) {
	inQuote := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return v[:i], v[i+1:], true
		}
	}
	return v, "", !inQuote
}

// forNode returns the value of the for= parameter of one Forwarded element.
// present is false when the element has no for= parameter; ok is false when
// the parameter is malformed (bad quoting, escapes).
func forNode(elem string) (node string, present, ok bool) {
	for elem != "" {
		var pair string
		if i := indexUnquoted(elem, ';'); i >= 0 {
			pair, elem = elem[:i], elem[i+1:]
		} else {
			pair, elem = elem, ""
		}
		pair = trimOWS(pair)
		eq := strings.IndexByte(pair, '=')
		if eq < 0 {
			continue
		}
		if !strings.EqualFold(trimOWS(pair[:eq]), "for") {
			continue
		}
		val := trimOWS(pair[eq+1:])
		if strings.HasPrefix(val, `"`) {
			if len(val) < 2 || !strings.HasSuffix(val, `"`) || strings.ContainsAny(val[1:len(val)-1], `"\`) {
				return "", true, false
			}
			val = val[1 : len(val)-1]
		}
		return val, true, true
	}
	return "", false, false
}

func indexUnquoted(s string, sep byte) int {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == sep && !inQuote:
			return i
		}
	}
	return -1
}

func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

// ParseNode parses one forwarding-header node: an IPv4 or IPv6 address,
// optionally with a port ("192.0.2.1:443", "[2001:db8::1]:443") or in brackets
// ("[2001:db8::1]"). The result is normalized: IPv4-mapped IPv6 is unmapped
// and any zone is dropped. Names, "unknown" and obfuscated identifiers are
// rejected.
func ParseNode(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		rest := s[end+1:]
		if rest != "" && !validPort(rest) {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() {
			return netip.Addr{}, false
		}
		return normalize(a), true
	}
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		// exactly one colon: IPv4 with a port
		if !validPort(s[i:]) {
			return netip.Addr{}, false
		}
		s = s[:i]
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, false
		}
		return a, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return normalize(a), true
}

// validPort reports whether s is ":" followed by 1–5 digits.
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

func normalize(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// Peer parses a RemoteAddr ("ip:port", or a bare IP) into a normalized
// address. It returns the zero Addr when remoteAddr holds no IP address.
func Peer(remoteAddr string) netip.Addr {
	// Fast path for the common "a.b.c.d:port" form: the port is not needed.
	if _, ip, ok := peerIPv4(remoteAddr); ok {
		return netip.AddrFrom4(ip)
	}
	return parsePeer(remoteAddr)
}

// parsePeer is Peer with the standard library's parsers only: the general
// path, and the definition the IPv4 fast path must agree with (FuzzPeer).
func parsePeer(remoteAddr string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		return normalize(ap.Addr())
	}
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		remoteAddr = host
	}
	a, err := netip.ParseAddr(remoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return normalize(a)
}

// PeerIPv4 returns the address part of remoteAddr when remoteAddr is an
// IPv4 address in canonical dotted-decimal form (four decimal octets of at
// most 255, without leading zeros) followed by ":" and a port of 1–5 digits,
// the form net/http gives for IPv4 peers. host is then exactly
// Peer(remoteAddr).String(), so callers can use the text without parsing and
// formatting the address. ok is false for any other form, which Peer may
// still accept.
func PeerIPv4(remoteAddr string) (host string, ok bool) {
	host, _, ok = peerIPv4(remoteAddr)
	return host, ok
}

func peerIPv4(remoteAddr string) (host string, ip [4]byte, ok bool) {
	i := strings.LastIndexByte(remoteAddr, ':')
	if i < 0 || !validPort(remoteAddr[i:]) {
		return "", ip, false
	}
	if ip, ok = parseIPv4(remoteAddr[:i]); !ok {
		return "", ip, false
	}
	return remoteAddr[:i], ip, true
}

// parseIPv4 parses s as exactly four decimal octets separated by dots, each
// at most 255 and without a leading zero: the canonical form, which is a
// subset of what netip.ParseAddr accepts and parses to the same address.
func parseIPv4(s string) (ip [4]byte, ok bool) {
	i := 0
	for f := range 4 {
		if f > 0 {
			if i >= len(s) || s[i] != '.' {
				return ip, false
			}
			i++
		}
		if i >= len(s) || s[i]-'0' > 9 {
			return ip, false
		}
		v := uint(s[i] - '0')
		i++
		if v != 0 { // a leading 0 is the whole octet: a digit after it fails the '.' test
			for n := 1; n < 3 && i < len(s) && s[i]-'0' <= 9; n++ {
				v = v*10 + uint(s[i]-'0')
				i++
			}
			if v > 255 {
				return ip, false
			}
		}
		ip[f] = byte(v)
	}
	return ip, i == len(s)
}

// ctxKey is the context key type. A lookup with the key returns the *addrCtx
// itself, so neither storing nor reading the address allocates beyond the one
// context node.
type ctxKey struct{}

// addrCtx is a context node holding the resolved client address. Using one
// node (instead of context.WithValue plus a boxed netip.Addr) halves the
// allocations on the request path.
type addrCtx struct {
	context.Context
	addr netip.Addr
}

func (c *addrCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func (c *addrCtx) String() string {
	return "clientip.WithValue(" + c.addr.String() + ")"
}

// NewContext returns a copy of ctx carrying addr as the client address.
func NewContext(ctx context.Context, addr netip.Addr) context.Context {
	return &addrCtx{Context: ctx, addr: addr}
}

// FromContext returns the client address stored in ctx by NewContext.
func FromContext(ctx context.Context) (netip.Addr, bool) {
	c, ok := ctx.Value(ctxKey{}).(*addrCtx)
	if !ok {
		return netip.Addr{}, false
	}
	return c.addr, true
}

// FromRequest returns the client address resolved earlier in the chain, or
// the address of the direct peer when no resolver ran. It never reads
// forwarding headers.
func FromRequest(r *http.Request) netip.Addr {
	if a, ok := FromContext(r.Context()); ok {
		return a
	}
	return Peer(r.RemoteAddr)
}
