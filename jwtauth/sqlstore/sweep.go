package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Sweep deletes the entries that have expired by the store's clock and
// returns how many it deleted. Expired entries are already ignored, so
// sweeping only keeps the tables small: call it periodically (every few
// minutes, from one replica or from all of them; concurrent sweeps are safe),
// or run [Store.RunSweeper]. Each table is swept by one DELETE statement.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	now := s.now().UnixMilli()
	var total int64
	for _, q := range s.qSweep {
		err := s.retry(ctx, func() error {
			res, err := s.db.ExecContext(ctx, q, now)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			total += n
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlstore: sweep: %w", err)
		}
	}
	return total, nil
}

// RunSweeper calls [Store.Sweep] at once and then every interval, until ctx
// is done; then it returns nil. It blocks: run it in a goroutine of your
// choice. A failed sweep is logged to Options.Logger and retried at the next
// tick. A non-positive interval is an error, returned at once.
func (s *Store) RunSweeper(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("sqlstore: sweeper interval %v: must be positive", interval)
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		n, err := s.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.logger.LogAttrs(ctx, slog.LevelError, "jwtauth/sqlstore: sweep failed", slog.Any("err", err))
		case n > 0:
			s.logger.LogAttrs(ctx, slog.LevelDebug, "jwtauth/sqlstore: swept expired entries", slog.Int64("deleted", n))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// SQLite result codes that mean "try again later".
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// busyRetries and busyBackoff bound the retries of a statement that SQLite
// refused with SQLITE_BUSY or SQLITE_LOCKED: about 2.5 s in all, on top of
// the connection's own busy timeout.
const (
	busyRetries    = 10
	busyBackoff    = 5 * time.Millisecond
	busyMaxBackoff = 500 * time.Millisecond
)

// retry runs f, and on SQLite runs it again while it fails with
// SQLITE_BUSY or SQLITE_LOCKED, a bounded number of times with exponential
// backoff. f must be safe to repeat: every statement of this package is.
func (s *Store) retry(ctx context.Context, f func() error) error {
	err := f()
	if s.dialect != SQLite {
		return err
	}
	backoff := busyBackoff
	for range busyRetries {
		if !isBusy(err) {
			return err
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return errors.Join(err, ctx.Err())
		case <-timer.C:
		}
		backoff = min(2*backoff, busyMaxBackoff)
		err = f()
	}
	return err
}

// isBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED (or one of
// their extended codes) from a driver whose errors have a Code() int method,
// such as modernc.org/sqlite.
func isBusy(err error) bool {
	var coded interface{ Code() int }
	if err == nil || !errors.As(err, &coded) {
		return false
	}
	switch coded.Code() & 0xff {
	case sqliteBusy, sqliteLocked:
		return true
	}
	return false
}
