package sqlstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite"

	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/sqlstore"
)

// This example keeps the revocation state in a SQLite file. With PostgreSQL
// only the sqlx.Open line changes (driver "pgx", a postgres:// URL).
func Example() {
	dir, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlx.Open("sqlite", filepath.Join(dir, "auth.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	store, err := sqlstore.New(db, sqlstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	now := time.Now()
	expires := now.Add(7 * 24 * time.Hour) // when the refresh token expires

	// Refresh: consume the presented token. Only the first use wins.
	first, _, err := store.Consume(ctx, "jti-1", now, expires)
	fmt.Println("first use:", first, err)
	first, usedAt, err := store.Consume(ctx, "jti-1", now.Add(time.Minute), expires)
	fmt.Println("second use:", first, usedAt.Equal(time.UnixMicro(now.UnixMicro())), err)

	// Reuse detected: revoke the whole family.
	err = store.RevokeFamily(ctx, "family-1", expires)
	fmt.Println("family revoked:", err)

	revoked, err := store.Revoked(ctx, jwtauth.TokenRef{Subject: "user-42", Family: "family-1", IssuedAt: now})
	fmt.Println("token of family-1 revoked:", revoked, err)
	revoked, err = store.Revoked(ctx, jwtauth.TokenRef{Subject: "user-42", Family: "family-2", IssuedAt: now})
	fmt.Println("token of family-2 revoked:", revoked, err)
	// Output:
	// first use: true <nil>
	// second use: false true <nil>
	// family revoked: <nil>
	// token of family-1 revoked: true <nil>
	// token of family-2 revoked: false <nil>
}

// Applications that manage their schema with a migration tool ship the SQL
// of Schema as a migration instead of calling Migrate.
func ExampleSchema() {
	ddl, err := sqlstore.Schema(sqlstore.Postgres, "auth_")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(ddl[:strings.Index(ddl, "\n\n")])
	// Output:
	// -- jwtauth/sqlstore schema, dialect postgres, table prefix auth_.
	// -- Times are Unix microseconds (_us) or milliseconds (_ms); rows may be deleted once expires_at_ms has passed.
}
