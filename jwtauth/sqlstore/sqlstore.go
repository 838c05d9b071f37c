package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/senfi-sharif/senfi/jwtauth"
)

// Store is a [jwtauth.Store] kept in PostgreSQL or SQLite, so that several
// replicas of an application share revocations and consumed refresh tokens.
// It is safe for concurrent use by multiple goroutines and by several
// processes sharing the database. Create it with [New]; the zero value is not
// usable.
type Store struct {
	db      *sqlx.DB
	dialect Dialect
	prefix  string
	now     func() time.Time
	logger  *slog.Logger

	// Queries, built once by New with the table prefix and the dialect's
	// placeholders. Every ID is a bound parameter.
	qRevoked, qConsume, qUsedAt, qRevokeFamily, qRevokeSubject string
	qSweep                                                     [3]string
	migrateLock                                                int64

	// Revoked's prepared statement (SQLite only; see revokedStatement).
	stmtMu      sync.Mutex
	closed      bool
	revokedStmt atomic.Pointer[sql.Stmt]
}

var _ jwtauth.Store = (*Store)(nil)

// New returns a Store over db, whose driver must be PostgreSQL (driver name
// pgx, pgx/v5 or postgres) or SQLite (sqlite or sqlite3); it is detected from
// db.DriverName(). The tables must exist: call [Store.Migrate] once at
// startup, or run the SQL of [Schema] with your migration tool.
//
// The Store does not own db: closing db is the caller's job.
//
// With SQLite, open the database with a busy timeout (modernc.org/sqlite:
// "?_pragma=busy_timeout(5000)", mattn/go-sqlite3: "?_busy_timeout=5000")
// and preferably in WAL mode ("&_pragma=journal_mode(WAL)"), so that
// concurrent writers wait for the write lock instead of failing. As a
// backstop, the Store itself retries a statement that fails with SQLITE_BUSY
// or SQLITE_LOCKED a few times, with backoff (modernc.org/sqlite only, whose
// errors carry their code).
func New(db *sqlx.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, ErrNilDB
	}
	var errs []error
	d, err := dialectOf(db.DriverName())
	errs = append(errs, err)
	prefix := orDefault(opts.TablePrefix)
	errs = append(errs, validTablePrefix(prefix))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	s := &Store{
		db:      db,
		dialect: d,
		prefix:  prefix,
		now:     opts.Now,
		logger:  opts.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}

	greatest := "GREATEST"
	if d == SQLite {
		greatest = "MAX" // SQLite's scalar max(X, Y, ...)
	}
	fam, sub, used := prefix+tableFamilies, prefix+tableSubjects, prefix+tableUsedTokens
	r := strings.NewReplacer("{fam}", fam, "{sub}", sub, "{used}", used, "{greatest}", greatest)
	q := func(query string) string {
		query = r.Replace(query)
		if d == Postgres {
			return sqlx.Rebind(sqlx.DOLLAR, query)
		}
		return query
	}

	// A family or subject entry counts while now < expires_at_ms (Unix
	// milliseconds); a token is revoked by its subject when its iat, in Unix
	// microseconds, is at most before_us.
	s.qRevoked = q(`SELECT EXISTS (SELECT 1 FROM {fam} WHERE fid = ? AND expires_at_ms > ?)
    OR EXISTS (SELECT 1 FROM {sub} WHERE sub = ? AND before_us >= ? AND expires_at_ms > ?)`)

	// Inserts the mark, or replaces an expired one; a live mark is left
	// alone and the statement affects no row. One statement, so concurrent
	// calls are serialized by the primary key.
	s.qConsume = q(`INSERT INTO {used} (jti, used_at_us, expires_at_ms) VALUES (?, ?, ?)
ON CONFLICT (jti) DO UPDATE SET used_at_us = excluded.used_at_us, expires_at_ms = excluded.expires_at_ms
WHERE {used}.expires_at_ms <= ?`)
	s.qUsedAt = q(`SELECT used_at_us FROM {used} WHERE jti = ?`)

	// A live mark keeps the maximum of every time, so a later call never
	// shortens or moves back an earlier one; an expired mark is replaced, as
	// if it were absent. Rows that would not change are not rewritten.
	s.qRevokeFamily = q(`INSERT INTO {fam} (fid, expires_at_ms) VALUES (?, ?)
ON CONFLICT (fid) DO UPDATE SET expires_at_ms = excluded.expires_at_ms
WHERE {fam}.expires_at_ms < excluded.expires_at_ms`)
	s.qRevokeSubject = q(`INSERT INTO {sub} (sub, before_us, expires_at_ms) VALUES (?, ?, ?)
ON CONFLICT (sub) DO UPDATE SET
    before_us = CASE WHEN {sub}.expires_at_ms <= ? THEN excluded.before_us
        ELSE {greatest}({sub}.before_us, excluded.before_us) END,
    expires_at_ms = CASE WHEN {sub}.expires_at_ms <= ? THEN excluded.expires_at_ms
        ELSE {greatest}({sub}.expires_at_ms, excluded.expires_at_ms) END
WHERE {sub}.expires_at_ms <= ? OR {sub}.before_us < excluded.before_us OR {sub}.expires_at_ms < excluded.expires_at_ms`)

	for i, table := range []string{fam, sub, used} {
		s.qSweep[i] = q(`DELETE FROM ` + table + ` WHERE expires_at_ms <= ?`)
	}

	h := fnv.New64a()
	h.Write([]byte("senfi jwtauth/sqlstore migrate " + prefix))
	s.migrateLock = int64(h.Sum64())
	return s, nil
}

// Dialect returns the SQL dialect the store detected.
func (s *Store) Dialect() Dialect { return s.dialect }

// TablePrefix returns the prefix of the store's table names.
func (s *Store) TablePrefix() string { return s.prefix }

// Migrate creates the store's tables and indexes if they do not exist (the
// statements of [Schema]), in one transaction. It is idempotent and safe to
// run from several replicas at once (on PostgreSQL it takes a transaction
// advisory lock). Applications with their own migration tool can run the SQL
// of Schema instead.
func (s *Store) Migrate(ctx context.Context) error {
	stmts, err := schemaStatements(s.dialect, s.prefix)
	if err != nil {
		return err
	}
	err = s.retry(ctx, func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", s.migrateLock); err != nil {
				return err
			}
		}
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// Revoked implements [jwtauth.Store] with one query.
func (s *Store) Revoked(ctx context.Context, t jwtauth.TokenRef) (bool, error) {
	now := s.now().UnixMilli()
	var revoked bool
	err := s.retry(ctx, func() error {
		if st := s.revokedStatement(ctx); st != nil {
			return st.QueryRowContext(ctx, t.Family, now, t.Subject, t.IssuedAt.UnixMicro(), now).Scan(&revoked)
		}
		return s.db.QueryRowContext(ctx, s.qRevoked, t.Family, now, t.Subject, t.IssuedAt.UnixMicro(), now).Scan(&revoked)
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: revoked: %w", err)
	}
	return revoked, nil
}

// revokedStatement returns Revoked's query prepared, on SQLite: the check
// runs on every authenticated request, and modernc.org/sqlite spends more
// than half of an unprepared query compiling its SQL (BenchmarkRevoked:
// about 26 µs unprepared, 12 µs prepared). It is prepared on first use,
// since the tables may not exist when New runs, and nil when preparing fails
// (the caller then runs the plain query, which reports the error) or the
// store is closed. PostgreSQL needs none of this: pgx caches prepared
// statements per connection by itself, and explicit ones would not survive
// a transaction-mode connection pooler.
func (s *Store) revokedStatement(ctx context.Context) *sql.Stmt {
	if s.dialect != SQLite {
		return nil
	}
	if st := s.revokedStmt.Load(); st != nil {
		return st
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if s.closed {
		return nil
	}
	if st := s.revokedStmt.Load(); st != nil {
		return st
	}
	st, err := s.db.PrepareContext(ctx, s.qRevoked)
	if err != nil {
		return nil
	}
	s.revokedStmt.Store(st)
	return st
}

// Close releases the statement the Store prepared on SQLite; call it after
// the last request (a Revoked already running may fail with "statement is
// closed"). It does not close the database, and calls made afterwards work
// without the prepared statement. Closing the database releases the
// statement too, so calling Close is optional when the two are closed
// together.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	s.closed = true
	if st := s.revokedStmt.Swap(nil); st != nil {
		return st.Close()
	}
	return nil
}

// Consume implements [jwtauth.Store]. The first consumer's INSERT is the
// only statement; a later consumer needs a second query to read usedAt,
// which is stored in Unix microseconds (now, truncated).
func (s *Store) Consume(ctx context.Context, jti string, now, expires time.Time) (first bool, usedAt time.Time, err error) {
	// The row can vanish between the INSERT and the SELECT (it expired and
	// Sweep deleted it): then the INSERT is tried again.
	for range 3 {
		var n int64
		err := s.retry(ctx, func() error {
			res, err := s.db.ExecContext(ctx, s.qConsume, jti, now.UnixMicro(), expires.UnixMilli(), s.now().UnixMilli())
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return false, time.Time{}, fmt.Errorf("sqlstore: consume: %w", err)
		}
		if n > 0 {
			return true, now, nil
		}
		var us int64
		err = s.retry(ctx, func() error {
			return s.db.QueryRowContext(ctx, s.qUsedAt, jti).Scan(&us)
		})
		switch {
		case err == nil:
			return false, time.UnixMicro(us), nil
		case !errors.Is(err, sql.ErrNoRows):
			return false, time.Time{}, fmt.Errorf("sqlstore: consume: %w", err)
		}
	}
	return false, time.Time{}, fmt.Errorf("sqlstore: consume: the entry of the token kept vanishing")
}

// RevokeFamily implements [jwtauth.Store].
func (s *Store) RevokeFamily(ctx context.Context, fid string, expires time.Time) error {
	err := s.retry(ctx, func() error {
		_, err := s.db.ExecContext(ctx, s.qRevokeFamily, fid, expires.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: revoke family: %w", err)
	}
	return nil
}

// RevokeSubject implements [jwtauth.Store]. before is stored in Unix
// microseconds, rounded down, which is exact for a TokenRef.IssuedAt with
// microsecond precision; expires in Unix milliseconds.
func (s *Store) RevokeSubject(ctx context.Context, sub string, before, expires time.Time) error {
	err := s.retry(ctx, func() error {
		now := s.now().UnixMilli()
		_, err := s.db.ExecContext(ctx, s.qRevokeSubject, sub, before.UnixMicro(), expires.UnixMilli(), now, now, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: revoke subject: %w", err)
	}
	return nil
}
