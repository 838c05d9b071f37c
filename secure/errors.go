package secure

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors. Requests refused by a [Guard], and bodies refused by
// [DecodeJSON], produce a [*RequestError] that wraps one of these; match them
// with errors.Is.
var (
	// ErrHostNotAllowed: the Host header names a host not in Options.AllowedHosts (400).
	ErrHostNotAllowed = errors.New("secure: host not allowed")
	// ErrBodyTooLarge: the request body exceeds the configured limit (413).
	ErrBodyTooLarge = errors.New("secure: request body too large")
	// ErrUnsupportedMediaType: a body was sent with a Content-Type other than JSON (415).
	ErrUnsupportedMediaType = errors.New("secure: unsupported media type")
	// ErrEmptyBody: a JSON body was required but none was sent (400).
	ErrEmptyBody = errors.New("secure: empty request body")
	// ErrInvalidJSON: the body is not well-formed JSON (400).
	ErrInvalidJSON = errors.New("secure: malformed JSON")
	// ErrTrailingData: the body holds more than one JSON value (400).
	ErrTrailingData = errors.New("secure: trailing data after JSON value")
	// ErrDuplicateKey: an object repeats a key, exactly or differing only in case (400).
	ErrDuplicateKey = errors.New("secure: duplicate JSON object key")
	// ErrTooDeep: objects and arrays nest deeper than allowed (400).
	ErrTooDeep = errors.New("secure: JSON nested too deeply")
	// ErrWrongType: a field has the wrong JSON type or is out of range (400).
	ErrWrongType = errors.New("secure: JSON field has the wrong type")
	// ErrUnknownField: an object has a field the target does not declare (400).
	ErrUnknownField = errors.New("secure: unknown JSON field")
	// ErrBodyUnreadable: reading the body failed, e.g. the client went away (400).
	ErrBodyUnreadable = errors.New("secure: request body could not be read")
	// ErrCrossOrigin: a cross-origin state-changing request was refused by
	// cross-origin protection (403).
	ErrCrossOrigin = errors.New("secure: cross-origin request refused")
)

// RequestError is the error a [Guard] hands to its ErrorHandler and that
// [DecodeJSON] returns. Err is one of the package's sentinels; Field names the
// offending JSON field (a dotted path) when there is one; Detail is a message
// safe to show to the client.
type RequestError struct {
	Err    error
	Field  string
	Detail string
}

// Error implements error.
func (e *RequestError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%v: %s (field %q)", e.Err, e.Detail, e.Field)
	}
	return fmt.Sprintf("%v: %s", e.Err, e.Detail)
}

// Unwrap returns the sentinel.
func (e *RequestError) Unwrap() error { return e.Err }

// Status returns the HTTP status code for the error.
func (e *RequestError) Status() int { return StatusCode(e) }

func reqErr(sentinel error, field, detail string) *RequestError {
	return &RequestError{Err: sentinel, Field: field, Detail: detail}
}

// StatusCode maps an error of this package to its HTTP status: 400, 403, 413
// or 415. Any other error maps to 500.
func StatusCode(err error) int {
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrCrossOrigin):
		return http.StatusForbidden
	case errors.Is(err, ErrHostNotAllowed), errors.Is(err, ErrEmptyBody),
		errors.Is(err, ErrInvalidJSON), errors.Is(err, ErrTrailingData),
		errors.Is(err, ErrDuplicateKey), errors.Is(err, ErrTooDeep),
		errors.Is(err, ErrWrongType), errors.Is(err, ErrUnknownField),
		errors.Is(err, ErrBodyUnreadable):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}
