package main

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cli runs one command with env and stdin; it returns the exit code and
// the outputs.
func cli(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := environment{
		args:   args,
		lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		stdin:  strings.NewReader(stdin),
		stdout: &out, stderr: &errOut,
	}
	code := e.run()
	return code, out.String(), errOut.String()
}

func devEnv(t *testing.T) map[string]string {
	dir := t.TempDir()
	return map[string]string{"SENFI_DATA_DIR": dir, "SENFI_DATABASE_URL": "sqlite://" + filepath.Join(dir, "senfi.db")}
}

func TestVersionAndUsage(t *testing.T) {
	code, out, _ := cli(t, nil, "", "version")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "senfi 1.0.0")
	code, _, errOut := cli(t, nil, "", "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "unknown command")
	code, _, _ = cli(t, nil, "", "migrate", "extra")
	assert.Equal(t, 2, code)
	code, _, errOut = cli(t, map[string]string{"SENFI_ENV": "production"}, "", "migrate")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "SENFI_SECRET_KEY")
}

func TestUserCommands(t *testing.T) {
	env := devEnv(t)
	code, out, errOut := cli(t, env, "", "migrate")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `schema version [1-9]`, out)

	// The password policy applies.
	code, _, errOut = cli(t, env, "", "createsuperuser", "--email", "root@sharif.edu", "--password", "short")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "password refused")
	code, out, errOut = cli(t, env, "", "createsuperuser", "--email", "Root@Sharif.edu", "--password", "a long enough admin passphrase")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "superadmin root@sharif.edu created")
	code, _, errOut = cli(t, env, "", "createsuperuser", "--email", "root@sharif.edu", "--password", "a long enough admin passphrase")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "already exists")
	// Prompted: e-mail, password twice.
	code, out, errOut = cli(t, env, "second@sharif.edu\nanother fine passphrase\nanother fine passphrase\n", "createsuperuser")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "second@sharif.edu")
	code, _, errOut = cli(t, env, "third@sharif.edu\nanother fine passphrase\nmismatch here please\n", "createsuperuser")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "differ")

	code, _, errOut = cli(t, env, "", "resetuserpass", "nobody@sharif.edu", "whatever passphrase here")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no user")
	code, _, errOut = cli(t, env, "", "resetuserpass", "root@sharif.edu", "123")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "password refused")
	code, out, errOut = cli(t, env, "", "resetuserpass", "root@sharif.edu", "the replacement passphrase")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "warning", "a password on argv is warned about")
	assert.Contains(t, out, "sessions are ended")
	code, _, errOut = cli(t, env, "the prompted passphrase ok\nthe prompted passphrase ok\n", "resetuserpass", "root@sharif.edu")
	require.Equal(t, 0, code, errOut)
	code, _, _ = cli(t, env, "", "resetuserpass")
	assert.Equal(t, 2, code)
}

// TestServe starts the server on a free port, calls it, and stops it as a
// signal would: in-flight work finishes and the stores close.
func TestServe(t *testing.T) {
	env := devEnv(t)
	env["SENFI_ADDR"] = "127.0.0.1:0"
	env["SENFI_METRICS_ADDR"] = "127.0.0.1:0"
	stop := make(chan struct{})
	addrc := make(chan string, 1)
	var out, errOut syncBuffer
	e := environment{
		lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		stdin:  strings.NewReader(""), stdout: &out, stderr: &errOut,
		ready: func(a string) { addrc <- a }, stop: stop,
	}
	done := make(chan int, 1)
	go func() { done <- e.run() }()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/health/", nil)
	req.Host = "localhost"
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, "OK", string(body))
	assert.NotEmpty(t, res.Header.Get("X-Content-Type-Options"))
	assert.NotEmpty(t, res.Header.Get("X-Request-ID"))
	// Prometheus metrics on their own listener only.
	m := regexp.MustCompile(`metrics on (http://[^ ]+/metrics)`).FindStringSubmatch(out.String())
	require.Len(t, m, 2, out.String())
	res, err = http.Get(m[1])
	require.NoError(t, err)
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	assert.Contains(t, string(body), "senfi_")
	req, _ = http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	req.Host = "localhost"
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 404, res.StatusCode, "not on the public listener")
	close(stop)
	select {
	case code := <-done:
		assert.Equal(t, 0, code, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	assert.Contains(t, out.String(), "generated a development secret")
	assert.Contains(t, out.String(), "/metrics")
	assert.Contains(t, out.String(), "shutting down")
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestInMemoryDatabase: sqlite::memory: starts (no backups to take) and the
// backup commands say why they cannot run.
func TestInMemoryDatabase(t *testing.T) {
	env := map[string]string{"SENFI_DATA_DIR": t.TempDir(), "SENFI_DATABASE_URL": "sqlite::memory:"}
	code, out, errOut := cli(t, env, "", "migrate")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `schema version [1-9]`, out)
	code, _, errOut = cli(t, env, "", "backup", "list")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "in memory")
}
