package openapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/openapi"
)

// loaded is the document of every test, built and validated once (loading
// it costs most of a second).
var loaded = sync.OnceValues(func() (*openapi.Spec, error) {
	doc, err := openapi.New(openapi.Options{AppVersion: "1.2.3"})
	if err != nil {
		return nil, err
	}
	return doc.Load(context.Background())
})

func spec(t testing.TB) *openapi.Spec {
	t.Helper()
	s, err := loaded()
	require.NoError(t, err)
	return s
}

func newDoc(t testing.TB) *openapi.Document {
	t.Helper()
	doc, err := openapi.New(openapi.Options{AppVersion: "1.2.3"})
	require.NoError(t, err)
	return doc
}

// TestDocumentIsValidOpenAPI31: kin-openapi loads the document, resolves
// every reference and validates it as OpenAPI 3.1, every example against
// its schema too.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	s := spec(t)
	require.NoError(t, s.T.Validate(context.Background(), openapi3.EnableExamplesValidation()))
	assert.Equal(t, openapi.Version, s.T.OpenAPI)
	assert.True(t, s.T.IsOpenAPI31OrLater())
	assert.Equal(t, "1.2.3", s.T.Info.Version)
	bearer := s.T.Components.SecuritySchemes["bearerAuth"]
	require.NotNil(t, bearer)
	assert.Equal(t, "http", bearer.Value.Type)
	assert.Equal(t, "bearer", bearer.Value.Scheme)
	assert.Equal(t, "JWT", bearer.Value.BearerFormat)

	_, err := openapi.New(openapi.Options{})
	assert.Error(t, err, "AppVersion is required")
}

// TestYAMLAndJSONAreOneDocument: both serializations load to the same
// document, and both start with the openapi member.
func TestYAMLAndJSONAreOneDocument(t *testing.T) {
	doc := newDoc(t)
	js, err := doc.JSON()
	require.NoError(t, err)
	ym, err := doc.YAML()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(js), `{"openapi":"3.1.0","info":`), "%.40s", js)
	assert.True(t, strings.HasPrefix(string(ym), "openapi: 3.1.0\ninfo:\n"), "%.40s", ym)

	fromYAML, err := openapi3.NewLoader().LoadFromData(ym)
	require.NoError(t, err)
	a, err := json.Marshal(fromYAML)
	require.NoError(t, err)
	b, err := json.Marshal(spec(t).T)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(a))

	again, err := doc.JSON()
	require.NoError(t, err)
	assert.Same(t, &js[0], &again[0], "serialized once")
}

// TestEveryOperationIsComplete: each documented route has an operation
// with an ID, summary, tag and description, a success response carrying
// X-Request-ID, the problem responses of its kind, and examples for its
// request body.
func TestEveryOperationIsComplete(t *testing.T) {
	s := spec(t)
	routes := newDoc(t).Routes()
	require.NotEmpty(t, routes)
	ids := map[string]bool{}
	for _, rt := range routes {
		t.Run(rt.OperationID, func(t *testing.T) {
			item := s.T.Paths.Value(rt.Path)
			require.NotNil(t, item, rt.Path)
			op := item.GetOperation(rt.Method)
			require.NotNil(t, op, rt.Pattern)
			assert.Equal(t, rt.OperationID, op.OperationID)
			assert.False(t, ids[op.OperationID], "unique operationId")
			ids[op.OperationID] = true
			assert.NotEmpty(t, op.Summary)
			assert.Contains(t, op.Description, "**Who:**")
			assert.Len(t, op.Tags, 1)
			require.NotNil(t, op.Security, "every operation states its security")

			var success bool
			for code, r := range op.Responses.Map() {
				assert.NotNil(t, r.Value.Headers["X-Request-ID"], "%s %s carries X-Request-ID", rt.Pattern, code)
				if code[0] == '2' {
					success = true
				}
				if code[0] == '4' || code[0] == '5' {
					assert.Len(t, r.Value.Content, 1, code)
					assert.NotNil(t, r.Value.Content.Get("application/problem+json"), code)
				}
			}
			assert.True(t, success, "a success response")
			for _, code := range []string{"400", "429", "500"} {
				assert.NotNil(t, op.Responses.Value(code), code)
			}
			if len(*op.Security) > 0 {
				assert.NotNil(t, op.Responses.Value("401"))
			}
			if op.RequestBody != nil {
				mt := op.RequestBody.Value.Content.Get("application/json")
				require.NotNil(t, mt)
				assert.NotNil(t, mt.Example, "the request body has an example")
				assert.NotNil(t, op.Responses.Value("413"))
				assert.NotNil(t, op.Responses.Value("415"))
			}
			if strings.Contains(rt.Path, "{") {
				assert.NotNil(t, op.Responses.Value("404"))
			}
		})
	}
}

// TestRoutes: the route list names ServeMux patterns and OpenAPI paths.
func TestRoutes(t *testing.T) {
	byID := map[string]openapi.Route{}
	for _, rt := range newDoc(t).Routes() {
		byID[rt.OperationID] = rt
	}
	for id, want := range map[string]openapi.Route{
		"apiRoot":             {Pattern: "GET /{$}", Method: http.MethodGet, Path: "/", OperationID: "apiRoot"},
		"health":              {Pattern: "GET /health", Method: http.MethodGet, Path: "/health", OperationID: "health", Twin: true},
		"healthz":             {Pattern: "GET /healthz", Method: http.MethodGet, Path: "/healthz", OperationID: "healthz"},
		"getCampaign":         {Pattern: "GET /api/campaigns/{id}", Method: http.MethodGet, Path: "/api/campaigns/{id}", OperationID: "getCampaign", Twin: true},
		"performanceEndpoint": {Pattern: "GET /api/performance/endpoints/{endpoint...}", Method: http.MethodGet, Path: "/api/performance/endpoints/{endpoint}", OperationID: "performanceEndpoint"},
		"performanceSummary":  {Pattern: "GET /api/performance/summary", Method: http.MethodGet, Path: "/api/performance/summary", OperationID: "performanceSummary"},
		"schema":              {Pattern: "GET /api/schema", Method: http.MethodGet, Path: "/api/schema", OperationID: "schema", Twin: true},
	} {
		assert.Equal(t, want, byID[id])
	}
}
