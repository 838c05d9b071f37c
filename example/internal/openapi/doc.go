// Package openapi describes the Senfi API as an OpenAPI 3.1 document, serves
// it with Swagger UI and ReDoc, and checks real exchanges against it.
//
// # The document
//
// [New] builds the document in Go, from a small builder over kin-openapi's
// types (build.go) rather than from a YAML file: shared objects (the
// campaign, the user, the RFC 9457 problem) are declared once and
// referenced, enumerations come from package api's own lists (roles,
// faculties, dormitories, categories), and the error responses of an
// operation follow from what it is — authenticated (401, and 503 when the
// revocation store is down), role-gated (403), with a body (413, 415), with
// an {id} (404) — plus 400, 429 and 500, which any route may answer, and the
// statuses it names itself. Every response documents the X-Request-ID
// header; 429 requires Retry-After. The Bearer scheme (bearerAuth) is the
// only security scheme; operations open to anonymous callers that answer
// differently for a signed-in user list both alternatives.
//
// Schemas are strict where the contract is: required members are required,
// enumerations and bounds are stated, and resources with a fixed shape (a
// user, a campaign, a poll, a signature) are closed, so that a member added
// by mistake — a password hash, a debug field — fails the contract test.
// Envelopes ({"success": true, ...}) and problems stay open, since clients
// must ignore members they do not know.
//
// The version is 3.1.0 and kin-openapi validates it as such: [Document.Load]
// parses the JSON the server sends, resolves every reference and validates
// the document with JSON Schema 2020-12 semantics (nullable values are type
// arrays, fixed values const); the package's tests also validate every
// example against its schema.
//
// The JSON and YAML forms are made on first use and kept; building the
// document costs about a millisecond, its YAML form about a hundred.
//
// # Serving
//
// [NewHandlers] and [Handlers.Register] mount, on the API's mux:
//
//	GET /api/schema/          the document as YAML; ?format=json for JSON
//	GET /api/docs/            Swagger UI (github.com/swaggest/swgui's v5 files, from the binary)
//	GET /api/docs/{asset}     its files
//	GET /api/redoc/           ReDoc, whose bundle is loaded from HandlerOptions.RedocBundleURL
//
// each with and without the trailing slash. No Go module ships ReDoc's
// bundle and the project vendors no third-party assets, so the ReDoc page
// loads it from a URL, by default ReDoc's official CDN
// ([DefaultRedocBundleURL]), as drf-spectacular does; a deployment that
// must not reach a CDN serves a copy itself and names its path.
//
// The pages need more than an API's Content-Security-Policy and get exactly
// that: Swagger UI everything from this server with no inline script or
// style ([SwaggerUICSP]); ReDoc its bundle's URL as the only script source,
// inline styles (its styled-components inject them), a blob: worker (its
// search) and fetches to this server; with a cross-origin bundle the page's
// Cross-Origin-Embedder-Policy is credentialless. The other security
// headers of the chain stay as they are. Files are sent gzip-compressed to
// clients that accept it, with ETags, revalidated on every use
// (Cache-Control: no-cache).
//
// # Checking exchanges
//
// [Spec] is the loaded document with a router that matches requests as
// the server's http.ServeMux does. [Spec.Check] validates one exchange with
// kin-openapi's openapi3filter: the response's status, content type,
// headers and body; for a 2xx, the request too (parameters, body, and a
// Bearer token where one is required); an unrouted request must be a 404 or
// 405 problem. The app's end-to-end suite runs it on every response.
//
// # Limits
//
// The document is written by hand next to the handlers, not derived from
// them: the contract test (example/internal/app/openapi_test.go) is what
// keeps the two together, by comparing the route table with the document
// and validating every response of the suite. A change of a response shape
// that no test exercises can go unnoticed.
package openapi
