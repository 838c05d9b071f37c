package problem_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// write runs problem.Write for a request with the given method and returns
// the recorded response. prepare may set response headers beforehand.
func write(t *testing.T, method string, p problem.Problem, prepare func(http.Header)) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	if prepare != nil {
		prepare(rec.Header())
	}
	problem.Write(rec, httptest.NewRequest(method, "/things/1", nil), p)
	return rec
}

// decode decodes a problem body into a map, failing the test if it is not a
// single JSON object.
func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), "body %q", body)
	return m
}

func TestWriteDefaults(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		wantStatus int
		wantTitle  string
	}{
		{name: "404", status: http.StatusNotFound, wantStatus: 404, wantTitle: "Not Found"},
		{name: "400", status: http.StatusBadRequest, wantStatus: 400, wantTitle: "Bad Request"},
		{name: "429", status: http.StatusTooManyRequests, wantStatus: 429, wantTitle: "Too Many Requests"},
		{name: "503", status: http.StatusServiceUnavailable, wantStatus: 503, wantTitle: "Service Unavailable"},
		{name: "zero status becomes 500", status: 0, wantStatus: 500, wantTitle: "Internal Server Error"},
		{name: "negative status becomes 500", status: -1, wantStatus: 500, wantTitle: "Internal Server Error"},
		{name: "two-digit status becomes 500", status: 99, wantStatus: 500, wantTitle: "Internal Server Error"},
		{name: "four-digit status becomes 500", status: 1000, wantStatus: 500, wantTitle: "Internal Server Error"},
		{name: "status without text gets a generic title", status: 599, wantStatus: 599, wantTitle: "Status 599"},
		{name: "informational status becomes 500", status: 100, wantStatus: 500, wantTitle: "Internal Server Error"},
		{name: "success status becomes 500", status: 200, wantStatus: 500, wantTitle: "Internal Server Error"},
		{name: "above 599 becomes 500", status: 600, wantStatus: 500, wantTitle: "Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := write(t, http.MethodGet, problem.New(tt.status, ""), nil)

			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, problem.ContentType, rec.Header().Get("Content-Type"))
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))
			assert.True(t, strings.HasSuffix(rec.Body.String(), "}\n"), "body ends with a newline: %q", rec.Body.String())

			assert.Equal(t, map[string]any{
				"type":   "about:blank",
				"title":  tt.wantTitle,
				"status": float64(tt.wantStatus),
			}, decode(t, rec.Body.Bytes()))
		})
	}
}

func TestWriteMemberOrder(t *testing.T) {
	rec := write(t, http.MethodGet, problem.Problem{
		Status: http.StatusUnprocessableEntity, Detail: "bad input", RequestID: "req-1",
		Errors:     []problem.FieldError{{Field: "email", Message: "must be an address"}},
		Extensions: map[string]any{"success": false, "b": 1, "a": 2},
	}, nil)

	assert.Equal(t,
		`{"type":"about:blank","title":"Unprocessable Entity","status":422,"detail":"bad input",`+
			`"request_id":"req-1","errors":[{"field":"email","message":"must be an address"}],`+
			`"a":2,"b":1,"success":false}`+"\n",
		rec.Body.String(), "RFC 9457 members first, then extensions sorted by key")
}

func TestWriteFields(t *testing.T) {
	tests := []struct {
		name     string
		p        problem.Problem
		prepare  func(http.Header)
		want     map[string]any // members checked exactly
		wantGone []string       // members that must be absent
	}{
		{
			name:     "detail",
			p:        problem.New(http.StatusForbidden, "token lacks scope"),
			want:     map[string]any{"detail": "token lacks scope"},
			wantGone: []string{"request_id", "errors"},
		},
		{
			name:     "empty detail is omitted",
			p:        problem.New(http.StatusForbidden, ""),
			wantGone: []string{"detail"},
		},
		{
			name: "custom type and title are kept",
			p: problem.Problem{
				Type: "https://senfi.example/problems/quota", Title: "Quota exceeded", Status: http.StatusTooManyRequests,
			},
			want: map[string]any{
				"type": "https://senfi.example/problems/quota", "title": "Quota exceeded", "status": float64(429),
			},
		},
		{
			name:    "request_id from X-Request-ID response header",
			p:       problem.New(http.StatusNotFound, ""),
			prepare: func(h http.Header) { h.Set(problem.HeaderRequestID, "from-header") },
			want:    map[string]any{"request_id": "from-header"},
		},
		{
			name:    "request_id of the Problem wins over the header",
			p:       problem.Problem{Status: http.StatusNotFound, RequestID: "from-problem"},
			prepare: func(h http.Header) { h.Set(problem.HeaderRequestID, "from-header") },
			want:    map[string]any{"request_id": "from-problem"},
		},
		{
			name:     "no request ID anywhere: member omitted",
			p:        problem.New(http.StatusNotFound, ""),
			wantGone: []string{"request_id"},
		},
		{
			name: "errors list",
			p: problem.Problem{Status: http.StatusBadRequest, Errors: []problem.FieldError{
				{Field: "email", Message: "must be an address"},
				{Field: "address.zip", Message: "must have 5 digits"},
			}},
			want: map[string]any{"errors": []any{
				map[string]any{"field": "email", "message": "must be an address"},
				map[string]any{"field": "address.zip", "message": "must have 5 digits"},
			}},
		},
		{
			name:     "empty errors list is omitted",
			p:        problem.Problem{Status: http.StatusBadRequest, Errors: []problem.FieldError{}},
			wantGone: []string{"errors"},
		},
		{
			name: "extensions merged at top level",
			p: problem.Problem{Status: http.StatusBadRequest, Extensions: map[string]any{
				"success": false, "retry_after": 30, "nested": map[string]any{"k": "v"},
			}},
			want: map[string]any{
				"success": false, "retry_after": float64(30), "nested": map[string]any{"k": "v"},
				"status": float64(400),
			},
		},
		{
			name: "reserved extension keys are ignored",
			p: problem.Problem{
				Status: http.StatusBadRequest, Detail: "real detail", RequestID: "real-id",
				Errors: []problem.FieldError{{Field: "f", Message: "m"}},
				Extensions: map[string]any{
					"status": "x", "type": "https://evil.example", "title": "evil", "detail": "evil",
					"request_id": "evil", "errors": "evil", "success": false,
				},
			},
			want: map[string]any{
				"status": float64(400), "type": "about:blank", "title": "Bad Request", "detail": "real detail",
				"request_id": "real-id", "errors": []any{map[string]any{"field": "f", "message": "m"}},
				"success": false,
			},
		},
		{
			name: "only reserved extension keys: plain body",
			p:    problem.Problem{Status: http.StatusBadRequest, Extensions: map[string]any{"status": "x"}},
			want: map[string]any{"status": float64(400)},
		},
		{
			name: "unencodable extension (channel) falls back to no extensions",
			p: problem.Problem{Status: http.StatusConflict, Detail: "kept", Extensions: map[string]any{
				"success": false, "ch": make(chan int),
			}},
			want:     map[string]any{"status": float64(409), "detail": "kept"},
			wantGone: []string{"success", "ch"},
		},
		{
			name: "unencodable extension (NaN) falls back to no extensions",
			p: problem.Problem{Status: http.StatusConflict, Extensions: map[string]any{
				"success": false, "ratio": math.NaN(),
			}},
			want:     map[string]any{"status": float64(409)},
			wantGone: []string{"success", "ratio"},
		},
		{
			name: "unencodable extension (func) falls back to no extensions",
			p: problem.Problem{Status: http.StatusConflict, Extensions: map[string]any{
				"fn": func() {},
			}},
			want:     map[string]any{"status": float64(409)},
			wantGone: []string{"fn"},
		},
		{
			name:    "Content-Encoding set earlier is removed",
			p:       problem.New(http.StatusBadGateway, ""),
			prepare: func(h http.Header) { h.Set("Content-Encoding", "gzip") },
			want:    map[string]any{"status": float64(502)},
		},
		{
			name:    "earlier Content-Type and Cache-Control are replaced",
			p:       problem.New(http.StatusBadGateway, ""),
			prepare: func(h http.Header) { h.Set("Content-Type", "text/html"); h.Set("Cache-Control", "max-age=3600") },
			want:    map[string]any{"status": float64(502)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := write(t, http.MethodGet, tt.p, tt.prepare)
			body := decode(t, rec.Body.Bytes())

			status, ok := body["status"].(float64)
			require.True(t, ok, "status member is a number: %v", body["status"])
			assert.Equal(t, int(status), rec.Code, "status line matches the body")
			assert.Equal(t, problem.ContentType, rec.Header().Get("Content-Type"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Empty(t, rec.Header().Values("Content-Encoding"))
			assert.Equal(t, strconv.Itoa(rec.Body.Len()), rec.Header().Get("Content-Length"))
			for k, v := range tt.want {
				assert.Equal(t, v, body[k], "member %q", k)
			}
			for _, k := range tt.wantGone {
				assert.NotContains(t, body, k)
			}
		})
	}
}

func TestWriteHead(t *testing.T) {
	p := problem.Problem{
		Status: http.StatusNotFound, Detail: "no such thing",
		Extensions: map[string]any{"success": false},
	}
	get := write(t, http.MethodGet, p, nil)
	head := write(t, http.MethodHead, p, nil)

	assert.Equal(t, http.StatusNotFound, head.Code)
	assert.Zero(t, head.Body.Len(), "HEAD response must have no body")
	assert.Equal(t, problem.ContentType, head.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", head.Header().Get("Cache-Control"))
	assert.Equal(t, get.Header().Get("Content-Length"), head.Header().Get("Content-Length"),
		"HEAD announces the length a GET would send")
}

func TestWriteNilRequest(t *testing.T) {
	rec := httptest.NewRecorder()
	problem.Write(rec, nil, problem.New(http.StatusTeapot, "short and stout"))

	assert.Equal(t, http.StatusTeapot, rec.Code)
	body := decode(t, rec.Body.Bytes())
	assert.Equal(t, "I'm a teapot", body["title"])
	assert.Equal(t, "short and stout", body["detail"])
}

func TestNew(t *testing.T) {
	assert.Equal(t, problem.Problem{Status: http.StatusBadRequest, Detail: "d"}, problem.New(http.StatusBadRequest, "d"))
}

func TestMarshalJSON(t *testing.T) {
	tests := []struct {
		name    string
		p       problem.Problem
		want    string
		wantErr bool
	}{
		{
			name: "zero Problem gets defaults",
			p:    problem.Problem{},
			want: `{"type":"about:blank","title":"Internal Server Error","status":500}`,
		},
		{
			name: "extensions merged",
			p:    problem.Problem{Status: 404, Extensions: map[string]any{"success": false}},
			want: `{"type":"about:blank","title":"Not Found","status":404,"success":false}`,
		},
		{
			name: "request ID is not read from anywhere",
			p:    problem.Problem{Status: 404},
			want: `{"type":"about:blank","title":"Not Found","status":404}`,
		},
		{
			name:    "unencodable extension is an error",
			p:       problem.Problem{Status: 404, Extensions: map[string]any{"ch": make(chan int)}},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.p)
			if tt.wantErr {
				var unsupported *json.UnsupportedTypeError
				assert.ErrorAs(t, err, &unsupported)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(got))
			assert.Equal(t, tt.want, string(got), "stable member order")
		})
	}
}

func TestMarshalJSONPointerAndValueAgree(t *testing.T) {
	p := problem.Problem{Status: 409, Extensions: map[string]any{"success": false}}
	byValue, err := json.Marshal(p)
	require.NoError(t, err)
	byPointer, err := json.Marshal(&p)
	require.NoError(t, err)
	assert.Equal(t, string(byValue), string(byPointer))

	nested, err := json.Marshal(map[string]any{"problem": p})
	require.NoError(t, err)
	assert.JSONEq(t, `{"problem":`+string(byValue)+`}`, string(nested))
}

func TestWithExtensions(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if problem.HasExtensions(r.Context()) {
		t.Fatal("HasExtensions of a plain request's context = true")
	}
	r = r.WithContext(problem.WithExtensions(r.Context(), map[string]any{"success": false, "lang": "fa"}))
	if !problem.HasExtensions(r.Context()) {
		t.Fatal("HasExtensions after WithExtensions = false")
	}
	w := httptest.NewRecorder()
	problem.Write(w, r, problem.Problem{Status: 403, Detail: "no", Extensions: map[string]any{"lang": "en"}})
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["success"] != false {
		t.Errorf("success = %v, want false from the context", got["success"])
	}
	if got["lang"] != "en" {
		t.Errorf("lang = %v, want the Problem's own member to win", got["lang"])
	}
	if got["status"] != float64(403) {
		t.Errorf("status = %v", got["status"])
	}
}
