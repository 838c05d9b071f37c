package sqlsink_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/audit/sqlsink"
)

// Example stores security events in SQLite and queries them back the way
// an administrator would.
func Example() {
	dir, err := os.MkdirTemp("", "sqlsink-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlx.Open("sqlite", filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	ctx := context.Background()

	sink, err := sqlsink.New(db, sqlsink.Options{})
	if err != nil {
		panic(err)
	}
	if err := sink.Migrate(ctx); err != nil {
		panic(err)
	}
	log, err := audit.New(audit.Options{Sinks: []audit.Sink{sink}})
	if err != nil {
		panic(err)
	}
	for _, email := range []string{"ali@example.com", "sara@example.com", "ali@example.com"} {
		log.Log(ctx, audit.AuthnLoginFail, audit.Failure,
			slog.String(audit.KeyUserEmail, email), slog.String("password", "guess"))
	}
	log.Close()

	var rows []struct {
		Email    string `db:"user_email"`
		Failures int    `db:"failures"`
	}
	err = db.Select(&rows, `SELECT user_email, COUNT(*) AS failures FROM audit_events
		WHERE event = 'authn_login_fail' GROUP BY user_email ORDER BY failures DESC`)
	if err != nil {
		panic(err)
	}
	for _, r := range rows {
		fmt.Println(r.Email, r.Failures)
	}
	var attrs string
	if err := db.Get(&attrs, "SELECT attrs FROM audit_events LIMIT 1"); err != nil {
		panic(err)
	}
	fmt.Println(attrs)
	// Output:
	// ali@example.com 2
	// sara@example.com 1
	// {"password":"[REDACTED]"}
}
