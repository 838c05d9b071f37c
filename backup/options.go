package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"filippo.io/age"
)

// DefaultPrefix starts backup names when Options.Prefix is empty.
const DefaultPrefix = "senfi"

// Options configures a [Manager]. Dir and DatabaseURL are required;
// everything else has a safe default.
type Options struct {
	// Dir is the backup directory. It is created (mode 0700) if missing; an
	// existing directory writable by others is refused, since anyone who can
	// write there can plant a backup. Use it for backups only. Required.
	Dir string
	// DatabaseURL is the database to back up and restore; see
	// [ParseDatabaseURL]. Required.
	DatabaseURL string
	// Prefix starts every backup name: <Prefix>-<UTC time>-<random>.
	// Letters, digits, '-' and '_', at most 64. Zero value: "senfi".
	Prefix string

	// Compression compresses data files. Zero value: CompressionZstd.
	Compression Compression
	// Recipients are age public keys ("age1…", X25519 or hybrid) that new
	// backups are encrypted to; the metadata keeps their fingerprints. Give
	// the server only recipients, and keep the identities elsewhere. Zero
	// value: backups are not encrypted.
	Recipients []string
	// Identities are the age secret keys that Verify and Restore decrypt
	// with ([ParseIdentity], [ParseIdentities]). Zero value: encrypted
	// backups cannot be verified or restored (ErrNoIdentity); their checksum
	// can still be checked.
	Identities []Identity

	// AppVersion is recorded in each backup's metadata. Zero value: empty.
	AppVersion string
	// AppSchemaVersion is the newest schema version this build of the
	// application knows (its latest migration). Restore refuses a backup
	// with a higher schema version. Zero value: the live database's schema
	// version is the limit; on an empty database that refuses every backup
	// that has a schema version, so set it for disaster recovery.
	AppSchemaVersion int64
	// SchemaVersion reads the schema version of a database: of the snapshot
	// being backed up, of a restored copy, and of the live database. q runs
	// inside the same snapshot as the backup. Zero value: the current
	// version in goose's goose_db_version table (github.com/pressly/goose),
	// or 0 when the table does not exist.
	SchemaVersion func(ctx context.Context, q Querier) (int64, error)

	// PGDump, PGRestore and PSQL are the paths of the PostgreSQL client
	// programs, used for PostgreSQL databases only. Their major version must
	// be at least the server's. Zero value: "pg_dump", "pg_restore" and
	// "psql" looked up on PATH.
	PGDump, PGRestore, PSQL string
	// ScratchURL is a PostgreSQL URL of the server where Verify creates (and
	// drops) its scratch database; the role needs CREATEDB there. Zero
	// value: the server of DatabaseURL.
	ScratchURL string

	// Progress receives progress reports of long operations: a progress bar
	// when it is a terminal, one plain line per 10% otherwise. Zero value:
	// no progress output.
	Progress io.Writer
	// OnEvent is called after each backup is created, verified, restored or
	// deleted, and after each failure, on the goroutine of the operation:
	// wire it to an audit log. Zero value: nothing is called.
	OnEvent func(Event)
	// Logger receives one line per operation; passwords and keys never
	// reach it. Zero value: a logger that discards.
	Logger *slog.Logger
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// Querier runs a query: *sql.DB, *sql.Conn and *sql.Tx are Queriers.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// config is Options checked and parsed.
type config struct {
	dir      string
	db       Database
	scratch  Database // PostgreSQL only
	prefix   string
	codec    codec
	appVer   string
	appSchV  int64
	schemaV  func(ctx context.Context, q Querier) (int64, error)
	pgDump   string
	pgRest   string
	psql     string
	onEvent  func(Event)
	log      *slog.Logger
	now      func() time.Time
	progress *progress
	hook     func(step string) error // tests: called at named points of operations
}

// toolHelp says how to get the PostgreSQL client programs.
const toolHelp = "install the PostgreSQL client programs (Debian/Ubuntu: apt-get install postgresql-client; Alpine: apk add postgresql-client; macOS: brew install libpq) or set Options.%s to its path"

func (o *Options) compile(isTerm func(int) bool) (*config, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("backup: "+format, args...))
	}
	c := &config{
		prefix:  o.Prefix,
		appVer:  o.AppVersion,
		appSchV: o.AppSchemaVersion,
		schemaV: o.SchemaVersion,
		onEvent: o.OnEvent,
		log:     o.Logger,
		now:     o.Now,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.progress = newProgress(o.Progress, c.now, isTerm)

	if o.Dir == "" {
		bad("Options.Dir is empty: name the directory backups go to")
	} else if abs, err := filepath.Abs(o.Dir); err != nil {
		bad("Options.Dir: %v", err)
	} else {
		c.dir = abs
	}
	db, err := ParseDatabaseURL(o.DatabaseURL)
	if err != nil {
		bad("Options.DatabaseURL: %v", err)
	}
	c.db = db
	if c.db.Engine == SQLite {
		if abs, err := filepath.Abs(c.db.Path); err == nil {
			c.db.Path = abs
		}
	}
	if c.prefix == "" {
		c.prefix = DefaultPrefix
	} else if !validToken(c.prefix, 64) {
		bad("Options.Prefix %q: use 1 to 64 letters, digits, '-' or '_', starting with a letter or digit", truncate(c.prefix, 70))
	}
	if o.AppSchemaVersion < 0 {
		bad("Options.AppSchemaVersion is negative")
	}
	if len(o.AppVersion) > maxTextLen {
		bad("Options.AppVersion is longer than %d bytes", maxTextLen)
	}

	c.codec.compression = o.Compression
	if c.codec.compression == "" {
		c.codec.compression = CompressionZstd
	} else if !c.codec.compression.valid() {
		bad("Options.Compression %q: use %q, %q or %q", truncate(string(o.Compression), 32), CompressionZstd, CompressionGzip, CompressionNone)
	}
	seen := map[string]bool{}
	for k, s := range o.Recipients {
		r, text, err := parseRecipient(s)
		if err != nil {
			bad("Options.Recipients[%d]: %v", k, err)
			continue
		}
		fp := Fingerprint(text)
		if seen[fp] {
			continue
		}
		seen[fp] = true
		c.codec.recipients = append(c.codec.recipients, r)
		c.codec.fingerprints = append(c.codec.fingerprints, fp)
	}
	slices.Sort(c.codec.fingerprints)
	if len(c.codec.recipients) > maxRecipients {
		bad("Options.Recipients: more than %d recipients", maxRecipients)
	} else if len(c.codec.recipients) > 0 {
		// age refuses some mixes (hybrid with classic recipients): find out now.
		if w, err := age.Encrypt(io.Discard, c.codec.recipients...); err != nil {
			bad("Options.Recipients: %v", err)
		} else {
			w.Close()
		}
	}
	c.codec.idPrints = map[string]bool{}
	for k, id := range o.Identities {
		if id.id == nil {
			bad("Options.Identities[%d] is the zero Identity: use ParseIdentity", k)
			continue
		}
		c.codec.identities = append(c.codec.identities, id.id)
		c.codec.idPrints[Fingerprint(id.recipient)] = true
	}

	if c.db.Engine == PostgreSQL {
		c.pgDump = findTool(o.PGDump, "pg_dump", "PGDump", bad)
		c.pgRest = findTool(o.PGRestore, "pg_restore", "PGRestore", bad)
		c.psql = findTool(o.PSQL, "psql", "PSQL", bad)
		c.scratch = c.db
		if o.ScratchURL != "" {
			s, err := ParseDatabaseURL(o.ScratchURL)
			switch {
			case err != nil:
				bad("Options.ScratchURL: %v", err)
			case s.Engine != PostgreSQL:
				bad("Options.ScratchURL must be a postgres:// URL")
			default:
				c.scratch = s
			}
		}
	} else if o.ScratchURL != "" {
		bad("Options.ScratchURL is for PostgreSQL; SQLite verifies into a file in Options.Dir")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := prepareDir(c.dir); err != nil {
		return nil, err
	}
	return c, nil
}

// findTool resolves a PostgreSQL client program.
func findTool(given, name, field string, bad func(string, ...any)) string {
	p := given
	if p == "" {
		p = name
	}
	path, err := exec.LookPath(p)
	if err != nil {
		bad("%w: %s: "+toolHelp, ErrToolMissing, p, field)
		return ""
	}
	return path
}

// prepareDir creates the backup directory, or checks an existing one.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("backup: create Options.Dir: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("backup: Options.Dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("backup: Options.Dir %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("backup: Options.Dir %s is writable by every user (mode %v): anyone could plant a backup there; chmod 700 it", dir, fi.Mode().Perm())
	}
	return nil
}
