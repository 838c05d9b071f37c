package clientip

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// addrSink keeps benchmark results alive.
var addrSink netip.Addr

// trustedChain returns n header nodes: a left-most client followed by n-1
// trusted proxies (the walk must visit all of them), or, with untrustedLast,
// the same list with an untrusted right-most node (the walk stops at once).
func trustedChain(n int, untrustedLast bool, forwarded bool) string {
	nodes := make([]string, n)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff)
	}
	nodes[0] = "203.0.113.9"
	if untrustedLast {
		nodes[n-1] = "198.51.100.7"
	}
	if forwarded {
		for i, v := range nodes {
			nodes[i] = "for=" + v
		}
	}
	return strings.Join(nodes, ", ")
}

func BenchmarkResolve(b *testing.B) {
	xff := NewResolver(mustPrefixes(b, testProxies...), HeaderXForwardedFor)
	fwd := NewResolver(mustPrefixes(b, testProxies...), HeaderForwarded)

	type bench struct {
		name   string
		rv     *Resolver
		remote string
		header string
		value  string
		want   string
	}
	benches := []bench{
		{name: "untrusted peer", rv: xff, remote: "203.0.113.9:443",
			header: HeaderXForwardedFor, value: "1.1.1.1", want: "203.0.113.9"},
		{name: "trusted peer/XFF 3 entries", rv: xff, remote: "10.0.0.1:443",
			header: HeaderXForwardedFor, value: "1.1.1.1, 203.0.113.9, 10.0.0.2", want: "203.0.113.9"},
		{name: "trusted peer/XFF 3 IPv6 entries", rv: xff, remote: "[2001:db8::1]:443",
			header: HeaderXForwardedFor, value: "3fff::9, [3fff::1]:80, 2001:db8::2", want: "3fff::1"},
		{name: "trusted peer/Forwarded 3 elements", rv: fwd, remote: "10.0.0.1:443",
			header: HeaderForwarded, value: `for=1.1.1.1, for="203.0.113.9:80";proto=https, for="[2001:db8::2]"`,
			want: "203.0.113.9"},
	}
	for _, n := range []int{10, 100, 1000} {
		benches = append(benches,
			bench{name: fmt.Sprintf("attacker/XFF n=%d all trusted but left-most", n), rv: xff,
				remote: "10.0.0.1:443", header: HeaderXForwardedFor,
				value: trustedChain(n, false, false), want: "203.0.113.9"},
			bench{name: fmt.Sprintf("attacker/XFF n=%d right-most untrusted", n), rv: xff,
				remote: "10.0.0.1:443", header: HeaderXForwardedFor,
				value: trustedChain(n, true, false), want: "198.51.100.7"},
			bench{name: fmt.Sprintf("attacker/Forwarded n=%d all trusted but left-most", n), rv: fwd,
				remote: "10.0.0.1:443", header: HeaderForwarded,
				value: trustedChain(n, false, true), want: forwardedWant(n, "203.0.113.9")},
			bench{name: fmt.Sprintf("attacker/Forwarded n=%d right-most untrusted", n), rv: fwd,
				remote: "10.0.0.1:443", header: HeaderForwarded,
				value: trustedChain(n, true, true), want: forwardedWant(n, "198.51.100.7")},
		)
	}

	// Beyond MaxForwardedBytes the header is not parsed and the peer is the
	// answer: the n=1000 cases measure that bound.
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			r := newRequest(b, bb.remote, bb.header, bb.value)
			if got := bb.rv.Resolve(r); got != netip.MustParseAddr(bb.want) {
				b.Fatalf("Resolve = %v, want %v", got, bb.want)
			}
			b.SetBytes(int64(len(bb.value)))
			b.ReportAllocs()
			for b.Loop() {
				addrSink = bb.rv.Resolve(r)
			}
		})
	}
}

// BenchmarkContext measures storing and reading the resolved address, next
// to the FromRequest fallback that parses RemoteAddr.
func BenchmarkContext(b *testing.B) {
	a := netip.MustParseAddr("203.0.113.9")
	r := newRequest(b, "10.0.0.1:443", HeaderXForwardedFor)
	stored := r.WithContext(NewContext(r.Context(), a))

	b.Run("NewContext", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ctxSink = NewContext(context.Background(), a)
		}
	})
	b.Run("FromContext", func(b *testing.B) {
		ctx := stored.Context()
		b.ReportAllocs()
		for b.Loop() {
			addrSink, _ = FromContext(ctx)
		}
	})
	b.Run("FromRequest stored", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			addrSink = FromRequest(stored)
		}
	})
	b.Run("FromRequest fallback to RemoteAddr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			addrSink = FromRequest(r)
		}
	})
}

// forwardedWant is want for a Forwarded chain of n elements, or the trusted
// peer when the chain exceeds MaxForwardedBytes.
func forwardedWant(n int, want string) string {
	if len(trustedChain(n, false, true)) > MaxForwardedBytes {
		return "10.0.0.1"
	}
	return want
}
