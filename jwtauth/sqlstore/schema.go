package sqlstore

import (
	"fmt"
	"strings"
)

// Dialect is a SQL dialect the store speaks.
type Dialect string

// The supported dialects.
const (
	// Postgres is PostgreSQL 9.5 or later (ON CONFLICT), through the pgx
	// (github.com/jackc/pgx/v5/stdlib) or postgres (github.com/lib/pq)
	// database/sql drivers.
	Postgres Dialect = "postgres"
	// SQLite is SQLite 3.24 or later (UPSERT), through the sqlite
	// (modernc.org/sqlite) or sqlite3 (github.com/mattn/go-sqlite3)
	// database/sql drivers.
	SQLite Dialect = "sqlite"
)

// dialectOf maps a database/sql driver name to its dialect.
func dialectOf(driverName string) (Dialect, error) {
	switch driverName {
	case "pgx", "pgx/v5", "postgres":
		return Postgres, nil
	case "sqlite", "sqlite3":
		return SQLite, nil
	}
	return "", fmt.Errorf("%w %q: supported are pgx, pgx/v5 and postgres (PostgreSQL), sqlite and sqlite3 (SQLite)",
		ErrUnsupportedDriver, driverName)
}

// Table names, after the prefix.
const (
	tableFamilies   = "families"
	tableSubjects   = "subjects"
	tableUsedTokens = "used_tokens"
)

// Schema returns the SQL that creates the store's tables and indexes in
// dialect d with the given table prefix ("" means DefaultTablePrefix): the
// statements [Store.Migrate] runs, separated by semicolons. Applications that
// manage their schema with a migration tool can add this text to their
// migrations instead of calling Migrate. Every statement is idempotent (IF
// NOT EXISTS).
//
// There are three tables; every time is an integer count since the Unix
// epoch, of microseconds in the _us columns (the precision of a token's
// iat) and of milliseconds in the _ms ones, and every row may be deleted
// once expires_at_ms has passed ([Store.Sweep] does that):
//
//   - <prefix>families (fid, expires_at_ms): revoked token families;
//   - <prefix>subjects (sub, before_us, expires_at_ms): the subject's tokens
//     issued at or before before_us are revoked;
//   - <prefix>used_tokens (jti, used_at_us, expires_at_ms): consumed refresh
//     tokens, first used at used_at_us.
func Schema(d Dialect, tablePrefix string) (string, error) {
	stmts, err := schemaStatements(d, tablePrefix)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- jwtauth/sqlstore schema, dialect %s, table prefix %s.\n", d, orDefault(tablePrefix))
	b.WriteString("-- Times are Unix microseconds (_us) or milliseconds (_ms); rows may be deleted once expires_at_ms has passed.\n")
	for _, s := range stmts {
		b.WriteString("\n")
		b.WriteString(s)
		b.WriteString(";\n")
	}
	return b.String(), nil
}

func orDefault(prefix string) string {
	if prefix == "" {
		return DefaultTablePrefix
	}
	return prefix
}

// schemaStatements returns the schema as separate statements, without
// trailing semicolons.
func schemaStatements(d Dialect, tablePrefix string) ([]string, error) {
	p := orDefault(tablePrefix)
	if err := validTablePrefix(p); err != nil {
		return nil, err
	}
	var text, integer, suffix string
	switch d {
	case Postgres:
		text, integer, suffix = "TEXT", "BIGINT", ""
	case SQLite:
		text, integer, suffix = "TEXT", "INTEGER", " WITHOUT ROWID"
	default:
		return nil, fmt.Errorf("%w: dialect %q: want %q or %q", ErrUnsupportedDriver, d, Postgres, SQLite)
	}
	// Pad the column types to one width, so the columns line up.
	w := max(len(text), len(integer))
	text, integer = fmt.Sprintf("%-*s", w, text), fmt.Sprintf("%-*s", w, integer)
	r := strings.NewReplacer("{p}", p, "{text}", text, "{int}", integer, "{suffix}", suffix)
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS {p}` + tableFamilies + ` (
    fid           {text} NOT NULL PRIMARY KEY,
    expires_at_ms {int} NOT NULL
){suffix}`,
		`CREATE INDEX IF NOT EXISTS {p}` + tableFamilies + `_expires_at_ms_idx ON {p}` + tableFamilies + ` (expires_at_ms)`,
		`CREATE TABLE IF NOT EXISTS {p}` + tableSubjects + ` (
    sub           {text} NOT NULL PRIMARY KEY,
    before_us     {int} NOT NULL,
    expires_at_ms {int} NOT NULL
){suffix}`,
		`CREATE INDEX IF NOT EXISTS {p}` + tableSubjects + `_expires_at_ms_idx ON {p}` + tableSubjects + ` (expires_at_ms)`,
		`CREATE TABLE IF NOT EXISTS {p}` + tableUsedTokens + ` (
    jti           {text} NOT NULL PRIMARY KEY,
    used_at_us    {int} NOT NULL,
    expires_at_ms {int} NOT NULL
){suffix}`,
		`CREATE INDEX IF NOT EXISTS {p}` + tableUsedTokens + `_expires_at_ms_idx ON {p}` + tableUsedTokens + ` (expires_at_ms)`,
	}
	for i, s := range stmts {
		stmts[i] = r.Replace(s)
	}
	return stmts, nil
}
