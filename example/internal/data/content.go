package data

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// What campaigns, polls and blog posts share: slugs, transactions, row locks
// and list filters.

// MaxSlugLength is the longest slug accepted from a client, in code points.
const MaxSlugLength = 200

// ErrConflict is returned when a change is refused because of the row's
// current state (the options of a poll that already has votes).
var ErrConflict = errors.New("data: conflicts with the current state")

// slugify makes a URL slug from a title, keeping letters and digits of any
// script (Persian titles give Persian slugs), lower-cased, with runs of
// anything else turned into one '-'; at most 80 code points. An empty result
// is fallback.
func slugify(title, fallback string) string {
	var b strings.Builder
	n := 0
	dash := false
	for _, r := range strings.ToLower(title) {
		if n >= 80 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if dash && b.Len() > 0 {
				if n+2 > 80 {
					break // no room for the dash and a letter after it
				}
				b.WriteByte('-')
				n++
			}
			dash = false
			b.WriteRune(r)
			n++
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return fallback
	}
	return b.String()
}

// ValidSlug reports whether s may be used as a slug a client chose: 1 to
// MaxSlugLength code points, each a lower-case letter (of any script), a
// digit, a combining mark, '-' or '_'. What Slugify makes is always valid;
// the blog's ASCII rule of the original (^[a-z0-9_-]+$) is a subset.
func ValidSlug(s string) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxSlugLength {
		return false
	}
	for _, r := range s {
		switch {
		case r == '-' || r == '_':
		case unicode.IsLetter(r):
			if unicode.ToLower(r) != r {
				return false
			}
		case unicode.IsDigit(r), unicode.Is(unicode.Mn, r):
		default:
			return false
		}
	}
	return true
}

// slugCandidate is the slug tried at attempt i (from 1): the base, then
// base-2 ... base-10, then the base with a random suffix, so that a title used
// a thousand times still finds a free slug quickly.
func slugCandidate(base string, i int) string {
	switch {
	case i == 1:
		return base
	case i <= 10:
		return base + "-" + strconv.Itoa(i)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return base + "-" + hex.EncodeToString(b[:])
}

// insertSlugged runs an INSERT ... ON CONFLICT (slug) DO NOTHING RETURNING
// id with the slug candidates of base until one is free, and returns the ID
// and the slug used. Because a taken slug inserts nothing instead of raising
// an error, it also works inside a PostgreSQL transaction. fixed: the slug is
// the client's choice, and a taken one is ErrDuplicate.
func (db *DB) insertSlugged(ctx context.Context, q sqlx.QueryerContext, base string, fixed bool, query string, args func(slug string) []any) (int64, string, error) {
	for i := 1; i <= 20; i++ {
		slug := base
		if !fixed {
			slug = slugCandidate(base, i)
		}
		var id int64
		err := q.QueryRowxContext(ctx, db.q(query), args(slug)...).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows) && fixed:
			return 0, "", ErrDuplicate
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return 0, "", err
		}
		return id, slug, nil
	}
	return 0, "", ErrDuplicate
}

// inTx runs f in a transaction and commits when f returns nil. On SQLite
// every transaction takes the write lock at BEGIN (the DSN's _txlock), so
// transactions are serialised; on PostgreSQL, f takes row locks where it
// needs them (see lockClause).
func (db *DB) inTx(ctx context.Context, f func(tx *sqlx.Tx) error) error {
	tx, err := db.x.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// lockClause is the row-lock suffix of a SELECT in a transaction (mode
// "UPDATE" gives "FOR UPDATE") on PostgreSQL, and nothing on SQLite, whose
// transactions already hold the database's write lock.
func (db *DB) lockClause(mode string) string {
	if db.engine == Postgres {
		return " FOR " + mode
	}
	return ""
}

// where collects the conditions and arguments of a list query.
type where struct {
	conds []string
	args  []any
}

// add appends one condition with its arguments.
func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// in appends "column IN (...)"; an empty list matches nothing.
func (w *where) in(column string, values []string) error {
	if len(values) == 0 {
		w.conds = append(w.conds, "1 = 0")
		return nil
	}
	cond, args, err := sqlx.In(column+" IN (?)", values)
	if err != nil {
		return err
	}
	w.add(cond, args...)
	return nil
}

// sql is the WHERE clause ("" when there is no condition).
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// likePattern is a case-insensitive LIKE pattern matching s anywhere, with
// the wildcards in s escaped ('\' is the escape character).
func likePattern(s string) string {
	return "%" + likeEscaper.Replace(strings.ToLower(s)) + "%"
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
