package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/backup"
	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/perf/promperf"
)

// openBackups builds the backup manager over SENFI_BACKUP_DIR for the
// application's database. progress receives progress lines (nil: none).
func (a *App) openBackups(ctx context.Context, progress io.Writer) error {
	target, err := data.ParseURL(a.Config.DatabaseURL, a.Config.DataDir)
	if err != nil {
		return err
	}
	if target.Engine == data.SQLite && target.Path == "" {
		return nil // an in-memory database (sqlite::memory:) has no file to back up: a.Backups stays nil
	}
	dbURL := a.Config.DatabaseURL
	if target.Engine == data.SQLite {
		// backup resolves relative paths against the working directory:
		// give it the data directory's file.
		dbURL = "sqlite://" + target.Path
	}
	version, err := a.DB.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	opts := backup.Options{
		Dir:              a.Config.BackupDir,
		DatabaseURL:      dbURL,
		Recipients:       a.Config.BackupRecipients,
		AppVersion:       Version,
		AppSchemaVersion: version,
		Progress:         progress,
		OnEvent:          a.backupEvent,
		Logger:           a.log,
	}
	if a.Config.BackupIdentityFile != "" {
		f, err := os.Open(a.Config.BackupIdentityFile)
		if err != nil {
			return fmt.Errorf("SENFI_BACKUP_IDENTITY_FILE: %w", err)
		}
		opts.Identities, err = backup.ParseIdentities(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("SENFI_BACKUP_IDENTITY_FILE: %w", err)
		}
	}
	m, err := backup.New(opts)
	if err != nil {
		return fmt.Errorf("backups (SENFI_BACKUP_DIR %s): %w", a.Config.BackupDir, err)
	}
	a.Backups = m
	return nil
}

// backupEvent sends backup outcomes to the security log when the server
// runs (the CLI, a second process, must not append to the server's chained
// file: it logs to its own output instead).
func (a *App) backupEvent(e backup.Event) {
	ev, outcome := audit.BackupFail, audit.Failure
	switch e.Kind {
	case backup.EventCreated:
		ev, outcome = audit.BackupCreated, audit.Success
	case backup.EventRestored:
		ev, outcome = audit.BackupRestored, audit.Success
	case backup.EventDeleted:
		ev, outcome = audit.BackupDeleted, audit.Success
	case backup.EventVerified:
		ev, outcome = audit.BackupVerified, audit.Success
	}
	attrs := []slog.Attr{slog.String("backup", e.Backup.Name), slog.String("op", string(e.Op)), slog.Duration("duration", e.Duration)}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	if e.SafetyBackup.Name != "" {
		attrs = append(attrs, slog.String("safety_backup", e.SafetyBackup.Name))
	}
	if a.Audit != nil && a.event != nil {
		r, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "/backup", nil)
		a.event(r, string(ev), string(outcome), attrs...)
		return
	}
	lvl := slog.LevelInfo
	if outcome == audit.Failure {
		lvl = slog.LevelError
	}
	a.log.LogAttrs(context.Background(), lvl, string(ev), attrs...)
}

// RunBackups takes a backup every SENFI_BACKUP_INTERVAL and keeps the
// newest SENFI_BACKUP_KEEP, until ctx ends. It returns at once when the
// interval is 0.
func (a *App) RunBackups(ctx context.Context) error {
	if a.Config.BackupInterval <= 0 || a.Backups == nil {
		return nil
	}
	return a.Backups.Schedule(ctx, a.Config.BackupInterval, backup.Retention{KeepLast: a.Config.BackupKeep})
}

// backupFigures are the backup health figures for perf and /metrics.
func (a *App) backupFigures() map[string]any {
	if a.Backups == nil {
		return nil
	}
	h := a.Backups.Health()
	m := map[string]any{
		"backup_count":       h.Count,
		"backup_total_bytes": h.TotalSize,
		"backup_last_error":  h.LastError,
	}
	if h.LastGood.Name != "" {
		m["backup_last_good"] = h.LastGood.Name
		m["backup_last_good_age_seconds"] = h.LastGoodAge.Seconds()
		m["backup_last_good_bytes"] = h.LastGood.Size
	}
	if !h.LastFailure.IsZero() {
		m["backup_last_failure"] = h.LastFailure.UTC().Format(time.RFC3339)
		m["backup_last_failure_unix"] = h.LastFailure.Unix()
	}
	return m
}

// backupGauges export the numeric backup figures to Prometheus.
var backupGauges = []promperf.ExtraGauge{
	{Key: "backup_count", Name: "backup_count", Help: "Good backups in the backup directory."},
	{Key: "backup_total_bytes", Name: "backup_total_bytes", Help: "Size of the good backups."},
	{Key: "backup_last_good_age_seconds", Name: "backup_last_good_age_seconds", Help: "Age of the newest good backup (alert when it exceeds the interval)."},
	{Key: "backup_last_good_bytes", Name: "backup_last_good_bytes", Help: "Size of the newest good backup."},
	{Key: "backup_last_failure_unix", Name: "backup_last_failure_timestamp_seconds", Help: "When a backup operation last failed."},
	{Key: "mail_queue_length", Name: "mail_queue_length", Help: "Mails waiting for delivery."},
}
