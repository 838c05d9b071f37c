package clientip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// fuzzPeers are the direct peers a fuzz case picks from with its selector
// byte: trusted and untrusted, IPv4, IPv6 and 4in6, and a Unix socket.
var fuzzPeers = []string{
	"10.0.0.1:443",
	"[2001:db8::1]:443",
	"[::ffff:10.0.0.1]:443",
	"203.0.113.9:443",
	"[3fff::9]:443",
	"@",
}

// proxyAppended is the untrusted client address a trusted proxy appends
// to the header in the invariant checks.
var proxyAppended = netip.MustParseAddr("198.51.100.7")

func FuzzParseNode(f *testing.F) {
	for _, s := range []string{
		"192.0.2.1", "192.0.2.1:443", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:4711",
		"::ffff:192.0.2.1", "[::ffff:192.0.2.1]:80", "fe80::1%eth0", "[fe80::1%eth0]:80",
		"::ffff:1.2.3.4%z", "", "unknown", "_hidden", "example.com", "1.2.3.4:", "1.2.3.4:99999999",
		"[::1", "[1.2.3.4]", "1.2.3.4:80:80", "   ", "[", "]", "[]:", "[::1]]:80", ":", "%", "[%]",
		"fe80::1%", "[fe80::1%]]", "1.2.3.4%eth0", "\x00", "::", "[::]:0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := ParseNode(s)
		if !ok {
			if a != (netip.Addr{}) {
				t.Fatalf("ParseNode(%q) rejected the input but returned %v", s, a)
			}
			return
		}
		if !a.IsValid() {
			t.Fatalf("ParseNode(%q) = invalid Addr, ok", s)
		}
		if a.Is4In6() {
			t.Fatalf("ParseNode(%q) = %v: IPv4-mapped IPv6 not unmapped", s, a)
		}
		if a.Zone() != "" {
			t.Fatalf("ParseNode(%q) = %v: zone not dropped", s, a)
		}
		// The normalized output parses back to itself, bare and bracketed.
		if b, ok := ParseNode(a.String()); !ok || b != a {
			t.Fatalf("ParseNode(%q) = %v, but ParseNode(%q) = %v, %v", s, a, a.String(), b, ok)
		}
		if a.Is6() {
			if b, ok := ParseNode("[" + a.String() + "]:1"); !ok || b != a {
				t.Fatalf("ParseNode(%q) = %v, but the bracketed form with port gives %v, %v", s, a, b, ok)
			}
		}
	})
}

// addFuzzSeeds adds each value with every peer selector.
func addFuzzSeeds(f *testing.F, values []string) {
	f.Helper()
	for _, v := range values {
		for i := range fuzzPeers {
			f.Add(v, uint8(i))
		}
	}
}

func FuzzResolveXFF(f *testing.F) {
	addFuzzSeeds(f, []string{
		"", "203.0.113.9", "1.1.1.1, 203.0.113.9, 10.0.0.2", "1.2.3.4,,5.6.7.8", " , ,",
		"203.0.113.9, garbage, 10.0.0.2", "10.0.0.3, 10.0.0.2", "3fff::1, 2001:db8::2",
		"[3fff::1]:4711, [2001:db8::2]:80", "::ffff:203.0.113.9", "fe80::1%eth0, 10.0.0.2",
		"fe80::1%a,b", "unknown", "_hidden", "\t203.0.113.9 ,  10.0.0.2  ", "1.2.3.4:80:80",
		"[::1", ",,,,", "10.0.0.2,", `"1.1.1.1"`, "for=1.1.1.1", "1.1.1.1\x00",
	})
	f.Fuzz(func(t *testing.T, value string, peerSel uint8) {
		checkResolveFuzz(t, HeaderXForwardedFor, value, peerSel, xffCandidate)
	})
}

func FuzzResolveForwarded(f *testing.F) {
	addFuzzSeeds(f, []string{
		"", "for=203.0.113.9", "for=1.1.1.1, for=203.0.113.9, for=10.0.0.2",
		`for="[3fff::1]:4711"`, `for="[2001:db8::2]:80"`, "for=unknown", "for=_abc",
		"for=203.0.113.9;proto=https;by=10.0.0.1", "FOR=203.0.113.9", "proto=https;by=10.0.0.2",
		`for="203.0.113.9";x="a,b;c"`, `for=203.0.113.9, by="x,for=1.1.1.1"`,
		`for="203.0.113.9`, `for=203.0.113.9"`, `for="203.0.113.9"x`, `for="`, `for="a\"b"`,
		`for=1.1.1.1, x="`, `for=1.1.1.1;x="`, `x="\`, `for="fe80::1%a;b"`, `for=fe80::1%a b`,
		"for=10.0.0.7, for=_x, for=10.0.0.5, for=10.0.0.2", "for=, for=", ";;;,,,===", `"""`,
		`for="[::ffff:203.0.113.9]"`, "for=203.0.113.9 ; for=1.1.1.1",
	})
	f.Fuzz(func(t *testing.T, value string, peerSel uint8) {
		checkResolveFuzz(t, HeaderForwarded, value, peerSel, forwardedCandidate)
	})
}

// checkResolveFuzz checks the Resolve invariants for one header value:
//   - the result is normalized;
//   - an untrusted peer is always the result, whatever the header says;
//   - otherwise the result is the peer or an address written in the header;
//   - a trusted proxy appending the real client address gets it honoured, or
//     at worst falls back to the peer: the client cannot make Resolve return an
//     address it chose.
func checkResolveFuzz(t *testing.T, header, value string, peerSel uint8, candidate func(string, netip.Addr) bool) {
	t.Helper()
	rv := NewResolver(mustPrefixes(t, testProxies...), header)
	remote := fuzzPeers[int(peerSel)%len(fuzzPeers)]
	peer := Peer(remote)

	resolve := func(values ...string) netip.Addr {
		t.Helper()
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		for _, v := range values {
			r.Header.Add(header, v)
		}
		got := rv.Resolve(r)
		if got.IsValid() && (got.Is4In6() || got.Zone() != "") {
			t.Fatalf("%s: %q: result %v not normalized", header, values, got)
		}
		return got
	}

	got := resolve(value)
	if !rv.Trusted(peer) {
		if got != peer {
			t.Fatalf("untrusted peer %s, %s: %q: got %v, want the peer", remote, header, value, got)
		}
		return
	}
	if got != peer && !candidate(value, got) {
		t.Fatalf("%s: %q: got %v, which is neither the peer nor written in the header", header, value, got)
	}

	// A proxy that appends its element to the client's line.
	appended := ", " + proxyAppended.String()
	if header == HeaderForwarded {
		appended = ", for=" + proxyAppended.String()
	}
	got = resolve(value + appended)
	switch {
	case got == proxyAppended:
	case header == HeaderForwarded && got == peer:
		// The client left a quoted string open and swallowed the proxy's
		// element; the walk stops at the trusted peer.
	default:
		t.Fatalf("%s: %q + proxy's %q: got %v, want %v", header, value, appended, got, proxyAppended)
	}

	// A proxy that adds its own header line is always honoured.
	line := proxyAppended.String()
	if header == HeaderForwarded {
		line = `for="` + proxyAppended.String() + `:4711"`
	}
	if got := resolve(value, line); got != proxyAppended {
		t.Fatalf("%s: %q then line %q: got %v, want %v", header, value, line, got, proxyAppended)
	}
}

// xffCandidate reports whether a is written as one X-Forwarded-For entry of
// value.
func xffCandidate(value string, a netip.Addr) bool {
	for entry := range strings.SplitSeq(value, ",") {
		if b, ok := ParseNode(trimOWS(entry)); ok && b == a {
			return true
		}
	}
	return false
}

// forwardedCandidate reports whether a is written in value as a node: a
// substring that starts and ends at a Forwarded delimiter (or the ends of
// value) and parses to a. It over-approximates the nodes Resolve can read.
func forwardedCandidate(value string, a netip.Addr) bool {
	const delims = `,;=" ` + "\t"
	if len(value) > 1024 {
		return true // keep the quadratic check cheap; other invariants still apply
	}
	for i := 0; i < len(value); i++ {
		if i > 0 && !strings.ContainsRune(delims, rune(value[i-1])) {
			continue
		}
		for j := i + 1; j <= len(value); j++ {
			if j < len(value) && !strings.ContainsRune(delims, rune(value[j])) {
				continue
			}
			if b, ok := ParseNode(value[i:j]); ok && b == a {
				return true
			}
		}
	}
	return false
}

// FuzzPeer checks Peer's hand-written IPv4 path against the reference, and
// that PeerIPv4's text is exactly the address's canonical form.
func FuzzPeer(f *testing.F) {
	for _, s := range []string{
		"1.2.3.4:80", "255.255.255.255:65535", "0.0.0.0:1", "01.2.3.4:80", "1.2.3.04:80",
		"256.1.1.1:80", "1.2.3:80", "1.2.3.4.5:80", "1.2.3.4:", "1.2.3.4:123456", "[::1]:80",
		"::ffff:1.2.3.4", "[::ffff:1.2.3.4]:80", "1.2.3.4", "a.b.c.d:80", "1..2.3:80", "@", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, want := Peer(s), parsePeer(s)
		if got != want {
			t.Fatalf("Peer(%q) = %v, reference %v", s, got, want)
		}
		if host, ok := PeerIPv4(s); ok {
			if a := Peer(s); !a.Is4() || a.String() != host {
				t.Fatalf("PeerIPv4(%q) = %q, Peer = %v", s, host, a)
			}
		}
	})
}

func TestPeerIPv4AllOctets(t *testing.T) {
	for v := 0; v < 1000; v++ {
		for _, s := range []string{fmt.Sprintf("%d.1.2.3:80", v), fmt.Sprintf("1.2.3.%d:80", v), fmt.Sprintf("1.2.3.%03d:80", v)} {
			if got, want := Peer(s), parsePeer(s); got != want {
				t.Fatalf("Peer(%q) = %v, reference %v", s, got, want)
			}
		}
	}
}
