package backup

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retention says which good backups to keep. A backup is kept when any
// rule keeps it, and the newest good backup is always kept, so no
// combination of rules (nor a clock set wrong) can delete the last one.
// The zero Retention keeps everything.
//
// Retention only ever considers good backups: damaged or incomplete ones
// are left for an operator (see [Stats]), and leftovers of crashed
// operations are removed separately.
type Retention struct {
	// KeepLast keeps the newest KeepLast backups. Zero value: no such rule.
	KeepLast int
	// MaxAge keeps backups younger than MaxAge. Zero value: no such rule.
	MaxAge time.Duration
	// Daily keeps the newest backup of each of the Daily most recent days
	// that have one; Weekly and Monthly do the same per ISO week and per
	// calendar month (grandfather-father-son). Zero value: no such rule.
	Daily, Weekly, Monthly int
	// Location sets where days, weeks and months begin. Zero value: UTC.
	Location *time.Location
}

// IsZero reports whether r has no rule, and so keeps everything.
func (r Retention) IsZero() bool {
	return r.KeepLast == 0 && r.MaxAge == 0 && r.Daily == 0 && r.Weekly == 0 && r.Monthly == 0
}

func (r Retention) validate() error {
	if r.KeepLast < 0 || r.MaxAge < 0 || r.Daily < 0 || r.Weekly < 0 || r.Monthly < 0 {
		return errors.New("backup: Retention values must not be negative")
	}
	return nil
}

// Plan splits backups into those r keeps and those it removes at time now.
// Both come back newest first. It changes nothing on disk: use it for a
// dry run of [Manager.Cleanup].
func (r Retention) Plan(backups []Info, now time.Time) (keep, remove []Info) {
	sorted := append([]Info(nil), backups...)
	sortNewestFirst(sorted)
	if r.IsZero() {
		return sorted, nil
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	kept := make([]bool, len(sorted))
	if len(sorted) > 0 {
		kept[0] = true // never remove the newest good backup
	}
	for k, b := range sorted {
		if k < r.KeepLast || (r.MaxAge > 0 && now.Sub(b.CreatedAt) < r.MaxAge) {
			kept[k] = true
		}
	}
	bucket := func(n int, key func(time.Time) int) {
		seen := map[int]bool{}
		for k, b := range sorted {
			if len(seen) == n {
				return
			}
			if id := key(b.CreatedAt.In(loc)); !seen[id] {
				seen[id] = true
				kept[k] = true
			}
		}
	}
	bucket(r.Daily, func(t time.Time) int { return t.Year()*1000 + t.YearDay() })
	bucket(r.Weekly, func(t time.Time) int { y, w := t.ISOWeek(); return y*100 + w })
	bucket(r.Monthly, func(t time.Time) int { return t.Year()*100 + int(t.Month()) })
	for k, b := range sorted {
		if kept[k] {
			keep = append(keep, b)
		} else {
			remove = append(remove, b)
		}
	}
	return keep, remove
}

// Cleanup deletes the good backups r does not keep (see [Retention.Plan])
// and the leftovers of crashed operations, and returns what it deleted.
// Each backup loses its metadata first, so a crash midway leaves at worst
// an orphaned data file, which the next Cleanup removes.
func (m *Manager) Cleanup(ctx context.Context, r Retention) ([]Info, error) {
	start := m.cfg.now()
	if err := r.validate(); err != nil {
		return nil, err
	}
	unlock, err := m.lock.lock(ctx, true)
	if err != nil {
		m.report(OpCleanup, EventDeleted, start, Info{}, Info{}, err)
		return nil, err
	}
	deleted, err := m.cleanupLocked(ctx, r)
	unlock()
	_, _ = m.scan()
	for _, d := range deleted {
		m.report(OpCleanup, EventDeleted, start, d, Info{}, nil)
	}
	if err != nil {
		m.report(OpCleanup, EventDeleted, start, Info{}, Info{}, err)
	}
	return deleted, err
}

func (m *Manager) cleanupLocked(ctx context.Context, r Retention) ([]Info, error) {
	if err := m.sweepLocked(true); err != nil {
		return nil, err
	}
	s, err := m.scan()
	if err != nil {
		return nil, err
	}
	_, remove := r.Plan(s.good, m.cfg.now())
	var deleted []Info
	for _, b := range remove {
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		if err := m.delete(b); err != nil {
			return deleted, fmt.Errorf("backup: delete %s: %w", b.Name, err)
		}
		deleted = append(deleted, b)
	}
	return deleted, nil
}

// delete removes one backup: metadata first, then data.
func (m *Manager) delete(b Info) error {
	if err := removeIfExists(m.path(metaFile(b.Name))); err != nil {
		return err
	}
	if err := syncDir(m.cfg.dir); err != nil {
		return err
	}
	if err := removeIfExists(m.path(b.File)); err != nil {
		return err
	}
	return syncDir(m.cfg.dir)
}
