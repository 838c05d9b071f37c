package openapi

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/senfi-sharif/senfi/example/internal/api"
)

// servicePaths are the routes of contract §5: the API root, health checks,
// the performance endpoints and dashboard, and this document with its
// viewers.
func (b *builder) servicePaths() {
	okText := success{status: http.StatusOK, desc: "The service is up.", media: textType, schema: constant("OK"), example: "OK"}

	b.add("GET /{$}", operation{
		id: "apiRoot", tag: "service", summary: "The API root",
		ok: []success{ok200("Where things are.", object(
			req("message", str(1, 0)), req("version", str(1, 0)),
			req("endpoints", object(req("api", str(1, 0)), req("health", str(1, 0)), req("docs", str(1, 0)), req("schema", str(1, 0)))),
		), map[string]any{"message": "Senfi API", "version": "1.0.0", "endpoints": map[string]any{
			"api": "/api/", "health": "/health/", "docs": "/api/docs/", "schema": "/api/schema/",
		}})},
	})
	b.add("GET /health", operation{
		id: "health", tag: "service", summary: "Liveness, as the original answered it",
		description: "Also served as /health/, the original's URL.",
		ok:          []success{okText}, twin: true,
	})
	b.add("GET /healthz", operation{
		id: "healthz", tag: "service", summary: "Liveness",
		ok: []success{okText},
	})
	b.add("GET /readyz", operation{
		id: "readyz", tag: "service", summary: "Readiness: the database (and Redis) answer",
		ok:     []success{ok200("Ready.", object(req("status", constant("ready"))), map[string]any{"status": "ready"})},
		errors: []int{http.StatusServiceUnavailable},
	})

	b.perfPaths()

	b.add("GET "+SchemaPath, operation{
		id: "schema", tag: "service", summary: "This document",
		description: "YAML by default; `?format=json` for JSON (`yaml`, `openapi`, `openapi-json` are accepted " +
			"as drf-spectacular's names).",
		query: []*openapi3.Parameter{queryParam("format", "The serialization.", enum("yaml", "json", "openapi", "openapi-json"))},
		ok: []success{{
			status: http.StatusOK, desc: "The OpenAPI 3.1 document, as YAML or (`?format=json`) JSON.",
			media: yamlType, more: []string{jsonType},
			schema: object(req("openapi", constant(Version)), req("info", typed(openapi3.TypeObject)), req("paths", typed(openapi3.TypeObject))),
		}, notModified},
	})
	page := func(desc string) []success {
		return []success{{status: http.StatusOK, desc: desc, media: htmlType}, notModified}
	}
	b.add("GET "+DocsPath, operation{
		id: "swaggerUI", tag: "service", summary: "Swagger UI for this document",
		description: "Served with its assets from the binary; nothing is loaded from elsewhere.",
		ok:          page("The page."),
	})
	b.add("GET "+DocsPath+"/{asset}", operation{
		id: "swaggerUIAsset", tag: "service", summary: "A file of the Swagger UI page",
		ok:     assetResponses(),
		errors: []int{http.StatusNotFound},
	})
	b.add("GET "+RedocPath, operation{
		id: "redoc", tag: "service", summary: "ReDoc for this document",
		description: "The page loads ReDoc's bundle from a configured URL (by default the official CDN); no Go " +
			"module ships it and the project vendors no third-party assets.",
		ok: page("The page."),
	})
}

// perfPaths are the performance routes perf.Handlers registers under
// /api/performance.
func (b *builder) perfPaths() {
	window := queryParam("window", "The window: `5m`, `1h`, `24h` or `all` (default).", enum("5m", "1h", "24h", "all"))
	series := object(req("1h", array(typed(openapi3.TypeObject))), req("24h", array(typed(openapi3.TypeObject))))
	windows := object(req("5m", ref("PerfStats")), req("1h", ref("PerfStats")), req("24h", ref("PerfStats")), req("all", ref("PerfStats")))
	head2 := api.HEAD2
	// perf.Handlers.Register mounts the exact paths only, without the
	// trailing-slash forms contract §1 asks of /api/ paths (the dashboard's
	// relative asset URLs need the slashless page URL).
	add := func(pattern string, o operation) {
		o.noTwin = true
		b.add(pattern, o)
	}

	add("GET /api/performance/summary", operation{
		id: "performanceSummary", tag: "performance", summary: "Request figures, top endpoints, system health",
		description: "The original's total_requests, avg_response_time (seconds), slow_requests, error_rate " +
			"(percent), top_endpoints and system_health, plus every window's figures, per-minute and per-hour " +
			"series, the latest system sample and the application's extra figures (mail queue, backups).",
		roles: head2,
		query: []*openapi3.Parameter{window, queryParam("top", "How many endpoints to list (0–100, default 5).", maximum(minimum(integer(), 0), 100))},
		ok: []success{ok200("The summary.", envelope(req("performance", object(
			req("total_requests", count()),
			req("avg_response_time", minimum(number(), 0)),
			req("slow_requests", count()),
			req("error_rate", minimum(number(), 0)),
			req("top_endpoints", array(object(req("endpoint", str(1, 0)), req("method", str(1, 0)), req("route", str(0, 0)), req("count", count()),
				req("avg_time", number()), req("p95_time", number()), req("error_rate", number())))),
			req("system_health", enum("unknown", "healthy", "warning", "critical")),
			req("window", str(1, 0)),
			req("stats", ref("PerfStats")),
			req("windows", windows),
			req("series", series),
			req("started_at", dateTime()),
			req("generated_at", dateTime()),
			req("system", nullable(typed(openapi3.TypeObject))),
			req("extra", nullable(typed(openapi3.TypeObject))),
		))), nil)},
	})
	add("GET /api/performance/endpoints", operation{
		id: "performanceEndpoints", tag: "performance", summary: "Figures of every endpoint",
		description: "Keyed `\"METHOD /route/{pattern}\"`, never by raw path.",
		roles:       head2, query: []*openapi3.Parameter{window},
		ok: []success{ok200("The endpoints.", envelope(
			req("endpoint_performance", &openapi3.SchemaRef{Value: &openapi3.Schema{
				Type:                 &openapi3.Types{openapi3.TypeObject},
				AdditionalProperties: openapi3.AdditionalProperties{Schema: ref("PerfStats")},
			}}),
			req("window", str(1, 0)),
		), nil)},
	})
	add("GET /api/performance/endpoints/{endpoint...}", operation{
		id: "performanceEndpoint", tag: "performance", summary: "Figures of one endpoint",
		description: "404 when the endpoint has no requests.",
		roles:       head2, query: []*openapi3.Parameter{window},
		ok: []success{ok200("The endpoint.", envelope(req("endpoint_performance", object(
			req("endpoint", str(1, 0)), req("method", str(0, 0)), req("route", str(0, 0)), req("window", str(1, 0)),
			req("count", count()), req("windows", windows), req("series", series),
		))), nil)},
	})
	add("GET /api/performance/slow-requests", operation{
		id: "performanceSlowRequests", tag: "performance", summary: "The most recent slow requests",
		roles: head2,
		query: []*openapi3.Parameter{queryParam("limit", "How many (default 10; 0: all kept).", minimum(integer(), 0))},
		ok: []success{ok200("Oldest first.", envelope(
			req("slow_requests", array(object(
				req("timestamp", dateTime()), req("endpoint", str(1, 0)), req("method", str(1, 0)), req("route", str(0, 0)),
				req("status", integer()), req("response_time", minimum(number(), 0)), req("request_id", str(0, 0)),
				req("user", str(0, 0)), req("user_email", str(0, 0)),
			))),
			req("threshold_seconds", minimum(number(), 0)),
			req("capacity", count()),
		), nil)},
	})
	add("GET /api/performance/system-metrics", operation{
		id: "performanceSystemMetrics", tag: "performance", summary: "Samples of the host, process and runtime",
		roles: head2,
		query: []*openapi3.Parameter{
			queryParam("hours", "How far back (above 0, at most 168; default 24).", maximum(minimum(number(), 0), 168)),
			queryParam("points", "At most this many samples (default 288; 0: all).", minimum(integer(), 0)),
		},
		ok: []success{ok200("Oldest first.", envelope(
			req("system_metrics", array(ref("SystemSample"))),
			req("current", oneOf(typed(openapi3.TypeNull), ref("SystemSample"))),
			req("health", enum("unknown", "healthy", "warning", "critical")),
			req("interval_seconds", minimum(number(), 0)),
			req("extra", nullable(typed(openapi3.TypeObject))),
		), nil)},
	})
	add("GET /api/performance/dashboard", operation{
		id: "performanceDashboard", tag: "performance", summary: "The performance dashboard page",
		description: "Holds no data: its script fetches the endpoints above with the token in " +
			"`sessionStorage.auth_token` or one the visitor pastes.",
		ok: []success{{status: http.StatusOK, desc: "The page.", media: htmlType}, notModified},
	})
	add("GET /api/performance/dashboard/{asset}", operation{
		id: "performanceDashboardAsset", tag: "performance", summary: "The dashboard's script and style sheet",
		ok:     assetResponses(),
		errors: []int{http.StatusNotFound},
	})
}

// assetResponses are the 200 and 304 answers of a static file.
func assetResponses() []success {
	return []success{{status: http.StatusOK, desc: "The file.", media: "*/*"}, notModified}
}
