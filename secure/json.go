package secure

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// DefaultMaxDepth is the nesting depth DecodeJSON allows when
// JSONOptions.MaxDepth is zero.
const DefaultMaxDepth = 32

// JSONOptions configures [DecodeJSON]. The zero value is strict about
// syntax and ignores unknown fields.
type JSONOptions struct {
	// MaxBytes limits the body. Zero value: 1 MiB. A smaller limit set by a
	// Guard or http.MaxBytesReader earlier still applies.
	MaxBytes int64
	// MaxDepth limits how deeply objects and arrays nest. Zero value: 32.
	MaxDepth int
	// DisallowUnknownFields refuses object keys the target struct does not
	// declare. Zero value: false; unknown fields are ignored (clients such as
	// the Senfi frontend send extras).
	DisallowUnknownFields bool
	// AllowAnyContentType skips the Content-Type check. Zero value: false; the
	// body must be sent as application/json or application/*+json.
	AllowAnyContentType bool
}

// DecodeJSON reads r's body as exactly one JSON value into v (a non-nil
// pointer), refusing what encoding/json would let through silently:
//
//   - no body at all ([ErrEmptyBody], 400), checked first;
//   - a Content-Type other than JSON ([ErrUnsupportedMediaType], 415);
//   - a body over the limit ([ErrBodyTooLarge], 413) or one of only white space ([ErrEmptyBody]);
//   - malformed JSON ([ErrInvalidJSON]) and data after the value ([ErrTrailingData]);
//   - a key repeated in one object, exactly or differing only in case
//     ([ErrDuplicateKey]); encoding/json would keep the last one and match
//     struct fields case-insensitively, so {"role":"user","Role":"admin"}
//     could mean different things to different parsers;
//   - nesting deeper than MaxDepth ([ErrTooDeep]);
//   - a value of the wrong type or out of range for its field ([ErrWrongType]);
//   - with DisallowUnknownFields, unknown keys ([ErrUnknownField]).
//
// Every error is a [*RequestError] whose Field names the offending field as a
// dotted path ("user.email", "tags.2") and whose Detail is safe to show; pass
// it to [WriteError] for a 400/413/415 problem response. On error, v may have
// been partly filled and must not be used.
func DecodeJSON(r *http.Request, v any, opts JSONOptions) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("secure: DecodeJSON needs a non-nil pointer, got %T", v)
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return reqErr(ErrEmptyBody, "", "the request body is empty: send a JSON object")
	}
	if !opts.AllowAnyContentType && !isJSONContentType(r.Header.Get("Content-Type")) {
		return reqErr(ErrUnsupportedMediaType, "", "the request body must be JSON: send Content-Type: application/json")
	}
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	limit = min(limit, math.MaxInt64-1) // limit+1 below must not overflow
	if r.ContentLength > limit {
		return reqErr(ErrBodyTooLarge, "", bodyLimitDetail(limit))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return reqErr(ErrBodyTooLarge, "", bodyLimitDetail(mbe.Limit))
		}
		return reqErr(ErrBodyUnreadable, "", "the request body could not be read completely")
	}
	if int64(len(body)) > limit {
		return reqErr(ErrBodyTooLarge, "", bodyLimitDetail(limit))
	}
	return UnmarshalJSON(body, v, opts)
}

// UnmarshalJSON applies the checks of [DecodeJSON] that concern the JSON
// text itself (everything but Content-Type and size) to data, then decodes
// it into v.
func UnmarshalJSON(data []byte, v any, opts JSONOptions) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return reqErr(ErrEmptyBody, "", "the request body is empty: send a JSON object")
	}
	depth := opts.MaxDepth
	if depth <= 0 {
		depth = DefaultMaxDepth
	}
	if err := checkStructure(data, depth); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if opts.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return translateDecodeError(err)
	}
	return nil
}

// checkStructure scans data token by token: syntax, a single top-level
// value, nesting depth and duplicate keys.
func checkStructure(data []byte, maxDepth int) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]struct{}
		index  int    // next array index
		key    string // current key (objects) for paths
		want   bool   // object: the next string token is a key
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			seg := f.key
			if !f.object {
				seg = strconv.Itoa(max(f.index-1, 0)) // 0: no element read yet
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg)
		}
		return b.String()
	}
	// value is called before each value token, to advance array indexes and
	// to mark that the enclosing object now expects a key.
	value := func() {
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.object {
				top.want = true
			} else {
				top.index++
			}
		}
	}
	for done := false; ; {
		tok, err := dec.Token()
		if err == io.EOF {
			if !done {
				return reqErr(ErrInvalidJSON, path(), "the JSON body ends before its value is complete")
			}
			return nil
		}
		if done {
			// Anything but EOF after the value, even if it is not valid JSON.
			return reqErr(ErrTrailingData, "", "the body holds more than one JSON value; send exactly one")
		}
		if err != nil {
			return syntaxError(err, path())
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].want {
					return reqErr(ErrInvalidJSON, path(), "object keys must be strings")
				}
				value()
				if len(stack) >= maxDepth {
					return reqErr(ErrTooDeep, path(), fmt.Sprintf("objects and arrays nest deeper than %d levels", maxDepth))
				}
				stack = append(stack, frame{object: t == '{', want: t == '{'})
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].want {
				top := &stack[n-1]
				folded := foldKey(t)
				if top.keys == nil {
					top.keys = make(map[string]struct{})
				}
				if _, dup := top.keys[folded]; dup {
					top.key = t
					return reqErr(ErrDuplicateKey, path(), fmt.Sprintf("the key %q appears more than once in one object (keys are compared ignoring case)", t))
				}
				top.keys[folded] = struct{}{}
				top.key = t
				top.want = false
				continue
			}
			value()
		default:
			value()
		}
		if len(stack) == 0 {
			done = true
		}
	}
}

// foldKey folds a key the way encoding/json matches struct fields
// (case-insensitively, including the Kelvin sign and long s).
func foldKey(s string) string {
	return strings.ToLower(strings.ToUpper(s))
}

func syntaxError(err error, field string) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return reqErr(ErrInvalidJSON, field, fmt.Sprintf("the body is not valid JSON: %s at byte %d", strings.TrimPrefix(se.Error(), "json: "), se.Offset))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return reqErr(ErrInvalidJSON, field, "the JSON body ends before its value is complete")
	}
	return reqErr(ErrInvalidJSON, field, "the body is not valid JSON")
}

// translateDecodeError maps encoding/json's errors to RequestErrors.
func translateDecodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		want := jsonKind(te.Type)
		got := te.Value
		if got == "number" || strings.HasPrefix(got, "number ") {
			if strings.Contains(want, "number") {
				return reqErr(ErrWrongType, field, fmt.Sprintf("%s is out of range or not a whole number as this field requires", orBody(field)))
			}
			got = "number"
		}
		return reqErr(ErrWrongType, field, fmt.Sprintf("%s must be %s, not %s", orBody(field), want, got))
	}
	const unknown = "json: unknown field "
	if msg := err.Error(); strings.HasPrefix(msg, unknown) {
		// encoding/json has no typed error for this case.
		name, uerr := strconv.Unquote(strings.TrimPrefix(msg, unknown))
		if uerr != nil {
			name = strings.TrimPrefix(msg, unknown)
		}
		return reqErr(ErrUnknownField, name, fmt.Sprintf("the field %q is not accepted here", name))
	}
	var ie *json.InvalidUnmarshalError
	if errors.As(err, &ie) {
		return err // programming error, not the client's
	}
	var se *json.SyntaxError
	if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
		return syntaxError(err, "")
	}
	// Errors from a target's UnmarshalJSON or UnmarshalText method.
	return reqErr(ErrWrongType, "", "a field has a value this endpoint cannot accept")
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return fmt.Sprintf("the field %q", field)
}

// jsonKind names the JSON type a Go type expects.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return "a string" // encoding/json decodes these (netip.Addr, ...) from strings only
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a different type"
}
