package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/backup"
	"github.com/senfi-sharif/senfi/example/internal/api"
	"github.com/senfi-sharif/senfi/internal/clientip"
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
	a.auditFile = file
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
		// Users by pseudonym, never by address; client addresses as
		// SENFI_LOG_IP_MODE says (truncated to the network by default).
		User: func(ctx context.Context) (string, string) {
			if c, ok := jwtauth.FromContext(ctx); ok {
				return a.privacy.User(c.Subject), ""
			}
			return "", ""
		},
		ClientIP: func(r *http.Request) netip.Addr {
			return a.privacy.IP.Addr(clientip.FromRequest(r))
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
// user is (they run outside authentication), by pseudonym.
func (a *App) reportUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := jwtauth.FromContext(r.Context()); ok {
			ref := a.privacy.User(c.Subject)
			audit.SetUser(w, ref, "")
			perf.SetUser(w, ref)
		}
		next.ServeHTTP(w, r)
	})
}

// buildPrivacy makes the pseudonymisers: client addresses per
// SENFI_LOG_IP_MODE, user IDs as HMACs under a key derived from the secret
// (UserPseudonym computes one for a search of the log).
func (a *App) buildPrivacy() error {
	ip, err := api.NewIPPseudonymiser(a.Config.LogIPMode, derive(a.Config.Secret, "log-ip"))
	if err != nil {
		return fmt.Errorf("SENFI_LOG_IP_MODE: %w", err)
	}
	user, err := api.UserPseudonym(derive(a.Config.Secret, "user-pseudonym"))
	if err != nil {
		return err
	}
	a.privacy = &api.Privacy{IP: ip, User: user, AuditLog: a.Config.AuditLog}
	return nil
}

// UserPseudonym is the pseudonymous ID under which the security log names
// user id (decimal), for an operator searching the log for one account.
func UserPseudonym(secret []byte, id string) string {
	f, err := api.UserPseudonym(derive(secret, "user-pseudonym"))
	if err != nil {
		return ""
	}
	return f(id)
}

// pseudonymise replaces the value of a user_id attribute by its pseudonym
// (copying attrs only when there is one).
func (a *App) pseudonymise(attrs []slog.Attr) []slog.Attr {
	for i, at := range attrs {
		if at.Key != audit.KeyUserID {
			continue
		}
		out := append([]slog.Attr(nil), attrs...)
		out[i] = slog.String(audit.KeyUserID, a.privacy.User(at.Value.Resolve().String()))
		return out
	}
	return attrs
}

// retentionInterval is how often EnforceRetention runs in a server.
const retentionInterval = time.Hour

// startRetention runs EnforceRetention now and every retentionInterval
// until Close.
func (a *App) startRetention() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(retentionInterval)
		defer t.Stop()
		for {
			if err := a.EnforceRetention(ctx); err != nil && ctx.Err() == nil {
				a.log.ErrorContext(ctx, "retention", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	a.closers = append(a.closers, func(context.Context) error { cancel(); <-done; return nil })
}

// EnforceRetention applies the retention settings once: expired sessions,
// verification codes and "address verified" marks are deleted; the security log is rotated when its oldest record is a day
// old, and rotated files whose newest record is older than
// SENFI_AUDIT_RETENTION_DAYS are deleted (so no record outlives the period
// by more than a day); backups older than SENFI_BACKUP_RETENTION_DAYS are
// deleted, except the newest good one. A server runs it hourly.
func (a *App) EnforceRetention(ctx context.Context) error {
	var errs []error
	if _, err := a.DB.SweepSessions(ctx); err != nil {
		errs = append(errs, fmt.Errorf("sweep sessions: %w", err))
	}
	if err := a.DB.SweepCodes(ctx); err != nil {
		errs = append(errs, fmt.Errorf("sweep verification codes: %w", err))
	}
	errs = append(errs, a.auditRetention())
	if a.Backups != nil {
		age := time.Duration(a.Config.BackupRetentionDays) * 24 * time.Hour
		if _, err := a.Backups.Cleanup(ctx, backup.Retention{MaxAge: age}); err != nil {
			errs = append(errs, fmt.Errorf("backup retention: %w", err))
		}
	}
	return errors.Join(errs...)
}

// auditRetention rotates and prunes the security log (EnforceRetention).
func (a *App) auditRetention() error {
	if a.auditFile == nil {
		return nil
	}
	now := a.now()
	path := a.Config.AuditLog
	if t, ok := firstRecordTime(path); ok && now.Sub(t) >= 24*time.Hour {
		if err := a.auditFile.Rotate(); err != nil {
			return fmt.Errorf("rotate the security log: %w", err)
		}
	}
	files, err := audit.LogFiles(path)
	if err != nil {
		return err
	}
	limit := now.Add(-time.Duration(a.Config.AuditRetentionDays) * 24 * time.Hour)
	var errs []error
	for _, f := range files {
		if f == path {
			continue // the active file: rotated above once a day old
		}
		st, err := os.Stat(f)
		if err != nil || !st.ModTime().Before(limit) {
			continue
		}
		if err := os.Remove(f); err != nil {
			errs = append(errs, err)
			continue
		}
		a.log.Info("security log file removed by retention", "file", f, "retention_days", a.Config.AuditRetentionDays)
	}
	return errors.Join(errs...)
}

// firstRecordTime reads the time of the first record of a log file.
func firstRecordTime(path string) (time.Time, bool) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 4096).ReadSlice('\n')
	if err != nil {
		return time.Time{}, false
	}
	var rec struct {
		Time time.Time `json:"time"`
	}
	if json.Unmarshal(line, &rec) != nil || rec.Time.IsZero() {
		return time.Time{}, false
	}
	return rec.Time, true
}

// reportRoute tells the request log and the recorder which route served
// the request, once the mux has set r.Pattern (deferred, so that a request
// whose handler panics is filed under its route too); the trailing-slash
// twin of a route ("GET /x/{$}") counts as the route itself, the root
// ("GET /{$}") stays as it is.
func reportRoute(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			pattern := routeLabel(r.Pattern)
			if pattern != "" {
				audit.SetRoute(w, pattern)
				perf.SetRoute(w, pattern)
			}
		}()
		mux.ServeHTTP(w, r)
	})
}

// routeLabel is reportRoute's label of a ServeMux pattern: "" for the
// catch-all ("/", unmatched requests), the pattern without a trailing
// "/{$}" unless that leaves no path.
func routeLabel(pattern string) string {
	if pattern == "/" {
		return ""
	}
	if p, ok := strings.CutSuffix(pattern, "/{$}"); ok && p != "" && !strings.HasSuffix(p, " ") {
		return p
	}
	return pattern
}
