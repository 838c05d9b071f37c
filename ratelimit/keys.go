package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"reflect"
	"strings"

	"github.com/senfi-sharif/senfi/internal/clientip"
)

// KeyFunc appends the key of a request (the identity whose budget it spends)
// to dst and returns the extended slice. Appending to a buffer the Limiter
// owns keeps the request path free of allocations. Returning [ErrNoKey]
// exempts the request from the limit.
type KeyFunc func(r *http.Request, dst []byte) ([]byte, error)

// ErrNoKey tells a Limiter that a request has no key and is not limited.
var ErrNoKey = errors.New("ratelimit: request has no key")

// DefaultIPv6Prefix is how many leading bits of an IPv6 address KeyByIP
// keeps: a /64 is what one subscriber usually gets, so rotating addresses
// inside it gains nothing.
const DefaultIPv6Prefix = 64

// KeyByIP keys requests by client address: the one resolved by secure's
// client-IP middleware (behind trusted proxies), or the direct peer when it
// did not run; forwarding headers are never read here. IPv6 addresses are
// grouped by /64.
func KeyByIP() KeyFunc {
	return keyByIP
}

// keyByIP is KeyByIP's key function. It is a top-level function, not a
// closure, so that New can recognise it (isKeyByIP) and build the key in
// place: a direct call with a stack buffer instead of an indirect call that
// needs a pooled one.
func keyByIP(r *http.Request, dst []byte) ([]byte, error) {
	return appendClientIP(dst, r), nil
}

// appendClientIP appends KeyByIP's key of r: what appendIP appends for
// clientip.FromRequest(r) with the default prefixes, without parsing and
// formatting again an IPv4 peer address that is already canonical text.
func appendClientIP(dst []byte, r *http.Request) []byte {
	if a, ok := clientip.FromContext(r.Context()); ok {
		return appendIP(dst, a, 32, DefaultIPv6Prefix)
	}
	if host, ok := clientip.PeerIPv4(r.RemoteAddr); ok {
		return append(append(dst, "ip:"...), host...)
	}
	return appendIP(dst, clientip.Peer(r.RemoteAddr), 32, DefaultIPv6Prefix)
}

// isKeyByIP reports whether kf is the function KeyByIP returns (or
// KeyByIPPrefix with the default prefixes). A top-level function has one
// code pointer of its own.
func isKeyByIP(kf KeyFunc) bool {
	return kf != nil && reflect.ValueOf(kf).Pointer() == reflect.ValueOf(KeyFunc(keyByIP)).Pointer()
}

// KeyByIPPrefix is KeyByIP with the number of leading bits kept for IPv4
// (1–32) and IPv6 (1–128) addresses.
func KeyByIPPrefix(ipv4Bits, ipv6Bits int) (KeyFunc, error) {
	if ipv4Bits < 1 || ipv4Bits > 32 || ipv6Bits < 1 || ipv6Bits > 128 {
		return nil, fmt.Errorf("ratelimit: KeyByIPPrefix(%d, %d): prefixes must be 1–32 for IPv4 and 1–128 for IPv6", ipv4Bits, ipv6Bits)
	}
	if ipv4Bits == 32 && ipv6Bits == DefaultIPv6Prefix {
		return keyByIP, nil
	}
	return func(r *http.Request, dst []byte) ([]byte, error) {
		return appendIP(dst, clientip.FromRequest(r), ipv4Bits, ipv6Bits), nil
	}, nil
}

func appendIP(dst []byte, a netip.Addr, v4, v6 int) []byte {
	if !a.IsValid() {
		return append(dst, "ip:none"...)
	}
	bits := v4
	if a.Is6() {
		bits = v6
	}
	dst = append(dst, "ip:"...)
	if bits == a.BitLen() {
		return a.AppendTo(dst)
	}
	p, _ := a.Prefix(bits)
	return p.AppendTo(dst)
}

// KeyByUser keys requests by the authenticated user that user returns (for
// example from jwtauth.FromContext). Anonymous requests are keyed by client
// address instead, so they do not all share one budget.
func KeyByUser(user func(r *http.Request) (id string, ok bool)) KeyFunc {
	byIP := KeyByIP()
	return func(r *http.Request, dst []byte) ([]byte, error) {
		if id, ok := user(r); ok && id != "" {
			return append(append(dst, "user:"...), id...), nil
		}
		return byIP(r, dst)
	}
}

// KeyByRoute keys requests by their route pattern (r.Pattern, set by
// http.ServeMux), never the raw path, so clients cannot mint new keys by
// varying the URL. Requests no pattern matched share one key. r.Pattern is
// set only on the request the mux hands to the route's handler: use this key
// in a limiter that wraps a route (mux.Handle(p, l.Handler(h))), not in one
// in front of the mux, where every request would share one budget.
func KeyByRoute() KeyFunc {
	return func(r *http.Request, dst []byte) ([]byte, error) {
		return append(append(dst, "route:"...), r.Pattern...), nil
	}
}

// KeyByHeader keys requests by the value of a header, such as an API key.
// Forwarding headers (X-Forwarded-For, Forwarded, X-Real-IP, ...) are refused:
// clients choose them freely; use KeyByIP, which trusts them only from
// trusted proxies. A request without the header is keyed by client address.
func KeyByHeader(name string) (KeyFunc, error) {
	canon := http.CanonicalHeaderKey(strings.TrimSpace(name))
	if canon == "" {
		return nil, errors.New("ratelimit: KeyByHeader needs a header name")
	}
	for _, h := range spoofable {
		if canon == h {
			return nil, fmt.Errorf("ratelimit: KeyByHeader(%q): clients can put anything in %s, so every request could have a fresh budget; use KeyByIP with secure's TrustedProxies", name, canon)
		}
	}
	byIP := KeyByIP()
	return func(r *http.Request, dst []byte) ([]byte, error) {
		if v := r.Header[canon]; len(v) > 0 && v[0] != "" {
			return append(append(append(dst, "hdr:"...), canon...), v[0]...), nil
		}
		return byIP(r, dst)
	}, nil
}

var spoofable = []string{
	"X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Client-Ip", "True-Client-Ip",
	"Cf-Connecting-Ip", "Fastly-Client-Ip", "X-Cluster-Client-Ip", "X-Forwarded", "Forwarded-For",
	"X-Originating-Ip", "X-Remote-Ip", "X-Remote-Addr",
}

// Compose joins several keys into one, such as route and IP: a request's key
// is the keys of every function, in order. If any returns ErrNoKey the
// request is not limited.
func Compose(keys ...KeyFunc) KeyFunc {
	keys = append([]KeyFunc(nil), keys...)
	return func(r *http.Request, dst []byte) ([]byte, error) {
		var err error
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, '|')
			}
			if dst, err = k(r, dst); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
}
