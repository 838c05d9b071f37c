package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/swaggest/swgui/v5/static"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// DefaultRedocBundleURL is where the ReDoc page loads ReDoc from unless
// HandlerOptions.RedocBundleURL says otherwise: ReDoc's official CDN, as
// drf-spectacular does.
const DefaultRedocBundleURL = "https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"

// SwaggerUICSP is the Content-Security-Policy of the Swagger UI page and its
// files: everything from this server, no inline script or style, no
// eval; data: images for the icons in Swagger UI's style sheet; fetches to
// this server only (the document and "Try it out"); no framing, forms,
// plugins or base URL changes.
const SwaggerUICSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// schemaURL is what the viewers fetch: the JSON form.
const schemaURL = SchemaPath + "/?format=json"

// HandlerOptions configure the handlers.
type HandlerOptions struct {
	// Document is the document to serve. Required.
	Document *Document
	// RedocBundleURL is where the ReDoc page loads ReDoc's standalone
	// bundle from: an https URL, an http URL of a loopback host (for
	// development), or a path on this server ("/static/redoc.js") for a
	// self-hosted copy. Its origin and path become the page's script-src,
	// and nothing else may run there. Zero value: DefaultRedocBundleURL.
	RedocBundleURL string
	// RedocBundleIntegrity, when set, is the bundle's Subresource Integrity
	// hash ("sha384-" and the base64 digest): the browser then runs the
	// bundle only if it is exactly that file, fetched with CORS (the CDN
	// must send Access-Control-Allow-Origin, as cdn.redoc.ly does). Use it
	// with a versioned RedocBundleURL; "latest" changes under it. Zero
	// value: no check, the CDN is trusted.
	RedocBundleIntegrity string
}

// Handlers serve the document (YAML, or JSON with ?format=json), Swagger UI
// with its files from the binary (github.com/swaggest/swgui), and the ReDoc
// page, each with the Content-Security-Policy it needs, overriding the
// API's stricter one. Make them with [NewHandlers] and mount them with
// [Handlers.Register]. They are safe for concurrent use.
type Handlers struct {
	doc                    *Document
	schemaYAML, schemaJSON lazyAsset
	swagger                *asset
	swaggerFiles           map[string]*asset
	redoc                  *asset
	redocCSP               string
	redocCrossOrigin       bool
}

// asset is one served file: its body (gzip-compressed when gz), type and
// validator. The uncompressed form of a gz asset is made on first use by a
// client that does not accept gzip.
type asset struct {
	body  []byte
	gz    bool
	ctype string
	etag  string

	once  sync.Once
	plain []byte
	err   error
}

// lazyAsset is a serialization of the document, made on first request.
type lazyAsset struct {
	once sync.Once
	a    *asset
	err  error
}

func (l *lazyAsset) get(produce func() ([]byte, error), ctype string) (*asset, error) {
	l.once.Do(func() {
		var b []byte
		if b, l.err = produce(); l.err == nil {
			l.a = newAsset(b, false, ctype)
		}
	})
	return l.a, l.err
}

func newAsset(body []byte, gz bool, ctype string) *asset {
	sum := sha256.Sum256(body)
	return &asset{body: body, gz: gz, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// swaggerFileTypes are the files of the Swagger UI page that swgui ships
// (some gzip-compressed in its module) and their types; the start-up
// script is this package's.
var swaggerFileTypes = map[string]string{
	"swagger-ui-bundle.js.gz": "text/javascript; charset=utf-8",
	"swagger-ui.css.gz":       "text/css; charset=utf-8",
	"favicon-32x32.png":       "image/png",
	"favicon-16x16.png":       "image/png",
}

//go:embed ui/swagger.html ui/redoc.html ui/swagger-init.js
var ui embed.FS

// NewHandlers validates o, reporting every problem at once, and prepares
// the pages and files (the document's serializations are made on their
// first request).
func NewHandlers(o HandlerOptions) (*Handlers, error) {
	var errs []error
	if o.Document == nil {
		errs = append(errs, errors.New("openapi: HandlerOptions.Document is required"))
	}
	bundle := o.RedocBundleURL
	if bundle == "" {
		bundle = DefaultRedocBundleURL
	}
	scriptSrc, crossOrigin, err := bundleSource(bundle)
	if err != nil {
		errs = append(errs, err)
	}
	if o.RedocBundleIntegrity != "" && !validIntegrity(o.RedocBundleIntegrity) {
		errs = append(errs, fmt.Errorf("%w: %q", ErrBundleIntegrity, o.RedocBundleIntegrity))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	h := &Handlers{
		doc:              o.Document,
		swaggerFiles:     map[string]*asset{},
		redocCSP:         redocCSP(scriptSrc),
		redocCrossOrigin: crossOrigin,
	}
	page := struct{ Title, Base, SchemaURL, Bundle, Integrity string }{"Senfi API", DocsPath, schemaURL, bundle, o.RedocBundleIntegrity}
	if h.swagger, err = render("ui/swagger.html", page); err != nil {
		return nil, err
	}
	if h.redoc, err = render("ui/redoc.html", page); err != nil {
		return nil, err
	}
	for name, ctype := range swaggerFileTypes {
		b, err := fs.ReadFile(static.FS, name)
		if err != nil {
			return nil, fmt.Errorf("openapi: swgui asset: %w", err)
		}
		gz := strings.HasSuffix(name, ".gz")
		h.swaggerFiles[strings.TrimSuffix(name, ".gz")] = newAsset(b, gz, ctype)
	}
	js, err := ui.ReadFile("ui/swagger-init.js")
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	h.swaggerFiles["swagger-init.js"] = newAsset(js, false, "text/javascript; charset=utf-8")
	return h, nil
}

func render(name string, data any) (*asset, error) {
	t, err := template.ParseFS(ui, name)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", name, err)
	}
	return newAsset(buf.Bytes(), false, htmlType+"; charset=utf-8"), nil
}

// validIntegrity accepts one SRI hash: sha256, sha384 or sha512, and the
// base64 digest of its length.
func validIntegrity(v string) bool {
	alg, digest, ok := strings.Cut(v, "-")
	size := map[string]int{"sha256": 32, "sha384": 48, "sha512": 64}[alg]
	if !ok || size == 0 {
		return false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(digest)
	return err == nil && len(b) == size
}

// bundleSource checks the ReDoc bundle URL and returns the CSP source that
// allows exactly it, and whether it is on another origin.
func bundleSource(raw string) (src string, crossOrigin bool, err error) {
	if strings.ContainsAny(raw, " \t\r\n;,'\"<>\\`") || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", false, fmt.Errorf("%w: %q", ErrBundleURL, raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Fragment != "" {
		return "", false, fmt.Errorf("%w: %q", ErrBundleURL, raw)
	}
	if u.Scheme == "" && u.Host == "" && strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") {
		return "'self'", false, nil
	}
	host := u.Hostname()
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil {
		loopback = ip.IsLoopback()
	}
	if host == "" || !(u.Scheme == "https" || u.Scheme == "http" && loopback) {
		return "", false, fmt.Errorf("%w: %q", ErrBundleURL, raw)
	}
	// A source expression with a path matches that file only (CSP3 §6.7.2.12);
	// the query is not part of it.
	return u.Scheme + "://" + u.Host + u.EscapedPath(), true, nil
}

// redocCSP is the ReDoc page's policy: the bundle (scriptSrc) and nothing
// else as script; inline styles, which ReDoc's styled-components inject;
// the search worker ReDoc starts from a blob: URL; data: images; fetches
// to this server (the document).
func redocCSP(scriptSrc string) string {
	return "default-src 'none'; script-src " + scriptSrc + "; style-src 'unsafe-inline'; img-src 'self' data:; " +
		"connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// Register mounts the handlers on mux: GET SchemaPath, DocsPath,
// DocsPath/{asset} and RedocPath, each also with a trailing slash. It
// returns an error, instead of ServeMux's panic, when a pattern conflicts
// with one already registered.
func (h *Handlers) Register(mux *http.ServeMux) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("openapi: Register: %v", p)
		}
	}()
	for _, rt := range []struct {
		path string
		h    http.Handler
	}{
		{SchemaPath, h.Schema()},
		{DocsPath, h.SwaggerUI()},
		{DocsPath + "/{asset}", h.SwaggerUI()},
		{RedocPath, h.ReDoc()},
	} {
		for _, p := range twins("GET " + rt.path) {
			mux.Handle(p, rt.h)
		}
	}
	return nil
}

// Schema serves the document: YAML, or JSON for ?format=json (also
// "openapi-json"; "yaml" and "openapi" are YAML). Another format is 400.
func (h *Handlers) Schema() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()["format"]
		asJSON := false
		switch {
		case len(q) > 1:
			badFormat(w, r, "format is given more than once")
			return
		case len(q) == 0:
		case q[0] == "json" || q[0] == "openapi-json":
			asJSON = true
		case q[0] == "" || q[0] == "yaml" || q[0] == "openapi":
		default:
			badFormat(w, r, "format must be json or yaml")
			return
		}
		var a *asset
		var err error
		if asJSON {
			a, err = h.schemaJSON.get(h.doc.JSON, jsonType)
		} else {
			a, err = h.schemaYAML.get(h.doc.YAML, yamlType+"; charset=utf-8")
		}
		if err != nil {
			// Not reached: the package's tests serialize the document.
			problem.Write(w, r, problem.New(http.StatusInternalServerError, "the document could not be serialized"))
			return
		}
		serve(w, r, a, "")
	})
}

func badFormat(w http.ResponseWriter, r *http.Request, msg string) {
	problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Detail: msg,
		Errors: []problem.FieldError{{Field: "format", Message: msg}}})
}

// SwaggerUI serves the Swagger UI page, and its files when the {asset}
// path wildcard names one (Register mounts it so); another name is 404.
func (h *Handlers) SwaggerUI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := h.swagger
		if name := r.PathValue("asset"); name != "" {
			if a = h.swaggerFiles[name]; a == nil {
				problem.Write(w, r, problem.New(http.StatusNotFound, "Swagger UI has no file "+quoteShort(name)))
				return
			}
		}
		serve(w, r, a, SwaggerUICSP)
	})
}

// ReDoc serves the ReDoc page. When the bundle is on another origin, the
// page's Cross-Origin-Embedder-Policy is credentialless, so that the
// bundle loads without credentials and without the CDN having to send
// Cross-Origin-Resource-Policy.
func (h *Handlers) ReDoc() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.redocCrossOrigin {
			w.Header().Set("Cross-Origin-Embedder-Policy", "credentialless")
		}
		serve(w, r, h.redoc, h.redocCSP)
	})
}

// serve writes a, gzip-compressed when it is stored so and the client
// accepts it, with its validators and policy (csp "": the API's, as set by
// the secure middleware); http.ServeContent answers conditional (304) and
// HEAD requests.
func serve(w http.ResponseWriter, r *http.Request, a *asset, csp string) {
	hd := w.Header()
	if csp != "" {
		hd.Set("Content-Security-Policy", csp)
	}
	hd.Set("Content-Type", a.ctype)
	hd.Set("Cache-Control", "no-cache")
	body := a.body
	etag := a.etag
	if a.gz {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			hd.Set("Content-Encoding", "gzip")
		} else {
			a.once.Do(func() { a.plain, a.err = gunzip(a.body) })
			if a.err != nil {
				problem.Write(w, r, problem.New(http.StatusInternalServerError, "the file could not be decompressed"))
				return
			}
			body, etag = a.plain, strings.TrimSuffix(a.etag, `"`)+`-identity"`
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether Accept-Encoding lists gzip without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// quoteShort quotes a client-chosen name for a message, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}
