// Package problem writes RFC 9457 "problem details" responses
// (application/problem+json). Every package of the kit uses it for its default
// error responses, so a client sees one error format whichever layer refused the
// request.
//
// A problem body carries type, title, status and detail, the request ID when an
// earlier middleware set the X-Request-ID response header, an optional list of
// field errors, and optional extension members (the Senfi example adds
// "success": false for its DRF-era frontend).
package problem

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType is the media type of a problem details body (RFC 9457 §3).
const ContentType = "application/problem+json"

// HeaderRequestID is the response header whose value becomes the body's
// request_id member. The audit package sets it before the handler runs.
const HeaderRequestID = "X-Request-ID"

// FieldError names one invalid input field and says what is wrong with it.
type FieldError struct {
	// Field is the JSON name (or dotted path) of the field.
	Field string `json:"field"`
	// Message says what is wrong, in words a client developer can act on.
	Message string `json:"message"`
}

// Problem is one RFC 9457 problem details object.
type Problem struct {
	// Type is a URI reference identifying the problem type. Zero value:
	// "about:blank", which by RFC 9457 means the title is the HTTP status text.
	Type string
	// Title is a short summary of the problem type. Zero value: the status text.
	Title string
	// Status is the HTTP status code, 400–599. Zero value (or any other
	// value): 500.
	Status int
	// Detail explains this occurrence. It must never carry internal error text.
	Detail string
	// RequestID identifies the request in the logs. Zero value: the value of the
	// X-Request-ID response header, if any.
	RequestID string
	// Errors lists invalid fields, for validation problems.
	Errors []FieldError
	// Extensions are extra top-level members. Keys that clash with the members
	// above are ignored.
	Extensions map[string]any
}

// New returns a Problem of type about:blank with the given status and detail.
func New(status int, detail string) Problem {
	return Problem{Status: status, Detail: detail}
}

// wire is the JSON form of a Problem, in the member order RFC 9457 uses.
type wire struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

var reserved = map[string]bool{
	"type": true, "title": true, "status": true, "detail": true,
	"request_id": true, "errors": true,
}

// normalized fills the zero-value defaults documented on Problem.
func (p Problem) normalized() Problem {
	if p.Status < 400 || p.Status > 599 {
		p.Status = http.StatusInternalServerError
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
		if p.Title == "" {
			p.Title = "Status " + strconv.Itoa(p.Status)
		}
	}
	return p
}

// MarshalJSON encodes the problem with its defaults applied and its extension
// members merged at the top level.
func (p Problem) MarshalJSON() ([]byte, error) {
	p = p.normalized()
	base, err := json.Marshal(wire{
		Type: p.Type, Title: p.Title, Status: p.Status, Detail: p.Detail,
		RequestID: p.RequestID, Errors: p.Errors,
	})
	if err != nil || len(p.Extensions) == 0 {
		return base, err
	}
	ext := make(map[string]any, len(p.Extensions))
	for k, v := range p.Extensions {
		if !reserved[k] {
			ext[k] = v
		}
	}
	if len(ext) == 0 {
		return base, nil
	}
	extra, err := json.Marshal(ext) // map keys are sorted: stable output
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(base) + len(extra))
	buf.Write(base[:len(base)-1])
	buf.WriteByte(',')
	buf.Write(extra[1:])
	return buf.Bytes(), nil
}

type extKey struct{}

// WithExtensions returns a copy of ctx under which every problem written by
// [Write] for a request carrying it also has the extension members ext
// (members set in the Problem itself win). An application sets it once, first
// in its chain, so that the kit's middleware answers in its error shape too —
// the Senfi example adds "success": false. Set in the server's ConnContext
// (or BaseContext), it reaches every request of the connection without a
// per-request copy. ext must not be modified after the call.
func WithExtensions(ctx context.Context, ext map[string]any) context.Context {
	return context.WithValue(ctx, extKey{}, ext)
}

// HasExtensions reports whether ctx carries extension members set by
// [WithExtensions].
func HasExtensions(ctx context.Context) bool {
	_, ok := ctx.Value(extKey{}).(map[string]any)
	return ok
}

// Write sends p as the response: Content-Type application/problem+json,
// Cache-Control no-store, the status line, and the JSON body. If p.RequestID is
// empty it is taken from the X-Request-ID response header. Write never fails
// loudly: if an extension cannot be encoded the body is sent without
// extensions.
func Write(w http.ResponseWriter, r *http.Request, p Problem) {
	p = p.normalized()
	if r != nil {
		if ext, ok := r.Context().Value(extKey{}).(map[string]any); ok && len(ext) > 0 {
			merged := make(map[string]any, len(ext)+len(p.Extensions))
			for k, v := range ext {
				merged[k] = v
			}
			for k, v := range p.Extensions {
				merged[k] = v
			}
			p.Extensions = merged
		}
	}
	h := w.Header()
	if p.RequestID == "" {
		p.RequestID = h.Get(HeaderRequestID)
	}
	body, err := p.MarshalJSON()
	if err != nil {
		p.Extensions = nil
		body, _ = p.MarshalJSON()
	}
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Encoding")
	w.WriteHeader(p.Status)
	if r != nil && r.Method == http.MethodHead {
		return
	}
	body = append(body, '\n')
	_, _ = w.Write(body)
}
