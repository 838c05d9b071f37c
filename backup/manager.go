package backup

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Manager makes, lists, verifies and restores the backups of one database
// in one directory, and applies retention. It is safe for concurrent use,
// and several Managers (in several processes: the server's scheduler and an
// operator's command) may share a directory: writers take an exclusive
// lock on it, Verify a shared one.
type Manager struct {
	cfg  *config
	drv  driver
	lock dirLock

	mu          sync.Mutex // guards the fields below
	good        []Info     // newest first, from the last scan
	lastFailure time.Time
	lastErr     string
	lastOp      Op
}

// New checks opts, creates the backup directory if needed, removes what
// crashed operations left behind (when no other Manager is busy in the
// directory) and reads the existing backups. The returned errors say what
// to change.
func New(opts Options) (*Manager, error) {
	return newManager(opts, isTerminal, nil)
}

// newManager is New with the terminal test and the test hook injected.
func newManager(opts Options, isTerm func(int) bool, hook func(string) error) (*Manager, error) {
	cfg, err := opts.compile(isTerm)
	if err != nil {
		return nil, err
	}
	cfg.hook = hook
	m := &Manager{cfg: cfg, drv: cfg.driver(), lock: dirLock{path: filepath.Join(cfg.dir, lockName)}}
	if err := m.trySweep(true); err != nil {
		return nil, err
	}
	if _, err := m.scan(); err != nil {
		return nil, err
	}
	return m, nil
}

// driver returns the driver for the configured engine.
func (c *config) driver() driver {
	if c.db.Engine == PostgreSQL {
		return &pgDriver{cfg: c}
	}
	return &sqliteDriver{cfg: c}
}

// Database returns the database the Manager backs up.
func (m *Manager) Database() Database { return m.cfg.db }

// Dir returns the backup directory, absolute.
func (m *Manager) Dir() string { return m.cfg.dir }

// step runs the test hook at a named point of an operation.
func (c *config) step(name string) error {
	if c.hook == nil {
		return nil
	}
	return c.hook(name)
}

// newName returns a fresh backup name for time t.
func (m *Manager) newName(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return m.cfg.prefix + "-" + t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func (m *Manager) path(file string) string { return filepath.Join(m.cfg.dir, file) }

// List returns the good backups, newest first: those whose metadata parses
// and whose data file exists with the recorded size. Partial backups left
// by a crash are never listed; when no other Manager is busy in the
// directory, List also removes them. Damaged or tampered backups are not
// listed either but stay on disk for inspection; [Manager.Stats] names
// them.
func (m *Manager) List(ctx context.Context) ([]Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := m.trySweep(false); err != nil {
		return nil, err
	}
	s, err := m.scan()
	if err != nil {
		return nil, err
	}
	return s.good, nil
}

// Invalid is a backup that is not good, and why.
type Invalid struct {
	// Name is the backup's name (from its metadata file name).
	Name string
	// Err says what is wrong; it wraps ErrIncomplete or ErrInvalidMetadata.
	Err error
}

// Stats describes the backup directory: the figures of [Health] read
// afresh from disk, the oldest backup, counts per reason, and the backups
// that are not good.
type Stats struct {
	Health
	// Dir is the backup directory.
	Dir string
	// Oldest is the oldest good backup; zero Name when there is none.
	Oldest Info
	// ByReason counts good backups per Info.Reason.
	ByReason map[string]int
	// Invalid lists metadata files that do not make a good backup.
	Invalid []Invalid
}

// Stats reads the directory and sums it up. It takes no lock, so it may
// run while other operations do.
func (m *Manager) Stats(ctx context.Context) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	s, err := m.scan()
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Health: m.Health(), Dir: m.cfg.dir, ByReason: map[string]int{}, Invalid: s.invalid}
	for _, i := range s.good {
		st.ByReason[i.Reason]++
	}
	if len(s.good) > 0 {
		st.Oldest = s.good[len(s.good)-1]
	}
	return st, nil
}

// Health returns the backup figures for monitoring, from memory.
func (m *Manager) Health() Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := Health{Count: len(m.good), LastFailure: m.lastFailure, LastError: m.lastErr, LastFailedOp: m.lastOp}
	for _, i := range m.good {
		h.TotalSize += i.Size
	}
	if len(m.good) > 0 {
		h.LastGood = m.good[0]
		h.LastGoodAge = max(m.cfg.now().Sub(h.LastGood.CreatedAt), 0)
	}
	return h
}

// scanResult is what scan finds.
type scanResult struct {
	good    []Info
	invalid []Invalid
}

// scan reads every metadata file of the directory and checks it against
// its data file. It refreshes the Health figures.
func (m *Manager) scan() (scanResult, error) {
	entries, err := os.ReadDir(m.cfg.dir)
	if err != nil {
		return scanResult{}, fmt.Errorf("backup: read %s: %w", m.cfg.dir, err)
	}
	var s scanResult
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		info, err := m.readInfo(name)
		switch {
		case errors.Is(err, ErrNotFound):
			// Removed by a concurrent Cleanup since ReadDir.
		case err != nil:
			s.invalid = append(s.invalid, Invalid{Name: name, Err: err})
		default:
			s.good = append(s.good, info)
		}
	}
	sortNewestFirst(s.good)
	m.mu.Lock()
	m.good = s.good
	m.mu.Unlock()
	return s, nil
}

func sortNewestFirst(infos []Info) {
	slices.SortFunc(infos, func(a, b Info) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.Name, a.Name)
	})
}

// readInfo reads and checks the metadata of the backup called name, and
// checks that its data file exists with the recorded size. It is what
// "good" means short of Verify.
func (m *Manager) readInfo(name string) (Info, error) {
	if !ValidName(name) {
		return Info{}, fmt.Errorf("%w: %q", ErrInvalidName, truncate(name, 64))
	}
	f, err := os.Open(m.path(metaFile(name)))
	if errors.Is(err, os.ErrNotExist) {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return Info{}, fmt.Errorf("backup: %s: %w", name, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMetadataBytes+1))
	f.Close()
	if err != nil {
		return Info{}, fmt.Errorf("backup: read metadata of %s: %w", name, err)
	}
	info, err := ParseInfo(data)
	if err != nil {
		return Info{}, err
	}
	if info.Name != name {
		return Info{}, fmt.Errorf("%w: metadata file %s describes backup %s", ErrIncomplete, metaFile(name), info.Name)
	}
	fi, err := os.Lstat(m.path(info.File))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Info{}, fmt.Errorf("%w: data file %s is missing", ErrIncomplete, info.File)
	case err != nil:
		return Info{}, fmt.Errorf("backup: %s: %w", info.File, err)
	case !fi.Mode().IsRegular():
		return Info{}, fmt.Errorf("%w: data file %s is not a regular file", ErrIncomplete, info.File)
	case fi.Size() != info.Size:
		return Info{}, fmt.Errorf("%w: data file %s has %d bytes, the metadata says %d", ErrIncomplete, info.File, fi.Size(), info.Size)
	}
	return info, nil
}

// normalizeName accepts a backup name, or its metadata or data file name
// (what an operator copies from ls), and returns the backup name.
func normalizeName(s string) string {
	if n, ok := strings.CutSuffix(s, ".json"); ok {
		return n
	}
	if i := strings.IndexByte(s, '.'); i > 0 {
		switch rest := s[i+1:]; {
		case strings.HasPrefix(rest, SQLite.dataExt()), strings.HasPrefix(rest, PostgreSQL.dataExt()):
			return s[:i]
		}
	}
	return s
}

// trySweep removes leftovers if no other Manager holds the directory lock.
func (m *Manager) trySweep(driver bool) error {
	unlock, ok, err := m.lock.tryLock(true)
	if err != nil || !ok {
		return err
	}
	defer unlock()
	return m.sweepLocked(driver)
}

// sweepLocked removes what crashed operations left: temporary files and
// data files whose metadata was never written (or already removed), and
// with driver set the driver's own leftovers (beside the SQLite file, or
// scratch databases on the PostgreSQL server). The caller holds the
// exclusive lock, so nothing removed here is in use.
func (m *Manager) sweepLocked(driver bool) error {
	entries, err := os.ReadDir(m.cfg.dir)
	if err != nil {
		return fmt.Errorf("backup: read %s: %w", m.cfg.dir, err)
	}
	metas := map[string]bool{}
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			metas[n] = true
		}
	}
	var errs []error
	removed := false
	for _, e := range entries {
		n := e.Name()
		leftover := strings.HasPrefix(n, tmpPrefix)
		if !leftover && !strings.HasPrefix(n, ".") {
			if base := normalizeName(n); base != n && ValidName(base) && !metas[base] && isDataFile(n, base) {
				leftover = true // an orphaned data file
			}
		}
		if leftover && e.Type().IsRegular() {
			m.cfg.log.Info("backup: removing leftover of an interrupted operation", "file", n)
			errs = append(errs, removeIfExists(m.path(n)))
			removed = true
		}
	}
	if removed {
		errs = append(errs, syncDir(m.cfg.dir))
	}
	if driver {
		errs = append(errs, m.drv.sweep())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("backup: remove leftovers: %w", err)
	}
	return nil
}

// isDataFile reports whether file is a data file name this package could
// have written for the backup called name.
func isDataFile(file, name string) bool {
	for _, e := range []Engine{SQLite, PostgreSQL} {
		for _, c := range []Compression{CompressionNone, CompressionGzip, CompressionZstd} {
			if file == dataFile(name, e, c, false) || file == dataFile(name, e, c, true) {
				return true
			}
		}
	}
	return false
}

// report records the outcome of an operation: health, log and event.
func (m *Manager) report(op Op, kind EventKind, start time.Time, info, safety Info, err error) {
	end := m.cfg.now()
	ev := Event{Kind: kind, Op: op, Time: end, Duration: end.Sub(start), Backup: info, SafetyBackup: safety}
	if err != nil {
		ev.Kind, ev.Err = EventFailed, err
		m.mu.Lock()
		m.lastFailure, m.lastErr, m.lastOp = end, err.Error(), op
		m.mu.Unlock()
		m.cfg.log.Error("backup: "+string(op)+" failed", "backup", info.Name, "err", err)
	} else {
		m.cfg.log.Info("backup: "+string(kind), "backup", info.Name, "size", info.Size, "duration", ev.Duration)
	}
	if m.cfg.onEvent != nil {
		m.cfg.onEvent(ev)
	}
}
