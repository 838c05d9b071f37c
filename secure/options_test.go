package secure_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/secure"
)

func TestNewRefusals(t *testing.T) {
	hosts := []string{"api.example.com"}
	tests := []struct {
		name string
		opts secure.Options
		want string // a fragment of the error naming the option
	}{
		{"no hosts", secure.Options{}, "AllowedHosts is empty"},
		{"star host", secure.Options{AllowedHosts: []string{"*"}}, "AllowAnyHost"},
		{"host with port", secure.Options{AllowedHosts: []string{"example.com:8000"}}, "without a port"},
		{"bad host", secure.Options{AllowedHosts: []string{"exa mple.com"}}, "not a host name"},
		{"bad wildcard host", secure.Options{AllowedHosts: []string{"*.com"}}, "at least two labels"},
		{"trust everyone v4", secure.Options{AllowedHosts: hosts, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, "trusts every address"},
		{"trust everyone v6", secure.Options{AllowedHosts: hosts, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::/0")}}, "trusts every address"},
		{"invalid prefix", secure.Options{AllowedHosts: hosts, TrustedProxies: []netip.Prefix{{}}}, "not a valid prefix"},
		{"ip header", secure.Options{AllowedHosts: hosts, ClientIPHeader: "X-Real-IP"}, "ClientIPHeader"},
		{"negative hsts", secure.Options{AllowedHosts: hosts, STSSeconds: -1}, "STSSeconds"},
		{"preload without subdomains", secure.Options{AllowedHosts: hosts, STSPreload: true, STSExcludeSubdomains: true}, "STSPreload"},
		{"preload short", secure.Options{AllowedHosts: hosts, STSPreload: true, STSSeconds: 60}, "STSPreload"},
		{"frame allow-from", secure.Options{AllowedHosts: hosts, FrameOptions: "ALLOW-FROM https://x"}, "FrameOptions"},
		{"referrer", secure.Options{AllowedHosts: hosts, ReferrerPolicy: "always"}, "ReferrerPolicy"},
		{"coop", secure.Options{AllowedHosts: hosts, CrossOriginOpenerPolicy: "open"}, "CrossOriginOpenerPolicy"},
		{"coep", secure.Options{AllowedHosts: hosts, CrossOriginEmbedderPolicy: "x"}, "CrossOriginEmbedderPolicy"},
		{"corp", secure.Options{AllowedHosts: hosts, CrossOriginResourcePolicy: "x"}, "CrossOriginResourcePolicy"},
		{"csp control chars", secure.Options{AllowedHosts: hosts, ContentSecurityPolicy: "default-src 'self'\r\nX-Evil: 1"}, "control characters"},
		{"omit unknown", secure.Options{AllowedHosts: hosts, OmitHeaders: []string{"Server"}}, "OmitHeaders"},
		{"cors star credentials", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"*"}, AllowCredentials: true}}, "AllowCredentials"},
		{"cors star and more", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"*", "https://a.example"}}}, "already allows"},
		{"cors null", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"null"}}}, "null origin"},
		{"cors trailing slash", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"https://app.example.com/"}}}, "trailing slash"},
		{"cors path", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"https://app.example.com/app"}}}, "has a path"},
		{"cors scheme", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"ftp://app.example.com"}}}, "scheme"},
		{"cors no scheme", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"app.example.com"}}}, "scheme"},
		{"cors mid wildcard", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"https://app.*.example.com"}}}, "valid host"},
		{"cors tld wildcard", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"https://*.com"}}}, "wildcard"},
		{"cors userinfo", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"https://u@app.example.com"}}}, "only scheme"},
		{"cors max age", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"https://a.example"}, MaxAge: -time.Second}}, "MaxAge"},
		{"cors header", secure.Options{AllowedHosts: hosts, CORS: secure.CORSOptions{AllowedOrigins: []string{"https://a.example"}, AllowedHeaders: []string{"X Bad"}}}, "header name"},
		{"trusted origins without protection", secure.Options{AllowedHosts: hosts, CrossOriginTrustedOrigins: []string{"https://a.example"}}, "CrossOriginProtection is off"},
		{"bad trusted origin", secure.Options{AllowedHosts: hosts, CrossOriginProtection: true, CrossOriginTrustedOrigins: []string{"https://a.example/path"}}, "CrossOriginTrustedOrigins"},
		{"negative body", secure.Options{AllowedHosts: hosts, MaxBodyBytes: -1}, "MaxBodyBytes"},
		{"ssl host", secure.Options{AllowedHosts: hosts, SSLHost: "https://x"}, "SSLHost"},
		{"ssl proxy header", secure.Options{AllowedHosts: hosts, SSLProxyHeaders: map[string]string{"Bad Header": "https"}}, "SSLProxyHeaders"},
		{"hosts proxy header", secure.Options{AllowedHosts: hosts, HostsProxyHeaders: []string{"X:Host"}}, "HostsProxyHeaders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := secure.New(tt.opts)
			require.Error(t, err)
			assert.Nil(t, g)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := secure.New(secure.Options{
		STSSeconds:   -1,
		FrameOptions: "x",
		CORS:         secure.CORSOptions{AllowedOrigins: []string{"null"}},
	})
	require.Error(t, err)
	for _, want := range []string{"AllowedHosts", "STSSeconds", "FrameOptions", "null origin"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name string
		opts secure.Options
	}{
		{"hosts", secure.Options{AllowedHosts: []string{"api.example.com", ".example.org", "*.example.net", "127.0.0.1", "::1", "[2001:db8::1]"}}},
		{"any host", secure.Options{AllowAnyHost: true}},
		{"development", secure.Development()},
		{"proxies", secure.Options{AllowAnyHost: true, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::ffff:192.0.2.0/120")}, ClientIPHeader: "forwarded"}},
		{"cors", secure.Options{AllowAnyHost: true, CORS: secure.CORSOptions{AllowedOrigins: []string{"https://APP.example.com", "https://*.example.org", "http://localhost:3000"}, AllowCredentials: true}}},
		{"cors star", secure.Options{AllowAnyHost: true, CORS: secure.CORSOptions{AllowedOrigins: []string{"*"}}}},
		{"preload", secure.Options{AllowAnyHost: true, STSPreload: true, STSSeconds: 63072000}},
		{"omit everything", secure.Options{AllowAnyHost: true, OmitHeaders: secure.PresetHeaders}},
		{"cross-origin protection", secure.Options{AllowAnyHost: true, CrossOriginProtection: true, CrossOriginTrustedOrigins: []string{"https://a.example"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := secure.New(tt.opts)
			require.NoError(t, err)
			assert.NotNil(t, g)
		})
	}
}
