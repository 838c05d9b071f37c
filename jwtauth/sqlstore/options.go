package sqlstore

import (
	"fmt"
	"log/slog"
	"time"
)

// DefaultTablePrefix is the table prefix used when Options.TablePrefix is
// empty.
const DefaultTablePrefix = "jwtauth_"

// maxTablePrefix keeps the longest name derived from the prefix (an index
// name) within PostgreSQL's 63-byte identifier limit.
const maxTablePrefix = 32

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// TablePrefix is prepended to the names of the store's tables and
	// indexes, so that several stores (or several applications) can share one
	// database. It must match [a-z_][a-z0-9_]* and be at most 32 bytes long:
	// it is written into SQL text, so anything else is refused. Zero value:
	// DefaultTablePrefix, "jwtauth_".
	TablePrefix string

	// Now is the clock that decides whether an entry has expired: an entry
	// counts while Now() is before its expiry. Zero value: time.Now.
	Now func() time.Time

	// Logger receives the errors that [Store.RunSweeper] meets (it keeps
	// running). Zero value: errors are discarded.
	Logger *slog.Logger
}

// validTablePrefix reports whether p matches [a-z_][a-z0-9_]{0,31}.
func validTablePrefix(p string) error {
	if p == "" || len(p) > maxTablePrefix {
		return fmt.Errorf("%w %q: want 1 to %d bytes", ErrInvalidTablePrefix, p, maxTablePrefix)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '_' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return fmt.Errorf("%w %q: want [a-z_][a-z0-9_]*", ErrInvalidTablePrefix, p)
	}
	return nil
}
