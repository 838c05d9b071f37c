package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/senfi-sharif/senfi/backup"
)

// backupCmd: backup create [--force] | list [--detailed] [--json] |
// verify NAME | restore NAME [--no-confirm] | stats | cleanup, and the
// original's names backup_db, restore_db and list_backups.
func (e environment) backupCmd(sub string, args []string) error {
	fs := flag.NewFlagSet("backup "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	force := fs.Bool("force", false, "create even if a backup is less than an hour old")
	detailed := fs.Bool("detailed", false, "show every field of each backup")
	asJSON := fs.Bool("json", false, "print a JSON array")
	noConfirm := fs.Bool("no-confirm", false, "restore without asking")
	if err := fs.Parse(reorder(args, nil)); err != nil {
		return usageError{fmt.Sprintf("backup %s: %v", sub, err)}
	}
	var name string
	switch sub {
	case "verify", "restore":
		if fs.NArg() != 1 {
			return usageError{"backup " + sub + " takes one backup NAME (see backup list)"}
		}
		name = fs.Arg(0)
		if !backup.ValidName(name) {
			return usageError{fmt.Sprintf("%q is not a backup name: names are letters, digits, '_' and '-' (no paths)", name)}
		}
	case "create", "list", "stats", "cleanup":
		if fs.NArg() != 0 {
			return usageError{"backup " + sub + " takes no arguments"}
		}
	default:
		return usageError{fmt.Sprintf("unknown backup command %q: use create, list, verify, restore, stats or cleanup", sub)}
	}
	ctx := context.Background()
	a, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close(ctx)
	cfg := a.Config
	m := a.Backups
	if m == nil {
		return errors.New("the database is in memory (SENFI_DATABASE_URL=sqlite::memory:): there is nothing to back up or restore")
	}
	switch sub {
	case "create":
		if h := m.Health(); !*force && h.LastGood.Name != "" && h.LastGoodAge < time.Hour {
			return fmt.Errorf("backup %s is only %s old; use --force to take another", h.LastGood.Name, h.LastGoodAge.Round(time.Second))
		}
		info, err := m.Create(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "senfi: backup %s created (%s, %d rows, sha256 %s)\n", info.Name, size(info.Size), info.Rows(), info.SHA256[:16])
		return nil
	case "list":
		return e.listBackups(ctx, m, *detailed, *asJSON)
	case "verify":
		info, err := m.Verify(ctx, name)
		if err != nil {
			return fmt.Errorf("backup %s failed verification: %w", name, err)
		}
		fmt.Fprintf(e.stdout, "senfi: backup %s is good: checksum, restore into a scratch database, integrity check and %d rows in %d tables all match\n", info.Name, info.Rows(), len(info.Tables))
		return nil
	case "restore":
		// Our own connections would make the database look in use.
		if err := a.Close(ctx); err != nil {
			return err
		}
		return e.restore(ctx, m, name, *noConfirm)
	case "stats":
		st, err := m.Stats(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "directory:    %s\nbackups:      %d good, %s\n", st.Dir, st.Count, size(st.TotalSize))
		if st.LastGood.Name != "" {
			fmt.Fprintf(e.stdout, "newest:       %s (%s ago)\noldest:       %s\n", st.LastGood.Name, st.LastGoodAge.Round(time.Second), st.Oldest.Name)
		}
		for reason, n := range st.ByReason {
			fmt.Fprintf(e.stdout, "reason %-8s%d\n", reason+":", n)
		}
		if st.LastError != "" {
			fmt.Fprintf(e.stdout, "last failure: %s (%s): %s\n", st.LastFailure.UTC().Format(time.RFC3339), st.LastFailedOp, st.LastError)
		}
		for _, inv := range st.Invalid {
			fmt.Fprintf(e.stdout, "NOT GOOD:     %s: %v\n", inv.Name, inv.Err)
		}
		if len(st.Invalid) > 0 {
			return fmt.Errorf("%d backup(s) in %s are damaged or incomplete", len(st.Invalid), st.Dir)
		}
		return nil
	case "cleanup":
		// The same two rules the server applies: the newest
		// SENFI_BACKUP_KEEP, and nothing older than
		// SENFI_BACKUP_RETENTION_DAYS (the newest good backup always stays).
		removed, err := m.Cleanup(ctx, backup.Retention{KeepLast: cfg.BackupKeep})
		if err != nil {
			return err
		}
		old, err := m.Cleanup(ctx, backup.Retention{MaxAge: time.Duration(cfg.BackupRetentionDays) * 24 * time.Hour})
		if err != nil {
			return err
		}
		removed = append(removed, old...)
		for _, r := range removed {
			fmt.Fprintln(e.stdout, "senfi: removed", r.Name)
		}
		fmt.Fprintf(e.stdout, "senfi: %d backup(s) removed; kept the newest %d (SENFI_BACKUP_KEEP), none older than %d days (SENFI_BACKUP_RETENTION_DAYS)\n", len(removed), cfg.BackupKeep, cfg.BackupRetentionDays)
		return nil
	}
	return nil
}

// listEntry is one element of `backup list --json`.
type listEntry struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Driver    string    `json:"driver"`
	Verified  bool      `json:"verified"`
}

func (e environment) listBackups(ctx context.Context, m *backup.Manager, detailed, asJSON bool) error {
	list, err := m.List(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]listEntry, len(list))
		for i, b := range list {
			out[i] = listEntry{Name: b.Name, CreatedAt: b.CreatedAt.UTC(), Size: b.Size, SHA256: b.SHA256, Driver: string(b.Engine), Verified: checksumOK(m.Dir(), b)}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(list) == 0 {
		fmt.Fprintf(e.stdout, "no backups in %s\n", m.Dir())
		return nil
	}
	for _, b := range list {
		fmt.Fprintf(e.stdout, "%-40s %s  %9s  %s\n", b.Name, b.CreatedAt.UTC().Format("2006-01-02 15:04:05Z"), size(b.Size), b.Reason)
		if detailed {
			fmt.Fprintf(e.stdout, "    engine %s, database %s, schema %d, app %s, compression %s, encrypted %v\n    sha256 %s, checksum %s, %d rows:",
				b.Engine, b.Database, b.SchemaVersion, b.AppVersion, b.Compression, b.Encrypted(), b.SHA256, okWord(checksumOK(m.Dir(), b)), b.Rows())
			for _, t := range b.Tables {
				fmt.Fprintf(e.stdout, " %s=%d", t.Name, t.Rows)
			}
			fmt.Fprintln(e.stdout)
		}
	}
	return nil
}

// checksumOK reports whether the stored file still has its recorded
// SHA-256 (the quick check; `backup verify` also restores it).
func checksumOK(dir string, b backup.Info) bool {
	f, err := os.Open(filepath.Join(dir, b.File))
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == b.SHA256
}

func okWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISMATCH"
}

// restore asks for confirmation on a terminal; elsewhere it needs
// --no-confirm.
func (e environment) restore(ctx context.Context, m *backup.Manager, name string, noConfirm bool) error {
	opts := backup.RestoreOptions{Force: noConfirm}
	if !noConfirm {
		f, ok := e.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return errors.New("restore replaces the whole database: confirm on a terminal, or pass --no-confirm")
		}
		opts.Confirm = func(ctx context.Context, b backup.Info) bool {
			fmt.Fprintf(e.stderr, "Restore %s (%s, %d rows) over %s? A safety backup is taken first. Type yes: ", b.Name, b.CreatedAt.UTC().Format(time.RFC3339), b.Rows(), m.Database())
			line, _ := bufio.NewReader(e.stdin).ReadString('\n')
			return strings.TrimSpace(line) == "yes"
		}
	}
	res, err := m.Restore(ctx, name, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "senfi: restored %s; the previous database is saved as backup %s\n", res.Restored.Name, res.SafetyBackup.Name)
	fmt.Fprintln(e.stdout, "senfi: restart the server so that it reopens the database")
	return nil
}

func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// backupInfo is backup.Info (the tests' short name).
type backupInfo = backup.Info
