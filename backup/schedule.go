package backup

import (
	"context"
	"errors"
	"time"
)

// scheduleRetry caps the wait before retrying a failed scheduled backup.
const scheduleRetry = 5 * time.Minute

// Schedule makes a backup (Reason ReasonScheduled) every interval and then
// applies keep with [Manager.Cleanup], until ctx is done; then it returns
// nil. Run it on a goroutine of the server:
//
//	go func() { _ = mgr.Schedule(ctx, 6*time.Hour, backup.Retention{KeepLast: 10, Daily: 7, Weekly: 4}) }()
//
// The first backup is due one interval after the newest good backup, so a
// restarted server neither backs up at once nor waits a full interval
// after a long downtime. A failed backup is retried after the interval or
// five minutes, whichever is shorter. Failures do not stop the schedule:
// they reach Options.OnEvent, the log and [Manager.Health] (alert on
// LastGoodAge). It returns an error only for a bad interval or retention.
func (m *Manager) Schedule(ctx context.Context, interval time.Duration, keep Retention) error {
	if interval <= 0 {
		return errors.New("backup: Schedule interval must be positive")
	}
	if err := keep.validate(); err != nil {
		return err
	}
	var lastTry time.Time
	var lastFailed bool
	for {
		if wait := m.nextRun(interval, lastTry, lastFailed).Sub(m.cfg.now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		lastTry = m.cfg.now()
		_, err := m.createLocking(ctx, ReasonScheduled)
		lastFailed = err != nil
		if err == nil && !keep.IsZero() {
			// A failed cleanup is reported like any other failure.
			_, _ = m.Cleanup(ctx, keep)
		}
	}
}

// nextRun returns when the next scheduled backup is due.
func (m *Manager) nextRun(interval time.Duration, lastTry time.Time, lastFailed bool) time.Time {
	var next time.Time // zero: now
	if h := m.Health(); h.Count > 0 {
		next = h.LastGood.CreatedAt.Add(interval)
	}
	if !lastTry.IsZero() {
		after := interval
		if lastFailed {
			after = min(interval, scheduleRetry)
		}
		if t := lastTry.Add(after); t.After(next) {
			next = t
		}
	}
	return next
}
