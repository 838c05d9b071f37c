package audit_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/audit/sqlsink"
	"github.com/senfi-sharif/senfi/internal/testenv"
	"github.com/senfi-sharif/senfi/jwtauth"
)

// TestNoSecretReachesAnySink drives a login / refresh / reuse / verification
// flow whose handlers log carelessly (passwords, tokens, headers, codes,
// bodies) through audit, then searches every sink (the chained file, the
// stdout stream with its checkpoints, and a SQL table's record and attrs
// columns) for every secret of the flow.
func TestNoSecretReachesAnySink(t *testing.T) {
	for _, db := range []struct {
		name string
		open func(t *testing.T) *sqlx.DB
	}{
		{"sqlite", func(t *testing.T) *sqlx.DB { return testenv.SQLite(t) }},
		{"postgres", func(t *testing.T) *sqlx.DB { return testenv.Postgres(t) }},
	} {
		t.Run(db.name, func(t *testing.T) { runSecretFlow(t, db.open(t)) })
	}
}

func runSecretFlow(t *testing.T, db *sqlx.DB) {
	const (
		email    = "ali@example.com"
		password = "correct-horse-battery-staple-9"
		wrongPw  = "Tr0ub4dor&3-wrong"
		code     = "493817"
	)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "audit.log")
	file, err := audit.NewFileSink(audit.FileOptions{Path: path})
	require.NoError(t, err)
	stdout := &syncBuffer{}
	stdoutSink := audit.NewWriterSink("stdout", stdout)
	chain, err := audit.NewChain(file, audit.ChainOptions{Key: testKey, Checkpoints: stdoutSink, CheckpointEvery: 2})
	require.NoError(t, err)
	sql, err := sqlsink.New(db, sqlsink.Options{})
	require.NoError(t, err)
	require.NoError(t, sql.Migrate(ctx))
	log, err := audit.New(audit.Options{
		Sinks: []audit.Sink{chain, stdoutSink, sql},
		User: func(ctx context.Context) (string, string) {
			if c, ok := jwtauth.FromContext(ctx); ok {
				return c.Subject, ""
			}
			return "", ""
		},
	})
	require.NoError(t, err)

	auth, err := jwtauth.New(jwtauth.Options{
		Keys:     []jwtauth.Key{{ID: "k1", Algorithm: jwtauth.HS256, Secret: []byte("0123456789abcdef0123456789abcdef-jwt")}},
		Issuer:   "https://api.example.com",
		Audience: "api.example.com",
		Store:    jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{}),
		OnReuse: func(ctx context.Context, c *jwtauth.Claims) {
			log.Log(ctx, audit.AuthnTokenReuse, audit.Failure, slog.String(audit.KeyUserID, c.Subject), slog.String("family", c.Family))
		},
	})
	require.NoError(t, err)

	var secrets []string // every token the flow hands out
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		if in.Password != password {
			log.Log(r.Context(), audit.AuthnLoginFail, audit.Failure,
				slog.String(audit.KeyUserEmail, in.Email), slog.String("password", in.Password),
				slog.Any("body", in), slog.Any("headers", r.Header))
			writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Invalid credentials"})
			return
		}
		pair, err := auth.Issue(r.Context(), jwtauth.IssueOptions{Subject: "42", Role: "simple_user"})
		require.NoError(t, err)
		secrets = append(secrets, pair.AccessToken, pair.RefreshToken)
		http.SetCookie(w, &http.Cookie{Name: "refresh", Value: pair.RefreshToken, HttpOnly: true})
		log.Log(r.Context(), audit.AuthnLoginSuccess, audit.Success,
			slog.String(audit.KeyUserID, "42"), slog.String(audit.KeyUserEmail, in.Email),
			slog.Any("response", map[string]any{"token": pair.AccessToken, "refresh_token": pair.RefreshToken}),
			slog.Any("response_headers", w.Header()), slog.String("issued", pair.AccessToken))
		writeJSON(w, http.StatusOK, map[string]any{"token": pair.AccessToken, "refresh_token": pair.RefreshToken})
	})
	mux.HandleFunc("POST /api/auth/refresh", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		pair, err := auth.Refresh(r.Context(), in.RefreshToken)
		if err != nil {
			log.Log(r.Context(), audit.AuthnTokenRefreshed, audit.Failure, slog.String("presented", in.RefreshToken), slog.Any("error", err))
			writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Invalid refresh token"})
			return
		}
		secrets = append(secrets, pair.AccessToken, pair.RefreshToken)
		log.Log(r.Context(), audit.AuthnTokenRefreshed, audit.Success, slog.Any("body", in), slog.String("new", pair.RefreshToken))
		writeJSON(w, http.StatusOK, map[string]any{"token": pair.AccessToken, "refresh_token": pair.RefreshToken})
	})
	mux.Handle("GET /api/auth/user", auth.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := jwtauth.FromContext(r.Context())
		audit.SetUser(w, c.Subject, email)
		slog.New(log.SlogHandler()).InfoContext(r.Context(), "profile read", "authorization", r.Header.Get("Authorization"), "headers", r.Header)
		writeJSON(w, http.StatusOK, map[string]any{"id": c.Subject, "email": email})
	})))
	mux.HandleFunc("POST /api/auth/send-code", func(w http.ResponseWriter, r *http.Request) {
		log.Log(r.Context(), audit.VerificationCodeSent, audit.Success, slog.String(audit.KeyUserEmail, email), slog.String("code", code))
		writeJSON(w, http.StatusOK, map[string]any{"success": true})
	})
	mux.HandleFunc("POST /api/auth/verify-code", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		log.Log(r.Context(), audit.VerificationSuccess, audit.Success, slog.String("raw_body", string(body)), slog.Any("form", map[string]string{"code": code}))
		panic("verification crashed with code " + code + " and " + secrets[0])
	})
	srv := httptest.NewServer(log.Requests(log.Recover(audit.ReportRoute(mux))))
	defer srv.Close()

	post := func(path, body string, header ...string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	latest := func() (access, refresh string) { return secrets[len(secrets)-2], secrets[len(secrets)-1] }

	require.Equal(t, 401, post("/api/auth/login", `{"email":"`+email+`","password":"`+wrongPw+`"}`, "Cookie", "csrftoken="+wrongPw).StatusCode)
	require.Equal(t, 200, post("/api/auth/login", `{"email":"`+email+`","password":"`+password+`"}`).StatusCode)
	access, refresh := latest()
	require.Equal(t, 200, post("/api/auth/refresh", `{"refresh_token":"`+refresh+`"}`).StatusCode)
	access2, _ := latest()
	require.Equal(t, 401, post("/api/auth/refresh", `{"refresh_token":"`+refresh+`"}`).StatusCode, "reuse")

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/auth/user", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+access2)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 401, resp.StatusCode, "the reuse revoked the family")
	require.Equal(t, 200, post("/api/auth/login", `{"email":"`+email+`","password":"`+password+`"}`).StatusCode)
	access3, _ := latest()
	req.Header.Set("Authorization", "Bearer "+access3)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, 200, post("/api/auth/send-code", `{}`).StatusCode)
	require.Equal(t, 500, post("/api/auth/verify-code", `{"code":"`+code+`"}`, "Authorization", "Bearer "+access).StatusCode)
	srv.Close()
	require.NoError(t, log.Close())

	// Every sink's content.
	fileData, err := os.ReadFile(path)
	require.NoError(t, err)
	var rows []struct{ Record, Attrs string }
	require.NoError(t, db.Select(&rows, "SELECT record, attrs FROM "+sql.Table()+" ORDER BY id"))
	var sqlData strings.Builder
	for _, r := range rows {
		sqlData.WriteString(r.Record + "\n" + r.Attrs + "\n")
	}
	sinks := map[string]string{"file": string(fileData), "stdout": stdout.String(), "sql": sqlData.String()}

	secrets = append(secrets, password, wrongPw, code)
	require.GreaterOrEqual(t, len(secrets), 9)
	for name, content := range sinks {
		for _, s := range secrets {
			require.NotContainsf(t, content, s, "a secret reached the %s sink", name)
			if i := strings.LastIndexByte(s, '.'); i > 0 { // a JWT's signature alone
				require.NotContainsf(t, content, s[i+1:], "a token signature reached the %s sink", name)
			}
		}
	}

	// And the flow was logged, so the search above searched something.
	recs := records(t, fileData)
	for _, ev := range []audit.Event{audit.AuthnLoginFail, audit.AuthnLoginSuccess, audit.AuthnTokenRefreshed,
		audit.AuthnTokenReuse, audit.VerificationCodeSent, audit.VerificationSuccess, audit.HTTPPanic, audit.HTTPRequest} {
		assert.NotEmptyf(t, withEvent(recs, ev), "no %s record", ev)
	}
	assert.Len(t, withEvent(recs, audit.HTTPRequest), 9)
	assert.Equal(t, len(recs), len(rows)-countEvent(rows, audit.AuditCheckpoint), "the SQL sink got every record")
	profile := withEvent(recs, audit.HTTPRequest)[6]
	assert.Equal(t, "GET /api/auth/user", profile["route"])
	assert.Equal(t, "42", profile["user_id"], "reported by SetUser from inside authentication")
	cps, err := audit.ReadCheckpoints(strings.NewReader(stdout.String()), "")
	require.NoError(t, err)
	rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey, Checkpoints: cps})
	require.NoError(t, err)
	assert.True(t, rep.OK(), rep.String())
	assert.NotZero(t, rep.CheckpointsMatched)
}

func countEvent(rows []struct{ Record, Attrs string }, ev audit.Event) int {
	n := 0
	for _, r := range rows {
		if strings.Contains(r.Record, `"event":"`+string(ev)+`"`) {
			n++
		}
	}
	return n
}
