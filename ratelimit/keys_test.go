package ratelimit_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/internal/clientip"
	"github.com/senfi-sharif/senfi/ratelimit"
)

// keyOf returns the key kf gives r.
func keyOf(t testing.TB, kf ratelimit.KeyFunc, r *http.Request) string {
	t.Helper()
	k, err := kf(r, nil)
	require.NoError(t, err)
	return string(k)
}

// newKeyRequest returns a GET request from remoteAddr with the given
// header pairs.
func newKeyRequest(remoteAddr string, header ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://api.example.com/x", nil)
	r.RemoteAddr = remoteAddr
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

// withClientIP returns r as secure's client-IP middleware hands it on,
// with a the resolved address.
func withClientIP(r *http.Request, a string) *http.Request {
	return r.WithContext(clientip.NewContext(r.Context(), netip.MustParseAddr(a)))
}

func TestKeyByIP(t *testing.T) {
	tests := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"IPv4 with port", newKeyRequest("192.0.2.1:1234"), "ip:192.0.2.1"},
		{"IPv4 without port", newKeyRequest("192.0.2.1"), "ip:192.0.2.1"},
		{"IPv6 grouped by /64", newKeyRequest("[2001:db8:1:2:3:4:5:6]:443"), "ip:2001:db8:1:2::/64"},
		{"IPv6 same /64", newKeyRequest("[2001:db8:1:2::1]:443"), "ip:2001:db8:1:2::/64"},
		{"IPv6 next /64", newKeyRequest("[2001:db8:1:3::1]:443"), "ip:2001:db8:1:3::/64"},
		{"IPv4-mapped IPv6 is IPv4", newKeyRequest("[::ffff:192.0.2.1]:80"), "ip:192.0.2.1"},
		{"zone dropped", newKeyRequest("[fe80::1%eth0]:80"), "ip:fe80::/64"},
		{"Unix socket", newKeyRequest("@"), "ip:none"},
		{"no address", newKeyRequest(""), "ip:none"},
		{"garbage", newKeyRequest("not an address"), "ip:none"},
		{
			"forwarding headers ignored",
			newKeyRequest("192.0.2.1:1234", "X-Forwarded-For", "198.51.100.7", "X-Real-IP", "198.51.100.8",
				"Forwarded", "for=198.51.100.9", "True-Client-IP", "198.51.100.10"),
			"ip:192.0.2.1",
		},
		{"address resolved by secure", withClientIP(newKeyRequest("10.0.0.1:443"), "198.51.100.7"), "ip:198.51.100.7"},
		{"resolved IPv6", withClientIP(newKeyRequest("10.0.0.1:443"), "2001:db8::7"), "ip:2001:db8::/64"},
		{"resolved as no address", newKeyRequest("192.0.2.1:1").WithContext(
			clientip.NewContext(context.Background(), netip.Addr{})), "ip:none"},
	}
	kf := ratelimit.KeyByIP()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, keyOf(t, kf, tt.r))
		})
	}
}

func TestKeyFuncAppends(t *testing.T) {
	kf := ratelimit.KeyByIP()
	dst := append(make([]byte, 0, 64), "login:"...)
	got, err := kf(newKeyRequest("192.0.2.1:1"), dst)
	require.NoError(t, err)
	assert.Equal(t, "login:ip:192.0.2.1", string(got))
	assert.Same(t, &dst[:1][0], &got[:1][0], "the key is appended in place")
}

func TestKeyByIPPrefix(t *testing.T) {
	tests := []struct {
		name       string
		ipv4, ipv6 int
		remote     string
		want       string
	}{
		{"IPv4 /24", 24, 48, "192.0.2.1:1", "ip:192.0.2.0/24"},
		{"IPv4 /24 other host", 24, 48, "192.0.2.200:1", "ip:192.0.2.0/24"},
		{"IPv4 /24 other network", 24, 48, "192.0.3.1:1", "ip:192.0.3.0/24"},
		{"IPv6 /48", 24, 48, "[2001:db8:1:2::1]:1", "ip:2001:db8:1::/48"},
		{"IPv6 /48 other /64", 24, 48, "[2001:db8:1:3::1]:1", "ip:2001:db8:1::/48"},
		{"IPv6 /48 other /48", 24, 48, "[2001:db8:2::1]:1", "ip:2001:db8:2::/48"},
		{"IPv6 /56", 32, 56, "[2001:db8:1:2ff::1]:1", "ip:2001:db8:1:200::/56"},
		{"whole addresses", 32, 128, "[2001:db8:1:2::1]:1", "ip:2001:db8:1:2::1"},
		{"whole IPv4", 32, 128, "192.0.2.1:1", "ip:192.0.2.1"},
		{"one bit", 1, 1, "192.0.2.1:1", "ip:128.0.0.0/1"},
		{"one bit IPv6", 1, 1, "[2001:db8::1]:1", "ip:::/1"},
		{"mapped IPv4 uses the IPv4 prefix", 24, 48, "[::ffff:192.0.2.1]:1", "ip:192.0.2.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kf, err := ratelimit.KeyByIPPrefix(tt.ipv4, tt.ipv6)
			require.NoError(t, err)
			assert.Equal(t, tt.want, keyOf(t, kf, newKeyRequest(tt.remote)))
		})
	}
}

func TestKeyByIPPrefixInvalid(t *testing.T) {
	tests := []struct {
		name       string
		ipv4, ipv6 int
	}{
		{"IPv4 zero", 0, 64},
		{"IPv4 negative", -1, 64},
		{"IPv4 too long", 33, 64},
		{"IPv6 zero", 32, 0},
		{"IPv6 too long", 32, 129},
		{"both", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kf, err := ratelimit.KeyByIPPrefix(tt.ipv4, tt.ipv6)
			assert.Error(t, err)
			assert.Nil(t, kf)
		})
	}
}

// userCtxKey carries a test user in the request context.
type userCtxKey struct{}

func userFromContext(r *http.Request) (string, bool) {
	id, ok := r.Context().Value(userCtxKey{}).(string)
	return id, ok
}

func withUser(r *http.Request, id string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), userCtxKey{}, id))
}

func TestKeyByUser(t *testing.T) {
	tests := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"authenticated", withUser(newKeyRequest("192.0.2.1:1"), "42"), "user:42"},
		{"same user elsewhere", withUser(newKeyRequest("198.51.100.7:1"), "42"), "user:42"},
		{"anonymous falls back to IP", newKeyRequest("192.0.2.1:1"), "ip:192.0.2.1"},
		{"empty id falls back to IP", withUser(newKeyRequest("192.0.2.1:1"), ""), "ip:192.0.2.1"},
		{"anonymous IPv6 grouped by /64", newKeyRequest("[2001:db8::1]:1"), "ip:2001:db8::/64"},
		{"anonymous behind a proxy", withClientIP(newKeyRequest("10.0.0.1:1"), "198.51.100.7"), "ip:198.51.100.7"},
	}
	kf := ratelimit.KeyByUser(userFromContext)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, keyOf(t, kf, tt.r))
		})
	}
}

// TestKeyByRoute runs the key function behind a real ServeMux, which sets
// r.Pattern on the request it hands the matched handler.
func TestKeyByRoute(t *testing.T) {
	kf := ratelimit.KeyByRoute()
	var got string
	record := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = keyOf(t, kf, r) })
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}", record)
	mux.Handle("POST /login", record)
	mux.Handle("/", record)

	tests := []struct {
		name, method, target, want string
	}{
		{"pattern with wildcard", http.MethodGet, "/items/1", "route:GET /items/{id}"},
		{"same pattern, other path", http.MethodGet, "/items/2?x=1", "route:GET /items/{id}"},
		{"other pattern", http.MethodPost, "/login", "route:POST /login"},
		{"catch-all", http.MethodGet, "/anything/at/all", "route:/"},
		{"attacker paths share the catch-all", http.MethodGet, "/random-7f3a9c", "route:/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = ""
			mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tt.method, tt.target, nil))
			assert.Equal(t, tt.want, got)
		})
	}

	t.Run("outside a mux every request shares one key", func(t *testing.T) {
		assert.Equal(t, "route:", keyOf(t, kf, newKeyRequest("192.0.2.1:1")))
	})
}

func TestKeyByHeader(t *testing.T) {
	kf, err := ratelimit.KeyByHeader("x-api-key")
	require.NoError(t, err)
	tests := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"header", newKeyRequest("192.0.2.1:1", "X-Api-Key", "k1"), "hdr:X-Api-Keyk1"},
		{"same key elsewhere", newKeyRequest("198.51.100.7:1", "X-API-KEY", "k1"), "hdr:X-Api-Keyk1"},
		{"first value", newKeyRequest("192.0.2.1:1", "X-Api-Key", "k1", "X-Api-Key", "k2"), "hdr:X-Api-Keyk1"},
		{"missing falls back to IP", newKeyRequest("192.0.2.1:1"), "ip:192.0.2.1"},
		{"empty falls back to IP", newKeyRequest("192.0.2.1:1", "X-Api-Key", ""), "ip:192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, keyOf(t, kf, tt.r))
		})
	}
}

// TestKeyByHeaderRefusesSpoofable checks that headers a client can fill
// with any address are refused, however they are spelled.
func TestKeyByHeaderRefusesSpoofable(t *testing.T) {
	for _, name := range []string{
		"X-Forwarded-For", "x-forwarded-for", "X-FORWARDED-FOR", " X-Forwarded-For ",
		"Forwarded", "forwarded", "X-Real-IP", "x-real-ip", "X-Real-Ip",
		"X-Client-IP", "True-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP",
		"X-Cluster-Client-IP", "X-Forwarded", "Forwarded-For", "X-Originating-IP",
		"X-Remote-IP", "X-Remote-Addr",
		"", "   ",
	} {
		t.Run(name, func(t *testing.T) {
			kf, err := ratelimit.KeyByHeader(name)
			assert.Error(t, err)
			assert.Nil(t, kf)
		})
	}
}

func TestCompose(t *testing.T) {
	errKey := errors.New("key failed")
	noKey := func(*http.Request, []byte) ([]byte, error) { return nil, ratelimit.ErrNoKey }
	failing := func(*http.Request, []byte) ([]byte, error) { return nil, errKey }
	r := withUser(newKeyRequest("192.0.2.1:1"), "42")
	r.Pattern = "POST /login"

	tests := []struct {
		name    string
		kf      ratelimit.KeyFunc
		want    string
		wantErr error
	}{
		{"route and IP", ratelimit.Compose(ratelimit.KeyByRoute(), ratelimit.KeyByIP()), "route:POST /login|ip:192.0.2.1", nil},
		{"IP and route", ratelimit.Compose(ratelimit.KeyByIP(), ratelimit.KeyByRoute()), "ip:192.0.2.1|route:POST /login", nil},
		{"three", ratelimit.Compose(ratelimit.KeyByRoute(), ratelimit.KeyByUser(userFromContext), ratelimit.KeyByIP()),
			"route:POST /login|user:42|ip:192.0.2.1", nil},
		{"one", ratelimit.Compose(ratelimit.KeyByIP()), "ip:192.0.2.1", nil},
		{"none", ratelimit.Compose(), "", nil},
		{"ErrNoKey exempts", ratelimit.Compose(ratelimit.KeyByIP(), noKey), "", ratelimit.ErrNoKey},
		{"errors pass through", ratelimit.Compose(failing, ratelimit.KeyByIP()), "", errKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.kf(r, nil)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}

	t.Run("copies its arguments", func(t *testing.T) {
		keys := []ratelimit.KeyFunc{ratelimit.KeyByRoute(), ratelimit.KeyByIP()}
		kf := ratelimit.Compose(keys...)
		keys[0] = noKey
		assert.Equal(t, "route:POST /login|ip:192.0.2.1", keyOf(t, kf, r))
	})
}
