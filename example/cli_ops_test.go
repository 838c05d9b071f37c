package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/app"
	"github.com/senfi-sharif/senfi/example/internal/config"
)

// TestAuditVerify writes a real security log through the app, checks it
// with `audit verify`, then edits one record and sees verification fail.
func TestAuditVerify(t *testing.T) {
	env := devEnv(t)
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	var stdout syncBuffer
	a, err := app.New(context.Background(), cfg, app.Options{Stdout: &stdout})
	require.NoError(t, err)
	for _, path := range []string{"/", "/api/campaigns/approved", "/api/nope", "/api/auth/user"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Host = "localhost"
		a.Handler.ServeHTTP(httptest.NewRecorder(), r)
	}
	require.NoError(t, a.Close(context.Background()))
	cps := filepath.Join(t.TempDir(), "checkpoints.log")
	require.NoError(t, os.WriteFile(cps, []byte(stdout.String()), 0o600))
	assert.Contains(t, stdout.String(), "audit_checkpoint", "Close writes a final checkpoint to stdout")

	code, out, errOut := cli(t, env, "", "audit", "verify")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "OK")
	code, out, errOut = cli(t, env, "", "audit", "verify", cfg.AuditLog, "--checkpoints", cps)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "checkpoint")

	// Edit one record: verification fails and says where.
	raw, err := os.ReadFile(cfg.AuditLog)
	require.NoError(t, err)
	edited := strings.Replace(string(raw), `"status":404`, `"status":200`, 1)
	require.NotEqual(t, string(raw), edited)
	require.NoError(t, os.WriteFile(cfg.AuditLog, []byte(edited), 0o600))
	code, out, errOut = cli(t, env, "", "audit", "verify")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "TAMPERED")
	assert.Contains(t, errOut, "failed verification")

	// Truncating the tail is caught by the checkpoints.
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	require.NoError(t, os.WriteFile(cfg.AuditLog, append(bytes.Join(lines[:len(lines)-1], []byte("\n")), '\n'), 0o600))
	code, _, _ = cli(t, env, "", "audit", "verify", "--checkpoints", cps)
	assert.Equal(t, 1, code, "tail truncation detected with checkpoints")

	code, _, _ = cli(t, env, "", "audit", "check")
	assert.Equal(t, 2, code)
	code, _, _ = cli(t, env, "", "audit", "verify", filepath.Join(t.TempDir(), "missing.log"))
	assert.Equal(t, 1, code)
}

func TestMonitor(t *testing.T) {
	env := devEnv(t)
	code, out, errOut := cli(t, env, "", "monitor_performance", "--interval", "1", "--duration", "2", "--save")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "saved")
	matches, _ := filepath.Glob(filepath.Join(env["SENFI_DATA_DIR"], "performance_*.json"))
	require.Len(t, matches, 1)
	raw, err := os.ReadFile(matches[0])
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"samples"`)
	csvs, _ := filepath.Glob(filepath.Join(env["SENFI_DATA_DIR"], "performance_*.csv"))
	require.Len(t, csvs, 1)
	code, _, _ = cli(t, env, "", "monitor", "--interval", "0")
	assert.Equal(t, 2, code)
	code, _, _ = cli(t, env, "", "monitor", "--duration", "soon")
	assert.Equal(t, 2, code)
}
