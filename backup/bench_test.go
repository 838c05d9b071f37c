package backup_test

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/senfi-sharif/senfi/backup"
)

// EnvBenchBytes sets the size of the SQLite database BenchmarkSQLite
// generates: bytes, or with a KiB/MiB/GiB suffix. Default 1 GiB; CI sets
// a small size.
const EnvBenchBytes = "SENFI_BENCH_BACKUP_BYTES"

func benchSize(b *testing.B) int64 {
	s := strings.TrimSpace(os.Getenv(EnvBenchBytes))
	if s == "" {
		return 1 << 30
	}
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = strings.TrimSpace(n), m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive size in bytes, KiB, MiB or GiB", EnvBenchBytes, os.Getenv(EnvBenchBytes))
	}
	return n * mult
}

// generate fills a new SQLite file at path with users rows (about 400
// bytes each, text that compresses about 2:1, an index on email) until it
// holds size bytes, then puts it in WAL mode as an application runs it.
func generate(b *testing.B, path string, size int64) {
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=cache_size(-65536)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT NOT NULL, bio TEXT NOT NULL, created_at TEXT NOT NULL)`,
		`CREATE INDEX users_email ON users (email)`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	const chunk = 50000
	for first := 1; ; first += chunk {
		var pages, pageSize int64
		if err := db.QueryRow(`SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&pages, &pageSize); err != nil {
			b.Fatal(err)
		}
		if pages*pageSize >= size {
			break
		}
		rows := min(chunk, max((size-pages*pageSize)/400, 100))
		_, err := db.Exec(`WITH RECURSIVE c(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM c WHERE x < ?)
			INSERT INTO users (id, email, name, bio, created_at)
			SELECT x, 'user' || x || '@example.com', 'User number ' || x, hex(randomblob(160)),
				strftime('%Y-%m-%dT%H:%M:%SZ', 1700000000 + x, 'unixepoch') FROM c`, first, first+int(rows)-1)
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.Exec(`PRAGMA journal_mode=WAL`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSQLite backs up and restores a generated SQLite database
// (SENFI_BENCH_BACKUP_BYTES, default 1 GiB) with this package and with the
// sqlite3 command line's .backup and .restore, in one run. Ours does more
// per byte: row counts, SHA-256, compression (zstd, or none), fsync and
// metadata on create; checksum, restore into a scratch copy, integrity
// check and row counts on verify; and verify plus a safety backup on
// restore.
func BenchmarkSQLite(b *testing.B) {
	size := benchSize(b)
	dir := b.TempDir()
	live := filepath.Join(dir, "live.db")
	generate(b, live, size)
	fi, err := os.Stat(live)
	if err != nil {
		b.Fatal(err)
	}
	size = fi.Size()
	b.Logf("database: %d MiB", size>>20)
	ctx := context.Background()
	manager := func(b *testing.B, name string, c backup.Compression) *backup.Manager {
		m, err := backup.New(backup.Options{Dir: filepath.Join(dir, name), DatabaseURL: "sqlite://" + live, Compression: c})
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	remove := func(b *testing.B, m *backup.Manager, info backup.Info) {
		for _, f := range []string{info.Name + ".json", info.File} {
			if err := os.Remove(filepath.Join(m.Dir(), f)); err != nil {
				b.Fatal(err)
			}
		}
	}
	sqlite3, lookErr := exec.LookPath("sqlite3")
	cli := func(b *testing.B, db, command string) {
		if lookErr != nil {
			b.Skip("sqlite3 not installed (Debian: apt-get install sqlite3): no comparison")
		}
		if out, err := exec.Command(sqlite3, db, command).CombinedOutput(); err != nil {
			b.Fatalf("sqlite3 %s: %v: %s", command, err, out)
		}
	}

	for _, c := range []backup.Compression{backup.CompressionZstd, backup.CompressionNone} {
		b.Run("create/senfi-"+string(c), func(b *testing.B) {
			m := manager(b, "create-"+string(c), c)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				info, err := m.Create(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				b.ReportMetric(float64(info.Size)/float64(size), "stored/raw")
				remove(b, m, info)
				b.StartTimer()
			}
		})
	}
	b.Run("create/sqlite3-cli", func(b *testing.B) {
		out := filepath.Join(dir, "cli.db")
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			cli(b, live, ".backup "+out)
			b.StopTimer()
			os.Remove(out)
			b.StartTimer()
		}
	})

	m := manager(b, "restore", backup.CompressionZstd)
	info, err := m.Create(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("verify/senfi", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Verify(ctx, info.Name); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("restore/senfi", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			res, err := m.Restore(ctx, info.Name, backup.RestoreOptions{Force: true})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			remove(b, m, res.SafetyBackup)
			b.StartTimer()
		}
	})
	b.Run("restore/sqlite3-cli", func(b *testing.B) {
		src := filepath.Join(dir, "cli-src.db")
		cli(b, live, ".backup "+src)
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			cli(b, live, ".restore "+src)
		}
	})
}
