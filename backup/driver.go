package backup

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// driver is what the Manager needs from an engine.
type driver interface {
	// dump writes a consistent snapshot of the live database to w and
	// returns its contents, read in that same snapshot. tmp is a path
	// prefix in the backup directory free for the driver's temporary files
	// (they start with tmpPrefix, so a crash leaves nothing good-looking).
	dump(ctx context.Context, w io.Writer, tmp string) (contents, error)
	// load restores the raw dump read from r (to EOF) into a new scratch
	// copy, checks its integrity and returns it. forRestore asks for a
	// scratch copy that can replace the live database.
	load(ctx context.Context, r io.Reader, rawSize int64, forRestore bool) (scratch, error)
	// liveSchemaVersion reads the live database's schema version.
	liveSchemaVersion(ctx context.Context) (int64, error)
	// sweep removes leftovers the driver keeps outside the backup
	// directory. The caller holds the exclusive directory lock.
	sweep() error
}

// fileDumper is a driver that can write the raw dump straight to a file,
// which spares a copy when the codec has nothing to do.
type fileDumper interface {
	dumpFile(ctx context.Context, path string) (contents, error)
}

// scratch is a restored, checked copy of a backup.
type scratch interface {
	// contents reads its tables' row counts and schema version.
	contents(ctx context.Context) (contents, error)
	// ready checks, before the safety backup, that replace can proceed
	// (SQLite: no other connection holds the live database).
	ready(ctx context.Context) error
	// replace makes the backup the live database, all or nothing.
	replace(ctx context.Context, m *Manager, info Info) error
	// discard removes the copy (after replace, whatever is left of it).
	discard() error
}

// quoteIdent quotes an SQL identifier for SQLite and PostgreSQL.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// readContents lists the tables with listSQL (rows of schema, name), counts
// each table's rows and reads the schema version, all through q (inside
// the caller's snapshot).
func (c *config) readContents(ctx context.Context, q Querier, listSQL string, gooseExists string) (contents, error) {
	rows, err := q.QueryContext(ctx, listSQL)
	if err != nil {
		return contents{}, fmt.Errorf("list tables: %w", err)
	}
	var tables []TableCount
	for rows.Next() {
		var t TableCount
		if err := rows.Scan(&t.Schema, &t.Name); err != nil {
			rows.Close()
			return contents{}, fmt.Errorf("list tables: %w", err)
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return contents{}, fmt.Errorf("list tables: %w", err)
	}
	for k := range tables {
		n, err := queryInt(ctx, q, "SELECT count(*) FROM "+quoteIdent(tables[k].Schema)+"."+quoteIdent(tables[k].Name))
		if err != nil {
			return contents{}, fmt.Errorf("count rows of %s: %w", tables[k], err)
		}
		tables[k].Rows = n
	}
	sortTables(tables)
	v, err := c.schemaVersion(ctx, q, gooseExists)
	if err != nil {
		return contents{}, fmt.Errorf("read schema version: %w", err)
	}
	if v < 0 {
		return contents{}, fmt.Errorf("read schema version: negative version %d", v)
	}
	return contents{schemaVersion: v, tables: tables}, nil
}

// schemaVersion runs Options.SchemaVersion, or reads goose's version table
// when the query gooseExists says there is one.
func (c *config) schemaVersion(ctx context.Context, q Querier, gooseExists string) (int64, error) {
	if c.schemaV != nil {
		return c.schemaV(ctx, q)
	}
	n, err := queryInt(ctx, q, gooseExists)
	if err != nil || n == 0 {
		return 0, err
	}
	return gooseVersion(ctx, q)
}

// gooseVersion returns the current version recorded by goose: walking its
// log newest first, the first version applied and not later rolled back.
func gooseVersion(ctx context.Context, q Querier) (int64, error) {
	rows, err := q.QueryContext(ctx, "SELECT version_id, is_applied FROM goose_db_version ORDER BY id DESC")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	rolledBack := map[int64]bool{}
	for rows.Next() {
		var v int64
		var applied bool
		if err := rows.Scan(&v, &applied); err != nil {
			return 0, err
		}
		if rolledBack[v] {
			continue
		}
		if applied {
			return v, nil
		}
		rolledBack[v] = true
	}
	return 0, rows.Err()
}

func queryInt(ctx context.Context, q Querier, query string) (int64, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}
