package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/app"
	"github.com/senfi-sharif/senfi/example/internal/config"
	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/internal/testenv"
)

// TestBackupRoundTrip: on a running app under write load, `backup create`
// → `list` → `verify` → (app stopped) `restore` gives back the data of the
// moment of the backup and leaves a pre-restore safety backup; a tampered
// file fails verify. On SQLite and PostgreSQL.
func TestBackupRoundTrip(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			env := devEnv(t)
			env["SENFI_BACKUP_INTERVAL"] = "0"
			if engine == "postgres" {
				dsn, _ := testenv.PostgresDSN(t)
				env["SENFI_DATABASE_URL"] = dsn
			}
			lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
			cfg, err := config.Load(lookup)
			require.NoError(t, err)
			ctx := context.Background()
			a, err := app.New(ctx, cfg, app.Options{Stdout: &syncBuffer{}})
			require.NoError(t, err)

			// Writes keep coming while the backup is taken.
			var n atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(5 * time.Millisecond) // 200/s
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						_, err := a.DB.CreateUser(ctx, data.User{Email: fmt.Sprintf("u%d@sharif.edu", n.Add(1)), Password: "x"})
						if err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
			time.Sleep(100 * time.Millisecond)
			code, out, errOut := cli(t, env, "", "backup", "create")
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, out, "created")
			code, _, errOut = cli(t, env, "", "backup_db")
			assert.Equal(t, 1, code, "a second backup within the hour needs --force")
			assert.Contains(t, errOut, "--force")
			time.Sleep(100 * time.Millisecond)
			close(stop)
			wg.Wait()

			code, out, errOut = cli(t, env, "", "backup", "list", "--json")
			require.Equal(t, 0, code, errOut)
			var list []listEntry
			require.NoError(t, json.Unmarshal([]byte(out), &list))
			require.Len(t, list, 1)
			b := list[0]
			assert.True(t, b.Verified)
			assert.Equal(t, map[string]string{"sqlite": "sqlite", "postgres": "postgres"}[engine], b.Driver)
			code, out, _ = cli(t, env, "", "list_backups", "--detailed")
			require.Equal(t, 0, code)
			assert.Contains(t, out, "users=")

			code, out, errOut = cli(t, env, "", "backup", "verify", b.Name)
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, out, "is good")

			var atBackup int64
			for _, m := range mustList(t, cfg) {
				for _, tc := range m.Tables {
					if tc.Name == "users" {
						atBackup = tc.Rows
					}
				}
			}
			var now int64
			require.NoError(t, a.DB.X().Get(&now, "SELECT COUNT(*) FROM users"))
			require.Greater(t, now, atBackup, "writes went on after the backup")
			require.NoError(t, a.Close(ctx)) // restore wants the server stopped

			code, _, errOut = cli(t, env, "", "backup", "restore", b.Name)
			assert.Equal(t, 1, code, "no terminal and no --no-confirm")
			assert.Contains(t, errOut, "--no-confirm")
			code, _, _ = cli(t, env, "", "restore_db", "../../etc/passwd", "--no-confirm")
			assert.Equal(t, 2, code)
			code, out, errOut = cli(t, env, "", "restore_db", b.Name, "--no-confirm")
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, out, "previous database is saved")

			a2, err := app.Open(ctx, cfg, app.Options{})
			require.NoError(t, err)
			var after int64
			require.NoError(t, a2.DB.X().Get(&after, "SELECT COUNT(*) FROM users"))
			require.NoError(t, a2.Close(ctx))
			assert.Equal(t, atBackup, after, "the data of the moment of the backup")
			backups := mustList(t, cfg)
			require.Len(t, backups, 2)
			assert.Equal(t, "pre-restore", backups[0].Reason, "the safety backup")

			code, out, _ = cli(t, env, "", "backup", "stats")
			assert.Equal(t, 0, code, out)
			assert.Contains(t, out, "2 good")

			// Tamper with the stored file: verify says so.
			path := filepath.Join(cfg.BackupDir, backups[1].File)
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			raw[len(raw)/2] ^= 0xff
			require.NoError(t, os.WriteFile(path, raw, 0o600))
			code, _, errOut = cli(t, env, "", "backup", "verify", backups[1].Name)
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, "failed verification")
			assert.Contains(t, errOut, "checksum")

			code, out, errOut = cli(t, env, "", "backup", "cleanup")
			assert.Equal(t, 0, code, errOut)
			assert.Contains(t, out, "removed")
			code, _, _ = cli(t, env, "", "backup", "frobnicate")
			assert.Equal(t, 2, code)
		})
	}
}

func mustList(t *testing.T, cfg config.Config) []backupInfo {
	t.Helper()
	a, err := app.Open(context.Background(), cfg, app.Options{})
	require.NoError(t, err)
	defer a.Close(context.Background())
	list, err := a.Backups.List(context.Background())
	require.NoError(t, err)
	return list
}
