package openapi

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The document is written in Go with the small builder in this file rather
// than as a YAML file: schemas are shared values (the campaign object is
// declared once and referenced by a dozen operations), the enumerations come
// from package api's own lists (faculties, dormitories, roles), and the error
// responses every operation may give are derived from what the operation is
// (authenticated, role-gated, with a body, with an {id}) instead of being
// repeated by hand. paths_*.go describe the operations, schemas.go the
// shared objects.

// access says who may call an operation.
type access int

const (
	// public operations take no credentials.
	public access = iota
	// optional operations answer anonymous callers and, with a Bearer
	// token, answer for its user (visibility by category, has_signed).
	optional
	// bearer operations need a valid access token (401 otherwise).
	bearer
)

// operation describes one route. Zero fields are omitted from the document.
type operation struct {
	id, summary, description string
	tag                      string
	access                   access
	// roles, when set, limits the operation to users of these roles (403
	// otherwise); it implies bearer.
	roles []string
	// limit names the contract's rate limit on the route (§6), for the
	// description.
	limit string
	query []*openapi3.Parameter
	body  *body
	ok    []success
	// errors are the error statuses this operation answers besides those
	// every operation of its kind may answer (see errorStatuses).
	errors []int
	// twin and noTwin override the rule of contract §1 for the route's
	// trailing-slash form: served for paths under /api/, not elsewhere.
	twin, noTwin bool
}

// body is an operation's JSON request body.
type body struct {
	schema   *openapi3.SchemaRef
	optional bool // the body may be absent (logout, sign)
	example  any
}

// success is one non-error response.
type success struct {
	status  int
	desc    string
	media   string   // zero: application/json; noContent: no body
	more    []string // further media types of the same schema
	schema  *openapi3.SchemaRef
	example any
}

// noContent is the media of a response without a body.
const noContent = "-"

// notModified is the answer to a conditional GET whose ETag still matches.
var notModified = success{status: http.StatusNotModified, desc: "Unchanged since the ETag the client sent (If-None-Match).", media: noContent}

// Route is one documented route: the http.ServeMux pattern the server
// registers and the OpenAPI path and method that describe it.
type Route struct {
	// Pattern is the ServeMux pattern, "GET /api/campaigns/{id}" or
	// "GET /api/performance/endpoints/{endpoint...}", without the
	// trailing-slash twin ("/{$}") the server also registers.
	Pattern string
	// Method is the HTTP method, Path the OpenAPI path
	// ("/api/performance/endpoints/{endpoint}").
	Method, Path string
	// OperationID is the operation's operationId.
	OperationID string
	// Twin reports whether the same path with a trailing slash is served
	// identically (contract §1: every path under /api/).
	Twin bool
}

// builder accumulates the document; its errors are reported by New.
type builder struct {
	doc    *openapi3.T
	routes []Route
	ids    map[string]bool
	errs   []error
}

func (b *builder) fail(format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf("openapi: "+format, args...))
}

// add documents the route pattern ("METHOD /path").
func (b *builder) add(pattern string, o operation) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		b.fail("route %q: want \"METHOD /path\"", pattern)
		return
	}
	// "/{$}" matches the path ending in the slash only: the root "/".
	path = strings.TrimSuffix(path, "{$}")
	switch {
	case o.id == "" || o.summary == "" || o.tag == "":
		b.fail("route %q: operationId, summary and tag are required", pattern)
		return
	case b.ids[o.id]:
		b.fail("route %q: operationId %q used twice", pattern, o.id)
		return
	case len(o.ok) == 0:
		b.fail("route %q: no success response", pattern)
		return
	}
	b.ids[o.id] = true
	if len(o.roles) > 0 {
		o.access = bearer
	}
	op := &openapi3.Operation{
		OperationID: o.id, Summary: o.summary, Description: describe(o),
		Tags:      []string{o.tag},
		Responses: openapi3.NewResponses(),
	}
	apiPath, params := pathParams(path)
	op.Parameters = append(op.Parameters, params...)
	for _, q := range o.query {
		q.In = openapi3.ParameterInQuery
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: q})
	}
	switch o.access {
	case optional:
		op.Security = &openapi3.SecurityRequirements{{}, {bearerScheme: {}}}
	case bearer:
		op.Security = &openapi3.SecurityRequirements{{bearerScheme: {}}}
	default:
		op.Security = &openapi3.SecurityRequirements{}
	}
	if o.body != nil {
		mt := &openapi3.MediaType{Schema: o.body.schema, Example: o.body.example}
		op.RequestBody = &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{
			Required: !o.body.optional,
			Content:  openapi3.Content{jsonType: mt},
		}}
	}
	for _, s := range o.ok {
		desc := s.desc
		resp := &openapi3.Response{
			Description: &desc,
			Headers:     openapi3.Headers{headerRequestID: headerRef(headerRequestID)},
		}
		switch s.media {
		case noContent:
		case "":
			resp.Content = openapi3.Content{jsonType: &openapi3.MediaType{Schema: s.schema, Example: s.example}}
		default:
			resp.Content = openapi3.Content{s.media: &openapi3.MediaType{Schema: s.schema, Example: s.example}}
		}
		for _, m := range s.more {
			resp.Content[m] = &openapi3.MediaType{Schema: s.schema}
		}
		op.Responses.Set(strconv.Itoa(s.status), &openapi3.ResponseRef{Value: resp})
	}
	for _, status := range errorStatuses(o, len(params) > 0) {
		name, ok := problemResponses[status]
		if !ok {
			b.fail("route %q: no problem response for status %d", pattern, status)
			return
		}
		op.Responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Ref: "#/components/responses/" + name})
	}
	if item := b.doc.Paths.Value(apiPath); item != nil && item.GetOperation(method) != nil {
		b.fail("route %q documented twice", pattern)
		return
	}
	b.doc.AddOperation(apiPath, method, op)
	twin := (strings.HasPrefix(apiPath, "/api/") || o.twin) && !o.noTwin && !strings.HasSuffix(pattern, "...}")
	b.routes = append(b.routes, Route{Pattern: pattern, Method: method, Path: apiPath, OperationID: o.id, Twin: twin})
}

// describe is the operation's description, with who may call it and its
// rate limit appended.
func describe(o operation) string {
	var parts []string
	if o.description != "" {
		parts = append(parts, o.description)
	}
	switch {
	case len(o.roles) > 0:
		parts = append(parts, "**Who:** a Bearer token of a user whose role is one of `"+strings.Join(o.roles, "`, `")+"` (403 otherwise).")
	case o.access == bearer:
		parts = append(parts, "**Who:** any signed-in user (Bearer token).")
	case o.access == optional:
		parts = append(parts, "**Who:** anyone; with a Bearer token the answer is the one for that user.")
	default:
		parts = append(parts, "**Who:** anyone.")
	}
	if o.limit != "" {
		parts = append(parts, "**Rate limit:** `"+o.limit+"` (environment `SENFI_RATE_"+o.limit+"`); over it: 429 with `Retry-After`.")
	}
	return strings.Join(parts, "\n\n")
}

// errorStatuses are the problem responses of o, sorted: those every route
// may give (400 for a refused Host or parameter, 429 from the global limit,
// 500), those of its kind (body: 413, 415; {id}: 404; authenticated: 401
// and 503 when the revocation store is unreachable; roles: 403), and its
// own.
func errorStatuses(o operation, hasPathParams bool) []int {
	set := map[int]bool{http.StatusBadRequest: true, http.StatusTooManyRequests: true, http.StatusInternalServerError: true}
	if o.body != nil {
		set[http.StatusRequestEntityTooLarge] = true
		set[http.StatusUnsupportedMediaType] = true
	}
	if hasPathParams {
		set[http.StatusNotFound] = true
	}
	if o.access == bearer {
		set[http.StatusUnauthorized] = true
		set[http.StatusServiceUnavailable] = true
	}
	if o.access == optional {
		// A token that is sent must be valid.
		set[http.StatusUnauthorized] = true
	}
	if len(o.roles) > 0 {
		set[http.StatusForbidden] = true
	}
	for _, s := range o.errors {
		set[s] = true
	}
	out := make([]int, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// pathParams turns a ServeMux path into the OpenAPI path and its
// parameters: "{id}" is a positive 64-bit integer (anything else is 404),
// "{name...}" a rest-of-path wildcard, documented as one parameter.
func pathParams(path string) (string, openapi3.Parameters) {
	var params openapi3.Parameters
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
			continue
		}
		name := strings.TrimSuffix(s[1:len(s)-1], "...")
		segs[i] = "{" + name + "}"
		p := &openapi3.Parameter{Name: name, In: openapi3.ParameterInPath, Required: true}
		switch name {
		case "id":
			p.Description = "A positive 64-bit integer; anything else is 404."
			p.Schema = integerID()
			p.Example = 1
		default:
			p.Description = pathParamDescriptions[name]
			p.Schema = str(0, 0)
		}
		params = append(params, &openapi3.ParameterRef{Value: p})
	}
	return strings.Join(segs, "/"), params
}

// pathParamDescriptions describe the path parameters other than {id}.
var pathParamDescriptions = map[string]string{
	"slug":     "The post's slug (its URL name).",
	"endpoint": "An endpoint key, `METHOD /route/{pattern}` URL-escaped (`GET%20%2Fapi%2Fcampaigns%2Fapproved`), or a bare route pattern for all its methods.",
	"asset":    "The name of a file of the page.",
}

// ---- schema constructors ----
//
// Each returns a new inline schema; ref names a component. Modifiers change
// their argument and return it, so that they chain.

func ref(name string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Ref: "#/components/schemas/" + name}
}

func typed(t string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{t}}}
}

// str is a string of lo to hi code points (0: no bound).
func str(lo, hi uint64) *openapi3.SchemaRef {
	s := typed(openapi3.TypeString)
	s.Value.MinLength = lo
	if hi > 0 {
		s.Value.MaxLength = &hi
	}
	return s
}

func integer() *openapi3.SchemaRef {
	s := typed(openapi3.TypeInteger)
	s.Value.Format = "int64"
	return s
}

// count is a non-negative integer.
func count() *openapi3.SchemaRef { return minimum(integer(), 0) }

// integerID is a positive 64-bit integer.
func integerID() *openapi3.SchemaRef { return minimum(integer(), 1) }

func number() *openapi3.SchemaRef  { return typed(openapi3.TypeNumber) }
func boolean() *openapi3.SchemaRef { return typed(openapi3.TypeBoolean) }

func dateTime() *openapi3.SchemaRef {
	s := typed(openapi3.TypeString)
	s.Value.Format = "date-time"
	return s
}

func email() *openapi3.SchemaRef {
	s := str(3, 254)
	s.Value.Format = "email"
	return s
}

func uri() *openapi3.SchemaRef {
	s := typed(openapi3.TypeString)
	s.Value.Format = "uri"
	return s
}

func array(items *openapi3.SchemaRef) *openapi3.SchemaRef {
	s := typed(openapi3.TypeArray)
	s.Value.Items = items
	return s
}

// oneOf accepts exactly one of the alternatives.
func oneOf(alts ...*openapi3.SchemaRef) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{OneOf: alts}}
}

// enum is a string that is one of vals.
func enum[S ~string](vals ...S) *openapi3.SchemaRef {
	s := typed(openapi3.TypeString)
	for _, v := range vals {
		s.Value.Enum = append(s.Value.Enum, string(v))
	}
	return s
}

// constant is exactly v (JSON Schema 2020-12 const).
func constant(v any) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Const: v}}
}

// nullable also admits null: a type array (OpenAPI 3.1) for a typed
// schema, an alternative for a reference or a combination.
func nullable(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	if s.Ref != "" || s.Value.Type == nil {
		return &openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: openapi3.SchemaRefs{s, typed(openapi3.TypeNull)}}}
	}
	if s.Value.Type.Includes(openapi3.TypeNull) {
		return s
	}
	s.Value.Type.With(openapi3.TypeNull)
	if len(s.Value.Enum) > 0 {
		s.Value.Enum = append(s.Value.Enum, nil)
	}
	return s
}

func minimum(s *openapi3.SchemaRef, v float64) *openapi3.SchemaRef {
	s.Value.Min = &v
	return s
}

func maximum(s *openapi3.SchemaRef, v float64) *openapi3.SchemaRef {
	s.Value.Max = &v
	return s
}

// items bounds an array's length (hi 0: no upper bound).
func items(s *openapi3.SchemaRef, lo, hi uint64) *openapi3.SchemaRef {
	s.Value.MinItems = lo
	if hi > 0 {
		s.Value.MaxItems = &hi
	}
	return s
}

func note(s *openapi3.SchemaRef, text string) *openapi3.SchemaRef {
	s.Value.Description = text
	return s
}

func example(s *openapi3.SchemaRef, v any) *openapi3.SchemaRef {
	s.Value.Examples = []any{v}
	return s
}

// field is one property of an object schema.
type field struct {
	name     string
	schema   *openapi3.SchemaRef
	required bool
}

// req is a property every instance has; opt one it may lack.
func req(name string, s *openapi3.SchemaRef) field { return field{name, s, true} }
func opt(name string, s *openapi3.SchemaRef) field { return field{name, s, false} }

// in is an optional member of a request body. JSON null is accepted as the
// member's absence (Go's encoding/json leaves the field unset), so the
// schema admits it.
func in(name string, s *openapi3.SchemaRef) field { return opt(name, nullable(s)) }

// object is an open object: properties it does not list are allowed, as
// the API adds members over time and clients must ignore unknown ones.
func object(fields ...field) *openapi3.SchemaRef {
	s := typed(openapi3.TypeObject)
	s.Value.Properties = openapi3.Schemas{}
	for _, f := range fields {
		s.Value.Properties[f.name] = f.schema
		if f.required {
			s.Value.Required = append(s.Value.Required, f.name)
		}
	}
	return s
}

// closed forbids properties the object does not list. It is for resources
// whose shape is fixed and must not grow silently (a user object that
// suddenly carried its password hash would fail the contract test).
func closed(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	no := false
	s.Value.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
	return s
}

// envelope is the {"success": true, ...} object most answers are.
func envelope(fields ...field) *openapi3.SchemaRef {
	return object(append([]field{req("success", constant(true))}, fields...)...)
}

// requireOne: at least one of the named properties is present.
func requireOne(s *openapi3.SchemaRef, names ...string) *openapi3.SchemaRef {
	var alts openapi3.SchemaRefs
	for _, n := range names {
		alts = append(alts, &openapi3.SchemaRef{Value: &openapi3.Schema{Required: []string{n}}})
	}
	s.Value.AllOf = append(s.Value.AllOf, &openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: alts}})
	return s
}

// ---- parameters and responses ----

// queryParam is an optional query parameter.
func queryParam(name, description string, schema *openapi3.SchemaRef) *openapi3.Parameter {
	return &openapi3.Parameter{Name: name, Description: description, Schema: schema}
}

// ok200 is a 200 JSON answer; created a 201 one.
func ok200(desc string, schema *openapi3.SchemaRef, ex any) success {
	return success{status: http.StatusOK, desc: desc, schema: schema, example: ex}
}

func created(desc string, schema *openapi3.SchemaRef, ex any) success {
	return success{status: http.StatusCreated, desc: desc, schema: schema, example: ex}
}

// jsonBody is a required JSON body; optionalBody one that may be absent.
func jsonBody(schema *openapi3.SchemaRef, ex any) *body { return &body{schema: schema, example: ex} }

func optionalBody(schema *openapi3.SchemaRef, ex any) *body {
	return &body{schema: schema, optional: true, example: ex}
}

func headerRef(name string) *openapi3.HeaderRef {
	return &openapi3.HeaderRef{Ref: "#/components/headers/" + name}
}
