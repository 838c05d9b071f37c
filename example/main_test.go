package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func newTestServer(t *testing.T, env map[string]string) *httptest.Server {
	t.Helper()
	cfg, err := loadConfig(lookup(env))
	require.NoError(t, err)
	h, connContext, err := newHandler(cfg)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnContext = connContext
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	require.NoError(t, err)
	req.Host = "localhost"
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestDevelopmentServer(t *testing.T) {
	srv := newTestServer(t, nil)

	resp, body := do(t, srv, "GET", "/", nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"name":"Senfi API","version":"1.0.0","health":"/health/"}`, body)
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	assert.Empty(t, resp.Header.Get("Strict-Transport-Security"), "no HSTS in development")
	assert.Empty(t, resp.Header.Get("Server"))

	resp, body = do(t, srv, "GET", "/health/", nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "OK", body)

	resp, body = do(t, srv, "GET", "/nope", nil)
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	assert.EqualValues(t, 404, p["status"])

	resp, _ = do(t, srv, "GET", "/", map[string]string{"Host": "evil.example"})
	assert.Equal(t, 400, resp.StatusCode)

	resp, _ = do(t, srv, "OPTIONS", "/api/auth/login", map[string]string{
		"Origin":                         "http://localhost:3000",
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "authorization,content-type",
	})
	assert.Equal(t, 204, resp.StatusCode)
	assert.Equal(t, "http://localhost:3000", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
}

func TestProductionServer(t *testing.T) {
	srv := newTestServer(t, map[string]string{
		"SENFI_ENV":                   "production",
		"DJANGO_ALLOWED_HOSTS":        "localhost",
		"DJANGO_CORS_ALLOWED_ORIGINS": "https://senfi.sharif.ir",
		"DJANGO_SECURE_HSTS_SECONDS":  "31536000",
	})
	resp, _ := do(t, srv, "GET", "/health/?x=1", nil)
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode, "plain HTTP is redirected in production")
	assert.Equal(t, "https://localhost/health/?x=1", resp.Header.Get("Location"))
}

func TestConfigRefusals(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad env", map[string]string{"SENFI_ENV": "staging"}, "SENFI_ENV"},
		{"production without hosts", map[string]string{"SENFI_ENV": "production"}, "SENFI_ALLOWED_HOSTS"},
		{"bad variable", map[string]string{"SENFI_HSTS_SECONDS": "a year"}, "SENFI_HSTS_SECONDS"},
		{"bad alias", map[string]string{"DJANGO_SECURE_SSL_REDIRECT": "maybe"}, "DJANGO_SECURE_SSL_REDIRECT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(lookup(tt.env))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	t.Run("allow all origins with credentials", func(t *testing.T) {
		cfg, err := loadConfig(lookup(map[string]string{"DJANGO_CORS_ALLOW_ALL_ORIGINS": "True"}))
		require.NoError(t, err)
		_, _, err = newHandler(cfg)
		require.Error(t, err, "the original echoed any Origin with credentials; we refuse")
		assert.Contains(t, err.Error(), "AllowCredentials")
	})
}
