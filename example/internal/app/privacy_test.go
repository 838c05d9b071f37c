package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/app"
	"github.com/senfi-sharif/senfi/example/internal/config"
	"github.com/senfi-sharif/senfi/example/internal/data"
)

// scanDB returns "table: row" for every row of every table whose text
// holds needle.
func scanDB(t *testing.T, db *data.DB, needle string) []string {
	t.Helper()
	ctx := context.Background()
	var tables []string
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Engine() == data.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	require.NoError(t, db.X().SelectContext(ctx, &tables, q))
	require.Contains(t, tables, "users")
	var hits []string
	for _, tbl := range tables {
		rows, err := db.X().QueryxContext(ctx, `SELECT * FROM "`+tbl+`"`)
		require.NoError(t, err, tbl)
		for rows.Next() {
			m := map[string]any{}
			require.NoError(t, rows.MapScan(m))
			for col, v := range m {
				var s string
				switch x := v.(type) {
				case []byte:
					s = string(x)
				case string:
					s = x
				default:
					s = fmt.Sprint(x)
				}
				if strings.Contains(strings.ToLower(s), needle) {
					hits = append(hits, fmt.Sprintf("%s.%s: %s", tbl, col, s))
				}
			}
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return hits
}

// securityLog reads the whole security log (every file of it).
func securityLog(t *testing.T, s *server) []byte {
	t.Helper()
	raw, err := os.ReadFile(s.app.Config.AuditLog)
	require.NoError(t, err)
	return raw
}

// TestExportAndDeletion: the export holds exactly the caller's data; the
// deletion keeps public totals, attributes authored content to the neutral
// account, revokes every token, and leaves the address nowhere.
func TestExportAndDeletion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{env: headEnv(map[string]string{"SENFI_RATE_EXPORT": "2/h"})})
		head := s.admin("head@sharif.edu", "head")
		super := s.admin("super@sharif.edu", "superadmin")
		alice, aliceRefresh := s.signup("alice@sharif.edu")
		bob, _ := s.signup("bob@sharif.edu")

		// Alice writes a campaign, a poll and a post; both sign both
		// campaigns, Alice one anonymously; both vote in an open poll and
		// an anonymous one.
		aliceCamp := s.campaign(alice, head, nil)
		bobCamp := s.campaign(bob, head, map[string]any{"title": "کارزار باب"})
		for _, sig := range []struct {
			tok  string
			id   int64
			anon string
		}{{alice, aliceCamp, "public"}, {alice, bobCamp, "anonymous"}, {bob, aliceCamp, "public"}, {bob, bobCamp, "public"}} {
			s.expect(201, "POST", "/api/campaigns/"+str(sig.id)+"/sign", sig.tok, map[string]any{"is_anonymous": sig.anon})
		}
		open := s.expect(201, "POST", "/api/polls", alice, pollBody("نظرسنجی باز", map[string]any{"is_anonymous": false})).JSON["poll"]
		secret := s.expect(201, "POST", "/api/polls", head, pollBody("نظرسنجی مخفی", nil)).JSON["poll"]
		openID, secretID := itemID(t, open, "id"), itemID(t, secret, "id")
		for _, id := range []int64{openID, secretID} {
			s.expect(200, "POST", "/api/admin/polls/approve", head, map[string]any{"poll_id": id, "approved": true})
		}
		s.expect(201, "POST", "/api/polls/"+str(openID)+"/vote", alice, map[string]any{"option_ids": []int64{optionIDs(t, open)[1]}})
		s.expect(201, "POST", "/api/polls/"+str(openID)+"/vote", bob, map[string]any{"option_ids": []int64{optionIDs(t, open)[0]}})
		s.expect(201, "POST", "/api/polls/"+str(secretID)+"/vote", alice, map[string]any{"option_ids": []int64{optionIDs(t, secret)[2]}})
		s.expect(201, "POST", "/api/polls/"+str(secretID)+"/vote", bob, map[string]any{"option_ids": []int64{optionIDs(t, secret)[2]}})
		s.expect(201, "POST", "/api/admin/blog/posts/create", alice, map[string]any{
			"title": "نوشته آلیس", "content": "<p>متن نوشته</p>", "category": general,
		})

		// The export: Alice's data, and nothing of Bob's.
		r := s.expect(200, "GET", "/api/user/me/export", alice, nil)
		assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
		assert.NotContains(t, string(r.Raw), "bob@sharif.edu")
		assert.NotContains(t, string(r.Raw), "کارزار باب\",\"description", "Bob's campaign is not exported as a campaign")
		prof := r.JSON["profile"].(map[string]any)
		assert.Equal(t, "alice@sharif.edu", prof["email"])
		aliceID := itemID(t, prof, "id")
		assert.Equal(t, []int64{aliceCamp}, ids(t, r.list(t, "campaigns")))
		sigs := map[int64]string{}
		for _, x := range r.list(t, "signatures") {
			sigs[itemID(t, x, "campaign_id")] = x["is_anonymous"].(string)
		}
		assert.Equal(t, map[int64]string{aliceCamp: "public", bobCamp: "anonymous"}, sigs)
		parts := r.list(t, "poll_participation")
		require.Len(t, parts, 2)
		for _, p := range parts {
			if itemID(t, p, "poll_id") == openID {
				require.Len(t, p["choices"], 1, "an attributable vote is exported with its choice")
				assert.EqualValues(t, optionIDs(t, open)[1], itemID(t, p["choices"].([]any)[0], "option_id"))
			} else {
				assert.NotContains(t, p, "choices", "an anonymous poll stores no choice to export")
				assert.Equal(t, true, p["poll_is_anonymous"])
			}
		}
		assert.Equal(t, []int64{openID}, ids(t, r.list(t, "polls")))
		require.Len(t, r.list(t, "blog_posts"), 1)
		sessions := r.list(t, "sessions")
		require.Len(t, sessions, 1, "the signup's session")
		assert.Equal(t, "127.0.0.0/24", sessions[0]["ip"])
		ref := app.UserPseudonym(s.app.Config.Secret, strconv.FormatInt(aliceID, 10))
		events := r.list(t, "audit_events")
		require.NotEmpty(t, events)
		names := map[string]bool{}
		for _, e := range events {
			assert.Equal(t, ref, e["user_id"], "only records whose actor is the caller")
			assert.NotContains(t, e, "mac")
			names[e["event"].(string)] = true
		}
		assert.True(t, names["campaign_signed"] && names["http_request"], "%v", names)
		assert.True(t, s.hasEvent("data_exported", "success"))

		// Rate-limited per user.
		s.expect(200, "GET", "/api/user/me/export/", alice, nil)
		r = s.expect(429, "GET", "/api/user/me/export", alice, nil)
		assert.NotEmpty(t, r.Header.Get("Retry-After"))
		s.expect(200, "GET", "/api/user/me/export", bob, nil)
		s.expect(401, "GET", "/api/user/me/export", "", nil)

		// Deletion needs the password.
		s.expect(400, "DELETE", "/api/user/me", alice, nil)
		r = s.expect(400, "DELETE", "/api/user/me", alice, map[string]any{"password": "not my password"})
		assert.Equal(t, "رمز عبور اشتباه است.", r.str("detail"))
		assert.True(t, s.hasEvent("user_deleted", "failure"))
		s.expect(400, "DELETE", "/api/user/me", alice, map[string]any{"password": 12})
		totals := func() map[int64]int64 {
			m := map[int64]int64{}
			for _, id := range []int64{aliceCamp, bobCamp} {
				m[id] = s.expect(200, "GET", "/api/campaigns/"+str(id)+"/signatures", "", nil).num("total")
			}
			return m
		}
		before := totals()
		results := s.expect(200, "GET", "/api/polls/"+str(secretID)+"/results", "", nil).Raw
		second, _ := s.login("alice@sharif.edu", testPassword)
		r = s.expect(200, "DELETE", "/api/user/me", alice, map[string]any{"password": testPassword})
		assert.Equal(t, true, r.JSON["success"])
		assert.True(t, s.hasEvent("user_deleted", "success"))
		logAt := len(securityLog(t, s))

		// Gone: no login, no token, no refresh.
		s.expect(401, "POST", "/api/auth/login", "", map[string]any{"email": "alice@sharif.edu", "password": testPassword})
		s.expect(401, "GET", "/api/auth/user", alice, nil)
		s.expect(401, "GET", "/api/auth/user", second, nil)
		s.expect(401, "POST", "/api/campaigns/"+str(bobCamp)+"/sign", second, map[string]any{"is_anonymous": "public"})
		s.expect(401, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": aliceRefresh})
		r = s.expect(200, "POST", "/api/auth/check-email", "", map[string]any{"email": "alice@sharif.edu"})
		assert.Equal(t, false, r.JSON["exists"])

		// Public artefacts stay consistent.
		assert.Equal(t, before, totals(), "signature totals unchanged")
		assert.Equal(t, string(results), string(s.expect(200, "GET", "/api/polls/"+str(secretID)+"/results", "", nil).Raw), "tallies unchanged")
		r = s.expect(200, "GET", "/api/campaigns/"+str(aliceCamp)+"/signatures", "", nil)
		emails := []string{}
		for _, x := range r.list(t, "signatures") {
			emails = append(emails, x["user_email"].(string))
		}
		assert.ElementsMatch(t, []string{data.DeletedUserLabel, "bob@sharif.edu"}, emails)
		r = s.expect(200, "GET", "/api/campaigns/"+str(aliceCamp), head, nil)
		assert.Nil(t, r.JSON["author_email"], "authored campaigns keep no address")
		r = s.expect(200, "GET", "/api/auth/users", head, nil)
		for _, u := range r.Array {
			assert.NotEqual(t, "alice@sharif.edu", u.(map[string]any)["email"])
		}
		// Bob can still sign again elsewhere: the constraint holds for real
		// users, and the neutral account holds two signatures on one
		// campaign once Bob is deleted too.
		s.expect(409, "POST", "/api/campaigns/"+str(bobCamp)+"/sign", bob, map[string]any{"is_anonymous": "public"})

		// The address is nowhere: no row, and no line of the security log.
		assert.Empty(t, scanDB(t, s.app.DB, "alice@sharif.edu"))
		logText := securityLog(t, s)
		assert.False(t, bytes.Contains(logText, []byte("alice@sharif.edu")), "the security log never holds the address")
		assert.Greater(t, len(logText), logAt, "requests after the deletion were logged")

		// Admin deletion on request: superadmin only, numeric IDs.
		r = s.expect(200, "GET", "/api/auth/users", head, nil)
		var bobID int64
		for _, u := range r.Array {
			if u.(map[string]any)["email"] == "bob@sharif.edu" {
				bobID = itemID(t, u, "id")
			}
		}
		require.Positive(t, bobID)
		s.expect(404, "DELETE", "/api/user/abc", super, nil)
		s.expect(404, "DELETE", "/api/user/0", super, nil)
		s.expect(404, "DELETE", "/api/user/99999999", super, nil)
		r = s.expect(403, "DELETE", "/api/user/"+str(bobID), head, nil)
		assert.Equal(t, "دسترسی ندارید.", r.str("detail"))
		s.expect(403, "DELETE", "/api/user/"+str(bobID), bob, nil)
		var superID int64
		require.NoError(t, s.app.DB.X().GetContext(context.Background(), &superID, s.app.DB.X().Rebind(`SELECT id FROM users WHERE email = ?`), "super@sharif.edu"))
		s.expect(403, "DELETE", "/api/user/"+str(superID), super, nil)
		s.expect(200, "DELETE", "/api/user/"+str(bobID)+"/", super, nil)
		s.expect(401, "GET", "/api/auth/user", bob, nil)
		assert.Equal(t, before, totals(), "still unchanged after a second deletion")
		assert.Empty(t, scanDB(t, s.app.DB, "bob@sharif.edu"))
		assert.False(t, bytes.Contains(securityLog(t, s), []byte("bob@sharif.edu")))
		s.expect(404, "DELETE", "/api/user/"+str(bobID), super, nil)
	})
}

// TestLogMinimisation: the security log names users by pseudonym and
// client addresses as SENFI_LOG_IP_MODE says.
func TestLogMinimisation(t *testing.T) {
	for mode, wantIP := range map[string]func(string) bool{
		"truncate": func(ip string) bool { return ip == "127.0.0.0" },
		"hmac":     func(ip string) bool { return strings.HasPrefix(ip, "fd") && !strings.Contains(ip, "127.0.0.1") },
		"full":     func(ip string) bool { return ip == "127.0.0.1" },
	} {
		t.Run(mode, func(t *testing.T) {
			b := backends(t)[0](t)
			s := start(t, b, options{env: map[string]string{"SENFI_LOG_IP_MODE": mode}})
			tok, _ := s.signup("carol@sharif.edu")
			s.expect(200, "GET", "/api/auth/user", tok, nil)
			s.expect(401, "POST", "/api/auth/login", "", map[string]any{"email": "carol@sharif.edu", "password": "wrong password here"})
			r := s.expect(200, "GET", "/api/auth/sessions", tok, nil)
			sess := r.list(t, "sessions")
			require.Len(t, sess, 1)
			ip := strings.TrimSuffix(sess[0]["ip"].(string), "/24")
			assert.True(t, wantIP(ip), "session ip %q", sess[0]["ip"])

			raw := securityLog(t, s)
			assert.NotContains(t, string(raw), "carol@sharif.edu")
			users, ips := 0, 0
			for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
				for _, f := range []struct {
					key string
					ok  func(string) bool
					n   *int
				}{
					{`"user_id":"`, func(v string) bool { return strings.HasPrefix(v, "u_") && len(v) == 34 }, &users},
					{`"client_ip":"`, wantIP, &ips},
				} {
					if i := bytes.Index(line, []byte(f.key)); i >= 0 {
						v := string(line[i+len(f.key):])
						v = v[:strings.IndexByte(v, '"')]
						assert.True(t, f.ok(v), "%s in %s", f.key, line)
						*f.n++
					}
				}
			}
			assert.Positive(t, users)
			assert.Positive(t, ips)
		})
	}
	env := map[string]string{"SENFI_LOG_IP_MODE": "partial", "SENFI_SECRET_KEY": "test-secret-key-0123456789abcdef-0123456789", "SENFI_DATA_DIR": t.TempDir()}
	_, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.ErrorContains(t, err, "SENFI_LOG_IP_MODE")
}

// TestRetention: EnforceRetention rotates a day-old security log, deletes
// rotated files older than SENFI_AUDIT_RETENTION_DAYS and sweeps expired
// sessions.
func TestRetention(t *testing.T) {
	b := backends(t)[0](t)
	s := start(t, b, options{env: map[string]string{"SENFI_AUDIT_RETENTION_DAYS": "7", "SENFI_REFRESH_TTL": "2h"}})
	tok, _ := s.signup("dave@sharif.edu")
	s.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": "never-registers@sharif.edu"})
	logPath := s.app.Config.AuditLog
	dir, base := logPath[:strings.LastIndexByte(logPath, '/')+1], logPath[strings.LastIndexByte(logPath, '/')+1:]
	stem := strings.TrimSuffix(base, ".log")
	old := dir + stem + "-2020-01-01T00-00-00.000.log"
	recent := dir + stem + "-2020-02-01T00-00-00.000.log"
	for _, f := range []string{old, recent} {
		require.NoError(t, os.WriteFile(f, []byte(`{"level":"INFO"}`+"\n"), 0o600))
	}
	now := s.clock.Now()
	require.NoError(t, os.Chtimes(old, now.Add(-8*24*time.Hour), now.Add(-8*24*time.Hour)))
	require.NoError(t, os.Chtimes(recent, now.Add(-6*24*time.Hour), now.Add(-6*24*time.Hour)))

	ctx := context.Background()
	require.NoError(t, s.app.EnforceRetention(ctx))
	assert.NoFileExists(t, old, "older than the retention period")
	assert.FileExists(t, recent)
	assert.FileExists(t, logPath, "the active file is less than a day old: not rotated")
	require.Len(t, s.expect(200, "GET", "/api/auth/sessions", tok, nil).list(t, "sessions"), 1)

	// A day later the active file is rotated; three hours later the
	// session has expired and is swept.
	s.clock.Advance(25 * time.Hour)
	require.NoError(t, s.app.EnforceRetention(ctx))
	for _, table := range []string{"sessions", "verification_codes", "verified_emails"} {
		var n int
		require.NoError(t, s.app.DB.X().GetContext(ctx, &n, `SELECT COUNT(*) FROM `+table))
		assert.Zero(t, n, "expired %s are swept", table)
	}
	assert.NoFileExists(t, recent, "now older than the retention period too")
	var rotated []string
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stem+"-") {
			rotated = append(rotated, e.Name())
		}
	}
	assert.Len(t, rotated, 1, "the active file, rotated: %v", rotated)
}
