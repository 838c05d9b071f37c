package openapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/senfi-sharif/senfi/example/internal/openapi"
)

// mux is the handlers of a fresh document on a ServeMux.
func mux(t testing.TB, o openapi.HandlerOptions) *http.ServeMux {
	t.Helper()
	if o.Document == nil {
		o.Document = newDoc(t)
	}
	h, err := openapi.NewHandlers(o)
	if err != nil {
		t.Fatal(err)
	}
	m := http.NewServeMux()
	if err := h.Register(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// FuzzSchemaQuery: any query string gets the document (200) or a 400
// problem, never anything else.
func FuzzSchemaQuery(f *testing.F) {
	for _, s := range []string{"", "format=json", "format=yaml", "format=xml", "format=json&format=json", "format=%ff", "format", ";;", "format=openapi-json&x=1"} {
		f.Add(s)
	}
	m := mux(f, openapi.HandlerOptions{})
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/api/schema/", nil)
		req.URL.RawQuery = query
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		ct := rec.Header().Get("Content-Type")
		switch rec.Code {
		case http.StatusOK:
			if ct != "application/json" && !strings.HasPrefix(ct, "application/yaml") {
				t.Fatalf("200 with %q", ct)
			}
		case http.StatusBadRequest:
			if ct != "application/problem+json" {
				t.Fatalf("400 with %q", ct)
			}
		default:
			t.Fatalf("query %q: status %d", query, rec.Code)
		}
	})
}

// FuzzDocsAsset: only the page's files are served; any other name is a
// 404 problem (or, for names the mux cleans away such as "/", the page).
func FuzzDocsAsset(f *testing.F) {
	known := map[string]bool{"swagger-ui-bundle.js": true, "swagger-ui.css": true, "swagger-init.js": true, "favicon-32x32.png": true, "favicon-16x16.png": true}
	for name := range known {
		f.Add(name)
	}
	for _, s := range []string{"", "..", "%2e%2e", "swagger-ui.js", "embed.go", "swagger-ui-bundle.js.gz", "a%2fb", "\x00"} {
		f.Add(s)
	}
	m := mux(f, openapi.HandlerOptions{})
	f.Fuzz(func(t *testing.T, name string) {
		req, err := http.NewRequest(http.MethodGet, "http://example/api/docs/"+url.PathEscape(name), nil)
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500:
			t.Fatalf("%q: %d", name, rec.Code)
		case rec.Code == http.StatusOK && !known[name] && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html"):
			// The mux may route a name such as "/" to the page itself.
			t.Fatalf("%q served as %s", name, rec.Header().Get("Content-Type"))
		case known[name] && rec.Code != http.StatusOK:
			t.Fatalf("%q: %d", name, rec.Code)
		}
	})
}

// FuzzRedocBundleURL: a bundle URL is accepted only when the page's
// policy keeps its shape: nine directives, one script source.
func FuzzRedocBundleURL(f *testing.F) {
	for _, s := range []string{
		openapi.DefaultRedocBundleURL, "/static/redoc.js", "http://localhost:1/r.js",
		"https://a.example/x.js; script-src *", "https://a.example/x.js 'unsafe-inline'", "javascript:1",
		"https://a.example/%3B.js", "https://a.example/x.js?a=1;b", "https://a.example:443/x.js",
	} {
		f.Add(s)
	}
	doc := newDoc(f)
	f.Fuzz(func(t *testing.T, raw string) {
		m := http.NewServeMux()
		h, err := openapi.NewHandlers(openapi.HandlerOptions{Document: doc, RedocBundleURL: raw})
		if err != nil {
			return
		}
		if err := h.Register(m); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/redoc/", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%q: %d", raw, rec.Code)
		}
		directives := strings.Split(rec.Header().Get("Content-Security-Policy"), "; ")
		if len(directives) != 9 {
			t.Fatalf("%q: policy %q", raw, directives)
		}
		src := strings.Fields(directives[1])
		if len(src) != 2 || src[0] != "script-src" || strings.ContainsAny(src[1], ";,'\"") && src[1] != "'self'" {
			t.Fatalf("%q: %q", raw, directives[1])
		}
		if strings.Contains(rec.Body.String(), "ZgotmplZ") {
			t.Fatalf("%q: the template refused the URL that the check accepted", raw)
		}
	})
}

// FuzzFindRoute: any path routes or not without failing, and path values
// come back unescaped.
func FuzzFindRoute(f *testing.F) {
	for _, s := range []string{"/", "/api/campaigns/1", "/api/campaigns/1/", "/api/performance/endpoints/GET%20%2Fa", "/api/blog/posts/%ZZ", "//", "/api/../api/polls"} {
		f.Add("GET", s)
	}
	s := spec(f)
	f.Fuzz(func(t *testing.T, method, path string) {
		req, err := http.NewRequest(method, "http://example"+path, nil)
		if err != nil {
			return
		}
		route, params, err := s.FindRoute(req)
		if err != nil {
			return
		}
		if route.Operation == nil || route.PathItem == nil {
			t.Fatalf("%s %s: incomplete route", method, path)
		}
		for name := range params {
			if !strings.Contains(route.Path, "{"+name+"}") {
				t.Fatalf("%s %s: parameter %s not in %s", method, path, name, route.Path)
			}
		}
	})
}
