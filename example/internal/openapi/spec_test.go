package openapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/openapi"
)

// TestFindRoute: requests are routed as the server's ServeMux routes them.
func TestFindRoute(t *testing.T) {
	s := spec(t)
	for _, tc := range []struct {
		name, method, target string
		op                   string
		params               map[string]string
		err                  error
	}{
		{"root", "GET", "/", "apiRoot", map[string]string{}, nil},
		{"id", "GET", "/api/campaigns/12", "getCampaign", map[string]string{"id": "12"}, nil},
		{"trailing slash twin", "GET", "/api/campaigns/12/", "getCampaign", map[string]string{"id": "12"}, nil},
		{"literal beats wildcard", "GET", "/api/campaigns/approved", "listApprovedCampaigns", map[string]string{}, nil},
		{"a non-number id still routes (the server answers 404)", "GET", "/api/campaigns/x1", "getCampaign", map[string]string{"id": "x1"}, nil},
		{"rest wildcard, unescaped", "GET", "/api/performance/endpoints/GET%20%2Fapi%2Fcampaigns%2F%7Bid%7D", "performanceEndpoint",
			map[string]string{"endpoint": "GET /api/campaigns/{id}"}, nil},
		{"query ignored", "GET", "/api/blog/posts?page=2", "listBlogPosts", map[string]string{}, nil},
		{"slug", "GET", "/api/blog/posts/%D8%B3%D9%84%D8%A7%D9%85", "getBlogPost", map[string]string{"slug": "سلام"}, nil},
		{"HEAD is GET", "HEAD", "/healthz", "healthz", map[string]string{}, nil},
		{"other method", "DELETE", "/api/campaigns/approved", "", nil, routers.ErrMethodNotAllowed},
		{"unknown path", "GET", "/api/nothing", "", nil, routers.ErrPathNotFound},
		{"an empty rest wildcard (the server answers 400)", "GET", "/api/performance/endpoints/", "performanceEndpoint", map[string]string{"endpoint": ""}, nil},
		{"no twin where the server has none", "GET", "/healthz/", "", nil, routers.ErrPathNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://example"+tc.target, nil)
			require.NoError(t, err)
			route, params, err := s.FindRoute(req)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.op, route.Operation.OperationID)
			assert.Equal(t, tc.params, params)
			assert.Same(t, s.T, route.Spec)
		})
	}
}

// TestCheck: Check accepts exchanges the document describes and refuses
// each kind of departure from it.
func TestCheck(t *testing.T) {
	s := spec(t)
	hdr := func(kv ...string) http.Header {
		h := http.Header{"X-Request-Id": {"req-1"}}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	user := map[string]any{"id": 7, "email": "a@sharif.edu", "role": "simple_user", "unit": nil, "faculty": "", "dormitory": "", "council_member_status": "none"}
	problem := func(status int, extra map[string]any) map[string]any {
		p := map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status,
			"detail": "x", "success": false, "request_id": "req-1"}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	withUser := func(kv ...any) map[string]any {
		u := map[string]any{}
		for k, v := range user {
			u[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(u, kv[i].(string))
			} else {
				u[kv[i].(string)] = kv[i+1]
			}
		}
		return u
	}
	type tc struct {
		method, target, token string
		reqBody               string
		status                int
		header                http.Header
		body                  any
	}
	json200 := hdr("Content-Type", "application/json")
	prob := func(status int) http.Header {
		h := hdr("Content-Type", "application/problem+json")
		if status == 429 {
			h.Set("Retry-After", "3")
		}
		return h
	}
	good := map[string]tc{
		"a user":              {"GET", "/api/auth/user", "tok", "", 200, json200, user},
		"a 401":               {"GET", "/api/auth/user", "", "", 401, prob(401), problem(401, nil)},
		"a problem extension": {"POST", "/api/auth/verify-code", "", `{"email":1}`, 400, prob(400), problem(400, map[string]any{"valid": false})},
		"a 429":               {"POST", "/api/auth/login", "", `{}`, 429, prob(429), problem(429, map[string]any{"retry_after": 60})},
		"a login with extra request members": {"POST", "/api/auth/login", "", `{"email":"a@sharif.edu","password":"p","faculty":"x"}`, 200, json200,
			map[string]any{"success": true, "token": "t", "access_token": "t", "refresh_token": "r", "expires_at": "2026-01-01T00:00:00Z", "user": user}},
		"a 404 of no route":    {"GET", "/nowhere", "", "", 404, prob(404), problem(404, nil)},
		"a 405 with Allow":     {"DELETE", "/api/auth/login", "", "", 405, hdr("Content-Type", "application/problem+json", "Allow", "POST"), problem(405, nil)},
		"a CORS preflight":     {"OPTIONS", "/api/auth/login", "", "", 204, hdr("Access-Control-Allow-Origin", "http://localhost:3000"), ""},
		"plain text":           {"GET", "/healthz", "", "", 200, hdr("Content-Type", "text/plain; charset=utf-8"), []byte("OK")},
		"a file of any type":   {"GET", "/api/docs/app.js", "", "", 200, hdr("Content-Type", "text/javascript"), []byte("x")},
		"a conditional answer": {"GET", "/api/docs/app.js", "", "", 304, hdr(), []byte{}},
	}
	bad := map[string]tc{
		"a missing member":        {"GET", "/api/auth/user", "tok", "", 200, json200, withUser("email", nil)},
		"an unlisted member":      {"GET", "/api/auth/user", "tok", "", 200, json200, withUser("password", "h")},
		"a wrong type":            {"GET", "/api/auth/user", "tok", "", 200, json200, withUser("id", "7")},
		"null where not nullable": {"GET", "/api/auth/user", "tok", "", 200, json200, withUser("faculty", json.RawMessage("null"))},
		"an undocumented status":  {"GET", "/api/auth/user", "tok", "", 409, prob(409), problem(409, nil)},
		"a problem as JSON":       {"GET", "/api/auth/user", "", "", 401, hdr("Content-Type", "application/json"), problem(401, nil)},
		"no X-Request-ID":         {"GET", "/api/auth/user", "tok", "", 200, http.Header{"Content-Type": {"application/json"}}, user},
		"no Retry-After":          {"POST", "/api/auth/login", "", `{}`, 429, hdr("Content-Type", "application/problem+json"), problem(429, nil)},
		"a problem without detail": {"GET", "/api/auth/user", "", "", 401, prob(401),
			map[string]any{"type": "about:blank", "title": "Unauthorized", "status": 401, "success": false, "request_id": "r"}},
		"a success without the token":   {"GET", "/api/auth/user", "", "", 200, json200, user},
		"a success for a refused body":  {"POST", "/api/auth/check-email", "", `{"email": 1.5}`, 200, json200, map[string]any{"exists": false}},
		"a success for a bad query":     {"GET", "/api/blog/posts?page=0", "", "", 200, json200, map[string]any{"success": true, "posts": []any{}, "pagination": map[string]any{"page": 1, "page_size": 10, "total_count": 0, "total_pages": 0}}},
		"a 200 from nowhere":            {"GET", "/nowhere", "", "", 200, json200, map[string]any{}},
		"a 404 of no route as HTML":     {"GET", "/nowhere", "", "", 404, hdr("Content-Type", "text/html"), []byte("<p>not found</p>")},
		"a 405 without Allow":           {"DELETE", "/api/auth/login", "", "", 405, prob(405), problem(405, nil)},
		"a wrong constant":              {"GET", "/healthz", "", "", 200, hdr("Content-Type", "text/plain"), []byte("fine")},
		"a problem status out of range": {"GET", "/api/auth/user", "", "", 401, prob(401), problem(401, map[string]any{"status": 200})},
	}
	run := func(c tc) error {
		var body []byte
		if c.reqBody != "" {
			body = []byte(c.reqBody)
		}
		req, err := http.NewRequest(c.method, "http://example"+c.target, strings.NewReader(c.reqBody))
		require.NoError(t, err)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.method == "OPTIONS" {
			req.Header.Set("Origin", "http://localhost:3000")
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		raw, ok := c.body.([]byte)
		if !ok {
			raw, err = json.Marshal(c.body)
			require.NoError(t, err)
		}
		return s.Check(context.Background(), openapi.Exchange{Request: req, RequestBody: body, Status: c.status, Header: c.header, Body: raw})
	}
	for name, c := range good {
		assert.NoError(t, run(c), name)
	}
	for name, c := range bad {
		assert.Error(t, run(c), name)
	}
}
