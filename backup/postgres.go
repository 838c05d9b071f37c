package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// PostgreSQL queries.
const (
	pgListTables = `SELECT n.nspname, c.relname
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p')
		AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
			WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`
	pgListSchemas = `SELECT nspname FROM pg_catalog.pg_namespace
		WHERE nspname NOT IN ('pg_catalog', 'information_schema')
		AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp%' ORDER BY 1`
	pgGooseExists = `SELECT CASE WHEN pg_catalog.to_regclass('goose_db_version') IS NULL THEN 0 ELSE 1 END`
	// pgScratchPrefix starts the names of Verify's scratch databases:
	// senfi_verify_<unix time>_<random>.
	pgScratchPrefix = "senfi_verify_"
	// pgScratchMaxAge: a scratch database older than this is a leftover of
	// a crashed Verify, and the next sweep drops it.
	pgScratchMaxAge = 24 * time.Hour
	// pgLockTimeout bounds how long a restore waits for the locks it needs
	// to drop the old schemas (an application still connected holds them).
	pgLockTimeout = "60s"
	// stderrTail is how much of a tool's error output is kept for errors.
	stderrTail = 4 << 10
)

// libpqParams are the URL query parameters libpq (and so pg_dump,
// pg_restore and psql) understands; others, such as pgx's pool settings,
// are dropped from the URL handed to the tools.
const libpqParams = " host hostaddr port dbname user passfile channel_binding connect_timeout client_encoding options application_name fallback_application_name keepalives keepalives_idle keepalives_interval keepalives_count tcp_user_timeout gssencmode sslmode sslnegotiation sslcompression sslcert sslkey sslpassword sslcertmode sslrootcert sslcrl sslcrldir sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version krbsrvname gsslib gssdelegation service target_session_attrs load_balance_hosts require_auth "

// pgDriver backs up PostgreSQL with pg_dump (custom format, in a snapshot
// exported by the transaction that also counts the rows) and restores with
// pg_restore's script run by psql inside one transaction.
type pgDriver struct{ cfg *config }

func openPG(u *url.URL) (*sql.DB, error) { return sql.Open("pgx", u.String()) }

// tool returns the connection URL and environment for a client program:
// the password travels in PGPASSWORD, never on the command line, where
// other users of the machine could read it.
func tool(u *url.URL) (conn string, env []string) {
	r := redactedURL(u)
	q := r.Query()
	for k := range q {
		if !strings.Contains(libpqParams, " "+k+" ") {
			q.Del(k)
		}
	}
	r.RawQuery = q.Encode()
	env = os.Environ()
	if pw := pgPassword(u); pw != "" {
		env = append(env, "PGPASSWORD="+pw)
	}
	return r.String(), env
}

// tailBuffer keeps the last stderrTail bytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > stderrTail {
		t.b = append(t.b[:0], t.b[len(t.b)-stderrTail:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(bytes.TrimSpace(t.b)) }

// toolError describes a failed client program with the end of its stderr.
func toolError(name string, err error, stderr *tailBuffer) error {
	if s := stderr.String(); s != "" {
		return fmt.Errorf("%s: %w: %s", name, err, s)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func (d *pgDriver) dump(ctx context.Context, w io.Writer, _ string) (contents, error) {
	db, err := openPG(d.cfg.db.pgURL)
	if err != nil {
		return contents{}, err
	}
	defer db.Close()
	// pg_dump joins this transaction's snapshot, so the row counts and the
	// dump describe the same instant.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return contents{}, fmt.Errorf("connect to %s: %w", d.cfg.db, err)
	}
	defer tx.Rollback()
	var snapshot string
	if err := tx.QueryRowContext(ctx, "SELECT pg_catalog.pg_export_snapshot()").Scan(&snapshot); err != nil {
		return contents{}, fmt.Errorf("export snapshot: %w", err)
	}
	cont, err := d.cfg.readContents(ctx, tx, pgListTables, pgGooseExists)
	if err != nil {
		return contents{}, err
	}
	conn, env := tool(d.cfg.db.pgURL)
	cmd := exec.CommandContext(ctx, d.cfg.pgDump, "--format=custom", "--compress=0", "--no-password",
		"--snapshot="+snapshot, "--dbname="+conn)
	cmd.Env = env
	var stderr tailBuffer
	tr := d.cfg.progress.start("pg_dump "+d.cfg.db.Name, -1)
	cmd.Stdout, cmd.Stderr = io.MultiWriter(w, tr), &stderr
	err = cmd.Run()
	tr.done(err)
	if err != nil {
		return contents{}, toolError("pg_dump", err, &stderr)
	}
	return cont, nil
}

func (d *pgDriver) liveSchemaVersion(ctx context.Context) (int64, error) {
	db, err := openPG(d.cfg.db.pgURL)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return d.cfg.schemaVersion(ctx, db, pgGooseExists)
}

// sweep drops scratch databases that crashed Verify runs left on the
// scratch server. It only logs its own failures: an unreachable server
// must not stop the Manager from listing backups.
func (d *pgDriver) sweep() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := openPG(d.cfg.scratch.pgURL)
	if err == nil {
		defer admin.Close()
		err = d.dropStale(ctx, admin)
	}
	if err != nil {
		d.cfg.log.Warn("backup: could not look for leftover scratch databases", "server", d.cfg.scratch.String(), "err", err)
	}
	return nil
}

func (d *pgDriver) dropStale(ctx context.Context, admin *sql.DB) error {
	rows, err := admin.QueryContext(ctx, `SELECT datname FROM pg_catalog.pg_database WHERE datname LIKE 'senfi\_verify\_%'`)
	if err != nil {
		return err
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(name, pgScratchPrefix), "_")
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil && d.cfg.now().Sub(time.Unix(sec, 0)) > pgScratchMaxAge {
			stale = append(stale, name)
		}
	}
	rows.Close()
	var errs []error
	for _, name := range stale {
		d.cfg.log.Info("backup: dropping leftover scratch database", "database", name)
		_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)")
		errs = append(errs, err)
	}
	return errors.Join(append(errs, rows.Err())...)
}

func (d *pgDriver) load(ctx context.Context, r io.Reader, rawSize int64, _ bool) (scratch, error) {
	admin, err := openPG(d.cfg.scratch.pgURL)
	if err != nil {
		return nil, err
	}
	name := pgScratchPrefix + strconv.FormatInt(d.cfg.now().Unix(), 10) + "_" + randomHex(6)
	if err := d.createScratch(ctx, admin, name); err != nil {
		admin.Close()
		return nil, err
	}
	sc := &pgScratch{d: d, admin: admin, name: name}
	target := withDatabase(d.cfg.scratch.pgURL, name)
	if err := d.restoreInto(ctx, target, r, rawSize, nil); err != nil {
		sc.discard()
		return nil, fmt.Errorf("%w: the backup does not restore: %v", ErrIntegrity, err)
	}
	db, err := openPG(target)
	if err == nil {
		sc.cont, err = d.cfg.readContents(ctx, db, pgListTables, pgGooseExists)
		db.Close()
	}
	if err != nil {
		sc.discard()
		return nil, fmt.Errorf("%w: read the restored copy: %v", ErrIntegrity, err)
	}
	return sc, nil
}

// createScratch creates an empty database from template0 with the live
// database's encoding and collation, so text compares the same.
func (d *pgDriver) createScratch(ctx context.Context, admin *sql.DB, name string) error {
	create := "CREATE DATABASE " + quoteIdent(name) + " TEMPLATE template0"
	if live, err := openPG(d.cfg.db.pgURL); err == nil {
		var enc, collate, ctype string
		err = live.QueryRowContext(ctx, `SELECT pg_catalog.pg_encoding_to_char(encoding), datcollate, datctype
			FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()`).Scan(&enc, &collate, &ctype)
		live.Close()
		if err == nil {
			withLocale := create + " ENCODING " + quoteLiteral(enc) + " LC_COLLATE " + quoteLiteral(collate) + " LC_CTYPE " + quoteLiteral(ctype)
			if _, err := admin.ExecContext(ctx, withLocale); err == nil {
				return nil
			}
		}
	}
	// The scratch server may lack the live database's locale.
	if _, err := admin.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create scratch database on %s (the role needs CREATEDB): %w", d.cfg.scratch, err)
	}
	return nil
}

// quoteLiteral quotes an SQL string literal (standard_conforming_strings on).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// pgScratch is a scratch database restored from a backup.
type pgScratch struct {
	d     *pgDriver
	admin *sql.DB
	name  string
	cont  contents
}

func (s *pgScratch) contents(context.Context) (contents, error) { return s.cont, nil }

// ready has nothing to check: the restore waits for the locks it needs
// (at most pgLockTimeout) inside its transaction.
func (s *pgScratch) ready(context.Context) error { return nil }

func (s *pgScratch) discard() error {
	if s.admin == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(s.name)+" WITH (FORCE)")
	s.admin.Close()
	s.admin = nil
	if err != nil {
		return fmt.Errorf("drop scratch database %s: %w", s.name, err)
	}
	return nil
}

// replace restores the backup into the live database in one transaction.
// It streams the data file again (the scratch copy proved it restores) and
// commits only once pg_restore succeeded, the row counts match the
// metadata and the SHA-256 of what was streamed matches it too.
func (s *pgScratch) replace(ctx context.Context, m *Manager, info Info) error {
	if err := s.discard(); err != nil {
		return err
	}
	return m.stream(ctx, info, func(r io.Reader, finish func() error) error {
		return s.d.restoreInto(ctx, s.d.cfg.db.pgURL, r, info.RawSize, &liveCheck{info: info, finish: finish})
	})
}

// liveCheck is what restoreInto checks before committing into the live
// database.
type liveCheck struct {
	info   Info
	finish func() error
}

// restoreInto runs pg_restore's SQL script for the dump read from r
// through psql against target, inside one transaction that first drops
// every schema of target. With check set, the transaction also verifies
// the row counts and check.finish must pass before COMMIT is sent; without
// it (scratch databases) it commits when the script ends.
func (d *pgDriver) restoreInto(ctx context.Context, target *url.URL, r io.Reader, rawSize int64, check *liveCheck) error {
	prefix, err := d.resetSQL(ctx, target)
	if err != nil {
		return err
	}
	conn, env := tool(target)
	var prErr, psErr tailBuffer
	pr := exec.CommandContext(ctx, d.cfg.pgRest, "--file=-", "--exit-on-error")
	tr := d.cfg.progress.start("pg_restore into "+strings.TrimPrefix(target.Path, "/"), rawSize)
	pr.Stdin, pr.Stderr = io.TeeReader(r, tr), &prErr
	script, err := pr.StdoutPipe()
	if err != nil {
		return err
	}
	// psql runs without --single-transaction: the script carries its own
	// BEGIN, and the COMMIT is sent last, only if everything passed. If
	// psql stops early for any reason, the open transaction rolls back.
	ps := exec.CommandContext(ctx, d.cfg.psql, "--no-psqlrc", "--quiet", "--no-password",
		"--set=ON_ERROR_STOP=1", "--dbname="+conn, "--file=-")
	ps.Env, ps.Stdout, ps.Stderr = env, io.Discard, &psErr
	in, err := ps.StdinPipe()
	if err != nil {
		return err
	}
	if err := ps.Start(); err != nil {
		script.Close()
		return toolError("psql", err, &psErr)
	}
	if err := pr.Start(); err != nil {
		ps.Process.Kill()
		ps.Wait()
		return toolError("pg_restore", err, &prErr)
	}
	_, err = io.WriteString(in, prefix)
	if err == nil {
		_, err = io.Copy(in, script)
	}
	if err != nil {
		pr.Process.Kill() // psql stopped reading: pg_restore would block
	}
	if werr := pr.Wait(); err == nil && werr != nil {
		err = toolError("pg_restore", werr, &prErr)
	}
	if err == nil && check != nil {
		err = check.finish()
		if err == nil {
			err = d.cfg.step("restore:before-commit")
		}
	}
	if err == nil {
		suffix := "COMMIT;\n"
		if check != nil {
			suffix = countCheckSQL(check.info.Tables) + suffix
		}
		_, err = io.WriteString(in, suffix)
	}
	if err != nil {
		ps.Process.Kill() // no COMMIT reaches the server
	}
	in.Close()
	werr := ps.Wait()
	tr.done(errors.Join(err, werr))
	switch {
	case werr != nil && (err == nil || psErr.String() != ""):
		return errors.Join(err, toolError("psql", werr, &psErr))
	case err != nil:
		return err
	}
	return nil
}

// resetSQL returns the statements that open the restore transaction and
// empty the target database: every schema dropped, public recreated as a
// fresh database from template0 has it (which is what pg_dump's output
// expects), large objects unlinked.
func (d *pgDriver) resetSQL(ctx context.Context, target *url.URL) (string, error) {
	db, err := openPG(target)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var version int
	if err := db.QueryRowContext(ctx, "SELECT pg_catalog.current_setting('server_version_num')::int").Scan(&version); err != nil {
		return "", fmt.Errorf("connect to %s: %w", redactedURL(target), err)
	}
	rows, err := db.QueryContext(ctx, pgListSchemas)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("SET client_min_messages = warning;\nSET lock_timeout = '" + pgLockTimeout + "';\nBEGIN;\n")
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return "", err
		}
		b.WriteString("DROP SCHEMA IF EXISTS " + quoteIdent(s) + " CASCADE;\n")
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	if version >= 150000 {
		b.WriteString("CREATE SCHEMA public AUTHORIZATION pg_database_owner;\nGRANT USAGE ON SCHEMA public TO PUBLIC;\n")
	} else {
		b.WriteString("CREATE SCHEMA public;\nGRANT ALL ON SCHEMA public TO PUBLIC;\n")
	}
	b.WriteString("COMMENT ON SCHEMA public IS 'standard public schema';\n")
	b.WriteString("SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata;\n")
	return b.String(), nil
}

// countCheckSQL returns a DO block that aborts the transaction if a
// table's row count differs from the metadata. Names come from a metadata
// file, so they are quoted, and the dollar-quote tag is one they do not
// contain.
func countCheckSQL(tables []TableCount) string {
	var body strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&body, "IF (SELECT pg_catalog.count(*) FROM %s.%s) <> %d THEN RAISE EXCEPTION 'row count of %% differs from the backup metadata', %s; END IF;\n",
			quoteIdent(t.Schema), quoteIdent(t.Name), t.Rows, quoteLiteral(t.String()))
	}
	tag := "$senfi_" + randomHex(8) + "$"
	for strings.Contains(body.String(), tag) {
		tag = "$senfi_" + randomHex(8) + "$"
	}
	return "SET standard_conforming_strings = on;\nDO " + tag + " BEGIN\n" + body.String() + "END " + tag + ";\n"
}
