package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Spec is the document as a client sees it: its JSON loaded and validated
// by kin-openapi, with a router that matches requests the way the server's
// http.ServeMux does (trailing-slash twins, "{name...}" wildcards). It is
// safe for concurrent use.
type Spec struct {
	// T is the loaded document.
	T *openapi3.T

	mux    *http.ServeMux
	routes map[string]Route // by pattern, twins included
}

var _ routers.Router = (*Spec)(nil)

// Load parses the document's JSON with kin-openapi, resolving every
// reference, and validates it against the OpenAPI 3.1 rules. It does not
// validate the examples against their schemas, which costs most of a
// second (the package's tests do, with
// openapi3.EnableExamplesValidation).
func (d *Document) Load(ctx context.Context) (*Spec, error) {
	raw, err := d.JSON()
	if err != nil {
		return nil, err
	}
	t, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: load the document: %w", err)
	}
	if err := t.Validate(ctx, openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("openapi: the document is invalid: %w", err)
	}
	s := &Spec{T: t, mux: http.NewServeMux(), routes: map[string]Route{}}
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, rt := range d.routes {
		patterns := []string{rt.Pattern}
		if rt.Twin {
			patterns = twins(rt.Pattern)
		}
		for _, p := range patterns {
			s.mux.Handle(p, nop)
			s.routes[p] = rt
		}
	}
	return s, nil
}

// twins are the patterns the server registers for one route: the route
// and the same path with a trailing slash ("/{$}" matches only the slash
// form; the root is its own twin).
func twins(pattern string) []string {
	if strings.HasSuffix(pattern, "/") || strings.HasSuffix(pattern, "{$}") || strings.HasSuffix(pattern, "...}") {
		return []string{pattern}
	}
	return []string{pattern, pattern + "/{$}"}
}

// FindRoute implements [routers.Router]: the documented operation that the
// server's mux would route r to, and its path parameters. It returns
// [routers.ErrMethodNotAllowed] when the path is documented for other
// methods only, [routers.ErrPathNotFound] when not at all.
func (s *Spec) FindRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	_, pattern := s.mux.Handler(r)
	rt, ok := s.routes[pattern]
	if !ok {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := s.mux.Handler(probe); p != "" {
				return nil, nil, routers.ErrMethodNotAllowed
			}
		}
		return nil, nil, routers.ErrPathNotFound
	}
	item := s.T.Paths.Value(rt.Path)
	if item == nil || item.GetOperation(rt.Method) == nil {
		return nil, nil, fmt.Errorf("openapi: %s %s is routed but not in the loaded document", rt.Method, rt.Path)
	}
	params, err := pathValues(pattern, r.URL.EscapedPath())
	if err != nil {
		return nil, nil, err
	}
	return &routers.Route{
		Spec: s.T, Path: rt.Path, PathItem: item, Method: rt.Method, Operation: item.GetOperation(rt.Method),
	}, params, nil
}

// pathValues reads the wildcards of pattern ("GET /a/{id}/b") from the
// escaped request path, unescaping each as ServeMux does.
func pathValues(pattern, escaped string) (map[string]string, error) {
	_, path, _ := strings.Cut(pattern, " ")
	want := strings.Split(path, "/")
	got := strings.Split(escaped, "/")
	params := map[string]string{}
	for i, w := range want {
		if !strings.HasPrefix(w, "{") || w == "{$}" || i >= len(got) {
			continue
		}
		name := strings.Trim(w, "{}")
		raw := got[i]
		if rest, ok := strings.CutSuffix(name, "..."); ok {
			name, raw = rest, strings.Join(got[i:], "/")
		}
		v, err := url.PathUnescape(raw)
		if err != nil {
			return nil, fmt.Errorf("openapi: path parameter %s: %w", name, err)
		}
		params[name] = v
	}
	return params, nil
}

// Exchange is one request and the response the server gave it.
type Exchange struct {
	// Request is the request as sent. Its body is not read: see
	// RequestBody.
	Request *http.Request
	// RequestBody is the body that was sent; nil for none.
	RequestBody []byte
	// Status, Header and Body are the response's.
	Status int
	Header http.Header
	Body   []byte
}

// Check validates an exchange against the document:
//
//   - The response of a documented operation must have a documented status
//     and content type, carry its required headers (X-Request-ID on every
//     response, Retry-After on 429), and have a body that matches the
//     schema: every required member present, members of closed objects
//     only, every value of the right type, enumeration and bounds.
//   - A successful (2xx) exchange must also have a request the document
//     allows: documented parameters and body, and a Bearer token where the
//     operation requires one. A refused request is not checked, since
//     refusing invalid requests is the point.
//   - A request no operation matches must have been answered 404, or 405
//     when the path is documented for other methods, with a problem
//     document. A CORS preflight (OPTIONS with
//     Access-Control-Request-Method) is the CORS layer's and not checked.
//
// All failures are returned together.
func (s *Spec) Check(ctx context.Context, x Exchange) error {
	r := x.Request
	route, params, err := s.FindRoute(r)
	switch {
	case errors.Is(err, routers.ErrPathNotFound), errors.Is(err, routers.ErrMethodNotAllowed):
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			return nil
		}
		return s.checkUnrouted(x, errors.Is(err, routers.ErrMethodNotAllowed))
	case err != nil:
		return err
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    bearerPresent,
	}
	opts.WithCustomSchemaErrorFunc(schemaMessage)
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	var errs []error
	res := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: x.Status, Header: x.Header, Options: opts,
	}
	res.SetBodyBytes(x.Body)
	if err := openapi3filter.ValidateResponse(ctx, res); err != nil {
		errs = append(errs, fmt.Errorf("response %d: %w", x.Status, err))
	}
	if x.Status >= 200 && x.Status < 300 {
		req := r.Clone(ctx)
		req.Body = http.NoBody
		if x.RequestBody != nil {
			req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
		}
		in.Request = req
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			errs = append(errs, fmt.Errorf("request (answered %d): %w", x.Status, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s %s (operation %s): %w", r.Method, r.URL.RequestURI(), route.Operation.OperationID, errors.Join(errs...))
	}
	return nil
}

// checkUnrouted checks the answer to a request no operation matches.
func (s *Spec) checkUnrouted(x Exchange, methodNotAllowed bool) error {
	r := x.Request
	want := http.StatusNotFound
	if methodNotAllowed {
		want = http.StatusMethodNotAllowed
	}
	if x.Status != want {
		return fmt.Errorf("%s %s: no documented operation, answered %d (want %d)", r.Method, r.URL.RequestURI(), x.Status, want)
	}
	if methodNotAllowed && x.Header.Get("Allow") == "" {
		return fmt.Errorf("%s %s: 405 without Allow", r.Method, r.URL.RequestURI())
	}
	return s.CheckProblem(x.Header, x.Body)
}

// CheckProblem validates a problem response: its content type and its body
// against the Problem schema.
func (s *Spec) CheckProblem(h http.Header, body []byte) error {
	if ct := h.Get("Content-Type"); ct != problemType {
		return fmt.Errorf("openapi: a problem with Content-Type %q, want %s", ct, problemType)
	}
	schema := s.T.Components.Schemas["Problem"]
	if schema == nil || schema.Value == nil {
		return errors.New("openapi: the document has no Problem schema")
	}
	v, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("openapi: problem body: %w", err)
	}
	if err := schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors(), openapi3.SetSchemaErrorMessageCustomizer(schemaMessage)); err != nil {
		return fmt.Errorf("openapi: problem body does not match the Problem schema: %w", err)
	}
	return nil
}

// schemaMessage words a schema failure in one line: where and why,
// without kin-openapi's dump of the whole schema and value.
func schemaMessage(e *openapi3.SchemaError) string {
	msg := e.Reason
	if msg == "" {
		msg = "does not match its schema's " + e.SchemaField
	}
	if e.Origin != nil {
		msg = e.Origin.Error()
	}
	if p := e.JSONPointer(); len(p) > 0 && !strings.HasPrefix(msg, "at '") {
		msg = "at /" + strings.Join(p, "/") + ": " + msg
	}
	return msg
}

// decodeJSON decodes a JSON value with numbers as float64, as kin-openapi's
// validators expect.
func decodeJSON(b []byte) (any, error) {
	var v any
	err := json.Unmarshal(b, &v)
	return v, err
}

// bearerPresent is the AuthenticationFunc of Check: the bearer scheme is
// satisfied by an Authorization header carrying a Bearer token (the server
// verified it; a 2xx says it was good).
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != bearerScheme {
		return fmt.Errorf("openapi: unknown security scheme %q", in.SecuritySchemeName)
	}
	scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return errors.New("openapi: no Bearer token")
	}
	return nil
}
