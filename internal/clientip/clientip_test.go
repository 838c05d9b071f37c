package clientip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testProxies are the trusted prefixes used throughout: a private IPv4 range
// and the IPv6 documentation prefix. Clients use 192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24 and 3fff::/20, none of which is trusted.
var testProxies = []string{"10.0.0.0/8", "2001:db8::/32"}

// mustPrefixes parses prefixes for a Resolver.
func mustPrefixes(t testing.TB, ss ...string) []netip.Prefix {
	t.Helper()
	ps := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		require.NoError(t, err, "prefix %q", s)
		ps = append(ps, p.Masked())
	}
	return ps
}

// newRequest builds a request from remoteAddr with one header line per value
// of the named header, in order.
func newRequest(t testing.TB, remoteAddr, header string, values ...string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remoteAddr
	for _, v := range values {
		r.Header.Add(header, v)
	}
	return r
}

// addrOrZero parses want, where "" stands for the zero Addr.
func addrOrZero(t testing.TB, s string) netip.Addr {
	t.Helper()
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	require.NoError(t, err, "address %q", s)
	return a
}

// assertAddr compares addresses and prints them readably on failure.
func assertAddr(t testing.TB, want, got netip.Addr, msgAndArgs ...any) bool {
	t.Helper()
	if got == want {
		return true
	}
	return assert.Fail(t, fmt.Sprintf("address mismatch: got %v, want %v", got, want), msgAndArgs...)
}

// assertNormalized checks the normalization promise of ParseNode, Peer and
// Resolve: a valid result is never IPv4-mapped IPv6 and carries no zone.
func assertNormalized(t testing.TB, a netip.Addr) {
	t.Helper()
	if !a.IsValid() {
		return
	}
	assert.False(t, a.Is4In6(), "%v is IPv4-mapped IPv6", a)
	assert.Empty(t, a.Zone(), "%v has a zone", a)
}

func TestParseNode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" means rejected
	}{
		{name: "IPv4", in: "192.0.2.1", want: "192.0.2.1"},
		{name: "IPv4 with port", in: "192.0.2.1:443", want: "192.0.2.1"},
		{name: "IPv4 with one-digit port", in: "192.0.2.1:8", want: "192.0.2.1"},
		{name: "IPv4 with five-digit port", in: "192.0.2.1:65535", want: "192.0.2.1"},
		{name: "IPv4 port shape only is checked, not its range", in: "192.0.2.1:99999", want: "192.0.2.1"},
		{name: "bare IPv6", in: "2001:db8::1", want: "2001:db8::1"},
		{name: "bare IPv6 upper case is canonicalized", in: "2001:DB8::A", want: "2001:db8::a"},
		{name: "IPv6 loopback", in: "::1", want: "::1"},
		{name: "bracketed IPv6", in: "[2001:db8::1]", want: "2001:db8::1"},
		{name: "bracketed IPv6 with port", in: "[2001:db8::1]:4711", want: "2001:db8::1"},
		{name: "IPv4-mapped IPv6 is unmapped", in: "::ffff:192.0.2.1", want: "192.0.2.1"},
		{name: "IPv4-mapped IPv6 hex form is unmapped", in: "::ffff:c000:201", want: "192.0.2.1"},
		{name: "bracketed IPv4-mapped IPv6 with port is unmapped", in: "[::ffff:192.0.2.1]:80", want: "192.0.2.1"},
		{name: "zone is dropped", in: "fe80::1%eth0", want: "fe80::1"},
		{name: "zone is dropped in brackets with port", in: "[fe80::1%eth0]:80", want: "fe80::1"},
		{name: "zone is dropped from IPv4-mapped IPv6", in: "::ffff:192.0.2.1%eth0", want: "192.0.2.1"},

		{name: "empty", in: ""},
		{name: "unknown", in: "unknown"},
		{name: "obfuscated identifier", in: "_hidden"},
		{name: "obfuscated identifier with port", in: "_hidden:_port"},
		{name: "host name", in: "example.com"},
		{name: "host name with port", in: "example.com:80"},
		{name: "IPv4 with empty port", in: "1.2.3.4:"},
		{name: "IPv4 with six-digit port", in: "1.2.3.4:999999"},
		{name: "IPv4 with eight-digit port", in: "1.2.3.4:99999999"},
		{name: "IPv4 with non-digit port", in: "1.2.3.4:8a"},
		{name: "IPv4 with negative port", in: "1.2.3.4:-1"},
		{name: "IPv4 with two ports", in: "1.2.3.4:80:80"},
		{name: "IPv4 with zone", in: "1.2.3.4%eth0"},
		{name: "IPv4 prefix", in: "1.2.3.4/32"},
		{name: "IPv4 too short", in: "1.2.3"},
		{name: "IPv4 octet out of range", in: "256.1.1.1"},
		{name: "IPv4 leading zero", in: "01.2.3.4"},
		{name: "unclosed bracket", in: "[::1"},
		{name: "bracketed IPv6 with empty port", in: "[::1]:"},
		{name: "bracketed IPv6 without colon before port", in: "[::1]80"},
		{name: "bracketed IPv6 with non-digit port", in: "[::1]:http"},
		{name: "bracketed IPv6 with trailing bracket", in: "[::1]]"},
		{name: "bracketed IPv4", in: "[1.2.3.4]"},
		{name: "bracketed IPv4 with port", in: "[1.2.3.4]:80"},
		{name: "empty brackets", in: "[]"},
		{name: "empty brackets with port", in: "[]:80"},
		{name: "whitespace only", in: "   "},
		{name: "tab only", in: "\t"},
		{name: "leading space (callers trim)", in: " 192.0.2.1"},
		{name: "trailing space (callers trim)", in: "192.0.2.1 "},
		{name: "quoted (callers unquote)", in: `"192.0.2.1"`},
		{name: "garbage", in: "garbage"},
		{name: "NUL byte", in: "\x00"},
		{name: "only a colon", in: ":"},
		{name: "only a port", in: ":80"},
		{name: "IPv6 with empty zone", in: "fe80::1%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseNode(tt.in)
			if tt.want == "" {
				assert.False(t, ok, "ParseNode(%q) = %v, want rejection", tt.in, got)
				assert.Equal(t, netip.Addr{}, got, "rejected input must give the zero Addr")
				return
			}
			require.True(t, ok, "ParseNode(%q) rejected", tt.in)
			assertAddr(t, addrOrZero(t, tt.want), got, "ParseNode(%q)", tt.in)
			assertNormalized(t, got)
		})
	}
}

func TestPeer(t *testing.T) {
	tests := []struct {
		name       string
		remoteAddr string
		want       string // "" means the zero Addr
	}{
		{name: "IPv4 with port", remoteAddr: "1.2.3.4:5678", want: "1.2.3.4"},
		{name: "IPv6 with port", remoteAddr: "[::1]:80", want: "::1"},
		{name: "IPv4-mapped IPv6 is unmapped", remoteAddr: "[::ffff:10.0.0.1]:80", want: "10.0.0.1"},
		{name: "zone is dropped", remoteAddr: "[fe80::1%eth0]:80", want: "fe80::1"},
		{name: "bare IPv4", remoteAddr: "1.2.3.4", want: "1.2.3.4"},
		{name: "bare IPv6", remoteAddr: "2001:db8::1", want: "2001:db8::1"},
		{name: "named port", remoteAddr: "1.2.3.4:http", want: "1.2.3.4"},
		{name: "unix socket", remoteAddr: "@"},
		{name: "unix socket path", remoteAddr: "/run/app.sock"},
		{name: "empty", remoteAddr: ""},
		{name: "host name", remoteAddr: "localhost:80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Peer(tt.remoteAddr)
			assertAddr(t, addrOrZero(t, tt.want), got, "Peer(%q)", tt.remoteAddr)
			assertNormalized(t, got)
		})
	}
}

// resolveCase is one Resolve table entry. trusted nil means testProxies;
// set noTrust for a Resolver without trusted proxies.
type resolveCase struct {
	name    string
	noTrust bool
	trusted []string
	remote  string
	// values are the lines of the configured header, in order.
	values []string
	// other are lines of the header the Resolver is not configured for.
	other []string
	want  string // "" means the zero Addr
}

// runResolve runs Resolve table cases against a Resolver reading header.
func runResolve(t *testing.T, header string, tests []resolveCase) {
	t.Helper()
	otherHeader := HeaderForwarded
	if header == HeaderForwarded {
		otherHeader = HeaderXForwardedFor
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trusted []netip.Prefix
			switch {
			case tt.noTrust:
			case tt.trusted != nil:
				trusted = mustPrefixes(t, tt.trusted...)
			default:
				trusted = mustPrefixes(t, testProxies...)
			}
			rv := NewResolver(trusted, header)
			r := newRequest(t, tt.remote, header, tt.values...)
			for _, v := range tt.other {
				r.Header.Add(otherHeader, v)
			}
			got := rv.Resolve(r)
			assertAddr(t, addrOrZero(t, tt.want), got, "%s: %q", header, tt.values)
			assertNormalized(t, got)
		})
	}
}

func TestResolveXFF(t *testing.T) {
	runResolve(t, HeaderXForwardedFor, []resolveCase{
		{
			name:    "spoofing attack: no trusted proxies, peer wins over XFF",
			noTrust: true, remote: "203.0.113.9:5555",
			values: []string{"1.1.1.1"},
			want:   "203.0.113.9",
		},
		{
			name:   "spoofing attack: untrusted peer, XFF ignored",
			remote: "203.0.113.9:5555",
			values: []string{"1.1.1.1"},
			want:   "203.0.113.9",
		},
		{
			name:   "spoofing attack: untrusted peer claims a trusted address",
			remote: "203.0.113.9:5555",
			values: []string{"10.0.0.1"},
			want:   "203.0.113.9",
		},
		{
			name:   "trusted peer, single entry",
			remote: "10.0.0.1:443",
			values: []string{"203.0.113.9"},
			want:   "203.0.113.9",
		},
		{
			name:   "proxy chain: spoofed, client, trusted proxy",
			remote: "10.0.0.1:443",
			values: []string{"1.1.1.1, 203.0.113.9, 10.0.0.2"},
			want:   "203.0.113.9",
		},
		{
			name:   "right-most untrusted wins over trusted-looking fakes the client prepends",
			remote: "10.0.0.1:443",
			values: []string{"10.9.9.9, 1.1.1.1, 10.8.8.8, 203.0.113.9, 10.0.0.2"},
			want:   "203.0.113.9",
		},
		{
			name:   "multiple lines are concatenated in order",
			remote: "10.0.0.1:443",
			values: []string{"1.1.1.1, 203.0.113.9", "10.0.0.2"},
			want:   "203.0.113.9",
		},
		{
			name:   "multiple lines: last line is right-most",
			remote: "10.0.0.1:443",
			values: []string{"203.0.113.9", "198.51.100.7"},
			want:   "198.51.100.7",
		},
		{
			name:   "multiple lines: trusted entries on the last line are skipped",
			remote: "10.0.0.1:443",
			values: []string{"1.1.1.1", "203.0.113.9, 10.0.0.3", "10.0.0.2"},
			want:   "203.0.113.9",
		},
		{
			name:   "empty list elements are skipped",
			remote: "10.0.0.1:443",
			values: []string{"1.2.3.4,,5.6.7.8"},
			want:   "5.6.7.8",
		},
		{
			name:   "empty list elements around trusted entries are skipped",
			remote: "10.0.0.1:443",
			values: []string{"203.0.113.9, ,10.0.0.2, , "},
			want:   "203.0.113.9",
		},
		{
			name:   "empty line is skipped",
			remote: "10.0.0.1:443",
			values: []string{"203.0.113.9", ""},
			want:   "203.0.113.9",
		},
		{
			name:   "only empty elements: peer",
			remote: "10.0.0.1:443",
			values: []string{" , ,"},
			want:   "10.0.0.1",
		},
		{
			name:   "optional whitespace around entries",
			remote: "10.0.0.1:443",
			values: []string{"\t203.0.113.9 ,  10.0.0.2  "},
			want:   "203.0.113.9",
		},
		{
			name:   "garbage right of the client: walk stops, last trusted hop returned",
			remote: "10.0.0.1:443",
			values: []string{"203.0.113.9, garbage, 10.0.0.2"},
			want:   "10.0.0.2",
		},
		{
			name:   "garbage right-most: walk stops, peer returned",
			remote: "10.0.0.1:443",
			values: []string{"203.0.113.9, unknown"},
			want:   "10.0.0.1",
		},
		{
			name:   "host name right of the client: walk stops at last trusted hop",
			remote: "10.0.0.1:443",
			values: []string{"203.0.113.9, proxy.example, 10.0.0.2, 10.0.0.3"},
			want:   "10.0.0.2",
		},
		{
			name:   "garbage left of the client is never reached",
			remote: "10.0.0.1:443",
			values: []string{"garbage, 203.0.113.9"},
			want:   "203.0.113.9",
		},
		{
			name:   "all entries trusted: left-most entry",
			remote: "10.0.0.1:443",
			values: []string{"10.0.0.3, 10.0.0.2"},
			want:   "10.0.0.3",
		},
		{
			name:   "all entries trusted across lines: left-most entry",
			remote: "10.0.0.1:443",
			values: []string{"10.0.0.4", "10.0.0.3, 10.0.0.2"},
			want:   "10.0.0.4",
		},
		{
			name:   "trusted peer without header: peer",
			remote: "10.0.0.1:443",
			want:   "10.0.0.1",
		},
		{
			name:   "trusted peer, only Forwarded sent: peer",
			remote: "10.0.0.1:443",
			other:  []string{"for=203.0.113.9"},
			want:   "10.0.0.1",
		},
		{
			name:   "IPv6 client",
			remote: "10.0.0.1:443",
			values: []string{"3fff::1"},
			want:   "3fff::1",
		},
		{
			name:   "IPv6 client in brackets with port",
			remote: "10.0.0.1:443",
			values: []string{"[3fff::1]:4711"},
			want:   "3fff::1",
		},
		{
			name:   "IPv6 proxies",
			remote: "[2001:db8::1]:443",
			values: []string{"1.1.1.1, 3fff::1, 2001:db8::2, [2001:db8:ffff::3]:80"},
			want:   "3fff::1",
		},
		{
			name:   "4in6 client entry is unmapped",
			remote: "10.0.0.1:443",
			values: []string{"::ffff:203.0.113.9"},
			want:   "203.0.113.9",
		},
		{
			name:   "4in6 proxy entry is unmapped and trusted",
			remote: "10.0.0.1:443",
			values: []string{"203.0.113.9, ::ffff:10.0.0.2"},
			want:   "203.0.113.9",
		},
		{
			name:   "4in6 peer is unmapped and trusted",
			remote: "[::ffff:10.0.0.1]:443",
			values: []string{"203.0.113.9"},
			want:   "203.0.113.9",
		},
		{
			name:   "entries with ports",
			remote: "10.0.0.1:443",
			values: []string{"203.0.113.9:1234, 10.0.0.2:80"},
			want:   "203.0.113.9",
		},
		{
			name:   "zone dropped from client entry",
			remote: "10.0.0.1:443",
			values: []string{"fe80::1%eth0"},
			want:   "fe80::1",
		},
		{
			name:   "unix socket peer: zero Addr, header ignored",
			remote: "@",
			values: []string{"203.0.113.9"},
			want:   "",
		},
		{
			name:    "unix socket peer without trusted proxies: zero Addr",
			noTrust: true, remote: "@",
			want: "",
		},
		{
			name:    "trusted peer matched by a host prefix",
			trusted: []string{"192.0.2.10/32"}, remote: "192.0.2.10:443",
			values: []string{"203.0.113.9"},
			want:   "203.0.113.9",
		},
	})
}

func TestResolveForwarded(t *testing.T) {
	runResolve(t, HeaderForwarded, []resolveCase{
		{
			name:    "spoofing attack: no trusted proxies, peer wins over Forwarded",
			noTrust: true, remote: "203.0.113.9:5555",
			values: []string{"for=1.1.1.1"},
			want:   "203.0.113.9",
		},
		{
			name:   "spoofing attack: untrusted peer, Forwarded ignored",
			remote: "203.0.113.9:5555",
			values: []string{"for=1.1.1.1"},
			want:   "203.0.113.9",
		},
		{
			name:   "trusted peer, single element",
			remote: "10.0.0.1:443",
			values: []string{"for=203.0.113.9"},
			want:   "203.0.113.9",
		},
		{
			name:   "proxy chain: spoofed, client, trusted proxy",
			remote: "10.0.0.1:443",
			values: []string{"for=1.1.1.1, for=203.0.113.9, for=10.0.0.2"},
			want:   "203.0.113.9",
		},
		{
			name:   "right-most untrusted wins over trusted-looking fakes the client prepends",
			remote: "10.0.0.1:443",
			values: []string{"for=10.9.9.9, for=1.1.1.1, for=203.0.113.9, for=10.0.0.2"},
			want:   "203.0.113.9",
		},
		{
			name:   "multiple lines: last line is right-most",
			remote: "10.0.0.1:443",
			values: []string{"for=1.1.1.1", "for=203.0.113.9", "for=10.0.0.2"},
			want:   "203.0.113.9",
		},
		{
			name:   "quoted IPv6 with port",
			remote: "10.0.0.1:443",
			values: []string{`for="[3fff::1]:4711"`},
			want:   "3fff::1",
		},
		{
			name:   "quoted IPv4 with port",
			remote: "10.0.0.1:443",
			values: []string{`for="203.0.113.9:4711"`},
			want:   "203.0.113.9",
		},
		{
			name:   "IPv6 proxies",
			remote: "[2001:db8::1]:443",
			values: []string{`for="[3fff::1]", for="[2001:db8::2]:80"`},
			want:   "3fff::1",
		},
		{
			name:   "4in6 client is unmapped",
			remote: "10.0.0.1:443",
			values: []string{`for="[::ffff:203.0.113.9]"`},
			want:   "203.0.113.9",
		},
		{
			name:   "for=unknown right of the client: walk stops, peer returned",
			remote: "10.0.0.1:443",
			values: []string{"for=203.0.113.9, for=unknown"},
			want:   "10.0.0.1",
		},
		{
			name:   "for=unknown right of the client: walk stops at last trusted hop",
			remote: "10.0.0.1:443",
			values: []string{"for=203.0.113.9, for=unknown, for=10.0.0.2"},
			want:   "10.0.0.2",
		},
		{
			name:   "bad node between trusted nodes: nearest trusted hop left of the right-most ones",
			remote: "10.0.0.1:443",
			values: []string{"for=203.0.113.9, for=10.0.0.7, for=_x, for=10.0.0.5, for=10.0.0.2"},
			want:   "10.0.0.5",
		},
		{
			name:   "obfuscated identifier right-most: walk stops, peer returned",
			remote: "10.0.0.1:443",
			values: []string{"for=203.0.113.9, for=_abc"},
			want:   "10.0.0.1",
		},
		{
			name:   "quoted obfuscated identifier with port: walk stops",
			remote: "10.0.0.1:443",
			values: []string{`for=203.0.113.9, for="_hidden:_port"`},
			want:   "10.0.0.1",
		},
		{
			name:   "unknown left of the client is never reached",
			remote: "10.0.0.1:443",
			values: []string{"for=unknown, for=203.0.113.9"},
			want:   "203.0.113.9",
		},
		{
			name:   "bad node left of an untrusted node, then trusted nodes",
			remote: "10.0.0.1:443",
			values: []string{"for=_a, for=203.0.113.9, for=10.0.0.3"},
			want:   "203.0.113.9",
		},
		{
			name:   "multiple parameters",
			remote: "10.0.0.1:443",
			values: []string{"for=203.0.113.9;proto=https;by=10.0.0.1"},
			want:   "203.0.113.9",
		},
		{
			name:   "for= is not the first parameter",
			remote: "10.0.0.1:443",
			values: []string{"proto=https;by=10.0.0.1;for=203.0.113.9;host=example.com"},
			want:   "203.0.113.9",
		},
		{
			name:   "parameter name is case-insensitive: FOR=",
			remote: "10.0.0.1:443",
			values: []string{"FOR=203.0.113.9"},
			want:   "203.0.113.9",
		},
		{
			name:   "parameter name is case-insensitive: For= on a proxy",
			remote: "10.0.0.1:443",
			values: []string{"FOR=203.0.113.9, For=10.0.0.2"},
			want:   "203.0.113.9",
		},
		{
			name:   "elements without for= are skipped",
			remote: "10.0.0.1:443",
			values: []string{"for=203.0.113.9, proto=https;by=10.0.0.2, host=example.com"},
			want:   "203.0.113.9",
		},
		{
			name:   "only elements without for=: peer",
			remote: "10.0.0.1:443",
			values: []string{"proto=https;by=10.0.0.2"},
			want:   "10.0.0.1",
		},
		{
			name:   "by= is not read as for=",
			remote: "10.0.0.1:443",
			values: []string{"by=203.0.113.9"},
			want:   "10.0.0.1",
		},
		{
			name:   "quoted comma and semicolon do not split",
			remote: "10.0.0.1:443",
			values: []string{`for="203.0.113.9";x="a,b;c"`},
			want:   "203.0.113.9",
		},
		{
			name:   "for= inside another parameter's quoted string is not read",
			remote: "10.0.0.1:443",
			values: []string{`for=203.0.113.9, by="x,for=1.1.1.1"`},
			want:   "203.0.113.9",
		},
		{
			name:   "escaped quote in another parameter is honoured",
			remote: "10.0.0.1:443",
			values: []string{`for=1.1.1.1, x="a\",for=6.6.6.6", for=203.0.113.9`},
			want:   "203.0.113.9",
		},
		{
			name:   "bad quoting: unterminated quoted for",
			remote: "10.0.0.1:443",
			values: []string{`for="203.0.113.9`},
			want:   "10.0.0.1",
		},
		{
			name:   "bad quoting: closing quote only",
			remote: "10.0.0.1:443",
			values: []string{`for=203.0.113.9"`},
			want:   "10.0.0.1",
		},
		{
			name:   "bad quoting: text after closing quote",
			remote: "10.0.0.1:443",
			values: []string{`for="203.0.113.9"x`},
			want:   "10.0.0.1",
		},
		{
			name:   "bad quoting: lone quote",
			remote: "10.0.0.1:443",
			values: []string{`for="`},
			want:   "10.0.0.1",
		},
		{
			name:   "bad quoting: escape inside quoted for",
			remote: "10.0.0.1:443",
			values: []string{`for="203.0.113\.9"`},
			want:   "10.0.0.1",
		},
		{
			name:   "bad quoting right of the client stops the walk",
			remote: "10.0.0.1:443",
			values: []string{`for=203.0.113.9, for="10.0.0.2`},
			want:   "10.0.0.1",
		},
		{
			// The client leaves a quoted string open; a proxy that appends
			// its element to the same line gets it swallowed. The result
			// must not be the address the client chose.
			name:   "spoofing attack: client's unterminated quote swallows the proxy's element: peer, not the spoofed for",
			remote: "10.0.0.1:443",
			values: []string{`for=1.1.1.1, x=", for=203.0.113.9`},
			want:   "10.0.0.1",
		},
		{
			name:   "spoofing attack: unterminated quote in a later parameter of the spoofed element: peer",
			remote: "10.0.0.1:443",
			values: []string{`for=1.1.1.1;x=", for=203.0.113.9`},
			want:   "10.0.0.1",
		},
		{
			name:   "unterminated quote does not reach the next line",
			remote: "10.0.0.1:443",
			values: []string{`for=1.1.1.1, x="`, "for=203.0.113.9"},
			want:   "203.0.113.9",
		},
		{
			name:   "unterminated quote, then a trusted hop on the next line",
			remote: "10.0.0.1:443",
			values: []string{`for=1.1.1.1, x="`, "for=10.0.0.2"},
			want:   "10.0.0.2",
		},
		{
			name:   "empty for value is bad",
			remote: "10.0.0.1:443",
			values: []string{"for=203.0.113.9, for="},
			want:   "10.0.0.1",
		},
		{
			name:   "empty elements are skipped",
			remote: "10.0.0.1:443",
			values: []string{"for=203.0.113.9,, ,for=10.0.0.2,"},
			want:   "203.0.113.9",
		},
		{
			name:   "optional whitespace around elements and parameters",
			remote: "10.0.0.1:443",
			values: []string{" for=1.1.1.1 ,\tfor=203.0.113.9 ; proto=https , for=10.0.0.2 "},
			want:   "203.0.113.9",
		},
		{
			name:   "all nodes trusted: left-most node",
			remote: "10.0.0.1:443",
			values: []string{"for=10.0.0.3, for=10.0.0.2"},
			want:   "10.0.0.3",
		},
		{
			name:   "trusted peer without header: peer",
			remote: "10.0.0.1:443",
			want:   "10.0.0.1",
		},
		{
			name:   "trusted peer, only X-Forwarded-For sent: peer",
			remote: "10.0.0.1:443",
			other:  []string{"203.0.113.9"},
			want:   "10.0.0.1",
		},
		{
			name:   "unix socket peer: zero Addr, header ignored",
			remote: "@",
			values: []string{"for=203.0.113.9"},
			want:   "",
		},
	})
}

func TestNewResolverHeader(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   string
	}{
		{name: "X-Forwarded-For", header: HeaderXForwardedFor, want: "198.51.100.1"},
		{name: "Forwarded", header: HeaderForwarded, want: "203.0.113.2"},
		{name: "Forwarded in lower case", header: "forwarded", want: "203.0.113.2"},
		{name: "unknown header name reads X-Forwarded-For", header: "X-Real-IP", want: "198.51.100.1"},
		{name: "empty header name reads X-Forwarded-For", header: "", want: "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv := NewResolver(mustPrefixes(t, testProxies...), tt.header)
			r := newRequest(t, "10.0.0.1:443", HeaderXForwardedFor, "198.51.100.1")
			r.Header.Set(HeaderForwarded, "for=203.0.113.2")
			assertAddr(t, netip.MustParseAddr(tt.want), rv.Resolve(r))
		})
	}
}

func TestNewResolverCopiesPrefixes(t *testing.T) {
	trusted := mustPrefixes(t, "10.0.0.0/8")
	rv := NewResolver(trusted, HeaderXForwardedFor)
	trusted[0] = netip.MustParsePrefix("192.0.2.0/24")

	assert.True(t, rv.Trusted(netip.MustParseAddr("10.1.2.3")), "resolver must keep its own copy")
	assert.False(t, rv.Trusted(netip.MustParseAddr("192.0.2.1")))
}

func TestTrusted(t *testing.T) {
	rv := NewResolver(mustPrefixes(t, testProxies...), HeaderXForwardedFor)
	tests := []struct {
		name string
		addr netip.Addr
		want bool
	}{
		{name: "inside IPv4 prefix", addr: netip.MustParseAddr("10.255.0.1"), want: true},
		{name: "outside IPv4 prefix", addr: netip.MustParseAddr("11.0.0.1")},
		{name: "inside IPv6 prefix", addr: netip.MustParseAddr("2001:db8:1::1"), want: true},
		{name: "outside IPv6 prefix", addr: netip.MustParseAddr("2001:db9::1")},
		{name: "zero Addr", addr: netip.Addr{}},
		{name: "4in6 is not matched by an IPv4 prefix (callers normalize)", addr: netip.MustParseAddr("::ffff:10.0.0.1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, rv.Trusted(tt.addr))
		})
	}
}

func TestPeerTrusted(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		remote  string
		want    bool
	}{
		{name: "trusted IPv4 peer", trusted: testProxies, remote: "10.0.0.1:443", want: true},
		{name: "trusted 4in6 peer", trusted: testProxies, remote: "[::ffff:10.0.0.1]:443", want: true},
		{name: "trusted IPv6 peer", trusted: testProxies, remote: "[2001:db8::1]:443", want: true},
		{name: "untrusted peer", trusted: testProxies, remote: "203.0.113.9:443"},
		{name: "unix socket peer", trusted: testProxies, remote: "@"},
		{name: "no trusted proxies", remote: "10.0.0.1:443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv := NewResolver(mustPrefixes(t, tt.trusted...), HeaderXForwardedFor)
			r := newRequest(t, tt.remote, HeaderXForwardedFor)
			assert.Equal(t, tt.want, rv.PeerTrusted(r))
		})
	}
}

// node is one hop for the differential test, written the way each header
// would carry it.
type node struct {
	xff string // X-Forwarded-For entry
	fwd string // Forwarded element
}

// diffPool mixes trusted and untrusted hops, IPv4 and IPv6, ports, 4in6 and
// nodes that are not IP addresses.
var diffPool = []node{
	{xff: "10.0.0.2", fwd: "for=10.0.0.2"},
	{xff: "10.1.2.3:8080", fwd: `for="10.1.2.3:8080"`},
	{xff: "::ffff:10.0.0.9", fwd: `for="[::ffff:10.0.0.9]"`},
	{xff: "2001:db8::2", fwd: `for="[2001:db8::2]"`},
	{xff: "[2001:db8::3]:443", fwd: `for="[2001:db8::3]:443";proto=https`},
	{xff: "203.0.113.9", fwd: "for=203.0.113.9"},
	{xff: "198.51.100.7:1234", fwd: `FOR="198.51.100.7:1234"`},
	{xff: "::ffff:192.0.2.44", fwd: `for="[::ffff:192.0.2.44]"`},
	{xff: "3fff::1", fwd: `proto=http;for="[3fff::1]"`},
	{xff: "[3fff::2]:80", fwd: `for="[3fff::2]:80";by=_proxy`},
	{xff: "unknown", fwd: "for=unknown"},
	{xff: "_hidden", fwd: `for="_hidden"`},
	{xff: "garbage", fwd: "for=garbage;proto=https"},
	{xff: "1.2.3.4:", fwd: `for="1.2.3.4:"`},
}

// TestWalkDifferential checks that walkForwarded and walkXFF agree on the
// same list of hops, split into header lines the same way.
func TestWalkDifferential(t *testing.T) {
	rv := NewResolver(mustPrefixes(t, testProxies...), HeaderXForwardedFor)
	peers := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")}
	rng := rand.New(rand.NewPCG(7239, 9110))

	for i := range 5000 {
		n := rng.IntN(9)
		hops := make([]node, n)
		for k := range hops {
			hops[k] = diffPool[rng.IntN(len(diffPool))]
		}
		var xffLines, fwdLines []string
		var xff, fwd []string
		for k, h := range hops {
			xff = append(xff, h.xff)
			fwd = append(fwd, h.fwd)
			if rng.IntN(4) == 0 { // empty list elements / elements without for=
				xff = append(xff, "")
				fwd = append(fwd, "proto=https")
			}
			if k == len(hops)-1 || rng.IntN(3) == 0 { // end of a header line
				xffLines = append(xffLines, strings.Join(xff, ", "))
				fwdLines = append(fwdLines, strings.Join(fwd, ", "))
				xff, fwd = nil, nil
			}
		}
		peer := peers[rng.IntN(len(peers))]

		wantXFF := rv.walkXFF(xffLines, peer)
		gotFwd := rv.walkForwarded(fwdLines, peer)
		if !assertAddr(t, wantXFF, gotFwd, "case %d\nX-Forwarded-For: %q\nForwarded: %q", i, xffLines, fwdLines) {
			return
		}
	}
}

func TestFromContext(t *testing.T) {
	a := netip.MustParseAddr("203.0.113.9")
	b := netip.MustParseAddr("3fff::1")
	tests := []struct {
		name   string
		ctx    context.Context
		want   netip.Addr
		wantOK bool
	}{
		{name: "nothing stored", ctx: context.Background()},
		{name: "stored", ctx: NewContext(context.Background(), a), want: a, wantOK: true},
		{name: "inner store wins", ctx: NewContext(NewContext(context.Background(), a), b), want: b, wantOK: true},
		{name: "stored zero Addr is reported as stored", ctx: NewContext(context.Background(), netip.Addr{}), wantOK: true},
		{
			name:   "found through an outer WithValue",
			ctx:    context.WithValue(NewContext(context.Background(), a), otherKey{}, "v"),
			want:   a,
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FromContext(tt.ctx)
			assert.Equal(t, tt.wantOK, ok)
			assertAddr(t, tt.want, got)
		})
	}
}

func TestFromRequest(t *testing.T) {
	stored := netip.MustParseAddr("203.0.113.9")
	tests := []struct {
		name   string
		remote string
		store  bool
		want   string
	}{
		{name: "stored value wins over RemoteAddr", remote: "10.0.0.1:443", store: true, want: "203.0.113.9"},
		{name: "no stored value: RemoteAddr", remote: "198.51.100.7:443", want: "198.51.100.7"},
		{name: "no stored value: 4in6 RemoteAddr unmapped", remote: "[::ffff:198.51.100.7]:443", want: "198.51.100.7"},
		{name: "no stored value: unix socket gives zero Addr", remote: "@", want: ""},
		{name: "stored value wins over unix socket", remote: "@", store: true, want: "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(t, tt.remote, HeaderXForwardedFor, "1.1.1.1")
			r.Header.Set(HeaderForwarded, "for=1.1.1.1")
			if tt.store {
				r = r.WithContext(NewContext(r.Context(), stored))
			}
			got := FromRequest(r)
			assertAddr(t, addrOrZero(t, tt.want), got)
			assert.NotEqual(t, netip.MustParseAddr("1.1.1.1"), got, "FromRequest must never read forwarding headers")
		})
	}
}

type otherKey struct{}

func TestNewContextPassesValuesThrough(t *testing.T) {
	a := netip.MustParseAddr("203.0.113.9")
	parent := context.WithValue(context.Background(), otherKey{}, "outer")
	ctx := NewContext(parent, a)

	assert.Equal(t, "outer", ctx.Value(otherKey{}), "outer value must be found through addrCtx")
	assert.Nil(t, ctx.Value("missing"))

	got, ok := FromContext(context.WithValue(ctx, otherKey{}, "inner"))
	require.True(t, ok)
	assertAddr(t, a, got)
}

func TestNewContextPropagatesCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("client went away")
		parent, cancel := context.WithCancelCause(context.Background())
		ctx := NewContext(parent, netip.MustParseAddr("203.0.113.9"))
		child, cancelChild := context.WithCancel(ctx)
		defer cancelChild()

		require.NoError(t, ctx.Err())
		assert.Equal(t, parent.Done(), ctx.Done(), "addrCtx must expose the parent's Done channel")

		cancel(cause)
		<-child.Done() // synctest reports a deadlock if cancellation does not arrive
		<-ctx.Done()

		assert.ErrorIs(t, ctx.Err(), context.Canceled)
		assert.ErrorIs(t, child.Err(), context.Canceled)
		assert.ErrorIs(t, context.Cause(child), cause, "cause must propagate through addrCtx")
		a, ok := FromContext(child)
		assert.True(t, ok)
		assertAddr(t, netip.MustParseAddr("203.0.113.9"), a)
	})
}

func TestNewContextChildCancelDoesNotCancelParent(t *testing.T) {
	ctx := NewContext(context.Background(), netip.MustParseAddr("203.0.113.9"))
	child, cancel := context.WithCancel(ctx)
	cancel()

	assert.ErrorIs(t, child.Err(), context.Canceled)
	assert.NoError(t, ctx.Err())
}

func TestNewContextPropagatesDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ctx := NewContext(parent, netip.MustParseAddr("203.0.113.9"))

		want, ok := parent.Deadline()
		require.True(t, ok)
		got, ok := ctx.Deadline()
		require.True(t, ok, "addrCtx must expose the parent's deadline")
		assert.Equal(t, want, got)

		child, cancelChild := context.WithCancel(ctx)
		defer cancelChild()
		<-child.Done() // fake time advances to the deadline
		assert.ErrorIs(t, child.Err(), context.DeadlineExceeded)
	})
}

func TestAddrCtxString(t *testing.T) {
	ctx := NewContext(context.Background(), netip.MustParseAddr("203.0.113.9"))
	assert.Equal(t, "clientip.WithValue(203.0.113.9)", fmt.Sprint(ctx))
}

// ctxSink makes contexts built in TestAllocs escape to the heap.
var ctxSink context.Context

func TestAllocs(t *testing.T) {
	xff := NewResolver(mustPrefixes(t, testProxies...), HeaderXForwardedFor)
	fwd := NewResolver(mustPrefixes(t, testProxies...), HeaderForwarded)
	// Requests are built once, outside the measured functions.
	untrusted := newRequest(t, "203.0.113.9:443", HeaderXForwardedFor, "1.1.1.1")
	xff3 := newRequest(t, "10.0.0.1:443", HeaderXForwardedFor, "1.1.1.1, 203.0.113.9, 10.0.0.2")
	xff3v6 := newRequest(t, "[2001:db8::1]:443", HeaderXForwardedFor, "3fff::9, [3fff::1]:80, 2001:db8::2")
	fwd3 := newRequest(t, "10.0.0.1:443", HeaderForwarded,
		`for=1.1.1.1, for="203.0.113.9:80";proto=https, for="[2001:db8::2]"`)
	stored := NewContext(context.Background(), netip.MustParseAddr("203.0.113.9"))
	storedReq := xff3.WithContext(stored)
	var sink netip.Addr

	tests := []struct {
		name     string
		want     float64
		wantAddr string
		fn       func() netip.Addr
	}{
		{
			name: "Resolve untrusted peer", wantAddr: "203.0.113.9",
			fn: func() netip.Addr { return xff.Resolve(untrusted) },
		},
		{
			name: "Resolve trusted peer with 3 X-Forwarded-For entries", wantAddr: "203.0.113.9",
			fn: func() netip.Addr { return xff.Resolve(xff3) },
		},
		{
			name: "Resolve trusted IPv6 peer with 3 X-Forwarded-For entries", wantAddr: "3fff::1",
			fn: func() netip.Addr { return xff.Resolve(xff3v6) },
		},
		{
			name: "Resolve trusted peer with 3 Forwarded elements", wantAddr: "203.0.113.9",
			fn: func() netip.Addr { return fwd.Resolve(fwd3) },
		},
		{
			name: "FromContext", wantAddr: "203.0.113.9",
			fn: func() netip.Addr { a, _ := FromContext(stored); return a },
		},
		{
			name: "FromRequest with stored value", wantAddr: "203.0.113.9",
			fn: func() netip.Addr { return FromRequest(storedReq) },
		},
		{
			name: "FromRequest without stored value", wantAddr: "10.0.0.1",
			fn: func() netip.Addr { return FromRequest(xff3) },
		},
		{
			name: "NewContext allocates only its node", want: 1, wantAddr: "203.0.113.9",
			fn: func() netip.Addr {
				ctxSink = NewContext(context.Background(), sink) // escapes, as on the request path
				a, _ := FromContext(ctxSink)
				return a
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink = netip.MustParseAddr("203.0.113.9")
			require.True(t, assertAddr(t, netip.MustParseAddr(tt.wantAddr), tt.fn()), "precondition: the measured call resolves correctly")
			got := testing.AllocsPerRun(100, func() { sink = tt.fn() })
			assert.Equal(t, tt.want, got, "allocations per call")
		})
	}
}

func TestForwardedTooLong(t *testing.T) {
	rv := NewResolver(mustPrefixes(t, "10.0.0.0/8"), HeaderForwarded)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:1234"
	long := strings.Repeat("for=10.0.0.9, ", MaxForwardedBytes/14+1) + "for=198.51.100.7"
	require.Greater(t, len(long), MaxForwardedBytes)
	r.Header.Set("Forwarded", long)
	assert.Equal(t, "10.0.0.1", rv.Resolve(r).String(), "an oversized header is not parsed: the trusted peer is returned")

	r.Header.Set("Forwarded", "for=198.51.100.7")
	assert.Equal(t, "198.51.100.7", rv.Resolve(r).String())
}
