// Package perf measures an HTTP service cheaply enough to leave on in
// production: per-route latency and error figures, the most recent slow
// requests, and the host's, process's and container's resources, served as
// JSON endpoints, a self-contained dashboard page, and (through
// perf/promperf) Prometheus metrics.
//
// It replaces the Django original's PerformanceMonitor, whose statistics
// were keyed by raw path (so any client could grow them without bound),
// covered only the last 1000 requests, blocked a request for a second to
// sample the CPU, and were never sampled in the web process at all.
//
// # Requests
//
// A [Recorder] is middleware. For every request it counts the response by
// status class, adds the body bytes, and files the duration in a latency
// histogram of its endpoint, an endpoint being a method and a route
// pattern:
//
//	rec, err := perf.New(perf.Options{}) // slow from 2 s, the original's threshold
//	handler := rec.Handler(mux)
//
// A request costs no allocation and a few atomic operations (see
// BENCHMARKS.md: several times cheaper than promhttp's duration and counter
// instrumentation). Figures are kept since start and over rolling windows:
// the last 5 minutes, hour and day ([Window]), with per-minute and
// per-hour series for charts ([Recorder.Series]).
//
// Endpoints come from the pattern the http.ServeMux matched (r.Pattern),
// never from the raw path. The mux sets Pattern on the request it
// receives, so when middleware between the Recorder and the mux passes a
// copy of the request down (anything that adds a context value does), wrap
// the mux in [ReportPattern], which hands the pattern up through the
// writer; other routers call [SetRoute]. The Senfi chain is
//
//	clientIP → rec.Handler → audit → secure → ratelimit → jwtauth → perf.ReportPattern(mux)
//
// with the Recorder outermost after the client-IP resolver, so that what
// it measures is what the client waited for. Inner layers report the
// authenticated user with [SetUser]; the request ID is read from the
// X-Request-ID response header the audit middleware sets.
//
// Requests slower than Options.SlowThreshold are kept, most recent first,
// in a ring of Options.SlowRequests entries: endpoint, status, duration,
// time, request ID, user ([SlowRequest]); Options.OnSlow can log them.
//
// # Bounds
//
// Memory does not depend on what clients send:
//
//   - Endpoints are keyed by route pattern and method; methods outside RFC
//     9110's count as OTHER; requests no route matched (404, 405) share one
//     endpoint, [UnmatchedKey]; and after Options.MaxRoutes endpoints (200
//     by default) further routes share [OverflowKey].
//   - An endpoint keeps one dense histogram for the current minute, sparse
//     histograms for the last 60 minutes and 24 hours, and its totals:
//     about 12 KiB plus its history, which a busy route (200 requests a
//     minute, latencies spread over two decades) fills to about 80 KiB;
//     at most about 330 KiB, with every bucket of every slot in use. With
//     the default 200 endpoints that bounds the Recorder at about 66 MiB,
//     and a typical service uses a few MiB.
//   - Histograms are log-linear, 16 buckets per power of two from 16 µs, so
//     a reported quantile is within [RelativeError] (3.125 %) of the true
//     one (0.5 µs below 16 µs); min, max, mean and counts are exact.
//   - The slow-request ring and the system history have fixed capacities;
//     stored request IDs and users are cut to 128 bytes.
//
// Rolling windows are made of whole slots, so "the last 5 minutes" covers
// between 4 and 5 minutes; every figure carries the exact span it covers.
// Durations and slots follow the monotonic clock from the Recorder's start:
// a step of the wall clock moves nothing. Figures are per process: each
// replica reports its own.
//
// # System
//
// A [Sampler] reads, in the background every 15 s by default
// ([Sampler.Run]), the host's CPU, load, memory, swap and the disk of the
// data directory (github.com/shirou/gopsutil/v4), the process's RSS, open
// files, threads and CPU, the Go runtime's goroutines, heap and GC pause
// quantiles (runtime/metrics), and, inside a cgroup v2 (a container), the
// cgroup's memory and CPU limits and use, throttling, OOM kills and PIDs.
// Each sample gets a [Health] with the original's thresholds. Requests read
// the latest sample and never wait for one. SamplerOptions.Extra lets the
// application add its own figures (the Senfi example reports backup age,
// size and last failure), which the JSON endpoints serve and perf/promperf
// exports as gauges.
//
// [Monitor] samples on an interval for a duration and writes a table, CSV
// and JSON: the original's monitor_performance command.
//
// # Endpoints and dashboard
//
// [Handlers] serve the original's five endpoints, keeping its members
// (success, performance, endpoint_performance, slow_requests,
// system_metrics and the fields inside them, times in seconds) and adding
// windows, quantiles, status classes, series and the system sample.
// [Handlers.Register] mounts them, behind an authorization middleware it
// insists on, and the dashboard: one embedded page, script and style sheet,
// no third-party assets, SVG charts drawn by its own script, served with a
// strict Content-Security-Policy ([DashboardCSP]) and refreshed live. Bad
// query parameters get 400 problem+json naming the parameter.
//
// For Prometheus, perf/promperf turns a Recorder and a Sampler into a
// prometheus.Collector; perf itself does not import the Prometheus client.
package perf
