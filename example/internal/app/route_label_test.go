package app

import "testing"

func TestRouteLabel(t *testing.T) {
	for pattern, want := range map[string]string{
		"/":                           "",
		"GET /{$}":                    "GET /{$}",
		"/{$}":                        "/{$}",
		"GET /api/campaigns/{$}":      "GET /api/campaigns",
		"GET /api/campaigns/{id}":     "GET /api/campaigns/{id}",
		"POST /api/auth/login":        "POST /api/auth/login",
		"GET /api/performance/{$}x":   "GET /api/performance/{$}x",
		"GET /api/schema/{$}":         "GET /api/schema",
		"DELETE /api/user/me/":        "DELETE /api/user/me/",
		"GET example.org/healthz/{$}": "GET example.org/healthz",
	} {
		if got := routeLabel(pattern); got != want {
			t.Errorf("routeLabel(%q) = %q, want %q", pattern, got, want)
		}
	}
}
