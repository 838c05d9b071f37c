package openapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/openapi"
)

// server serves the handlers of a document, as the app mounts them.
func server(t testing.TB, o openapi.HandlerOptions) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(mux(t, o))
	t.Cleanup(srv.Close)
	return srv
}

// get sends a GET with the headers (k, v pairs) and returns the response
// and its body as sent, without transparent decompression.
func get(t testing.TB, url string, kv ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "identity")
	for i := 0; i < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

// TestSchema: YAML by default, JSON on ?format=json, both revalidated by
// ETag; an unknown format is a 400 problem naming the parameter.
func TestSchema(t *testing.T) {
	doc := newDoc(t)
	srv := server(t, openapi.HandlerOptions{Document: doc})
	js, err := doc.JSON()
	require.NoError(t, err)
	ym, err := doc.YAML()
	require.NoError(t, err)
	for _, tc := range []struct {
		target, ctype string
		body          []byte
	}{
		{"/api/schema/", "application/yaml; charset=utf-8", ym},
		{"/api/schema", "application/yaml; charset=utf-8", ym},
		{"/api/schema/?format=yaml", "application/yaml; charset=utf-8", ym},
		{"/api/schema/?format=openapi", "application/yaml; charset=utf-8", ym},
		{"/api/schema/?format=json", "application/json", js},
		{"/api/schema?format=openapi-json", "application/json", js},
	} {
		res, body := get(t, srv.URL+tc.target)
		require.Equal(t, 200, res.StatusCode, tc.target)
		assert.Equal(t, tc.ctype, res.Header.Get("Content-Type"), tc.target)
		assert.Equal(t, tc.body, body, tc.target)
		assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
		assert.Empty(t, res.Header.Get("Content-Security-Policy"), "an API response keeps the API's policy")
		again, _ := get(t, srv.URL+tc.target, "If-None-Match", res.Header.Get("ETag"))
		assert.Equal(t, http.StatusNotModified, again.StatusCode, tc.target)
	}
	for _, target := range []string{"/api/schema/?format=xml", "/api/schema/?format=json&format=yaml"} {
		res, body := get(t, srv.URL+target)
		assert.Equal(t, 400, res.StatusCode, target)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
		var p struct {
			Errors []struct{ Field string } `json:"errors"`
		}
		require.NoError(t, json.Unmarshal(body, &p))
		require.Len(t, p.Errors, 1)
		assert.Equal(t, "format", p.Errors[0].Field)
	}
}

// TestSwaggerUI: the page and its files come from this server under
// SwaggerUICSP; compressed files are sent compressed to clients that take
// gzip and plain to the others, each form with its own ETag.
func TestSwaggerUI(t *testing.T) {
	srv := server(t, openapi.HandlerOptions{})
	for _, target := range []string{"/api/docs/", "/api/docs"} {
		res, body := get(t, srv.URL+target)
		require.Equal(t, 200, res.StatusCode)
		assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
		assert.Equal(t, openapi.SwaggerUICSP, res.Header.Get("Content-Security-Policy"))
		page := string(body)
		assert.Contains(t, page, `<div id="swagger-ui" data-schema-url="/api/schema/?format=json">`)
		assert.Contains(t, page, `<script src="/api/docs/swagger-ui-bundle.js" defer></script>`)
		assert.Contains(t, page, `<script src="/api/docs/swagger-init.js" defer></script>`)
		assert.NotContains(t, page, "<style", "no inline style")
		assert.Equal(t, 2, strings.Count(page, "<script"), "no inline script")
		assert.NotContains(t, page, "https://", "nothing from elsewhere")
	}

	plainRes, plain := get(t, srv.URL+"/api/docs/swagger-ui-bundle.js")
	require.Equal(t, 200, plainRes.StatusCode)
	assert.Empty(t, plainRes.Header.Get("Content-Encoding"))
	assert.Equal(t, "text/javascript; charset=utf-8", plainRes.Header.Get("Content-Type"))
	assert.Contains(t, plainRes.Header.Values("Vary"), "Accept-Encoding")
	assert.True(t, bytes.Contains(plain, []byte("SwaggerUIBundle")), "the bundle, decompressed")

	gzRes, gz := get(t, srv.URL+"/api/docs/swagger-ui-bundle.js", "Accept-Encoding", "br, gzip")
	require.Equal(t, 200, gzRes.StatusCode)
	assert.Equal(t, "gzip", gzRes.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	unzipped, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, plain, unzipped)
	assert.Less(t, len(gz), len(plain)/2)
	assert.NotEqual(t, gzRes.Header.Get("ETag"), plainRes.Header.Get("ETag"), "each form has its own validator")

	refused, _ := get(t, srv.URL+"/api/docs/swagger-ui-bundle.js", "Accept-Encoding", "gzip;q=0")
	assert.Empty(t, refused.Header.Get("Content-Encoding"), "gzip;q=0 refuses gzip")
	cached, _ := get(t, srv.URL+"/api/docs/swagger-ui-bundle.js", "Accept-Encoding", "gzip", "If-None-Match", gzRes.Header.Get("ETag"))
	assert.Equal(t, http.StatusNotModified, cached.StatusCode)

	for name, ctype := range map[string]string{
		"swagger-ui.css": "text/css; charset=utf-8", "swagger-init.js": "text/javascript; charset=utf-8",
		"favicon-32x32.png": "image/png", "favicon-16x16.png": "image/png",
	} {
		res, body := get(t, srv.URL+"/api/docs/"+name)
		assert.Equal(t, 200, res.StatusCode, name)
		assert.Equal(t, ctype, res.Header.Get("Content-Type"), name)
		assert.NotEmpty(t, body, name)
		twin, _ := get(t, srv.URL+"/api/docs/"+name+"/")
		assert.Equal(t, 200, twin.StatusCode, "%s/ is served too", name)
	}
	for _, name := range []string{"index.html", "swagger-ui.js.map", "oauth2-redirect.html", "..%2fdocs.go", "embed.go"} {
		res, body := get(t, srv.URL+"/api/docs/"+name)
		assert.Equal(t, 404, res.StatusCode, name)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), name)
		assert.NotContains(t, string(body), "package", name)
	}
	head, err := http.Head(srv.URL + "/api/docs/swagger-ui.css")
	require.NoError(t, err)
	_ = head.Body.Close()
	assert.Equal(t, 200, head.StatusCode)
}

// TestReDoc: the page points at the JSON document and the configured
// bundle, and its policy allows exactly that bundle as script.
func TestReDoc(t *testing.T) {
	for _, tc := range []struct {
		name, bundle, src, coep string
	}{
		{"the default CDN", "", openapi.DefaultRedocBundleURL, "credentialless"},
		{"another CDN, query dropped from the policy", "https://cdn.example/redoc/2.1.5/redoc.standalone.js?v=1",
			"https://cdn.example/redoc/2.1.5/redoc.standalone.js", "credentialless"},
		{"a self-hosted copy", "/static/redoc.standalone.js", "'self'", ""},
		{"a development server", "http://127.0.0.1:8081/redoc.js", "http://127.0.0.1:8081/redoc.js", "credentialless"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := server(t, openapi.HandlerOptions{RedocBundleURL: tc.bundle})
			res, body := get(t, srv.URL+"/api/redoc/")
			require.Equal(t, 200, res.StatusCode)
			bundle := tc.bundle
			if bundle == "" {
				bundle = openapi.DefaultRedocBundleURL
			}
			page := string(body)
			assert.Contains(t, page, `<redoc spec-url="/api/schema/?format=json"></redoc>`)
			assert.Contains(t, page, `<script src="`+bundle+`"></script>`)
			assert.Equal(t, 1, strings.Count(page, "<script"))
			csp := res.Header.Get("Content-Security-Policy")
			assert.Contains(t, csp, "script-src "+tc.src+";")
			assert.Contains(t, csp, "default-src 'none'")
			assert.Contains(t, csp, "worker-src blob:")
			assert.Contains(t, csp, "connect-src 'self'")
			assert.Contains(t, csp, "frame-ancestors 'none'")
			assert.NotContains(t, csp, "unsafe-eval")
			assert.Equal(t, tc.coep, res.Header.Get("Cross-Origin-Embedder-Policy"))
			twin, _ := get(t, srv.URL+"/api/redoc")
			assert.Equal(t, 200, twin.StatusCode)
		})
	}
}

// TestRedocBundleURLChecked: the bundle URL becomes a script source, so
// only URLs that cannot widen or break the policy are accepted.
func TestRedocBundleURLChecked(t *testing.T) {
	doc := newDoc(t)
	for _, ok := range []string{
		"https://cdn.redoc.ly/redoc/v2.1.5/bundles/redoc.standalone.js",
		"http://localhost:9000/redoc.js", "http://127.0.0.2/redoc.js", "http://[::1]:9000/redoc.js",
		"/static/redoc.standalone.js",
	} {
		_, err := openapi.NewHandlers(openapi.HandlerOptions{Document: doc, RedocBundleURL: ok})
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{
		"http://cdn.example/redoc.js",                   // plain http from the network
		"https://cdn.example/redoc.js; script-src *",    // a second directive
		"https://cdn.example/a.js https://evil.example", // a second source
		"https://cdn.example/a,b.js",
		"https://cdn.example/'unsafe-inline'",
		"https://user:pw@cdn.example/redoc.js",
		"https://cdn.example/redoc.js#x",
		"//cdn.example/redoc.js",
		"javascript:alert(1)",
		"data:text/javascript,alert(1)",
		"ftp://cdn.example/redoc.js",
		"redoc.js",
		"https:///redoc.js",
		"https://cdn.example/redoc.js\n",
	} {
		_, err := openapi.NewHandlers(openapi.HandlerOptions{Document: doc, RedocBundleURL: bad})
		assert.ErrorIs(t, err, openapi.ErrBundleURL, bad)
	}
	_, err := openapi.NewHandlers(openapi.HandlerOptions{})
	assert.Error(t, err, "Document is required")
}

// TestRedocBundleIntegrity: with a Subresource Integrity hash the script
// is fetched with CORS and run only if it matches; the hash is checked.
func TestRedocBundleIntegrity(t *testing.T) {
	const sri = "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"
	srv := server(t, openapi.HandlerOptions{RedocBundleURL: "https://cdn.redoc.ly/redoc/v2.1.5/bundles/redoc.standalone.js", RedocBundleIntegrity: sri})
	_, body := get(t, srv.URL+"/api/redoc/")
	// html/template writes "+" as "&#43;" in the attribute: the same value.
	assert.Contains(t, html.UnescapeString(string(body)), `<script src="https://cdn.redoc.ly/redoc/v2.1.5/bundles/redoc.standalone.js" integrity="`+sri+`" crossorigin="anonymous"></script>`)
	_, body = get(t, server(t, openapi.HandlerOptions{}).URL+"/api/redoc/")
	assert.NotContains(t, string(body), "integrity=")

	doc := newDoc(t)
	for _, bad := range []string{
		"sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "sha384-short", "sha384-" + strings.Repeat("A", 63) + "!",
		sri + " " + sri, "SHA384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC", `sha256-"onload=x`,
	} {
		_, err := openapi.NewHandlers(openapi.HandlerOptions{Document: doc, RedocBundleIntegrity: bad})
		assert.ErrorIs(t, err, openapi.ErrBundleIntegrity, bad)
	}
}

// TestRegisterConflict: a route already taken is an error, not a panic.
func TestRegisterConflict(t *testing.T) {
	h, err := openapi.NewHandlers(openapi.HandlerOptions{Document: newDoc(t)})
	require.NoError(t, err)
	mux := http.NewServeMux()
	require.NoError(t, h.Register(mux))
	assert.Error(t, h.Register(mux))
}
