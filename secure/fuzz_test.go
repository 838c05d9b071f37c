package secure_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/secure"
)

// fuzzTarget is a small struct target for FuzzDecodeJSON.
type fuzzTarget struct {
	Name   string            `json:"name"`
	Role   string            `json:"role"`
	Age    int               `json:"age"`
	Score  float64           `json:"score"`
	Active bool              `json:"active"`
	Tags   []string          `json:"tags"`
	Attrs  map[string]string `json:"attrs"`
	Child  *fuzzTarget       `json:"child"`
}

// fuzzLimit keeps the body limit within reach of the fuzzer, so that 413 is
// exercised too.
const fuzzLimit = 4 << 10

func FuzzDecodeJSON(f *testing.F) {
	seeds := []string{
		// Valid.
		`{}`, `[]`, `null`, `0`, `"s"`, `true`,
		`{"name":"Sara","age":21,"score":1.5,"active":true,"tags":["a"],"attrs":{"k":"v"},"child":{"name":"c"}}`,
		" \n{\"name\":\"a\"}\t ",
		`{"age":9223372036854775807}`,
		// Malformed.
		``, ` `, `{`, `{"name":"a"`, `{'name':'a'}`, `{"age":NaN}`, `{"name":"a",}`, `[1,]`, `[,1]`,
		`nope`, `{"a" 1}`, `{1:2}`, "{\"a\":\"\n\"}", `{"a":01}`, `"\x"`, `"\ud800"`, "\xff",
		// Trailing data.
		`{} {}`, `{}x`, "{}\n[]", `1 2`, `{}}`, `{} // c`,
		// Deep.
		strings.Repeat("[", 33) + strings.Repeat("]", 33),
		`{"child":` + strings.Repeat(`{"child":`, 40) + `{}` + strings.Repeat("}", 41),
		strings.Repeat(`{"a":`, 20),
		// Duplicate keys.
		`{"role":"user","role":"admin"}`, `{"role":"user","Role":"admin"}`,
		`{"k":1,"\u212a":2}`, `{"s":1,"\u017f":2}`, `{"child":{"name":"a","NAME":"b"}}`,
		`{"tags":[{"a":1,"a":2}]}`, `{"a":{"x":1},"b":{"x":1}}`, `{"":1,"":2}`,
		// Wrong types and range.
		`{"age":"1"}`, `{"age":1.5}`, `{"age":1e30}`, `{"name":1}`, `{"child":[]}`, `{"attrs":{"k":1}}`,
		`{"tags":[1]}`, `{"child":{"age":true}}`,
		// Unicode and injection strings.
		`{"name":"کارزار"}`, `{"کارزار":"😀"}`, `{"name":"\ud83d\ude00"}`, `{"name":"'; DROP TABLE users; --"}`,
		`{"name":"<script>alert(1)</script>"}`, `{"name":"\u0000"}`, "{\"\\u0001\\n\":1,\"\\u0001\\N\":2}",
		"{\"a\x7f\":1,\"A\x7f\":2}", "{\"name\":\"\xc3\x28\"}",
		// Over the limit.
		`{"name":"` + strings.Repeat("x", fuzzLimit) + `"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFuzzDecode(t, body, secure.JSONOptions{MaxBytes: fuzzLimit}, func() any { return new(map[string]any) })
		checkFuzzDecode(t, body, secure.JSONOptions{MaxBytes: fuzzLimit}, func() any { return new(fuzzTarget) })
		checkFuzzDecode(t, body, secure.JSONOptions{MaxBytes: fuzzLimit, MaxDepth: 4, DisallowUnknownFields: true}, func() any { return new(fuzzTarget) })
		checkFuzzDecode(t, body, secure.JSONOptions{MaxBytes: fuzzLimit}, func() any { return new(any) })
	})
}

// checkFuzzDecode decodes body with DecodeJSON and checks the invariants
// against encoding/json.
func checkFuzzDecode(t *testing.T, body []byte, opts secure.JSONOptions, target func() any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	got := target()
	err := secure.DecodeJSON(r, got, opts)

	// UnmarshalJSON agrees with DecodeJSON on bodies within the limit.
	if len(body) <= fuzzLimit {
		err2 := secure.UnmarshalJSON(body, target(), opts)
		require.Equal(t, sentinelOf(err), sentinelOf(err2), "DecodeJSON: %v; UnmarshalJSON: %v", err, err2)
	}

	if err != nil {
		var re *secure.RequestError
		require.ErrorAs(t, err, &re, "a refused body is the client's error, never a 500")
		status := secure.StatusCode(err)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, status, "%v", err)
		require.NotEmpty(t, re.Detail)
		for _, c := range re.Field {
			if unicode.IsControl(c) {
				// A control character may only come from the input: raw, or
				// through an escape sequence.
				require.True(t, bytes.ContainsRune(body, c) || bytes.IndexByte(body, '\\') >= 0,
					"Field %q holds %U, which the body does not", re.Field, c)
			}
		}
		if json.Valid(body) {
			// Never call valid JSON malformed.
			require.NotErrorIs(t, err, secure.ErrInvalidJSON)
			require.NotErrorIs(t, err, secure.ErrTrailingData)
			require.NotErrorIs(t, err, secure.ErrEmptyBody)
		}
		if errors.Is(err, secure.ErrBodyTooLarge) {
			require.Greater(t, len(body), fuzzLimit)
		}
		return
	}

	// Accepted: never more lenient than encoding/json, and the same meaning.
	require.True(t, json.Valid(body), "DecodeJSON accepted invalid JSON %q", body)
	want := target()
	require.NoError(t, json.Unmarshal(body, want), "encoding/json refuses what DecodeJSON accepted")
	assert.Equal(t, want, got)
}

// sentinelOf returns the package sentinel err wraps, or err itself.
func sentinelOf(err error) error {
	var re *secure.RequestError
	if errors.As(err, &re) {
		return re.Err
	}
	return err
}
