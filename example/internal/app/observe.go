package app

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/example/internal/api"
	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/perf"
	"github.com/senfi-sharif/senfi/perf/promperf"
)

// buildAudit opens the security log: the file at SENFI_AUDIT_LOG, rotated at
// 100 MB and kept whole, HMAC-chained under a key derived from the secret
// (so `audit verify` can check it), with checkpoints written to stdout —
// somewhere an attacker who can edit the file cannot reach once stdout is
// shipped (journald, a log service).
func (a *App) buildAudit(o Options) error {
	file, err := audit.NewFileSink(audit.FileOptions{Path: a.Config.AuditLog})
	if err != nil {
		return err
	}
	chained, err := audit.NewChain(file, audit.ChainOptions{
		Key:                AuditKey(a.Config.Secret),
		Name:               "security",
		Checkpoints:        audit.NewWriterSink("stdout", o.Stdout),
		CheckpointInterval: time.Minute,
	})
	if err != nil {
		_ = file.Close()
		return err
	}
	log, err := audit.New(audit.Options{
		Sinks: []audit.Sink{chained},
		User: func(ctx context.Context) (string, string) {
			if c, ok := jwtauth.FromContext(ctx); ok {
				return c.Subject, ""
			}
			return "", ""
		},
		SkipPaths: []string{"/health", "/health/", "/healthz", "/readyz"},
		Now:       o.Now,
	})
	if err != nil {
		_ = chained.Close()
		return err
	}
	a.Audit = log
	a.closers = append(a.closers, func(context.Context) error { return log.Close() })
	return nil
}

// AuditKey is the security log's HMAC key, derived from the secret.
func AuditKey(secret []byte) []byte { return derive(secret, "audit-chain") }

// buildPerf creates the recorder, the system sampler (running until Close),
// the admin-only JSON handlers and dashboard under /api/performance, and the
// Prometheus handler for the metrics listener.
func (a *App) buildPerf(mux *http.ServeMux) error {
	rec, err := perf.New(perf.Options{})
	if err != nil {
		return err
	}
	sampler, err := perf.NewSampler(perf.SamplerOptions{DataDir: a.Config.DataDir, Logger: a.log, Extra: a.extraFigures})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sampler.Run(ctx) }()
	a.closers = append(a.closers, func(context.Context) error { cancel(); <-done; return nil })
	handlers, err := perf.NewHandlers(perf.HandlerOptions{Recorder: rec, Sampler: sampler})
	if err != nil {
		return err
	}
	head2 := func(h http.Handler) http.Handler { return a.Auth.Require(a.Auth.RequireRole(api.HEAD2...)(h)) }
	if err := handlers.Register(mux, "/api/performance", head2); err != nil {
		return err
	}
	collector, err := promperf.New(promperf.Options{Recorder: rec, Sampler: sampler, ExtraGauges: backupGauges})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.Perf, a.Sampler = rec, sampler
	a.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return nil
}

// extraFigures are the application's own figures in the system metrics:
// backup health and the mail queue.
func (a *App) extraFigures(ctx context.Context) map[string]any {
	m := a.backupFigures()
	if m == nil {
		m = map[string]any{}
	}
	m["mail_queue_length"] = a.queueLen()
	return m
}

func (a *App) queueLen() int {
	if a.queue == nil {
		return 0
	}
	return a.queue.Len()
}

// reportUser tells the request log and the recorder who the authenticated
// user is (they run outside authentication). No allocation.
func reportUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := jwtauth.FromContext(r.Context()); ok {
			audit.SetUser(w, c.Subject, "")
			perf.SetUser(w, c.Subject)
		}
		next.ServeHTTP(w, r)
	})
}

// reportRoute tells the request log and the recorder which route served
// the request, after the mux set r.Pattern; the trailing-slash twin of a
// route ("GET /x/{$}") counts as the route itself.
func reportRoute(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		pattern := strings.TrimSuffix(r.Pattern, "/{$}")
		if pattern == "/" {
			pattern = "" // the catch-all: unmatched
		}
		if pattern != "" {
			audit.SetRoute(w, pattern)
			perf.SetRoute(w, pattern)
		}
	})
}
