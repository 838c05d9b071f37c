package backup_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/senfi-sharif/senfi/backup"
)

// Back up a SQLite database, prove the backup restores, and restore it
// after the application lost data.
func Example() {
	dir, err := os.MkdirTemp("", "backup-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "senfi.db")
	db, err := sql.Open("sqlite", dbPath) // modernc.org/sqlite
	if err != nil {
		panic(err)
	}
	db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)`)
	db.Exec(`INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com')`)

	mgr, err := backup.New(backup.Options{
		Dir:         filepath.Join(dir, "backups"),
		DatabaseURL: "sqlite://" + dbPath,
		AppVersion:  "1.0.0",
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	info, err := mgr.Create(ctx) // the application may keep writing meanwhile
	if err != nil {
		panic(err)
	}
	fmt.Println("created:", info.Engine, info.Compression, info.Tables)
	_, err = mgr.Verify(ctx, info.Name)
	fmt.Println("verified:", err)

	db.Exec(`DELETE FROM users`)
	db.Close() // the application stops before a restore

	res, err := mgr.Restore(ctx, info.Name, backup.RestoreOptions{
		Confirm: func(_ context.Context, b backup.Info) bool {
			fmt.Printf("replace the database with %d rows from %s? yes\n", b.Rows(), b.AppVersion)
			return true
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("safety backup:", res.SafetyBackup.Reason)

	db, _ = sql.Open("sqlite", dbPath)
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM users`).Scan(&n)
	fmt.Println("users:", n)
	fmt.Println("backups:", mgr.Health().Count)
	// Output:
	// created: sqlite zstd [main.users]
	// verified: <nil>
	// replace the database with 2 rows from 1.0.0? yes
	// safety backup: pre-restore
	// users: 2
	// backups: 2
}

// Grandfather-father-son retention: see what Cleanup would delete.
func ExampleRetention_Plan() {
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	var backups []backup.Info
	for d := range 60 {
		t := now.AddDate(0, 0, -d)
		backups = append(backups, backup.Info{Name: t.Format("2006-01-02"), CreatedAt: t})
	}
	keep, remove := backup.Retention{KeepLast: 2, Weekly: 3, Monthly: 3}.Plan(backups, now)
	for _, b := range keep {
		fmt.Println("keep", b.Name)
	}
	fmt.Println("delete", len(remove))
	// Output:
	// keep 2026-03-31
	// keep 2026-03-30
	// keep 2026-03-29
	// keep 2026-03-22
	// keep 2026-02-28
	// keep 2026-01-31
	// delete 54
}
