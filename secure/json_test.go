package secure_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/secure"
)

type jsonProfile struct {
	Age   int    `json:"age"`
	Email string `json:"email"`
}

// jsonTarget is the decoding target of the table tests.
type jsonTarget struct {
	Name    string           `json:"name"`
	Role    string           `json:"role"`
	Count   int64            `json:"count"`
	Age     int              `json:"age"`
	Active  bool             `json:"active"`
	Tags    []string         `json:"tags"`
	Profile jsonProfile      `json:"profile"`
	User    jsonProfile      `json:"user"`
	Items   []map[string]any `json:"items"`
	Extra   any              `json:"extra"`
}

// jsonTestRequest builds a POST request with body and, unless empty, the given
// Content-Type. httptest sets ContentLength from the body.
func jsonTestRequest(t *testing.T, body, contentType string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// jsonStreamedRequest builds a JSON request whose length is unknown, as with
// chunked transfer encoding.
func jsonStreamedRequest(t *testing.T, body io.Reader) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", body)
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = -1
	return r
}

// requireJSONError checks that err wraps want, is a *RequestError with the
// given Field and maps to status.
func requireJSONError(t *testing.T, err, want error, field string, status int) *secure.RequestError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	var re *secure.RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, field, re.Field, "Field")
	assert.Equal(t, status, secure.StatusCode(err), "StatusCode")
	assert.Equal(t, status, re.Status(), "Status")
	assert.NotEmpty(t, re.Detail, "Detail")
	return re
}

// jsonNested returns {"extra": [[...]]} with n arrays: n+1 levels of nesting.
func jsonNested(n int) string {
	return `{"extra":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
}

// jsonNestedWant is what jsonNested(n) decodes to.
func jsonNestedWant(n int) jsonTarget {
	var v any = []any{}
	for i := 1; i < n; i++ {
		v = []any{v}
	}
	return jsonTarget{Extra: v}
}

// jsonSized returns a JSON object of exactly n bytes.
func jsonSized(t *testing.T, n int) string {
	t.Helper()
	const prefix, suffix = `{"name":"`, `"}`
	require.Greater(t, n, len(prefix)+len(suffix))
	return prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix
}

func TestDecodeJSON(t *testing.T) {
	const ct = "application/json"
	tests := []struct {
		name        string
		body        string
		contentType string
		opts        secure.JSONOptions
		want        jsonTarget // when wantErr is nil
		wantErr     error
		wantField   string
		wantStatus  int
	}{
		{name: "valid object", body: `{"name":"Sara","age":21,"active":true,"tags":["a","b"],"profile":{"age":3,"email":"s@example.com"}}`, contentType: ct,
			want: jsonTarget{Name: "Sara", Age: 21, Active: true, Tags: []string{"a", "b"}, Profile: jsonProfile{Age: 3, Email: "s@example.com"}}},
		{name: "valid with surrounding whitespace", body: " \n\t{\"name\":\"a\"}\r\n ", contentType: ct, want: jsonTarget{Name: "a"}},
		{name: "null fields", body: `{"name":null,"tags":null}`, contentType: ct},
		{name: "empty object", body: `{}`, contentType: ct},

		// Unknown fields.
		{name: "unknown field ignored by default", body: `{"name":"a","unexpected":1}`, contentType: ct, want: jsonTarget{Name: "a"}},
		{name: "unknown field refused", body: `{"name":"a","unexpected":1}`, contentType: ct, opts: secure.JSONOptions{DisallowUnknownFields: true},
			wantErr: secure.ErrUnknownField, wantField: "unexpected", wantStatus: 400},
		{name: "unknown field with quotes refused", body: `{"we\"ird":1}`, contentType: ct, opts: secure.JSONOptions{DisallowUnknownFields: true},
			wantErr: secure.ErrUnknownField, wantField: `we"ird`, wantStatus: 400},
		{name: "known fields with DisallowUnknownFields", body: `{"name":"a"}`, contentType: ct, opts: secure.JSONOptions{DisallowUnknownFields: true}, want: jsonTarget{Name: "a"}},

		// Content-Type.
		{name: "content type missing", body: `{}`, wantErr: secure.ErrUnsupportedMediaType, wantStatus: 415},
		{name: "content type text/plain", body: `{}`, contentType: "text/plain", wantErr: secure.ErrUnsupportedMediaType, wantStatus: 415},
		{name: "content type form", body: `name=a`, contentType: "application/x-www-form-urlencoded", wantErr: secure.ErrUnsupportedMediaType, wantStatus: 415},
		{name: "content type multipart", body: `{}`, contentType: "multipart/form-data; boundary=x", wantErr: secure.ErrUnsupportedMediaType, wantStatus: 415},
		{name: "content type jsonp", body: `{}`, contentType: "application/jsonp", wantErr: secure.ErrUnsupportedMediaType, wantStatus: 415},
		{name: "content type bare +json", body: `{}`, contentType: "application/+json", wantErr: secure.ErrUnsupportedMediaType, wantStatus: 415},
		{name: "content type text/json", body: `{}`, contentType: "text/json", wantErr: secure.ErrUnsupportedMediaType, wantStatus: 415},
		{name: "content type with charset", body: `{"name":"a"}`, contentType: "application/json; charset=utf-8", want: jsonTarget{Name: "a"}},
		{name: "content type upper case", body: `{"name":"a"}`, contentType: "APPLICATION/JSON", want: jsonTarget{Name: "a"}},
		{name: "content type problem+json", body: `{"name":"a"}`, contentType: "application/problem+json", want: jsonTarget{Name: "a"}},
		{name: "content type vnd.api+json", body: `{"name":"a"}`, contentType: "application/vnd.api+json", want: jsonTarget{Name: "a"}},
		{name: "AllowAnyContentType text/plain", body: `{"name":"a"}`, contentType: "text/plain", opts: secure.JSONOptions{AllowAnyContentType: true}, want: jsonTarget{Name: "a"}},
		{name: "AllowAnyContentType missing", body: `{"name":"a"}`, opts: secure.JSONOptions{AllowAnyContentType: true}, want: jsonTarget{Name: "a"}},
		{name: "AllowAnyContentType still strict", body: `{"name":"a"} {}`, contentType: "text/plain", opts: secure.JSONOptions{AllowAnyContentType: true},
			wantErr: secure.ErrTrailingData, wantStatus: 400},

		// Empty bodies.
		{name: "empty body", body: ``, contentType: ct, wantErr: secure.ErrEmptyBody, wantStatus: 400},
		{name: "whitespace body", body: " \r\n\t ", contentType: ct, wantErr: secure.ErrEmptyBody, wantStatus: 400},

		// Malformed JSON.
		{name: "truncated", body: `{"name":"a"`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "name", wantStatus: 400},
		{name: "truncated string", body: `{"name":"a`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "name", wantStatus: 400},
		{name: "truncated array", body: `[1,2`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "1", wantStatus: 400},
		{name: "single quotes", body: `{'name':'a'}`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantStatus: 400},
		{name: "NaN", body: `{"age":NaN}`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "age", wantStatus: 400},
		{name: "Infinity", body: `{"age":Infinity}`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "age", wantStatus: 400},
		{name: "trailing comma in object", body: `{"name":"a",}`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "name", wantStatus: 400},
		{name: "trailing comma in array", body: `{"tags":["a",]}`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "tags.0", wantStatus: 400},
		{name: "comma first in array", body: `[,1]`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "0", wantStatus: 400},
		{name: "bare word", body: `hello`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantStatus: 400},
		{name: "comment", body: `{"name":"a"} // hi`, contentType: ct, wantErr: secure.ErrTrailingData, wantStatus: 400},
		{name: "missing colon", body: `{"name" "a"}`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "name", wantStatus: 400},
		{name: "unquoted key", body: `{name:"a"}`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantStatus: 400},
		{name: "raw newline in string", body: "{\"name\":\"a\nb\"}", contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "name", wantStatus: 400},
		{name: "leading zero", body: `{"age":01}`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "age", wantStatus: 400},
		{name: "hex number", body: `{"age":0x10}`, contentType: ct, wantErr: secure.ErrInvalidJSON, wantField: "age", wantStatus: 400},
		{name: "unbalanced close", body: `{}}`, contentType: ct, wantErr: secure.ErrTrailingData, wantStatus: 400},

		// Trailing data.
		{name: "two objects", body: `{} {}`, contentType: ct, wantErr: secure.ErrTrailingData, wantStatus: 400},
		{name: "object then garbage", body: `{}x`, contentType: ct, wantErr: secure.ErrTrailingData, wantStatus: 400},
		{name: "object then array", body: "{}\n[]", contentType: ct, wantErr: secure.ErrTrailingData, wantStatus: 400},
		{name: "two numbers", body: `1 2`, contentType: ct, wantErr: secure.ErrTrailingData, wantStatus: 400},

		// Duplicate keys.
		{name: "duplicate key", body: `{"role":"user","role":"admin"}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "role", wantStatus: 400},
		{name: "duplicate key differing in case", body: `{"role":"user","Role":"admin"}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "Role", wantStatus: 400},
		{name: "duplicate key all caps", body: `{"role":"user","ROLE":"admin"}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "ROLE", wantStatus: 400},
		{name: "duplicate key Kelvin sign", body: `{"k":1,"\u212a":2}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "\u212a", wantStatus: 400},
		{name: "duplicate key long s", body: `{"s":1,"\u017f":2}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "\u017f", wantStatus: 400},
		{name: "duplicate key escaped", body: `{"role":"user","r\u006fle":"admin"}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "role", wantStatus: 400},
		{name: "duplicate key not adjacent", body: `{"role":"user","name":"a","tags":[],"role":"admin"}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "role", wantStatus: 400},
		{name: "duplicate key nested", body: `{"user":{"email":"a@example.com","email":"b@example.com"}}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "user.email", wantStatus: 400},
		{name: "duplicate key jsonNested case", body: `{"user":{"age":1,"email":"a@example.com","EMAIL":"b@example.com"}}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "user.EMAIL", wantStatus: 400},
		{name: "duplicate key in array element", body: `{"items":[{"a":1},{"a":1,"A":2}]}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "items.1.A", wantStatus: 400},
		{name: "duplicate key after jsonNested value", body: `{"user":{"email":"a"},"USER":{}}`, contentType: ct, wantErr: secure.ErrDuplicateKey, wantField: "USER", wantStatus: 400},
		{name: "duplicate key at top of array", body: `[{"a":1,"a":2}]`, contentType: ct, opts: secure.JSONOptions{AllowAnyContentType: true},
			wantErr: secure.ErrDuplicateKey, wantField: "0.a", wantStatus: 400},
		{name: "same key in sibling objects", body: `{"user":{"email":"a@example.com"},"profile":{"email":"b@example.com"}}`, contentType: ct,
			want: jsonTarget{User: jsonProfile{Email: "a@example.com"}, Profile: jsonProfile{Email: "b@example.com"}}},
		{name: "same key in array elements", body: `{"items":[{"a":1},{"a":2}]}`, contentType: ct,
			want: jsonTarget{Items: []map[string]any{{"a": float64(1)}, {"a": float64(2)}}}},
		{name: "same key in parent and child", body: `{"name":"a","extra":{"name":"b"}}`, contentType: ct,
			want: jsonTarget{Name: "a", Extra: map[string]any{"name": "b"}}},
		{name: "key equal to a string value", body: `{"name":"role","role":"name"}`, contentType: ct, want: jsonTarget{Name: "role", Role: "name"}},

		// Depth.
		{name: "depth 32 accepted", body: jsonNested(31), contentType: ct, want: jsonNestedWant(31)},
		{name: "depth 33 refused", body: jsonNested(32), contentType: ct, wantErr: secure.ErrTooDeep, wantField: "extra" + strings.Repeat(".0", 31), wantStatus: 400},
		{name: "very deep refused", body: jsonNested(100000), contentType: ct, wantErr: secure.ErrTooDeep, wantField: "extra" + strings.Repeat(".0", 31), wantStatus: 400},
		{name: "custom depth accepted", body: `{"profile":{"age":1}}`, contentType: ct, opts: secure.JSONOptions{MaxDepth: 2}, want: jsonTarget{Profile: jsonProfile{Age: 1}}},
		{name: "custom depth refused", body: `{"profile":{"age":1},"extra":{"x":[1]}}`, contentType: ct, opts: secure.JSONOptions{MaxDepth: 2},
			wantErr: secure.ErrTooDeep, wantField: "extra.x", wantStatus: 400},
		{name: "custom depth 1 refuses jsonNested array", body: `{"tags":[]}`, contentType: ct, opts: secure.JSONOptions{MaxDepth: 1},
			wantErr: secure.ErrTooDeep, wantField: "tags", wantStatus: 400},

		// Wrong types.
		{name: "string into int", body: `{"age":"12"}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "age", wantStatus: 400},
		{name: "number into string", body: `{"name":12}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "name", wantStatus: 400},
		{name: "object into string", body: `{"name":{}}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "name", wantStatus: 400},
		{name: "array into struct", body: `{"profile":[]}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "profile", wantStatus: 400},
		{name: "bool into string", body: `{"name":true}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "name", wantStatus: 400},
		{name: "string into bool", body: `{"active":"true"}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "active", wantStatus: 400},
		{name: "number into slice", body: `{"tags":1}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "tags", wantStatus: 400},
		{name: "nested wrong type", body: `{"profile":{"age":"old"}}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "profile.age", wantStatus: 400},
		{name: "int64 overflow", body: `{"count":1e30}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "count", wantStatus: 400},
		{name: "int64 overflow digits", body: `{"count":9223372036854775808}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "count", wantStatus: 400},
		{name: "fraction into int", body: `{"age":1.5}`, contentType: ct, wantErr: secure.ErrWrongType, wantField: "age", wantStatus: 400},
		{name: "array body into struct", body: `[]`, contentType: ct, wantErr: secure.ErrWrongType, wantStatus: 400},
		{name: "string body into struct", body: `"name"`, contentType: ct, wantErr: secure.ErrWrongType, wantStatus: 400},
		{name: "int64 max accepted", body: `{"count":9223372036854775807}`, contentType: ct, want: jsonTarget{Count: 9223372036854775807}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got jsonTarget
			err := secure.DecodeJSON(jsonTestRequest(t, tt.body, tt.contentType), &got, tt.opts)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			re := requireJSONError(t, err, tt.wantErr, tt.wantField, tt.wantStatus)
			if errors.Is(tt.wantErr, secure.ErrWrongType) && tt.wantField != "" {
				assert.Contains(t, re.Detail, tt.wantField, "the detail names the field")
			}
			if tt.wantField != "" {
				assert.Contains(t, err.Error(), fmt.Sprintf("%q", tt.wantField), "Error names the field")
			}
		})
	}
}

// jsonLevel is decoded from a string by UnmarshalText, though its kind is int.
type jsonLevel int

func (l *jsonLevel) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return fmt.Errorf("internal: unknown level %q in table levels_v2", b)
	}
	return nil
}

// jsonTypes has a field of each kind for TestDecodeJSONWrongTypeDetail.
type jsonTypes struct {
	Name    string      `json:"name"`
	Age     int         `json:"age"`
	Count   int64       `json:"count"`
	Small   uint8       `json:"small"`
	Score   float64     `json:"score"`
	Active  bool        `json:"active"`
	Tags    []string    `json:"tags"`
	Pair    [2]int      `json:"pair"`
	Profile jsonProfile `json:"profile"`
	Attrs   map[string]int
	Ptr     *int       `json:"ptr"`
	Addr    netip.Addr `json:"addr"`
	Level   jsonLevel  `json:"level"`
	When    time.Time  `json:"when"`
}

// TestDecodeJSONWrongTypeDetail checks the client-facing detail of
// ErrWrongType: it names the field and the JSON type expected, and never
// passes on the text of a parser's error.
func TestDecodeJSONWrongTypeDetail(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantField  string
		wantDetail string // a fragment of the detail
		secret     string // text of the underlying error that must not be shown
	}{
		{name: "string into int", body: `{"age":"12"}`, wantField: "age", wantDetail: `"age" must be a whole number, not string`},
		{name: "number into string", body: `{"name":12}`, wantField: "name", wantDetail: `"name" must be a string, not number`},
		{name: "object into string", body: `{"name":{}}`, wantField: "name", wantDetail: `"name" must be a string, not object`},
		{name: "array into string", body: `{"name":[]}`, wantField: "name", wantDetail: `"name" must be a string, not array`},
		{name: "bool into string", body: `{"name":true}`, wantField: "name", wantDetail: `"name" must be a string, not bool`},
		{name: "array into struct", body: `{"profile":[]}`, wantField: "profile", wantDetail: `"profile" must be an object, not array`},
		{name: "string into slice", body: `{"tags":"x"}`, wantField: "tags", wantDetail: `"tags" must be an array, not string`},
		{name: "string into array", body: `{"pair":"x"}`, wantField: "pair", wantDetail: `"pair" must be an array, not string`},
		{name: "array into map", body: `{"Attrs":[]}`, wantField: "Attrs", wantDetail: `"Attrs" must be an object, not array`},
		{name: "string into float", body: `{"score":"1.5"}`, wantField: "score", wantDetail: `"score" must be a number, not string`},
		{name: "string into pointer", body: `{"ptr":"1"}`, wantField: "ptr", wantDetail: `"ptr" must be a whole number, not string`},
		{name: "nested", body: `{"profile":{"age":"old"}}`, wantField: "profile.age", wantDetail: `"profile.age" must be a whole number, not string`},
		{name: "int64 overflow", body: `{"count":1e30}`, wantField: "count", wantDetail: `"count" is out of range`},
		{name: "uint8 overflow", body: `{"small":256}`, wantField: "small", wantDetail: `"small" is out of range`},
		{name: "negative uint", body: `{"small":-1}`, wantField: "small", wantDetail: `"small" is out of range`},
		{name: "fraction into int", body: `{"age":1.5}`, wantField: "age", wantDetail: "not a whole number"},
		{name: "object into text type", body: `{"addr":{}}`, wantField: "addr", wantDetail: `"addr" must be a string, not object`},
		{name: "number into text type", body: `{"addr":1}`, wantField: "addr", wantDetail: `"addr" must be a string, not number`},
		{name: "number into int-kind text type", body: `{"level":3}`, wantField: "level", wantDetail: `"level" must be a string, not number`},
		{name: "array body", body: `[]`, wantDetail: "the body must be an object, not array"},
		{name: "UnmarshalText error", body: `{"addr":"not-an-ip"}`, wantDetail: "cannot accept", secret: "ParseAddr"},
		{name: "custom UnmarshalText error", body: `{"level":"medium"}`, wantDetail: "cannot accept", secret: "levels_v2"},
		{name: "UnmarshalJSON error", body: `{"when":"yesterday"}`, wantDetail: "cannot accept", secret: "parsing time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got jsonTypes
			err := secure.DecodeJSON(jsonTestRequest(t, tt.body, "application/json"), &got, secure.JSONOptions{})
			re := requireJSONError(t, err, secure.ErrWrongType, tt.wantField, http.StatusBadRequest)
			assert.Contains(t, re.Detail, tt.wantDetail)
			if tt.secret != "" {
				assert.NotContains(t, re.Detail, tt.secret)
				assert.NotContains(t, err.Error(), tt.secret)
			}
		})
	}
	t.Run("valid values of each kind", func(t *testing.T) {
		body := `{"name":"a","age":-1,"count":9007199254740993,"small":255,"score":1e-3,"active":false,"tags":[],"pair":[1,2],` +
			`"profile":{},"Attrs":{"x":1},"ptr":7,"addr":"2001:db8::1","level":"high","when":"2025-07-19T10:00:00Z"}`
		var got jsonTypes
		require.NoError(t, secure.DecodeJSON(jsonTestRequest(t, body, "application/json"), &got, secure.JSONOptions{}))
		var want jsonTypes
		require.NoError(t, json.Unmarshal([]byte(body), &want))
		assert.Equal(t, want, got)
		assert.Equal(t, int64(9007199254740993), got.Count, "integers are not rounded through float64")
		assert.Equal(t, jsonLevel(2), got.Level)
	})
}

// TestUnmarshalJSON checks that UnmarshalJSON applies the same checks as
// DecodeJSON to the body itself.
func TestUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		opts      secure.JSONOptions
		wantErr   error
		wantField string
	}{
		{name: "valid", data: `{"a":[1,{"b":null}]}`},
		{name: "nil data", data: "", wantErr: secure.ErrEmptyBody},
		{name: "whitespace", data: "\n\n", wantErr: secure.ErrEmptyBody},
		{name: "malformed", data: `{"a":}`, wantErr: secure.ErrInvalidJSON, wantField: "a"},
		{name: "trailing", data: `{}{}`, wantErr: secure.ErrTrailingData},
		{name: "duplicate", data: `{"a":{"b":1,"B":2}}`, wantErr: secure.ErrDuplicateKey, wantField: "a.B"},
		{name: "deep default", data: strings.Repeat("[", 33) + strings.Repeat("]", 33), wantErr: secure.ErrTooDeep, wantField: strings.TrimPrefix(strings.Repeat(".0", 32), ".")},
		{name: "deep custom", data: `[[[]]]`, opts: secure.JSONOptions{MaxDepth: 2}, wantErr: secure.ErrTooDeep, wantField: "0.0"},
		{name: "depth custom exact", data: `[[]]`, opts: secure.JSONOptions{MaxDepth: 2}},
		{name: "scalar", data: `"text"`},
		{name: "null", data: `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			err := secure.UnmarshalJSON([]byte(tt.data), &got, tt.opts)
			if tt.wantErr == nil {
				require.NoError(t, err)
				var want any
				require.NoError(t, json.Unmarshal([]byte(tt.data), &want))
				assert.Equal(t, want, got)
				return
			}
			requireJSONError(t, err, tt.wantErr, tt.wantField, http.StatusBadRequest)
		})
	}
}

// TestDecodeJSONMapTarget checks that duplicate keys are refused for map
// targets too, where encoding/json would keep both spellings or the last value.
func TestDecodeJSONMapTarget(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantErr   error
		wantField string
	}{
		{name: "distinct keys", body: `{"a":1,"b":2}`},
		{name: "exact duplicate", body: `{"a":1,"a":2}`, wantErr: secure.ErrDuplicateKey, wantField: "a"},
		{name: "case duplicate", body: `{"a":1,"A":2}`, wantErr: secure.ErrDuplicateKey, wantField: "A"},
		{name: "empty key twice", body: `{"":1,"":2}`, wantErr: secure.ErrDuplicateKey, wantField: ""},
		{name: "unicode key case duplicate", body: `{"straße":1,"STRAßE":2}`, wantErr: secure.ErrDuplicateKey, wantField: "STRAßE"},
		{name: "persian key", body: `{"کارزار":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			err := secure.DecodeJSON(jsonTestRequest(t, tt.body, "application/json"), &got, secure.JSONOptions{})
			if tt.wantErr == nil {
				require.NoError(t, err)
				var want map[string]any
				require.NoError(t, json.Unmarshal([]byte(tt.body), &want))
				assert.Equal(t, want, got)
				return
			}
			requireJSONError(t, err, tt.wantErr, tt.wantField, http.StatusBadRequest)
		})
	}
}

// jsonFailingBody is a request body that fails after its first bytes, like a
// client that goes away mid-upload.
func jsonFailingBody() io.Reader {
	return io.MultiReader(strings.NewReader(`{"name":"a`), iotest.ErrReader(errors.New("connection reset by peer")))
}

func TestDecodeJSONBodySize(t *testing.T) {
	const limit = 64
	tests := []struct {
		name       string
		req        func(t *testing.T) *http.Request
		opts       secure.JSONOptions
		wantErr    error
		wantStatus int
		wantDetail string // a fragment of the detail, when set
	}{
		{name: "at custom limit", opts: secure.JSONOptions{MaxBytes: limit},
			req: func(t *testing.T) *http.Request { return jsonTestRequest(t, jsonSized(t, limit), "application/json") }},
		{name: "over custom limit by Content-Length", opts: secure.JSONOptions{MaxBytes: limit},
			req:     func(t *testing.T) *http.Request { return jsonTestRequest(t, jsonSized(t, limit+1), "application/json") },
			wantErr: secure.ErrBodyTooLarge, wantStatus: 413, wantDetail: "64 bytes"},
		{name: "Content-Length alone decides", opts: secure.JSONOptions{MaxBytes: limit},
			req: func(t *testing.T) *http.Request {
				r := jsonTestRequest(t, `{}`, "application/json")
				r.ContentLength = limit + 1
				return r
			},
			wantErr: secure.ErrBodyTooLarge, wantStatus: 413},
		{name: "streamed at custom limit", opts: secure.JSONOptions{MaxBytes: limit},
			req: func(t *testing.T) *http.Request {
				return jsonStreamedRequest(t, strings.NewReader(jsonSized(t, limit)))
			}},
		{name: "streamed over custom limit", opts: secure.JSONOptions{MaxBytes: limit},
			req: func(t *testing.T) *http.Request {
				return jsonStreamedRequest(t, strings.NewReader(jsonSized(t, limit+1)))
			},
			wantErr: secure.ErrBodyTooLarge, wantStatus: 413, wantDetail: "64 bytes"},
		{name: "streamed far over custom limit", opts: secure.JSONOptions{MaxBytes: limit},
			req: func(t *testing.T) *http.Request {
				return jsonStreamedRequest(t, strings.NewReader(jsonSized(t, 10*limit)))
			},
			wantErr: secure.ErrBodyTooLarge, wantStatus: 413},
		{name: "understated Content-Length", opts: secure.JSONOptions{MaxBytes: limit},
			req: func(t *testing.T) *http.Request {
				r := jsonTestRequest(t, jsonSized(t, 2*limit), "application/json")
				r.ContentLength = 10
				return r
			},
			wantErr: secure.ErrBodyTooLarge, wantStatus: 413},
		{name: "MaxBytesReader smaller than limit", opts: secure.JSONOptions{MaxBytes: 1024},
			req: func(t *testing.T) *http.Request {
				r := jsonStreamedRequest(t, strings.NewReader(jsonSized(t, 100)))
				r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 32)
				return r
			},
			wantErr: secure.ErrBodyTooLarge, wantStatus: 413, wantDetail: "32 bytes"},
		{name: "MaxBytesReader large enough", opts: secure.JSONOptions{MaxBytes: 1024},
			req: func(t *testing.T) *http.Request {
				r := jsonStreamedRequest(t, strings.NewReader(jsonSized(t, 100)))
				r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 100)
				return r
			}},
		{name: "default limit minus one",
			req: func(t *testing.T) *http.Request {
				return jsonTestRequest(t, jsonSized(t, secure.DefaultMaxBodyBytes-1), "application/json")
			}},
		{name: "default limit exactly",
			req: func(t *testing.T) *http.Request {
				return jsonTestRequest(t, jsonSized(t, secure.DefaultMaxBodyBytes), "application/json")
			}},
		{name: "default limit plus one",
			req: func(t *testing.T) *http.Request {
				return jsonTestRequest(t, jsonSized(t, secure.DefaultMaxBodyBytes+1), "application/json")
			},
			wantErr: secure.ErrBodyTooLarge, wantStatus: 413, wantDetail: "1 MiB"},
		{name: "default limit minus one streamed",
			req: func(t *testing.T) *http.Request {
				return jsonStreamedRequest(t, strings.NewReader(jsonSized(t, secure.DefaultMaxBodyBytes-1)))
			}},
		{name: "default limit plus one streamed",
			req: func(t *testing.T) *http.Request {
				return jsonStreamedRequest(t, strings.NewReader(jsonSized(t, secure.DefaultMaxBodyBytes+1)))
			},
			wantErr: secure.ErrBodyTooLarge, wantStatus: 413, wantDetail: "1 MiB"},
		{name: "read error", req: func(t *testing.T) *http.Request { return jsonStreamedRequest(t, jsonFailingBody()) },
			wantErr: secure.ErrBodyUnreadable, wantStatus: 400},
		{name: "limit reached before read error", opts: secure.JSONOptions{MaxBytes: 4},
			req:     func(t *testing.T) *http.Request { return jsonStreamedRequest(t, jsonFailingBody()) },
			wantErr: secure.ErrBodyTooLarge, wantStatus: 413},
		{name: "nil body", req: func(t *testing.T) *http.Request {
			r := jsonTestRequest(t, "", "application/json")
			r.Body = nil
			return r
		}, wantErr: secure.ErrEmptyBody, wantStatus: 400},
		{name: "http.NoBody", req: func(t *testing.T) *http.Request {
			r := jsonTestRequest(t, "", "application/json")
			r.Body = http.NoBody
			return r
		}, wantErr: secure.ErrEmptyBody, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got jsonTarget
			err := secure.DecodeJSON(tt.req(t), &got, tt.opts)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.NotEmpty(t, got.Name)
				return
			}
			re := requireJSONError(t, err, tt.wantErr, "", tt.wantStatus)
			if tt.wantDetail != "" {
				assert.Contains(t, re.Detail, tt.wantDetail)
			}
		})
	}
}

// TestDecodeJSONReadErrorHidden checks that the reader's own error text does
// not reach the client-facing detail.
func TestDecodeJSONReadErrorHidden(t *testing.T) {
	err := secure.DecodeJSON(jsonStreamedRequest(t, jsonFailingBody()), new(jsonTarget), secure.JSONOptions{})
	re := requireJSONError(t, err, secure.ErrBodyUnreadable, "", http.StatusBadRequest)
	assert.NotContains(t, re.Detail, "connection reset")
}

func TestDecodeJSONProgrammingErrors(t *testing.T) {
	var nilTarget *jsonTarget
	tests := []struct {
		name   string
		target any
	}{
		{name: "non-pointer struct", target: jsonTarget{}},
		{name: "non-pointer map", target: map[string]any{}},
		{name: "nil pointer", target: nilTarget},
		{name: "untyped nil", target: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The body is refusable in several ways; the programming error
			// must still be reported as such.
			err := secure.DecodeJSON(jsonTestRequest(t, `{} {}`, "text/plain"), tt.target, secure.JSONOptions{})
			require.Error(t, err)
			var re *secure.RequestError
			assert.False(t, errors.As(err, &re), "a programming error is not the client's: %v", err)
			assert.Equal(t, http.StatusInternalServerError, secure.StatusCode(err))
		})
	}
	t.Run("UnmarshalJSON non-pointer", func(t *testing.T) {
		err := secure.UnmarshalJSON([]byte(`{}`), jsonTarget{}, secure.JSONOptions{})
		require.Error(t, err)
		var re *secure.RequestError
		assert.False(t, errors.As(err, &re))
		assert.Equal(t, http.StatusInternalServerError, secure.StatusCode(err))
	})
}

// TestDecodeJSONStringsVerbatim checks that hostile and non-ASCII strings
// reach the handler exactly as sent: DecodeJSON validates structure, it does
// not sanitize content.
func TestDecodeJSONStringsVerbatim(t *testing.T) {
	tests := []struct {
		name  string
		value string
	}{
		{name: "persian", value: "کارزار"},
		{name: "persian sentence with ZWNJ", value: "می‌خواهیم کارزار را امضا کنیم"},
		{name: "emoji", value: "✊🏽 🎓"},
		{name: "sql injection", value: "'; DROP TABLE users; --"},
		{name: "script tag", value: "<script>alert(1)</script>"},
		{name: "NUL", value: "\u0000"},
		{name: "NUL inside", value: "a\u0000b"},
		{name: "control characters", value: "\t\r\n\u001b[31m"},
		{name: "quotes and backslashes", value: `"\"\\`},
		{name: "line separators", value: "\u2028\u2029"},
		{name: "right-to-left override", value: "\u202egnp.exe"},
		{name: "ampersand", value: "a&b"},
		{name: "empty", value: ""},
	}
	for _, tt := range tests {
		for _, escapeHTML := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/escapeHTML=%t", tt.name, escapeHTML), func(t *testing.T) {
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(escapeHTML)
				require.NoError(t, enc.Encode(map[string]string{"name": tt.value, "role": tt.value}))

				var got jsonTarget
				err := secure.DecodeJSON(jsonTestRequest(t, buf.String(), "application/json"), &got, secure.JSONOptions{})
				require.NoError(t, err)
				assert.Equal(t, tt.value, got.Name)
				assert.Equal(t, tt.value, got.Role)
			})
		}
	}
	t.Run("raw UTF-8 and escaped surrogate pair", func(t *testing.T) {
		var got jsonTarget
		body := `{"name":"کارزار 😀","role":"\ud83d\ude00 \u06a9"}`
		require.NoError(t, secure.DecodeJSON(jsonTestRequest(t, body, "application/json"), &got, secure.JSONOptions{}))
		assert.Equal(t, "کارزار 😀", got.Name)
		assert.Equal(t, "😀 ک", got.Role)
	})
	t.Run("unicode keys", func(t *testing.T) {
		var got map[string]string
		body := `{"کارزار":"<script>","😀":"'; --"}`
		require.NoError(t, secure.DecodeJSON(jsonTestRequest(t, body, "application/json"), &got, secure.JSONOptions{}))
		assert.Equal(t, map[string]string{"کارزار": "<script>", "😀": "'; --"}, got)
	})
}

// jsonProblem is the JSON form written by WriteError.
type jsonProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func recordWriteError(t *testing.T, method string, err error) (*httptest.ResponseRecorder, jsonProblem, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	secure.WriteError(rec, httptest.NewRequest(method, "/", nil), err)
	var p jsonProblem
	var raw map[string]any
	if method != http.MethodHead {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p), rec.Body.String())
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
	}
	return rec, p, raw
}

func TestWriteErrorFromDecodeJSON(t *testing.T) {
	err := secure.DecodeJSON(jsonTestRequest(t, `{"user":{"email":"a","Email":"b"}}`, "application/json"), new(jsonTarget), secure.JSONOptions{})
	re := requireJSONError(t, err, secure.ErrDuplicateKey, "user.Email", http.StatusBadRequest)

	rec, p, _ := recordWriteError(t, http.MethodPost, err)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.True(t, strings.HasSuffix(p.Type, "#ErrDuplicateKey"), "type %q", p.Type)
	assert.True(t, strings.HasPrefix(p.Type, "https://"), "type %q", p.Type)
	assert.Equal(t, "Bad Request", p.Title)
	assert.Equal(t, http.StatusBadRequest, p.Status)
	assert.Equal(t, re.Detail, p.Detail)
	require.Len(t, p.Errors, 1)
	assert.Equal(t, "user.Email", p.Errors[0].Field)
	assert.Equal(t, re.Detail, p.Errors[0].Message)
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string // suffix after '#'
		wantField  string
	}{
		{name: "host", err: &secure.RequestError{Err: secure.ErrHostNotAllowed, Detail: "d"}, wantStatus: 400, wantType: "ErrHostNotAllowed"},
		{name: "too large", err: &secure.RequestError{Err: secure.ErrBodyTooLarge, Detail: "d"}, wantStatus: 413, wantType: "ErrBodyTooLarge"},
		{name: "media type", err: &secure.RequestError{Err: secure.ErrUnsupportedMediaType, Detail: "d"}, wantStatus: 415, wantType: "ErrUnsupportedMediaType"},
		{name: "empty", err: &secure.RequestError{Err: secure.ErrEmptyBody, Detail: "d"}, wantStatus: 400, wantType: "ErrEmptyBody"},
		{name: "invalid", err: &secure.RequestError{Err: secure.ErrInvalidJSON, Detail: "d"}, wantStatus: 400, wantType: "ErrInvalidJSON"},
		{name: "trailing", err: &secure.RequestError{Err: secure.ErrTrailingData, Detail: "d"}, wantStatus: 400, wantType: "ErrTrailingData"},
		{name: "duplicate", err: &secure.RequestError{Err: secure.ErrDuplicateKey, Field: "role", Detail: "d"}, wantStatus: 400, wantType: "ErrDuplicateKey", wantField: "role"},
		{name: "too deep", err: &secure.RequestError{Err: secure.ErrTooDeep, Detail: "d"}, wantStatus: 400, wantType: "ErrTooDeep"},
		{name: "wrong type", err: &secure.RequestError{Err: secure.ErrWrongType, Field: "profile.age", Detail: "d"}, wantStatus: 400, wantType: "ErrWrongType", wantField: "profile.age"},
		{name: "unknown field", err: &secure.RequestError{Err: secure.ErrUnknownField, Field: "x", Detail: "d"}, wantStatus: 400, wantType: "ErrUnknownField", wantField: "x"},
		{name: "unreadable", err: &secure.RequestError{Err: secure.ErrBodyUnreadable, Detail: "d"}, wantStatus: 400, wantType: "ErrBodyUnreadable"},
		{name: "cross origin", err: &secure.RequestError{Err: secure.ErrCrossOrigin, Detail: "d"}, wantStatus: 403, wantType: "ErrCrossOrigin"},
		{name: "wrapped request error", err: fmt.Errorf("handler: decoding: %w", &secure.RequestError{Err: secure.ErrTooDeep, Detail: "d"}), wantStatus: 400, wantType: "ErrTooDeep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, p, raw := recordWriteError(t, http.MethodPost, tt.err)
			assert.Equal(t, tt.wantStatus, rec.Code)
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			assert.Equal(t, "https://pkg.go.dev/github.com/senfi-sharif/senfi/secure#"+tt.wantType, p.Type)
			assert.Equal(t, http.StatusText(tt.wantStatus), p.Title)
			assert.Equal(t, tt.wantStatus, p.Status)
			assert.Equal(t, "d", p.Detail, "only the client-safe detail is sent")
			if tt.wantField == "" {
				assert.NotContains(t, raw, "errors")
			} else {
				require.Len(t, p.Errors, 1)
				assert.Equal(t, tt.wantField, p.Errors[0].Field)
				assert.Equal(t, "d", p.Errors[0].Message)
			}
			if tt.wantStatus == http.StatusRequestEntityTooLarge {
				assert.Equal(t, "close", rec.Header().Get("Connection"))
			} else {
				assert.Empty(t, rec.Header().Get("Connection"))
			}
			assert.NotContains(t, rec.Body.String(), "handler: decoding")
		})
	}
}

func TestWriteErrorInternal(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		secret string
	}{
		{name: "plain error", err: errors.New("db password leaked: hunter2"), secret: "hunter2"},
		{name: "wrapped sentinel without RequestError", err: fmt.Errorf("pq: connection to 10.0.0.5 failed: %w", errors.New("boom")), secret: "10.0.0.5"},
		{name: "nil pointer target error", err: secure.DecodeJSON(jsonTestRequest(t, `{}`, "application/json"), jsonTarget{}, secure.JSONOptions{}), secret: "secure_test.payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.err)
			rec, p, raw := recordWriteError(t, http.MethodPost, tt.err)
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			assert.Equal(t, http.StatusInternalServerError, p.Status)
			assert.Equal(t, "Internal Server Error", p.Title)
			assert.NotEmpty(t, p.Detail)
			assert.NotContains(t, rec.Body.String(), tt.secret)
			assert.NotContains(t, rec.Body.String(), "password")
			assert.NotContains(t, raw, "errors")
		})
	}
}

func TestWriteErrorHead(t *testing.T) {
	rec, _, _ := recordWriteError(t, http.MethodHead, &secure.RequestError{Err: secure.ErrHostNotAllowed, Detail: "d"})
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Empty(t, rec.Body.String())
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "too large", err: secure.ErrBodyTooLarge, want: 413},
		{name: "media type", err: secure.ErrUnsupportedMediaType, want: 415},
		{name: "cross origin", err: secure.ErrCrossOrigin, want: 403},
		{name: "joined", err: errors.Join(errors.New("x"), secure.ErrInvalidJSON), want: 400},
		{name: "wrapped", err: fmt.Errorf("x: %w", secure.ErrDuplicateKey), want: 400},
		{name: "other", err: errors.New("other"), want: 500},
		{name: "nil", err: nil, want: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, secure.StatusCode(tt.err))
		})
	}
}

func TestRequestErrorMessage(t *testing.T) {
	tests := []struct {
		name      string
		err       *secure.RequestError
		wantField string // quoted in the message when set
	}{
		{name: "with field", err: &secure.RequestError{Err: secure.ErrWrongType, Field: "profile.age", Detail: "bad"}, wantField: "profile.age"},
		{name: "without field", err: &secure.RequestError{Err: secure.ErrEmptyBody, Detail: "empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.err, tt.err.Err)
			assert.Equal(t, tt.err.Err, errors.Unwrap(tt.err))
			// The message names the field, which is its point for logs.
			assert.Contains(t, tt.err.Error(), tt.err.Detail)
			if tt.wantField != "" {
				assert.Contains(t, tt.err.Error(), fmt.Sprintf("%q", tt.wantField))
			} else {
				assert.NotContains(t, tt.err.Error(), "field")
			}
		})
	}
}
