package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/app"
	"github.com/senfi-sharif/senfi/example/internal/config"
	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/example/internal/mailtest"
	"github.com/senfi-sharif/senfi/internal/testenv"
)

// clock is a settable clock shared by every part of an app under test. It
// ticks one microsecond per reading, as a real clock would between two
// operations (a login right after a logout-all must get a later iat).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// backend is where an app under test keeps its state.
type backend struct {
	name string
	env  map[string]string
}

// backends returns SQLite (always) and PostgreSQL + Redis (when reachable,
// or required by SENFI_TEST_REQUIRE_SERVICES=1), each fresh for this test.
func backends(t *testing.T) []func(t *testing.T) backend {
	return []func(t *testing.T) backend{
		func(t *testing.T) backend {
			return backend{name: "sqlite", env: map[string]string{
				"SENFI_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "senfi.db"),
			}}
		},
		postgresRedis,
	}
}

// postgresRedis is a fresh PostgreSQL database and Redis key space.
func postgresRedis(t *testing.T) backend {
	dsn, _ := testenv.PostgresDSN(t)
	_, prefix := testenv.Redis(t)
	return backend{name: "postgres+redis", env: map[string]string{
		"SENFI_DATABASE_URL": dsn,
		"SENFI_REDIS_URL":    testenv.RedisURL(),
		"SENFI_REDIS_PREFIX": prefix,
	}}
}

// forEachBackend runs f once per backend.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for i, mk := range backends(t) {
		name := []string{"sqlite", "postgres+redis"}[i]
		t.Run(name, func(t *testing.T) { f(t, mk(t)) })
	}
}

// event is one recorded security event.
type event struct{ Name, Outcome string }

// server is one running app instance under test.
type server struct {
	t      *testing.T
	app    *app.App
	http   *httptest.Server
	smtp   *mailtest.Server
	clock  *clock
	stdout *bytes.Buffer

	mu     sync.Mutex
	events []event
}

// options of start.
type options struct {
	env   map[string]string // added to the backend's
	clock *clock
	smtp  *mailtest.Server // shared mail server (replicas)
}

// start runs an app on the backend with a real SMTP server (STARTTLS +
// AUTH) and development settings, rate limits relaxed unless env sets them.
func start(t *testing.T, b backend, o options) *server {
	t.Helper()
	if o.clock == nil {
		o.clock = newClock()
	}
	if o.smtp == nil {
		o.smtp = mailtest.Start(t, mailtest.Options{STARTTLS: true, Username: "mailer", Password: "mail-secret-123"})
	}
	env := map[string]string{
		"SENFI_SECRET_KEY":           "test-secret-key-0123456789abcdef-0123456789",
		"SENFI_DATA_DIR":             t.TempDir(),
		"SENFI_SMTP_HOST":            o.smtp.Host(),
		"SENFI_SMTP_PORT":            strconv.Itoa(o.smtp.Port()),
		"SENFI_SMTP_USERNAME":        "mailer",
		"SENFI_SMTP_PASSWORD":        "mail-secret-123",
		"SENFI_SMTP_FROM":            "noreply@senfi.test",
		"SENFI_SMTP_TLS":             "starttls",
		"SENFI_RATE_LOGIN":           "1000/m",
		"SENFI_RATE_REGISTER":        "1000/m",
		"SENFI_RATE_SEND_CODE":       "1000/m",
		"SENFI_RATE_SEND_CODE_EMAIL": "1000/m",
		"SENFI_RATE_VERIFY_CODE":     "1000/m",
		"SENFI_RATE_PASSWORD_RESET":  "1000/m",
		"SENFI_RATE_SUBMIT":          "1000/m",
		"SENFI_RATE_SIGN":            "1000/m",
		"SENFI_RATE_CHANGE_PASSWORD": "1000/m",
	}
	for k, v := range b.env {
		env[k] = v
	}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	s := &server{t: t, smtp: o.smtp, clock: o.clock, stdout: &bytes.Buffer{}}
	a, err := app.New(context.Background(), cfg, app.Options{
		Stdout:  &lockedWriter{w: s.stdout},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		SMTPTLS: o.smtp.TLSConfig(),
		Now:     o.clock.Now,
		Event: func(r *http.Request, name, outcome string, _ ...slog.Attr) {
			s.mu.Lock()
			s.events = append(s.events, event{name, outcome})
			s.mu.Unlock()
		},
	})
	require.NoError(t, err)
	s.app = a
	hs := httptest.NewUnstartedServer(a.Handler)
	hs.Config.ConnContext = a.ConnContext
	hs.Start()
	s.http = hs
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, a.Close(ctx))
	})
	return s
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// hasEvent reports whether an event with that name and outcome was recorded.
func (s *server) hasEvent(name, outcome string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e.Name == name && e.Outcome == outcome {
			return true
		}
	}
	return false
}

// resp is a decoded response.
type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
	Array  []any
}

// str returns a top-level string member.
func (r resp) str(k string) string { s, _ := r.JSON[k].(string); return s }

// num returns a top-level number member.
func (r resp) num(k string) int64 { f, _ := r.JSON[k].(float64); return int64(f) }

// responseHook, when set, is called with every exchange callWith makes
// (the request as sent, the response, its body). openapi_test.go sets it to
// validate every response of the suite against the OpenAPI document.
var responseHook func(t *testing.T, method, path string, req *http.Request, res *http.Response, body []byte)

// call sends a request. body may be nil, a string (sent as is) or a value
// (JSON-encoded); token, when set, is sent as a Bearer token.
func (s *server) call(method, path, token string, body any) resp {
	s.t.Helper()
	return s.callWith(method, path, token, body, nil)
}

func (s *server) callWith(method, path, token string, body any, hdr map[string]string) resp {
	s.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = bytes.NewBufferString(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		raw, err := json.Marshal(b)
		require.NoError(s.t, err)
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, s.http.URL+path, rd)
	require.NoError(s.t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := s.http.Client().Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
		if raw[0] == '{' {
			require.NoError(s.t, json.Unmarshal(raw, &out.JSON), "body %s", raw)
		} else {
			require.NoError(s.t, json.Unmarshal(raw, &out.Array), "body %s", raw)
		}
	}
	// Contract §1: never a 500, and every error is problem+json with
	// success:false and the request's ID.
	assert.Less(s.t, res.StatusCode, 500, "%s %s: %s", method, path, raw)
	reqID := res.Header.Get("X-Request-ID")
	assert.NotEmpty(s.t, reqID, "%s %s: every response carries X-Request-ID", method, path)
	if res.StatusCode >= 400 {
		assert.Equal(s.t, "application/problem+json", res.Header.Get("Content-Type"), "%s %s: %s", method, path, raw)
		assert.Equal(s.t, false, out.JSON["success"], "%s %s: %s", method, path, raw)
		assert.NotEmpty(s.t, out.JSON["detail"], "%s %s: %s", method, path, raw)
		assert.Equal(s.t, reqID, out.JSON["request_id"], "%s %s: the problem quotes the request ID", method, path)
	}
	if responseHook != nil {
		responseHook(s.t, method, path, req, res, raw)
	}
	return out
}

// expect asserts the status and returns the response.
func (s *server) expect(status int, method, path, token string, body any) resp {
	s.t.Helper()
	r := s.call(method, path, token, body)
	require.Equal(s.t, status, r.Status, "%s %s: %s", method, path, r.Raw)
	return r
}

const testPassword = "correct horse battery staple 7"

// signup registers an account the way the frontend does: send-code, the
// code read from the SMTP server, verify-code, register. It returns the
// access and refresh tokens.
func (s *server) signup(email string) (access, refresh string) {
	s.t.Helper()
	s.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": email})
	code := s.smtp.Code(s.t, email)
	r := s.expect(200, "POST", "/api/auth/verify-code", "", map[string]any{"email": email, "code": code})
	require.Equal(s.t, true, r.JSON["valid"])
	r = s.expect(201, "POST", "/api/auth/register", "", map[string]any{"email": email, "password": testPassword})
	return r.str("access_token"), r.str("refresh_token")
}

// login returns fresh tokens.
func (s *server) login(email, pw string) (access, refresh string) {
	s.t.Helper()
	r := s.expect(200, "POST", "/api/auth/login", "", map[string]any{"email": email, "password": pw})
	return r.str("access_token"), r.str("refresh_token")
}

// admin creates an account with a role directly in the database (as
// createsuperuser does) and logs it in.
func (s *server) admin(email, role string) string {
	s.t.Helper()
	hash, err := s.app.Hasher.Hash(context.Background(), testPassword)
	require.NoError(s.t, err)
	_, err = s.app.DB.CreateUser(context.Background(), data.User{Email: email, Password: hash, Role: role})
	require.NoError(s.t, err)
	tok, _ := s.login(email, testPassword)
	return tok
}

// campaign submits a campaign as token and approves it as adminTok; it
// returns the campaign ID.
func (s *server) campaign(token, adminTok string, body map[string]any) int64 {
	s.t.Helper()
	in := map[string]any{
		"title":        "بهبود غذای سلف",
		"description":  "کیفیت غذای سلف مرکزی باید بهتر شود.",
		"end_datetime": s.clock.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339),
	}
	for k, v := range body {
		in[k] = v
	}
	r := s.expect(201, "POST", "/api/campaigns/submit", token, in)
	id := r.num("campaignId")
	require.Positive(s.t, id)
	if adminTok != "" {
		s.expect(200, "PUT", "/api/campaigns/"+strconv.FormatInt(id, 10)+"/status", adminTok, map[string]any{"status": "approved"})
	}
	return id
}
