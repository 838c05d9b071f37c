package ratelimit_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/internal/clientip"
	"github.com/senfi-sharif/senfi/ratelimit"
)

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		"5/m", "100/h", "10/s", "1000/d", "3/10m", "10/s burst 20", " 5 / m ", "5/m burst 5",
		"1/1000d", "1000000/s", "1073741824/d", "1/1000d burst 36000", "1/1000d burst 1000000",
		"", "/", "5", "5/", "/m", "0/m", "-1/m", "+5/m", "5/0m", "5/1001m", "5/M", "5/w", "5/m burst",
		"5/m burst 0", "5/m burst -1", "5/m  burst 3", "5/m\tburst 3", "5/m burst 3 burst 4",
		"99999999999999999999/s", "5/99999999999999999999s", "5/m burst 99999999999999999999",
		"1e3/m", "0x10/m", "５/m", "5/m\x00", "3 per 1.5s",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ratelimit.ParsePolicy(s)
		if err != nil {
			if !errors.Is(err, ratelimit.ErrInvalidPolicy) {
				t.Fatalf("ParsePolicy(%q): error %v does not wrap ErrInvalidPolicy", s, err)
			}
			if p != (ratelimit.Policy{}) {
				t.Fatalf("ParsePolicy(%q) failed but returned %+v", s, p)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParsePolicy(%q) = %+v, which does not validate: %v", s, p, err)
		}
		// Round trip through String.
		str := p.String()
		again, err := ratelimit.ParsePolicy(str)
		if err != nil {
			t.Fatalf("ParsePolicy(%q) = %+v, String = %q, which does not parse: %v", s, p, str, err)
		}
		if again.Limit != p.Limit || again.Period != p.Period || effectiveBurst(again) != effectiveBurst(p) {
			t.Fatalf("ParsePolicy(%q) = %+v, but ParsePolicy(String() = %q) = %+v", s, p, str, again)
		}
		if again.String() != str {
			t.Fatalf("String is not canonical: %q then %q", str, again.String())
		}
		// GCRA's arithmetic holds: a fresh key has its whole burst, a spent
		// one waits exactly one interval.
		burst, interval := effectiveBurst(p), p.Period/time.Duration(p.Limit)
		tat, d := ratelimit.GCRA(0, now, p)
		if !d.Allowed || d.Remaining != burst-1 || tat != now+int64(interval) || d.ResetAfter != interval {
			t.Fatalf("%v: fresh key: tat %d, %+v", p, tat-now, d)
		}
		spent := now + int64(burst)*int64(interval)
		tat, d = ratelimit.GCRA(spent, now, p)
		if d.Allowed || tat != spent || d.RetryAfter != interval || d.ResetAfter != time.Duration(burst)*interval {
			t.Fatalf("%v: spent key: tat %d, %+v", p, tat-now, d)
		}
		tat, d = ratelimit.GCRA(spent, now+int64(interval), p)
		if !d.Allowed || d.Remaining != 0 || tat != spent+int64(interval) {
			t.Fatalf("%v: one interval later: tat %d, %+v", p, tat-now, d)
		}
	})
}

// spoofableHeaders are forwarding headers KeyByHeader must refuse.
var spoofableHeaders = []string{
	"X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Client-IP", "True-Client-IP", "CF-Connecting-IP",
	"Fastly-Client-IP", "X-Cluster-Client-IP", "X-Forwarded", "Forwarded-For", "X-Originating-IP",
	"X-Remote-IP", "X-Remote-Addr",
}

// FuzzKeys feeds arbitrary addresses and header values to the key
// functions: they never panic, give the same key twice, append to what
// they are given, and KeyByIP never reads a forwarding header.
func FuzzKeys(f *testing.F) {
	for _, s := range [][4]string{
		{"192.0.2.1:1234", "k1", "alice", "GET /items/{id}"},
		{"[2001:db8:1:2::1]:443", "", "", ""},
		{"[::ffff:192.0.2.1]:80", "a|b", "user:x", "/"},
		{"[fe80::1%eth0]:80", "\x00\xff", "\u0645\u0631\u06cc\u0645", "POST /login"},
		{"@", "k", "", ""},
		{"", "", "", ""},
		{"garbage", strings.Repeat("x", 300), strings.Repeat("y", 300), strings.Repeat("z", 300)},
		{"1.2.3.4:5:6", "1.1.1.1", "", "GET example.com/"},
		{"[::1]", "", "0", ""},
		{"::", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], "198.51.100.7")
	}
	f.Fuzz(func(t *testing.T, remoteAddr, headerValue, user, pattern, forwarded string) {
		by48, err := ratelimit.KeyByIPPrefix(24, 48)
		if err != nil {
			t.Fatal(err)
		}
		byHeader, err := ratelimit.KeyByHeader("X-Api-Key")
		if err != nil {
			t.Fatal(err)
		}
		byUser := ratelimit.KeyByUser(func(*http.Request) (string, bool) { return user, user != "" })
		keys := map[string]ratelimit.KeyFunc{
			"KeyByIP":       ratelimit.KeyByIP(),
			"KeyByIPPrefix": by48,
			"KeyByUser":     byUser,
			"KeyByRoute":    ratelimit.KeyByRoute(),
			"KeyByHeader":   byHeader,
			"Compose":       ratelimit.Compose(ratelimit.KeyByRoute(), byUser, byHeader, ratelimit.KeyByIP()),
		}

		plain := &http.Request{Method: http.MethodGet, RemoteAddr: remoteAddr, Pattern: pattern, Header: http.Header{}}
		if headerValue != "" {
			plain.Header["X-Api-Key"] = []string{headerValue}
		}
		spoofed := plain.Clone(plain.Context())
		for _, h := range spoofableHeaders {
			spoofed.Header[http.CanonicalHeaderKey(h)] = []string{forwarded}
		}
		prefix := []byte("name:")

		for name, kf := range keys {
			k1, err1 := kf(plain, append([]byte(nil), prefix...))
			k2, err2 := kf(plain, append(make([]byte, 0, 256), prefix...))
			k3, err3 := kf(spoofed, append([]byte(nil), prefix...))
			if err1 != nil || err2 != nil || err3 != nil {
				t.Fatalf("%s: errors %v, %v, %v", name, err1, err2, err3)
			}
			if !bytes.Equal(k1, k2) {
				t.Fatalf("%s: not deterministic: %q then %q", name, k1, k2)
			}
			if !bytes.HasPrefix(k1, prefix) || len(k1) == len(prefix) {
				t.Fatalf("%s: %q does not extend %q", name, k1, prefix)
			}
			if !bytes.Equal(k1, k3) {
				t.Fatalf("%s: forwarding headers changed the key from %q to %q", name, k1, k3)
			}
		}

		// KeyByIP's key is the normalized peer address, IPv6 as its /64.
		k, _ := ratelimit.KeyByIP()(plain, nil)
		switch a := clientip.Peer(remoteAddr); {
		case !a.IsValid():
			if string(k) != "ip:none" {
				t.Fatalf("KeyByIP(%q) = %q, want ip:none", remoteAddr, k)
			}
		case a.Is4():
			if string(k) != "ip:"+a.String() {
				t.Fatalf("KeyByIP(%q) = %q, want ip:%v", remoteAddr, k, a)
			}
		default:
			want := netip.PrefixFrom(a, 64).Masked()
			if string(k) != "ip:"+want.String() {
				t.Fatalf("KeyByIP(%q) = %q, want ip:%v", remoteAddr, k, want)
			}
		}
	})
}

// FuzzKeyByHeader checks that no spelling of a forwarding header gets
// past KeyByHeader.
func FuzzKeyByHeader(f *testing.F) {
	for _, h := range append(spoofableHeaders, "x-forwarded-for", " X-REAL-IP\t", "X-Api-Key", "Authorization", "", "a b", "X_Forwarded_For") {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, name string) {
		kf, err := ratelimit.KeyByHeader(name)
		if err != nil {
			if kf != nil {
				t.Fatalf("KeyByHeader(%q) failed but returned a KeyFunc", name)
			}
			return
		}
		trimmed := strings.TrimSpace(name)
		for _, h := range spoofableHeaders {
			if asciiEqualFold(trimmed, h) {
				t.Fatalf("KeyByHeader(%q) accepted a forwarding header", name)
			}
		}
		r := &http.Request{RemoteAddr: "192.0.2.1:1", Header: http.Header{}}
		if _, err := kf(r, nil); err != nil {
			t.Fatalf("KeyByHeader(%q): %v", name, err)
		}
	})
}

// asciiEqualFold is strings.EqualFold for ASCII only: header names are
// tokens, and Go's server never folds "ſ" into "s" in them.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
