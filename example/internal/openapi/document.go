package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"
)

// Version is the OpenAPI version of the document.
const Version = "3.1.0"

// Where the document and its viewers are served (contract §5). Each is
// also served with a trailing slash, the form drf-spectacular used.
const (
	SchemaPath = "/api/schema"
	DocsPath   = "/api/docs"
	RedocPath  = "/api/redoc"
)

// Options describe the document.
type Options struct {
	// AppVersion is the API's version, the document's info.version.
	// Required.
	AppVersion string
}

// Document is the OpenAPI description of the Senfi API. It is immutable
// and safe for concurrent use. Its serializations are made on first use
// (the YAML form costs about 100 ms, which a server that is never asked for
// it should not spend at start-up) and kept.
type Document struct {
	members map[string]any // the top-level members, as kin-openapi marshals them
	routes  []Route

	jsonOnce, yamlOnce sync.Once
	json, yaml         []byte
	jsonErr, yamlErr   error
}

// topLevel is the order of the document's members in both serializations
// (JSON objects are otherwise sorted by key, which would put components
// first).
var topLevel = []string{"openapi", "info", "servers", "security", "tags", "paths", "components", "webhooks", "externalDocs", "jsonSchemaDialect"}

// New builds the document. It fails only on a mistake in the description
// itself (an operation documented twice, a status without a problem
// response), which the package's tests catch.
//
// New does not validate the result with kin-openapi (that costs most of a
// second): [Document.Load] does, and the tests call it.
func New(o Options) (*Document, error) {
	if o.AppVersion == "" {
		return nil, errors.New("openapi: Options.AppVersion is required")
	}
	b := &builder{
		doc: &openapi3.T{
			OpenAPI:    Version,
			Info:       info(o.AppVersion),
			Tags:       tags(),
			Components: components(),
			Paths:      openapi3.NewPaths(),
		},
		ids: map[string]bool{},
	}
	b.authPaths()
	b.campaignPaths()
	b.contentPaths()
	b.privacyPaths()
	b.servicePaths()
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	top, err := b.doc.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	members, ok := top.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openapi: the document marshals to %T, not a map", top)
	}
	if countKnown(members) != len(members) {
		return nil, errors.New("openapi: the document has a top-level member topLevel does not order")
	}
	return &Document{members: members, routes: b.routes}, nil
}

// JSON returns the document as JSON. The caller must not modify it.
func (d *Document) JSON() ([]byte, error) {
	d.jsonOnce.Do(func() { d.json, d.jsonErr = orderedJSON(d.members) })
	return d.json, d.jsonErr
}

// YAML returns the document as YAML. The caller must not modify it.
func (d *Document) YAML() ([]byte, error) {
	d.yamlOnce.Do(func() { d.yaml, d.yamlErr = orderedYAML(d.members) })
	return d.yaml, d.yamlErr
}

// Routes lists the documented routes in the order of the document's
// source.
func (d *Document) Routes() []Route { return slices.Clone(d.routes) }

func orderedJSON(members map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for _, k := range topLevel {
		v, ok := members[k]
		if !ok {
			continue
		}
		val, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", k, err)
		}
		key, _ := json.Marshal(k)
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(val)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// countKnown counts the members topLevel orders.
func countKnown(members map[string]any) int {
	n := 0
	for _, k := range topLevel {
		if _, ok := members[k]; ok {
			n++
		}
	}
	return n
}

func orderedYAML(members map[string]any) ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range topLevel {
		v, ok := members[k]
		if !ok {
			continue
		}
		var val yaml.Node
		if err := val.Encode(v); err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", k, err)
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &val)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return buf.Bytes(), nil
}

func info(version string) *openapi3.Info {
	return &openapi3.Info{
		Title:   "Senfi API",
		Version: version,
		Summary: "Campaigns, signatures, polls and the blog of Sharif University's student guild.",
		Description: `The API the Senfi frontend calls. It keeps the public surface of the Django original, so every
frontend generation keeps working, and closes its weaknesses.

**Paths.** Every path under /api/ is also served with a trailing slash (except /api/performance/*, served
at the exact path). An ` + "`{id}`" + ` is a positive 64-bit integer; anything else is 404.

**Requests.** JSON bodies with ` + "`Content-Type: application/json`" + ` (415 otherwise; a POST that needs no
input accepts an empty body), at most 1 MiB (413). Unknown members are ignored, and an optional member that is
null counts as absent; a member of the wrong type or malformed JSON is 400 naming the field.

**Errors** are RFC 9457 ` + "`application/problem+json`" + ` with ` + "`type`, `title`, `status`, `detail`" + `
(the human message, in Persian where the original's was), ` + "`success: false`, `request_id`" + ` (equal to the
` + "`X-Request-ID`" + ` header every response carries) and, for validation errors, ` + "`errors: [{field, message}]`" + `.
401 means missing, malformed, expired or revoked credentials only; a role denial is 403 ` + "`دسترسی ندارید.`" + `;
rate limits, cooldowns and lockouts are 429 with ` + "`Retry-After`" + `.

**Auth.** Log in, put the ` + "`access_token`" + ` in ` + "`Authorization: Bearer`" + ` (the Authorize button
here), and exchange the ` + "`refresh_token`" + ` at /api/auth/refresh before it runs out.

**Roles.** ADMIN3 = superadmin, head, center_member; HEAD2 = superadmin, head; faculty_member and
dorm_member moderate their own faculty's or dormitory's category.`,
	}
}

func tags() openapi3.Tags {
	t := func(name, desc string) *openapi3.Tag { return &openapi3.Tag{Name: name, Description: desc} }
	return openapi3.Tags{
		t("auth", "Registration, login (password or mailed code), tokens, passwords."),
		t("users", "User administration (HEAD2; role changes: superadmin)."),
		t("campaigns", "Campaigns, their moderation, and signatures."),
		t("polls", "Polls, their moderation, and votes."),
		t("blog", "The blog and its moderation."),
		t("account", "The signed-in user's own content."),
		t("performance", "Request and system figures (HEAD2) and the dashboard."),
		t("service", "API root, health checks, and this document."),
	}
}
