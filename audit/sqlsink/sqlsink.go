package sqlsink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/senfi-sharif/senfi/audit"
)

// Errors returned by New and Schema, wrapped with details; test for them
// with errors.Is.
var (
	// ErrNilDB is returned by New for a nil database.
	ErrNilDB = errors.New("sqlsink: nil database")
	// ErrUnsupportedDriver is returned for a driver that is neither
	// PostgreSQL nor SQLite.
	ErrUnsupportedDriver = errors.New("sqlsink: unsupported database driver")
	// ErrInvalidTable is returned for a table name that is not a lowercase
	// SQL identifier of at most 48 bytes.
	ErrInvalidTable = errors.New("sqlsink: invalid table name")
)

// Dialect is a SQL dialect the sink speaks.
type Dialect string

// The supported dialects.
const (
	// Postgres is PostgreSQL 10 or later (identity columns), through the
	// pgx or postgres database/sql drivers.
	Postgres Dialect = "postgres"
	// SQLite is SQLite 3, through the sqlite (modernc.org/sqlite) or
	// sqlite3 (mattn/go-sqlite3) drivers.
	SQLite Dialect = "sqlite"
)

// Defaults used when Options fields are zero.
const (
	DefaultTable   = "audit_events"
	DefaultTimeout = 5 * time.Second
)

// rowsPerInsert bounds the rows of one INSERT statement (13 parameters
// each: under SQLite's oldest limit of 999 parameters).
const rowsPerInsert = 64

// columns are the inserted columns, in parameter order.
const columns = "time, level, event, outcome, message, request_id, client_ip, user_id, user_email, seq, attrs, record"

const numColumns = 12

// Options configures a [Sink]. The zero value is ready to use.
type Options struct {
	// Table is the table name: [a-z_][a-z0-9_]*, at most 48 bytes. Zero
	// value: DefaultTable, "audit_events".
	Table string
	// Timeout bounds each batch write (and LastRecord). Zero value:
	// DefaultTimeout.
	Timeout time.Duration
}

// Sink is an audit.Sink that inserts records into a table. It is safe for
// concurrent use. Create it with [New]; it does not own the database.
type Sink struct {
	db      *sqlx.DB
	dialect Dialect
	table   string
	timeout time.Duration
	lockKey int64
	// insertAll is the INSERT of rowsPerInsert rows; its first rowEnd[n-1]
	// bytes are the INSERT of n rows.
	insertAll string
	rowEnd    [rowsPerInsert]int
}

var (
	_ audit.Sink    = (*Sink)(nil)
	_ audit.Resumer = (*Sink)(nil)
)

// New returns a Sink writing to db, whose driver (db.DriverName()) must be
// pgx, pgx/v5 or postgres (PostgreSQL), or sqlite or sqlite3 (SQLite). The
// table must exist: call [Sink.Migrate], or run [Schema] with your
// migration tool. Closing db remains the caller's job.
func New(db *sqlx.DB, opts Options) (*Sink, error) {
	if db == nil {
		return nil, ErrNilDB
	}
	var errs []error
	d, err := dialectOf(db.DriverName())
	errs = append(errs, err)
	table := opts.Table
	if table == "" {
		table = DefaultTable
	}
	errs = append(errs, validTable(table))
	if opts.Timeout < 0 {
		errs = append(errs, fmt.Errorf("sqlsink: Options.Timeout %v is negative", opts.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Sink{db: db, dialect: d, table: table, timeout: opts.Timeout}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	s.buildInsert()
	h := fnv.New64a()
	h.Write([]byte("senfi audit/sqlsink migrate " + table))
	s.lockKey = int64(h.Sum64())
	return s, nil
}

func dialectOf(driver string) (Dialect, error) {
	switch driver {
	case "pgx", "pgx/v5", "postgres":
		return Postgres, nil
	case "sqlite", "sqlite3":
		return SQLite, nil
	}
	return "", fmt.Errorf("%w %q: use a PostgreSQL (pgx, postgres) or SQLite (sqlite, sqlite3) driver", ErrUnsupportedDriver, driver)
}

func validTable(t string) error {
	if len(t) == 0 || len(t) > 48 {
		return fmt.Errorf("%w %q: want 1 to 48 bytes", ErrInvalidTable, t)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c != '_' && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return fmt.Errorf("%w %q: want [a-z_][a-z0-9_]*", ErrInvalidTable, t)
		}
	}
	return nil
}

// Name returns "sql:" and the table name.
func (s *Sink) Name() string { return "sql:" + s.table }

// Table returns the table name.
func (s *Sink) Table() string { return s.table }

// Dialect returns the dialect detected from the driver.
func (s *Sink) Dialect() Dialect { return s.dialect }

// Schema returns the statements that create the table and its indexes in
// dialect d ("" table means DefaultTable), separated by semicolons. Every
// statement is idempotent (IF NOT EXISTS).
func Schema(d Dialect, table string) (string, error) {
	stmts, err := schema(d, table)
	if err != nil {
		return "", err
	}
	return "-- audit/sqlsink schema (" + string(d) + ")\n" + strings.Join(stmts, ";\n\n") + ";\n", nil
}

func schema(d Dialect, table string) ([]string, error) {
	if table == "" {
		table = DefaultTable
	}
	if err := validTable(table); err != nil {
		return nil, err
	}
	var id, tm, js string
	switch d {
	case Postgres:
		id, tm, js = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "TIMESTAMPTZ", "JSONB"
	case SQLite:
		// AUTOINCREMENT: ids of deleted rows are never reused.
		id, tm, js = "INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "TEXT"
	default:
		return nil, fmt.Errorf("%w: dialect %q", ErrUnsupportedDriver, d)
	}
	r := strings.NewReplacer("{t}", table, "{id}", id, "{time}", tm, "{json}", js)
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS {t} (
    id         {id},
    time       {time} NOT NULL,
    level      TEXT NOT NULL,
    event      TEXT,
    outcome    TEXT,
    message    TEXT,
    request_id TEXT,
    client_ip  TEXT,
    user_id    TEXT,
    user_email TEXT,
    seq        BIGINT,
    attrs      {json} NOT NULL,
    record     TEXT NOT NULL
)`,
		`CREATE INDEX IF NOT EXISTS {t}_time_idx ON {t} (time)`,
		`CREATE INDEX IF NOT EXISTS {t}_event_time_idx ON {t} (event, time)`,
		`CREATE INDEX IF NOT EXISTS {t}_user_id_time_idx ON {t} (user_id, time)`,
		`CREATE INDEX IF NOT EXISTS {t}_request_id_idx ON {t} (request_id)`,
	}
	for i, st := range stmts {
		stmts[i] = r.Replace(st)
	}
	return stmts, nil
}

// Migrate creates the table and indexes if they do not exist, in one
// transaction; on PostgreSQL under an advisory lock, so replicas starting
// together do not collide.
func (s *Sink) Migrate(ctx context.Context) error {
	stmts, err := schema(s.dialect, s.table)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlsink: migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", s.lockKey); err != nil {
			return fmt.Errorf("sqlsink: migrate: %w", err)
		}
	}
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("sqlsink: migrate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlsink: migrate: %w", err)
	}
	return nil
}

// Write inserts the batch atomically: one INSERT when it fits (with
// synchronous delivery that is every request's record), otherwise several
// in one transaction.
func (s *Sink) Write(batch []*audit.Entry) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if len(batch) <= rowsPerInsert {
		args := make([]any, 0, numColumns*len(batch))
		for _, e := range batch {
			args = append(args, s.row(e)...)
		}
		if _, err := s.db.ExecContext(ctx, s.insert(len(batch)), args...); err != nil {
			return fmt.Errorf("sqlsink: insert: %w", err)
		}
		return nil
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlsink: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	args := make([]any, 0, numColumns*min(len(batch), rowsPerInsert))
	for len(batch) > 0 {
		n := min(len(batch), rowsPerInsert)
		args = args[:0]
		for _, e := range batch[:n] {
			args = append(args, s.row(e)...)
		}
		if _, err := tx.ExecContext(ctx, s.insert(n), args...); err != nil {
			return fmt.Errorf("sqlsink: insert: %w", err)
		}
		batch = batch[n:]
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlsink: commit: %w", err)
	}
	return nil
}

// insert returns the INSERT statement for n rows, 1 to rowsPerInsert.
func (s *Sink) insert(n int) string { return s.insertAll[:s.rowEnd[n-1]] }

// buildInsert builds insertAll and rowEnd.
func (s *Sink) buildInsert() {
	var b strings.Builder
	b.WriteString("INSERT INTO " + s.table + " (" + columns + ") VALUES ")
	p := 1
	for i := range rowsPerInsert {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range numColumns {
			if j > 0 {
				b.WriteByte(',')
			}
			if s.dialect == Postgres {
				fmt.Fprintf(&b, "$%d", p)
			} else {
				b.WriteByte('?')
			}
			p++
		}
		b.WriteByte(')')
		s.rowEnd[i] = b.Len()
	}
	s.insertAll = b.String()
}

// timeLayout is the time format of SQLite's text column: the record's own,
// which sorts chronologically as text.
const timeLayout = "2006-01-02T15:04:05.000Z"

func (s *Sink) row(e *audit.Entry) []any {
	var tm any = e.Time.UTC()
	if s.dialect == SQLite {
		tm = e.Time.UTC().Format(timeLayout)
	}
	var ip any
	if e.ClientIP.IsValid() {
		ip = e.ClientIP.String()
	}
	var seq any
	if e.Seq > 0 {
		seq = int64(e.Seq)
	}
	return []any{tm, audit.LevelName(e.Level), null(string(e.Event)), null(string(e.Outcome)), null(e.Message),
		null(e.RequestID), ip, null(e.UserID), null(e.UserEmail), seq, string(e.Attrs()), string(e.Line)}
}

// null maps "" to SQL NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// LastRecord returns the record column of the newest row, so that an
// audit.Chain over the sink continues its chain.
func (s *Sink) LastRecord() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	var rec string
	err := s.db.QueryRowxContext(ctx, "SELECT record FROM "+s.table+" ORDER BY id DESC LIMIT 1").Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlsink: last record: %w", err)
	}
	return []byte(rec), nil
}

// Verify checks the chain of the table's chained rows (those with a seq),
// in id order, as audit.Verify does for files. Problems are located as
// "sql:<table>" and the row id.
func (s *Sink) Verify(ctx context.Context, opts audit.VerifyOptions) (*audit.Report, error) {
	v, err := audit.NewVerifier(opts)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryxContext(ctx, "SELECT id, record FROM "+s.table+" WHERE seq IS NOT NULL ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlsink: verify: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var rec []byte
		if err := rows.Scan(&id, &rec); err != nil {
			return nil, fmt.Errorf("sqlsink: verify: %w", err)
		}
		v.Add(s.Name(), id, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlsink: verify: %w", err)
	}
	return v.Report(), nil
}

// Checkpoints returns the checkpoints of the named chain ("" for all)
// stored in the table, oldest first, for audit.VerifyOptions.
func (s *Sink) Checkpoints(ctx context.Context, chain string) ([]audit.Checkpoint, error) {
	var recs []string
	q := s.db.Rebind("SELECT record FROM " + s.table + " WHERE event = ? ORDER BY id")
	if err := s.db.SelectContext(ctx, &recs, q, string(audit.AuditCheckpoint)); err != nil {
		return nil, fmt.Errorf("sqlsink: checkpoints: %w", err)
	}
	var cps []audit.Checkpoint
	for _, r := range recs {
		if cp, ok := audit.ParseCheckpoint([]byte(r)); ok && (chain == "" || cp.Chain == chain) {
			cps = append(cps, cp)
		}
	}
	return cps, nil
}
