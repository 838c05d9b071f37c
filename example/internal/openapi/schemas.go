package openapi

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/senfi-sharif/senfi/example/internal/api"
	"github.com/senfi-sharif/senfi/example/internal/data"
)

// Media types and names used across the document.
const (
	jsonType    = "application/json"
	problemType = "application/problem+json"
	yamlType    = "application/yaml"
	htmlType    = "text/html"
	textType    = "text/plain"

	bearerScheme = "bearerAuth"

	headerRequestID       = "X-Request-ID"
	headerRetryAfter      = "Retry-After"
	headerWWWAuthenticate = "WWW-Authenticate"
)

// problemResponses name the shared problem+json response of each error
// status (components/responses).
var problemResponses = map[int]string{
	http.StatusBadRequest:            "BadRequest",
	http.StatusUnauthorized:          "Unauthorized",
	http.StatusForbidden:             "Forbidden",
	http.StatusNotFound:              "NotFound",
	http.StatusConflict:              "Conflict",
	http.StatusRequestEntityTooLarge: "PayloadTooLarge",
	http.StatusUnsupportedMediaType:  "UnsupportedMediaType",
	http.StatusTooManyRequests:       "TooManyRequests",
	http.StatusInternalServerError:   "InternalServerError",
	http.StatusBadGateway:            "BadGateway",
	http.StatusServiceUnavailable:    "ServiceUnavailable",
}

// Example values shared by the schemas and the operations.
const (
	exEmail    = "student@sharif.edu"
	exTime     = "2026-03-01T09:30:00Z"
	exDeadline = "2026-12-31T23:59:00Z"
	exJWT      = "eyJhbGciOiJIUzI1NiIsImtpZCI6InNlbmZpLTEiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiI3In0.c2lnbmF0dXJl"
	exRequest  = "01JN8ZK4V7W3R9Q2M5T6Y8X1AB"
)

// roles are every role a user can have; assignableRoles those PUT
// /api/user/{id}/role may set ("user" is an alias of simple_user).
var (
	roles           = []string{api.RoleUser, api.RoleCenterMember, api.RoleHead, api.RoleSuperadmin, api.RoleFacultyMember, api.RoleDormMember}
	assignableRoles = []string{api.RoleUser, "user", api.RoleCenterMember, api.RoleHead, api.RoleFacultyMember, api.RoleDormMember}
	statuses        = []string{data.StatusPending, data.StatusApproved, data.StatusRejected, data.StatusClosed}
	councilStatuses = []string{data.CouncilMember, data.CouncilObserver, data.CouncilNone}
)

// categories are the labels content can be filed under (package api's
// choices): the general one, the faculties, the real dormitories and the
// council's.
func categories() []string {
	out := append([]string{api.GeneralCategory}, api.Faculties...)
	for _, d := range api.Dormitories {
		if d != data.NoDormitory {
			out = append(out, d)
		}
	}
	return append(out, api.CouncilCategory)
}

// withEmpty prepends "" (not given) to a list of choices.
func withEmpty(vals []string) []string { return append([]string{""}, vals...) }

// components are the shared schemas, headers, responses and the security
// scheme.
func components() *openapi3.Components {
	return &openapi3.Components{
		Schemas:   schemas(),
		Headers:   headers(),
		Responses: problemComponents(),
		SecuritySchemes: openapi3.SecuritySchemes{bearerScheme: &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
			Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "The `access_token` (also sent as `token`) of POST /api/auth/login, /api/auth/register, " +
				"/api/auth/refresh or /api/auth/verify-mobile-code: `Authorization: Bearer <token>`. It is valid for " +
				"SENFI_ACCESS_TTL (60 minutes by default) and stops working at once on logout, logout-all, a password " +
				"change or reset, or a role change. A missing, malformed, expired or revoked token is 401 (the frontend " +
				"then logs the user out); a valid token whose role is not allowed is 403.",
		}}},
	}
}

func headers() openapi3.Headers {
	h := func(desc string, required bool, schema *openapi3.SchemaRef) *openapi3.HeaderRef {
		return &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: desc, Required: required, Schema: schema,
		}}}
	}
	return openapi3.Headers{
		headerRequestID: h("Identifies the request in the server's logs; a problem body's `request_id` equals it. "+
			"Every response carries it.", true, str(1, 0)),
		headerRetryAfter: h("Seconds to wait before trying again.", true, minimum(integer(), 0)),
		headerWWWAuthenticate: h("An RFC 6750 challenge, `Bearer realm=\"api\"`, with `error=\"invalid_token\"` when "+
			"a token was sent but refused.", false, str(1, 0)),
	}
}

// problemComponents are the problem+json responses, one per status.
func problemComponents() openapi3.ResponseBodies {
	descs := map[int]string{
		http.StatusBadRequest: "The request is invalid: malformed JSON, a field of the wrong type or value (named in " +
			"`errors`), a refused business rule (the `detail` says which), a bad query parameter, or a Host header " +
			"this server does not serve.",
		http.StatusUnauthorized: "Credentials are missing, malformed, expired or revoked (or, on login, wrong). " +
			"The frontend logs the user out on any 401.",
		http.StatusForbidden:             "The caller's role may not do this: `دسترسی ندارید.`",
		http.StatusNotFound:              "No such item, or one the caller may not see; an `{id}` that is not a positive integer.",
		http.StatusConflict:              "A duplicate (an e-mail already registered, a campaign already signed, a slug in use) or a change the item's state refuses.",
		http.StatusRequestEntityTooLarge: "The body is over 1 MiB.",
		http.StatusUnsupportedMediaType:  "A body was sent without `Content-Type: application/json`.",
		http.StatusTooManyRequests:       "A rate limit, a resend cooldown or a login lockout; `Retry-After` says when to try again.",
		http.StatusInternalServerError:   "An unexpected failure; the `detail` says nothing about it, the server log has it under the `request_id`.",
		http.StatusBadGateway:            "The mail server check failed; the `detail` says what failed without server internals.",
		http.StatusServiceUnavailable:    "A dependency is unreachable (database, Redis, the mail queue) or the server is busy; retry shortly.",
	}
	examples := map[int]any{
		http.StatusBadRequest: problemExample(http.StatusBadRequest, "Email is required",
			[]any{map[string]any{"field": "email", "message": "required"}}),
		http.StatusUnauthorized:          problemExample(http.StatusUnauthorized, "authentication credentials were not provided", nil),
		http.StatusForbidden:             problemExample(http.StatusForbidden, "دسترسی ندارید.", nil),
		http.StatusNotFound:              problemExample(http.StatusNotFound, "کارزار یافت نشد", nil),
		http.StatusConflict:              problemExample(http.StatusConflict, "شما قبلاً این کارزار را امضا کرده‌اید", nil),
		http.StatusRequestEntityTooLarge: problemExample(http.StatusRequestEntityTooLarge, "the request body is over 1048576 bytes", nil),
		http.StatusUnsupportedMediaType:  problemExample(http.StatusUnsupportedMediaType, "the request body must be JSON: send Content-Type: application/json", nil),
		http.StatusTooManyRequests:       problemExample(http.StatusTooManyRequests, "too many requests; retry after 42 seconds", nil),
		http.StatusInternalServerError:   problemExample(http.StatusInternalServerError, "خطای داخلی سرور؛ لطفاً دوباره تلاش کنید (internal error)", nil),
		http.StatusBadGateway:            problemExample(http.StatusBadGateway, "the SMTP server refused the login", nil),
		http.StatusServiceUnavailable:    problemExample(http.StatusServiceUnavailable, "the token could not be checked right now; retry shortly", nil),
	}
	out := openapi3.ResponseBodies{}
	for status, name := range problemResponses {
		desc := descs[status]
		hs := openapi3.Headers{headerRequestID: headerRef(headerRequestID)}
		switch status {
		case http.StatusTooManyRequests:
			hs[headerRetryAfter] = headerRef(headerRetryAfter)
		case http.StatusUnauthorized:
			hs[headerWWWAuthenticate] = headerRef(headerWWWAuthenticate)
		}
		out[name] = &openapi3.ResponseRef{Value: &openapi3.Response{
			Description: &desc,
			Headers:     hs,
			Content: openapi3.Content{problemType: &openapi3.MediaType{
				Schema: ref("Problem"), Example: examples[status],
			}},
		}}
	}
	return out
}

func problemExample(status int, detail string, errs []any) map[string]any {
	p := map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status,
		"detail": detail, "success": false, "request_id": exRequest,
	}
	if errs != nil {
		p["errors"] = errs
	}
	return p
}

// schemas are the shared objects.
func schemas() openapi3.Schemas {
	userFields := []field{
		req("id", integerID()),
		req("email", email()),
		req("role", enum(roles...)),
		req("unit", nullable(str(0, 0))),
		req("faculty", note(str(0, 0), "One of the faculty choices, `نامشخص` or empty.")),
		req("dormitory", note(str(0, 0), "One of the dormitory choices (`خوابگاهی نیستم`: not a resident) or empty.")),
		req("council_member_status", note(enum(councilStatuses...), "General Council membership: members see, post, sign and vote in the council's category, observers only see it.")),
	}
	exUser := map[string]any{"id": 7, "email": exEmail, "role": api.RoleUser, "unit": nil, "faculty": "کامپیوتر", "dormitory": "طرشت ۲", "council_member_status": "none"}

	pollFields := []field{
		req("id", integerID()),
		req("title", str(1, 0)),
		req("description", str(0, 0)),
		req("content", note(str(0, 0), "The same text as description (generation B/C name).")),
		req("slug", str(0, 0)),
		req("category", str(1, 0)),
		req("image_url", str(0, 0)),
		req("is_anonymous", note(boolean(), "A secret ballot: only tallies are kept, never who chose what.")),
		req("is_multiple_choice", boolean()),
		req("max_choices", note(nullable(minimum(integer(), 1)), "For a multiple-choice poll, how many options a vote may name; null: any number.")),
		req("deadline", nullable(dateTime())),
		req("end_datetime", note(nullable(dateTime()), "The same as deadline.")),
		req("status", enum(statuses...)),
		req("created_at", dateTime()),
		req("updated_at", dateTime()),
		req("author_email", note(nullable(email()), "Null unless the caller is ADMIN3, a moderator of the poll's category, or its author.")),
		req("options", array(ref("PollOption"))),
		req("total_votes", count()),
		req("total_voters", count()),
		req("has_voted", boolean()),
	}
	voteChoice := closed(object(req("option_id", integerID()), req("option_text", str(1, 0)), req("voted_at", dateTime())))

	return openapi3.Schemas{
		"Problem": example(note(object(
			req("type", note(str(1, 0), "A URI naming the problem type; `about:blank` when the status says it all.")),
			req("title", str(1, 0)),
			req("status", maximum(minimum(integer(), 400), 599)),
			req("detail", note(str(1, 0), "The human message (in Persian where the original's was), what the frontend shows.")),
			req("success", constant(false)),
			req("request_id", note(str(1, 0), "Equals the X-Request-ID response header.")),
			opt("errors", note(array(ref("FieldError")), "Validation errors, one per field.")),
		), "An RFC 9457 problem. Extension members may follow (`valid: false` from verify-code, `retry_after` "+
			"from a login lockout); clients ignore those they do not know."),
			problemExample(http.StatusBadRequest, "Email is required", []any{map[string]any{"field": "email", "message": "required"}})),
		"FieldError": closed(object(req("field", str(1, 0)), req("message", str(1, 0)))),

		"User":      example(note(closed(object(userFields...)), "A user: the reference's members and the council membership of generation B/C."), exUser),
		"ShortUser": note(closed(object(userFields[:4]...)), "The user object of validate and of a role change."),
		"Session": closed(object(
			req("id", integerID()),
			req("created_at", dateTime()),
			req("last_used_at", dateTime()),
			req("expires_at", note(dateTime(), "When the session's refresh token runs out.")),
			req("ip", note(str(0, 0), "The client address as stored: pseudonymised by SENFI_LOG_IP_MODE (a network such as `192.0.2.0/24` by default).")),
			req("user_agent", str(0, 0)),
			req("current", note(boolean(), "The session of the token that asked.")),
		)),
		"TokenResponse": example(object(
			req("success", constant(true)),
			req("token", note(str(1, 0), "The access token (the original's name).")),
			req("access_token", str(1, 0)),
			req("refresh_token", note(str(1, 0), "Exchange it at POST /api/auth/refresh; each refresh token works once.")),
			req("expires_at", note(dateTime(), "When the access token expires.")),
			req("user", ref("User")),
			opt("message", str(1, 0)),
		), map[string]any{"success": true, "token": exJWT, "access_token": exJWT, "refresh_token": exJWT, "expires_at": exTime, "user": exUser}),
		"Message":  object(req("success", constant(true)), req("message", str(1, 0))),
		"Success":  object(req("success", constant(true))),
		"Campaign": example(note(closed(object(campaignFields()...)), "A campaign, with both frontend generations' names for the same data."), exCampaign()),
		"CampaignList": note(example(noDebug(envelope(
			req("campaigns", array(ref("Campaign"))),
			req("total", count()),
		)), map[string]any{"success": true, "campaigns": []any{exCampaign()}, "total": 1}), "No `debug_*` members (the original leaked its filters)."),
		"CampaignInput": campaignInput(),
		"StatusInput": requireOne(object(
			in("status", enum(statuses...)),
			in("approved", note(boolean(), "true: approved; false: rejected. A non-boolean is 400.")),
		), "status", "approved"),
		"Signature": closed(object(
			req("id", integerID()),
			req("user_email", note(str(1, 0), "The signer's address, or `ناشناس` for an anonymous signature.")),
			req("signed_at", dateTime()),
			req("is_anonymous", enum(data.Public, data.Anonymous)),
		)),
		"SignedCampaign": closed(object(
			req("campaign_id", integerID()),
			req("campaign_title", str(1, 0)),
			req("signed_at", dateTime()),
			req("is_anonymous", enum(data.Public, data.Anonymous)),
		)),
		"SignedCampaignList": envelope(req("campaigns", array(ref("SignedCampaign"))), req("total", count())),
		"PollOption": closed(object(
			req("id", integerID()), req("text", str(1, 255)), req("order", count()), req("votes_count", count()),
		)),
		"Poll":      closed(object(pollFields...)),
		"VotedPoll": closed(object(append(pollFields, req("user_vote", note(nullable(array(voteChoice)), "The caller's choices; null for an anonymous poll, which records none.")))...)),
		"PollList":  envelope(req("polls", array(ref("Poll"))), req("total", count())),
		"PollInput": pollInput(),
		"BlogPost":  closed(object(blogFields()...)),
		"BlogInput": blogInput(),
		"Pagination": closed(object(
			req("page", minimum(integer(), 1)), req("page_size", minimum(integer(), 1)),
			req("total_count", count()), req("total_pages", count()),
		)),
		"PerfStats":    perfStats(),
		"SystemSample": systemSample(),
	}
}

// noDebug forbids member names starting with debug_ (JSON Schema 2020-12
// propertyNames).
func noDebug(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	s.Value.PropertyNames = &openapi3.SchemaRef{Value: &openapi3.Schema{
		Not: &openapi3.SchemaRef{Value: &openapi3.Schema{Pattern: "^debug_"}},
	}}
	return s
}

func exCampaign() map[string]any {
	return map[string]any{
		"id": 12, "title": "بهبود غذای سلف", "description": "کیفیت غذای سلف مرکزی باید بهتر شود.",
		"content": "کیفیت غذای سلف مرکزی باید بهتر شود.", "excerpt": "", "tags": []any{"سلف"}, "image_url": "",
		"slug": "بهبود-غذای-سلف", "label": api.GeneralCategory, "category": api.GeneralCategory,
		"end_datetime": exDeadline, "deadline": exDeadline, "is_anonymous": data.Public, "anonymous_allowed": false,
		"status": data.StatusApproved, "created_at": exTime, "updated_at": exTime,
		"author_email": nil, "email": nil, "signature_count": 41, "has_signed": false,
	}
}

func campaignFields() []field {
	return []field{
		req("id", integerID()),
		req("title", str(3, 255)),
		req("description", note(str(0, 0), "Plain text, returned verbatim.")),
		req("content", note(str(0, 0), "The same text as description (generation B/C name).")),
		req("excerpt", str(0, 500)),
		req("tags", note(items(array(str(1, 50)), 0, 20), "Always an array, [] when empty.")),
		req("image_url", str(0, 2048)),
		req("slug", str(0, 200)),
		req("label", note(str(1, 0), "The category (generation A name).")),
		req("category", str(1, 0)),
		req("end_datetime", note(dateTime(), "The deadline (generation A name).")),
		req("deadline", dateTime()),
		req("is_anonymous", note(enum(data.Public, data.Anonymous), "`anonymous`: the signers are hidden.")),
		req("anonymous_allowed", note(boolean(), "The same flag as is_anonymous, as a boolean.")),
		req("status", enum(statuses...)),
		req("created_at", dateTime()),
		req("updated_at", dateTime()),
		req("author_email", note(nullable(email()), "Null unless the caller is ADMIN3, a moderator of the campaign's category, or its author.")),
		req("email", note(nullable(email()), "The same as author_email.")),
		req("signature_count", count()),
		req("has_signed", note(boolean(), "Whether the caller signed it (false for anonymous callers).")),
	}
}

// tagsInput accepts an array or a comma-separated string.
func tagsInput() *openapi3.SchemaRef {
	return note(oneOf(items(array(str(0, 50)), 0, 0), str(0, 0)), "An array of tags or one comma-separated string; at most 20 tags of 50 characters.")
}

func campaignInput() *openapi3.SchemaRef {
	cats := categories()
	s := object(
		in("title", str(3, 255)),
		in("description", note(str(0, 50000), "Plain text, 10–50000 characters, stored verbatim.")),
		in("content", note(str(0, 0), "HTML rich text (generation B/C), sanitised; used when description is empty.")),
		in("end_datetime", note(str(1, 0), "ISO 8601 (`2026-12-31T23:59:00Z`; a time without a zone is UTC); in the future.")),
		in("deadline", note(str(1, 0), "The same as end_datetime.")),
		in("label", enum(withEmpty(cats)...)),
		in("category", note(enum(withEmpty(cats)...), "The same as label. Non-admins may use the general category, their faculty's and their dormitory's.")),
		in("is_anonymous", enum(data.Public, data.Anonymous)),
		in("anonymous_allowed", boolean()),
		in("excerpt", str(0, 500)),
		in("tags", tagsInput()),
		in("image_url", note(str(0, 2048), "An absolute http(s) URL, or empty.")),
		in("slug", str(0, 200)),
	)
	return note(s, "Either name of each pair is accepted; unknown members are ignored. On submit, title, "+
		"description (or content) and end_datetime (or deadline) are required; on an edit, members not sent keep "+
		"their value.")
}

func pollInput() *openapi3.SchemaRef {
	option := oneOf(object(req("text", str(0, 255))), str(0, 255))
	return note(object(
		in("title", str(3, 255)),
		in("description", str(0, 10000)),
		in("content", note(str(0, 0), "HTML rich text, sanitised; used when description is empty.")),
		in("options", note(items(array(option), 2, 20), "2–20 distinct option texts, as {\"text\": ...} objects or strings. Required on creation; once the poll has votes they cannot be replaced.")),
		in("is_anonymous", note(boolean(), "Default true: a secret ballot.")),
		in("is_multiple_choice", boolean()),
		in("max_choices", note(nullable(integer()), "1 to the number of options, or null or -1 for any number.")),
		in("category", enum(withEmpty(categories())...)),
		in("deadline", note(str(0, 0), "ISO 8601, in the future.")),
		in("end_datetime", note(str(0, 0), "The same as deadline.")),
		in("image_url", str(0, 2048)),
	), "A new poll (title and options required) or a partial edit.")
}

func blogFields() []field {
	return []field{
		req("id", integerID()),
		req("title", str(3, 255)),
		req("slug", str(1, 200)),
		req("content", note(str(0, 0), "Sanitised HTML.")),
		req("excerpt", str(0, 500)),
		req("tags", items(array(str(1, 50)), 0, 20)),
		req("category", str(1, 0)),
		req("image_url", str(0, 2048)),
		req("reading_time", note(minimum(integer(), 1), "Minutes, at 200 words a minute.")),
		req("is_published", boolean()),
		req("status", enum("published", "unpublished")),
		req("published_at", nullable(dateTime())),
		req("created_at", dateTime()),
		req("updated_at", dateTime()),
		req("author_email", nullable(email())),
	}
}

func blogInput() *openapi3.SchemaRef {
	return note(object(
		in("title", str(3, 255)),
		in("content", note(str(0, 50000), "HTML, sanitised.")),
		in("category", enum(withEmpty(categories())...)),
		in("excerpt", str(0, 500)),
		in("tags", tagsInput()),
		in("image_url", str(0, 2048)),
		in("slug", note(str(0, 200), "Lower-case letters, digits, - and _; empty: made from the title.")),
	), "A new post (title and content required) or a partial edit. Publication is a moderator's act "+
		"(POST /api/admin/blog/posts/{id}/publish); is_published sent here is ignored.")
}

// perfStats are the figures of one window (perf's statsJSON).
func perfStats() *openapi3.SchemaRef {
	secs := func(d string) *openapi3.SchemaRef { return note(minimum(number(), 0), d) }
	return object(
		req("count", count()),
		req("total_time", secs("Seconds.")),
		req("avg_time", secs("Seconds.")),
		req("min_time", secs("Seconds.")),
		req("max_time", secs("Seconds.")),
		req("p50_time", secs("Seconds.")),
		req("p90_time", secs("Seconds.")),
		req("p95_time", secs("Seconds.")),
		req("p99_time", secs("Seconds.")),
		req("errors", count()),
		req("error_rate", note(minimum(number(), 0), "Percent of requests with status ≥ 400.")),
		req("server_errors", count()),
		req("server_error_rate", minimum(number(), 0)),
		req("status", object(req("1xx", count()), req("2xx", count()), req("3xx", count()), req("4xx", count()), req("5xx", count()), req("other", count()))),
		req("bytes", count()),
		req("slow", count()),
		req("requests_per_second", minimum(number(), 0)),
		req("span_seconds", minimum(number(), 0)),
	)
}

// systemSample is one sample of the host, process and Go runtime.
func systemSample() *openapi3.SchemaRef {
	return object(
		req("timestamp", dateTime()),
		req("health", enum("unknown", "healthy", "warning", "critical")),
		req("cpu_percent", number()),
		req("cpus", integer()),
		req("load1", number()), req("load5", number()), req("load15", number()),
		req("memory_total", count()), req("memory_available", count()), req("memory_used", count()), req("memory_percent", number()),
		req("swap_total", count()), req("swap_used", count()), req("swap_percent", number()),
		req("disk_path", str(0, 0)), req("disk_total", count()), req("disk_free", count()), req("disk_used", count()), req("disk_percent", number()),
		req("process", object(req("pid", integer()), req("rss", count()), req("cpu_percent", number()))),
		req("go", object(req("goroutines", count()), req("gomaxprocs", count()))),
		opt("cgroup", typed(openapi3.TypeObject)),
		opt("errors", note(array(str(0, 0)), "The parts that could not be read.")),
	)
}
