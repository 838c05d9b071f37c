package data_test

import (
	"context"
	"testing"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// openSQLite opens a migrated SQLite database in a temporary directory.
func openSQLite(tb testing.TB) *data.DB {
	tb.Helper()
	ctx := context.Background()
	t, err := data.ParseURL("sqlite://senfi.db", tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	db, err := data.Open(ctx, t)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// BenchmarkUserByID is the lookup every authenticated request of the
// example makes (api's caller), on SQLite.
func BenchmarkUserByID(b *testing.B) {
	db := openSQLite(b)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, data.User{Email: "bench@sharif.edu", Password: "x"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.UserByID(ctx, u.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPreparedReads: single-row reads work through the prepared-statement
// cache, again after it is warm, and fail cleanly after Close.
func TestPreparedReads(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, data.User{Email: "prep@sharif.edu", Password: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := db.UserByID(ctx, u.ID)
		if err != nil || got.Email != "prep@sharif.edu" {
			t.Fatalf("UserByID = %+v, %v", got, err)
		}
		if _, err := db.UserByID(ctx, u.ID+1000); err != data.ErrNotFound {
			t.Fatalf("UserByID(missing) error = %v, want ErrNotFound", err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserByID(ctx, u.ID); err == nil {
		t.Fatal("UserByID after Close: no error")
	}
}
