package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/app"
	"github.com/senfi-sharif/senfi/example/internal/openapi"
)

// The OpenAPI contract test has two halves.
//
// TestMain loads the document the app serves (validated by kin-openapi as
// OpenAPI 3.1) and sets responseHook, so that every response of every test
// in this package — the whole end-to-end suite — is checked against it:
// documented status, content type and headers, a body that matches its
// schema, and, for successful exchanges, a request the document allows
// (openapi.Spec.Check says exactly what).
//
// TestOpenAPIContract compares the route table with the document (every
// route documented, every documented route served, with the same methods
// and the trailing-slash twins), checks that the served document is the
// validated one, drives the routes the rest of the suite does not, and
// shows with altered responses that the check fails when it should.

// contract is the document every response is checked against.
var contract *contractCheck

type contractCheck struct {
	spec *openapi.Spec
	doc  *openapi.Document

	mu   sync.Mutex
	seen map[string]map[int]bool // operationId → statuses answered
}

func TestMain(m *testing.M) {
	doc, err := openapi.New(openapi.Options{AppVersion: app.Version})
	if err == nil {
		var spec *openapi.Spec
		if spec, err = doc.Load(context.Background()); err == nil {
			contract = &contractCheck{spec: spec, doc: doc, seen: map[string]map[int]bool{}}
			responseHook = contract.check
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "the OpenAPI document does not load:", err)
		os.Exit(1)
	}
	code := m.Run()
	if testing.Verbose() {
		// The list of operations not exercised means something only when
		// the whole suite ran.
		run := flag.Lookup("test.run")
		contract.report(os.Stdout, run == nil || run.Value.String() == "")
	}
	os.Exit(code)
}

// check is the responseHook: the exchange must match the document, and
// every response carries the app's security headers.
func (c *contractCheck) check(t *testing.T, method, path string, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	var reqBody []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		require.NoError(t, err)
		reqBody, err = io.ReadAll(rc)
		require.NoError(t, err)
	}
	err := c.spec.Check(context.Background(), openapi.Exchange{
		Request: req, RequestBody: reqBody, Status: res.StatusCode, Header: res.Header, Body: body,
	})
	assert.NoError(t, err, "%s %s: the response does not match the OpenAPI document", method, path)
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), "%s %s: security headers on every response", method, path)
	assert.NotEmpty(t, res.Header.Get("Content-Security-Policy"), "%s %s: security headers on every response", method, path)
	if route, _, err := c.spec.FindRoute(req); err == nil {
		c.mu.Lock()
		id := route.Operation.OperationID
		if c.seen[id] == nil {
			c.seen[id] = map[int]bool{}
		}
		c.seen[id][res.StatusCode] = true
		c.mu.Unlock()
	}
}

// report tells, with -v, how many operations the suite exercised, and with
// list which it did not.
func (c *contractCheck) report(w io.Writer, list bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var missed []string
	routes := c.doc.Routes()
	for _, rt := range routes {
		if len(c.seen[rt.OperationID]) == 0 {
			missed = append(missed, rt.Method+" "+rt.Path)
		}
	}
	fmt.Fprintf(w, "openapi contract: %d of %d operations exercised and checked\n", len(routes)-len(missed), len(routes))
	for _, m := range missed {
		if list {
			fmt.Fprintln(w, "  not exercised:", m)
		}
	}
}

// appRoutes are the routes the app registers beside package api's (whose
// Server.Routes lists them): its own (app.go), perf's (observe.go) and the
// documents' (docs.go). The test checks that each is really served.
var appRoutes = []string{
	"GET /{$}", "GET /health", "GET /healthz", "GET /readyz",
	"GET /api/performance/summary", "GET /api/performance/endpoints",
	"GET /api/performance/endpoints/{endpoint...}", "GET /api/performance/slow-requests",
	"GET /api/performance/system-metrics", "GET /api/performance/dashboard",
	"GET /api/performance/dashboard/{asset}",
	"GET /api/schema", "GET /api/docs", "GET /api/docs/{asset}", "GET /api/redoc",
}

// normalize drops a route's trailing-slash form: "GET /health/" and
// "GET /x/{$}" are "GET /health" and "GET /x"; the root stays "GET /{$}".
func normalize(pattern string) string {
	if pattern == "GET /{$}" || pattern == "GET /" {
		return "GET /{$}"
	}
	pattern = strings.TrimSuffix(pattern, "/{$}")
	return strings.TrimSuffix(pattern, "/")
}

// samplePath fills a pattern's wildcards with values that route.
func samplePath(pattern string) string {
	_, path, _ := strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	r := strings.NewReplacer("{id}", "1", "{slug}", "a-post", "{asset}", "app.js", "{endpoint...}", url.PathEscape("GET /api/campaigns/approved"))
	return r.Replace(path)
}

// TestOpenAPIContract: the route table and the document agree, the served
// document is the validated one, the routes the other tests do not reach
// answer as documented, and the check catches what it must.
func TestOpenAPIContract(t *testing.T) {
	s := start(t, backend{name: "sqlite", env: map[string]string{"SENFI_DATABASE_URL": "sqlite://" + t.TempDir() + "/senfi.db"}}, options{})
	mux := s.app.API.Mux()
	doc, spec := contract.doc, contract.spec

	t.Run("every route is documented and every documented route served", func(t *testing.T) {
		var served []string
		for _, p := range s.app.API.Routes() {
			served = append(served, normalize(p))
		}
		for _, p := range appRoutes {
			method, _, _ := strings.Cut(p, " ")
			req, err := http.NewRequest(method, "http://example"+samplePath(p), nil)
			require.NoError(t, err)
			_, got := mux.Handler(req)
			require.Equal(t, p, normalize(got), "the app serves %s (appRoutes is out of date otherwise)", p)
			served = append(served, p)
		}
		var documented []string
		for _, rt := range doc.Routes() {
			documented = append(documented, normalize(rt.Pattern))
		}
		var undocumented, unserved []string
		for _, p := range served {
			if !slices.Contains(documented, p) {
				undocumented = append(undocumented, p)
			}
		}
		for _, p := range documented {
			if !slices.Contains(served, p) {
				unserved = append(unserved, p)
			}
		}
		assert.Empty(t, undocumented, "routes served but not in the OpenAPI document")
		assert.Empty(t, unserved, "routes in the OpenAPI document but not served")
	})

	t.Run("methods and trailing slashes as documented", func(t *testing.T) {
		for _, rt := range doc.Routes() {
			// Both forms, whether or not the route has a twin: the server
			// must serve the slash form exactly when the document says so.
			path := samplePath(rt.Pattern)
			forms := []string{path}
			if path != "/" && !strings.Contains(rt.Pattern, "...}") {
				forms = append(forms, path+"/")
			}
			for _, p := range forms {
				for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
					req, err := http.NewRequest(m, "http://example"+p, nil)
					require.NoError(t, err)
					_, got := mux.Handler(req)
					served := got != "/" && got != "" // "/" is the 404/405 catch-all
					route, _, err := spec.FindRoute(req)
					if err == nil {
						assert.True(t, served, "%s %s is documented (%s) but not served", m, p, route.Operation.OperationID)
					} else {
						assert.False(t, served, "%s %s is served (%s) but not documented", m, p, got)
					}
				}
			}
		}
	})

	t.Run("the served document is the validated one", func(t *testing.T) {
		r := s.expect(200, "GET", "/api/schema/?format=json", "", nil)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		want, err := doc.JSON()
		require.NoError(t, err)
		assert.Equal(t, want, r.Raw)
		assert.Equal(t, openapi.Version, r.JSON["openapi"])

		y := s.expect(200, "GET", "/api/schema/", "", nil)
		assert.Equal(t, "application/yaml; charset=utf-8", y.Header.Get("Content-Type"))
		fromYAML, err := openapi3.NewLoader().LoadFromData(y.Raw)
		require.NoError(t, err, "the YAML form loads")
		a, err := json.Marshal(fromYAML)
		require.NoError(t, err)
		b, err := json.Marshal(spec.T)
		require.NoError(t, err)
		assert.JSONEq(t, string(b), string(a), "YAML and JSON are the same document")

		s.expect(200, "GET", "/api/schema?format=yaml", "", nil)
		s.expect(400, "GET", "/api/schema/?format=xml", "", nil)
		etag := y.Header.Get("ETag")
		require.NotEmpty(t, etag)
		r = s.callWith("GET", "/api/schema/", "", nil, map[string]string{"If-None-Match": etag})
		assert.Equal(t, http.StatusNotModified, r.Status)
	})

	t.Run("the routes the suite does not otherwise reach", func(t *testing.T) {
		head := s.admin("head@sharif.edu", "head")
		user := s.admin("user@sharif.edu", "simple_user")
		s.expect(200, "GET", "/api/campaigns/approved", "", nil)
		for _, p := range []string{
			"/api/performance/summary", "/api/performance/summary?window=1h&top=3", "/api/performance/endpoints",
			"/api/performance/endpoints/" + url.PathEscape("GET /api/campaigns/approved"),
			"/api/performance/slow-requests", "/api/performance/system-metrics?hours=1",
		} {
			s.expect(200, "GET", p, head, nil)
		}
		s.expect(400, "GET", "/api/performance/summary?window=week", head, nil)
		s.expect(404, "GET", "/api/performance/endpoints/"+url.PathEscape("GET /nowhere"), head, nil)
		s.expect(403, "GET", "/api/performance/summary", user, nil)
		s.expect(401, "GET", "/api/performance/summary", "", nil)
		s.expect(200, "GET", "/api/performance/dashboard", "", nil)
		s.expect(200, "GET", "/api/performance/dashboard/app.js", "", nil)
		s.expect(404, "GET", "/api/performance/dashboard/secret.txt", "", nil)

		r := s.expect(200, "GET", "/api/docs/", "", nil)
		assert.Equal(t, openapi.SwaggerUICSP, r.Header.Get("Content-Security-Policy"))
		assert.Equal(t, "DENY", r.Header.Get("X-Frame-Options"), "the chain's other headers stay")
		for _, f := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js", "favicon-32x32.png"} {
			r := s.expect(200, "GET", "/api/docs/"+f, "", nil)
			assert.NotEmpty(t, r.Raw, f)
		}
		s.expect(200, "GET", "/api/docs", "", nil)
		s.expect(404, "GET", "/api/docs/swagger-ui.js.map", "", nil)
		r = s.expect(200, "GET", "/api/redoc/", "", nil)
		assert.Contains(t, string(r.Raw), `<script src="`+openapi.DefaultRedocBundleURL+`">`)
		assert.Contains(t, r.Header.Get("Content-Security-Policy"), "script-src "+openapi.DefaultRedocBundleURL+";")
		s.expect(200, "GET", "/health", "", nil)
		s.expect(200, "GET", "/api/auth/validate", user, nil)
	})

	t.Run("the check catches what it must", func(t *testing.T) {
		user := s.admin("checked@sharif.edu", "simple_user")
		approved := s.expect(200, "GET", "/api/campaigns/approved", "", nil)
		me := s.expect(200, "GET", "/api/auth/user", user, nil)
		missing := s.call("GET", "/api/campaigns/999999", "", nil)
		require.Equal(t, 404, missing.Status)

		exchange := func(method, path, token string, status int, h http.Header, body any, reqBody []byte) openapi.Exchange {
			req, err := http.NewRequest(method, "http://example"+path, bytes.NewReader(reqBody))
			require.NoError(t, err)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			raw, ok := body.([]byte)
			if !ok {
				raw, err = json.Marshal(body)
				require.NoError(t, err)
			}
			return openapi.Exchange{Request: req, RequestBody: reqBody, Status: status, Header: h, Body: raw}
		}
		with := func(h http.Header, k, v string) http.Header {
			h = h.Clone()
			if v == "" {
				h.Del(k)
			} else {
				h.Set(k, v)
			}
			return h
		}
		edit := func(m map[string]any, f func(map[string]any)) map[string]any {
			raw, _ := json.Marshal(m)
			var c map[string]any
			require.NoError(t, json.Unmarshal(raw, &c))
			f(c)
			return c
		}
		ctx := context.Background()
		require.NoError(t, spec.Check(ctx, exchange("GET", "/api/campaigns/approved", "", 200, approved.Header, approved.Raw, nil)), "the real answer passes")
		require.NoError(t, spec.Check(ctx, exchange("GET", "/api/auth/user/", user, 200, me.Header, me.Raw, nil)), "so does its trailing-slash form")

		for name, x := range map[string]openapi.Exchange{
			"a missing required member": exchange("GET", "/api/campaigns/approved", "", 200, approved.Header,
				edit(approved.JSON, func(m map[string]any) { delete(m, "total") }), nil),
			"a debug_ member": exchange("GET", "/api/campaigns/approved", "", 200, approved.Header,
				edit(approved.JSON, func(m map[string]any) { m["debug_filters"] = "x" }), nil),
			"a member a closed object does not list": exchange("GET", "/api/auth/user", user, 200, me.Header,
				edit(me.JSON, func(m map[string]any) { m["password"] = "argon2id$..." }), nil),
			"a value of the wrong type": exchange("GET", "/api/auth/user", user, 200, me.Header,
				edit(me.JSON, func(m map[string]any) { m["id"] = "7" }), nil),
			"a value outside its enumeration": exchange("GET", "/api/auth/user", user, 200, me.Header,
				edit(me.JSON, func(m map[string]any) { m["role"] = "root" }), nil),
			"an undocumented status": exchange("GET", "/api/campaigns/approved", "", 418, approved.Header, approved.Raw, nil),
			"the wrong content type": exchange("GET", "/api/campaigns/approved", "", 200,
				with(approved.Header, "Content-Type", "text/html"), approved.Raw, nil),
			"no X-Request-ID": exchange("GET", "/api/campaigns/approved", "", 200,
				with(approved.Header, "X-Request-ID", ""), approved.Raw, nil),
			"a problem without request_id": exchange("GET", "/api/campaigns/999999", "", 404, missing.Header,
				edit(missing.JSON, func(m map[string]any) { delete(m, "request_id") }), nil),
			"a problem with success true": exchange("GET", "/api/campaigns/999999", "", 404, missing.Header,
				edit(missing.JSON, func(m map[string]any) { m["success"] = true }), nil),
			"a 429 without Retry-After": exchange("GET", "/api/campaigns/approved", "", 429, missing.Header,
				edit(missing.JSON, func(m map[string]any) { m["status"] = 429 }), nil),
			"a success without the Bearer token the operation requires": exchange("GET", "/api/auth/user", "", 200, me.Header, me.Raw, nil),
			"a success for a request body the document refuses": exchange("POST", "/api/auth/login", "", 200, me.Header,
				map[string]any{"success": true}, []byte(`{"email": 5}`)),
			"an undocumented route answering 200": exchange("GET", "/api/secret", "", 200, approved.Header, approved.Raw, nil),
		} {
			assert.Error(t, spec.Check(ctx, x), name)
		}
	})
}

// TestOpenAPIDocumentedStatuses: every operation documents the errors of its
// kind, so that the per-response check above is not vacuous.
func TestOpenAPIDocumentedStatuses(t *testing.T) {
	var ops []string
	for _, rt := range contract.doc.Routes() {
		op := contract.spec.T.Paths.Value(rt.Path).GetOperation(rt.Method)
		require.NotNil(t, op, rt.Pattern)
		for _, code := range []string{"400", "429", "500"} {
			r := op.Responses.Value(code)
			require.NotNil(t, r, "%s documents %s", rt.Pattern, code)
			assert.NotNil(t, r.Value.Content.Get("application/problem+json"), "%s %s is problem+json", rt.Pattern, code)
		}
		if op.Security != nil && len(*op.Security) > 0 {
			assert.NotNil(t, op.Responses.Value("401"), "%s needs a token and documents 401", rt.Pattern)
		}
		ops = append(ops, op.OperationID)
	}
	sort.Strings(ops)
	assert.Equal(t, len(ops), len(slices.Compact(ops)), "operation IDs are unique")
}
