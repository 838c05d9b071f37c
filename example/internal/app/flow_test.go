package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/config"
	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/example/internal/mailtest"
	"github.com/senfi-sharif/senfi/jwtauth"
)

// TestFrontendFlow walks the Senfi frontend's whole path: check-email →
// send-code → (code from the SMTP server) → verify-code → register → login →
// submit → admin approves via PUT status → sign anonymously → the signature
// list hides the signer → check-signature → signed-campaigns.
func TestFrontendFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{})
		const email = "Ali.Rezaei@Sharif.edu"
		const lower = "ali.rezaei@sharif.edu"

		r := s.expect(200, "POST", "/api/auth/check-email", "", map[string]any{"email": email})
		assert.Equal(t, false, r.JSON["exists"])

		s.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": email})
		msg := s.smtp.WaitFor(t, lower, 5*time.Second)
		assert.Equal(t, "Sharif Verification Code", msg.Subject)
		assert.True(t, msg.TLS, "the code travels over STARTTLS")
		code, err := mailtest.FindCode(msg.Text)
		require.NoError(t, err)

		r = s.expect(200, "POST", "/api/auth/verify-code", "", map[string]any{"email": email, "code": code})
		assert.Equal(t, true, r.JSON["valid"])

		r = s.expect(201, "POST", "/api/auth/register", "", map[string]any{
			"email": email, "password": testPassword, "faculty": "کامپیوتر", "extra_field": "ignored",
		})
		assert.Equal(t, true, r.JSON["success"])
		assert.NotEmpty(t, r.str("token"))
		assert.Equal(t, r.str("token"), r.str("access_token"))
		assert.NotEmpty(t, r.str("refresh_token"))
		assert.NotEmpty(t, r.str("message"))
		user := r.JSON["user"].(map[string]any)
		assert.Equal(t, lower, user["email"], "stored lower-cased")
		assert.Equal(t, "simple_user", user["role"])
		assert.Equal(t, "کامپیوتر", user["faculty"])

		r = s.expect(200, "POST", "/api/auth/check-email", "", map[string]any{"email": "ALI.REZAEI@sharif.edu"})
		assert.Equal(t, true, r.JSON["exists"], "case-insensitive")

		tok, _ := s.login(email, testPassword)
		r = s.expect(200, "GET", "/api/auth/user", tok, nil)
		assert.Equal(t, lower, r.str("email"))
		assert.Nil(t, r.JSON["success"], "bare user object")
		r = s.expect(200, "GET", "/api/auth/validate", tok, nil)
		assert.Equal(t, true, r.JSON["valid"])

		id := s.campaign(tok, "", map[string]any{"label": "کامپیوتر", "tags": "غذا, سلف"})
		ids := strconv.FormatInt(id, 10)
		admin := s.admin("head@sharif.edu", "head")
		r = s.expect(200, "GET", "/api/admin/campaigns", admin, nil)
		assert.EqualValues(t, 1, r.num("total"))
		c := r.JSON["campaigns"].([]any)[0].(map[string]any)
		assert.Equal(t, "pending", c["status"])
		assert.Equal(t, lower, c["author_email"], "admins see the author")
		assert.Equal(t, []any{"غذا", "سلف"}, c["tags"])
		assert.Equal(t, c["description"], c["content"])
		assert.Equal(t, c["end_datetime"], c["deadline"])
		assert.Equal(t, c["label"], c["category"])

		// Not approved yet: signing is refused.
		s.expect(400, "POST", "/api/campaigns/"+ids+"/sign", tok, map[string]any{"is_anonymous": "anonymous"})
		r = s.expect(200, "PUT", "/api/campaigns/"+ids+"/status", admin, map[string]any{"status": "approved"})
		assert.Equal(t, true, r.JSON["success"])
		assert.True(t, s.hasEvent("campaign_status_change", "success"))

		r = s.expect(201, "POST", "/api/campaigns/"+ids+"/sign", tok, map[string]any{"is_anonymous": "anonymous"})
		assert.EqualValues(t, 1, r.num("total_signatures"))
		assert.Positive(t, r.num("signature_id"))
		r = s.expect(409, "POST", "/api/campaigns/"+ids+"/sign", tok, map[string]any{"is_anonymous": "public"})
		assert.Equal(t, "شما قبلاً این کارزار را امضا کرده‌اید", r.str("detail"))

		// The list hides the anonymous signer, also from anonymous clients
		// (who may not even see this faculty's campaign).
		r = s.expect(200, "GET", "/api/campaigns/"+ids+"/signatures", tok, nil)
		sigs := r.JSON["signatures"].([]any)
		require.Len(t, sigs, 1)
		assert.Equal(t, "ناشناس", sigs[0].(map[string]any)["user_email"])
		assert.NotContains(t, string(r.Raw), lower)
		s.expect(404, "GET", "/api/campaigns/"+ids+"/signatures", "", nil)

		r = s.expect(200, "GET", "/api/campaigns/"+ids+"/check-signature", tok, nil)
		assert.Equal(t, true, r.JSON["has_signed"])
		assert.Equal(t, "anonymous", r.JSON["signature"].(map[string]any)["is_anonymous"])

		r = s.expect(200, "GET", "/api/user/signed-campaigns", tok, nil)
		assert.EqualValues(t, 1, r.num("total"))
		assert.EqualValues(t, id, r.JSON["campaigns"].([]any)[0].(map[string]any)["campaign_id"])

		// The head sees only the user's public signatures.
		r = s.expect(200, "GET", "/api/auth/users", admin, nil)
		require.Len(t, r.Array, 2)
		uid := int64(r.Array[1].(map[string]any)["id"].(float64))
		r = s.expect(200, "GET", fmt.Sprintf("/api/user/%d/signed-campaigns", uid), admin, nil)
		assert.EqualValues(t, 0, r.num("total"), "anonymous signatures stay hidden from heads")

		// The approved list: the author sees their own campaign with
		// has_signed; the author's address is hidden from other users.
		r = s.expect(200, "GET", "/api/campaigns/approved", tok, nil)
		require.EqualValues(t, 1, r.num("total"))
		c = r.JSON["campaigns"].([]any)[0].(map[string]any)
		assert.Equal(t, true, c["has_signed"])
		assert.EqualValues(t, 1, c["signature_count"])
		assert.Nil(t, r.JSON["debug_user_role"], "no debug keys")
		other, _ := s.signup("other@sharif.edu")
		r = s.expect(200, "GET", "/api/campaigns/approved", other, nil)
		assert.EqualValues(t, 0, r.num("total"), "a computer-faculty campaign is not shown to a user of no faculty")
		r = s.expect(200, "GET", "/api/campaigns/approved", "", nil)
		assert.EqualValues(t, 0, r.num("total"))
	})
}

func TestVerificationCodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		s := start(t, b, options{clock: clk})
		const email = "code@sharif.edu"

		r := s.expect(400, "POST", "/api/auth/send-code", "", map[string]any{"email": "x@gmail.com"})
		assert.Contains(t, r.str("detail"), "@sharif.edu")
		s.expect(400, "POST", "/api/auth/send-code", "", map[string]any{"email": ""})
		s.expect(400, "POST", "/api/auth/send-code", "", map[string]any{"email": strings.Repeat("a", 250) + "@sharif.edu"})

		s.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": email})
		code := s.smtp.Code(t, email)
		// A resend within 60 s is refused with Retry-After.
		r = s.expect(429, "POST", "/api/auth/send-code", "", map[string]any{"email": email})
		assert.NotEmpty(t, r.Header.Get("Retry-After"))

		// Registration needs a verified address.
		s.expect(400, "POST", "/api/auth/register", "", map[string]any{"email": email, "password": testPassword})

		// Format errors are 400 with valid:false; a wrong code is 200 valid:false.
		r = s.expect(400, "POST", "/api/auth/verify-code", "", map[string]any{"email": email, "code": "12ab56"})
		assert.Equal(t, false, r.JSON["valid"])
		r = s.expect(400, "POST", "/api/auth/verify-code", "", map[string]any{"email": email, "code": "۱۲۳۴۵۶"})
		assert.Equal(t, false, r.JSON["valid"], "non-ASCII digits are not a code")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 0; i < 5; i++ {
			r = s.expect(200, "POST", "/api/auth/verify-code", "", map[string]any{"email": email, "code": wrong})
			assert.Equal(t, false, r.JSON["valid"])
		}
		r = s.expect(200, "POST", "/api/auth/verify-code", "", map[string]any{"email": email, "code": code})
		assert.Equal(t, false, r.JSON["valid"], "after 5 wrong tries even the right code is dead")
		assert.True(t, s.hasEvent("verification_fail", "failure"))

		// A new code (after the cooldown) works once, then is consumed.
		clk.Advance(61 * time.Second)
		code = s.codeAfter(email, func() { s.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": email}) })
		r = s.expect(200, "POST", "/api/auth/verify-code", "", map[string]any{"email": email, "code": code})
		assert.Equal(t, true, r.JSON["valid"])
		r = s.expect(200, "POST", "/api/auth/verify-code", "", map[string]any{"email": email, "code": code})
		assert.Equal(t, false, r.JSON["valid"], "single use")

		// Codes expire after 10 minutes.
		clk.Advance(61 * time.Second)
		late := s.codeAfter("late@sharif.edu", func() {
			s.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": "late@sharif.edu"})
		})
		clk.Advance(10*time.Minute + time.Second)
		r = s.expect(200, "POST", "/api/auth/verify-code", "", map[string]any{"email": "late@sharif.edu", "code": late})
		assert.Equal(t, false, r.JSON["valid"], "expired")

		// The verification of `email` lasts 30 minutes: it has passed.
		clk.Advance(20 * time.Minute)
		s.expect(400, "POST", "/api/auth/register", "", map[string]any{"email": email, "password": testPassword})

		// A code given to register directly works too.
		clk.Advance(time.Minute)
		code = s.codeAfter(email, func() { s.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": email}) })
		s.expect(201, "POST", "/api/auth/register", "", map[string]any{"email": email, "password": testPassword, "code": code})
		s.expect(400, "POST", "/api/auth/register", "", map[string]any{"email": email, "password": testPassword, "code": code})
		// A registered address still gets codes (no enumeration), and a
		// verified second registration is a 409.
		clk.Advance(time.Minute)
		code = s.codeAfter(email, func() { s.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": email}) })
		r = s.expect(409, "POST", "/api/auth/register", "", map[string]any{"email": email, "password": testPassword, "code": code})
		assert.Equal(t, "email", r.JSON["errors"].([]any)[0].(map[string]any)["field"])

		// The code is stored hashed: the database does not hold it.
		var stored []string
		require.NoError(t, s.app.DB.X().Select(&stored, `SELECT code_hash FROM verification_codes`))
		for _, h := range stored {
			assert.Len(t, h, 64)
			assert.NotContains(t, h, code)
		}
	})
}

// codeAfter runs send (which must mail a code to `to`) and returns the code
// of the new message.
func (s *server) codeAfter(to string, send func()) string {
	s.t.Helper()
	count := func() (int, string) {
		n, last := 0, ""
		for _, m := range s.smtp.Messages() {
			for _, r := range m.RcptTo {
				if r == to {
					n, last = n+1, m.Text
				}
			}
		}
		return n, last
	}
	before, _ := count()
	send()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n, text := count(); n > before {
			code, err := mailtest.FindCode(text)
			require.NoError(s.t, err)
			return code
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("no new mail to %s", to)
	return ""
}

func TestLoginLockoutAndRehash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		s := start(t, b, options{clock: clk})
		tok, _ := s.signup("victim@sharif.edu")
		require.NotEmpty(t, tok)

		// Unknown e-mail and wrong password: the same 401.
		r1 := s.expect(401, "POST", "/api/auth/login", "", map[string]any{"email": "nobody@sharif.edu", "password": "whatever it is"})
		r2 := s.expect(401, "POST", "/api/auth/login", "", map[string]any{"email": "victim@sharif.edu", "password": "wrong password"})
		assert.Equal(t, r1.str("detail"), r2.str("detail"))
		assert.Equal(t, "Invalid credentials", r2.str("detail"))
		// Missing fields are 400, not 500.
		s.expect(400, "POST", "/api/auth/login", "", map[string]any{"email": "victim@sharif.edu"})
		s.expect(400, "POST", "/api/auth/login", "", map[string]any{"email": 12, "password": "x"})

		for i := 0; i < 3; i++ {
			s.call("POST", "/api/auth/login", "", map[string]any{"email": "victim@sharif.edu", "password": "wrong password"})
		}
		r := s.call("POST", "/api/auth/login", "", map[string]any{"email": "victim@sharif.edu", "password": "wrong password"})
		require.Equal(t, 429, r.Status, "the fifth failure locks: %s", r.Raw)
		assert.NotEmpty(t, r.Header.Get("Retry-After"))
		r = s.expect(429, "POST", "/api/auth/login", "", map[string]any{"email": "victim@sharif.edu", "password": testPassword})
		secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
		assert.InDelta(t, 15*60, secs, 2, "a first lock lasts 15 minutes")
		assert.True(t, s.hasEvent("authn_login_lock", "failure"))
		clk.Advance(15*time.Minute + time.Second)
		s.login("victim@sharif.edu", testPassword)

		// A Django pbkdf2_sha256 hash logs in and is upgraded to argon2id.
		const django = `pbkdf2_sha256$260000$UpSrlEH2dGRTvy6enSB7hQ$iFwlnV0KYavkog8nWRqS1iW+yaiKyr4BY46lwNST8po=`
		_, err := s.app.DB.CreateUser(context.Background(), data.User{Email: "old@sharif.edu", Password: django})
		require.NoError(t, err)
		s.login("old@sharif.edu", "Secret-Pass-1!")
		u, err := s.app.DB.UserByEmail(context.Background(), "old@sharif.edu")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(u.Password, "$argon2id$"), "upgraded: %s", u.Password[:12])
		s.login("old@sharif.edu", "Secret-Pass-1!")
	})
}

func TestLoginRateLimit(t *testing.T) {
	s := start(t, backend{env: map[string]string{"SENFI_DATABASE_URL": "sqlite://senfi.db"}}, options{env: map[string]string{"SENFI_RATE_LOGIN": "5/m"}})
	body := map[string]any{"email": "a@sharif.edu", "password": "nope nope nope"}
	for i := 0; i < 5; i++ {
		// Different accounts, so that the account lockout stays out of it.
		s.expect(401, "POST", "/api/auth/login", "", map[string]any{"email": fmt.Sprintf("u%d@sharif.edu", i), "password": "nope nope nope"})
	}
	r := s.expect(429, "POST", "/api/auth/login", "", body)
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	assert.Contains(t, r.Header.Get("RateLimit-Policy"), "q=5")
	// A spoofed X-Forwarded-For does not buy a fresh budget (no trusted proxy).
	r = s.callWith("POST", "/api/auth/login", "", body, map[string]string{"X-Forwarded-For": "203.0.113.9"})
	assert.Equal(t, 429, r.Status)
}

// TestProblemShapeWithoutConnContext: a server that does not install
// App.ConnContext still gets "success": false in every problem (the
// middleware then adds it per request).
func TestProblemShapeWithoutConnContext(t *testing.T) {
	s := start(t, backend{env: map[string]string{"SENFI_DATABASE_URL": "sqlite://senfi.db"}}, options{})
	for _, host := range []string{"localhost", "evil.example"} { // 401 from jwtauth, 400 from secure's host check
		r := httptest.NewRequest("GET", "http://"+host+"/api/auth/user", nil)
		w := httptest.NewRecorder()
		s.app.Handler.ServeHTTP(w, r)
		require.GreaterOrEqual(t, w.Code, 400, "%s: %s", host, w.Body)
		var body map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), "%s: %s", host, w.Body)
		assert.Equal(t, false, body["success"], "%s: %s", host, w.Body)
	}
}

// TestRememberMe: "remember_me": true gives the session SENFI_REMEMBER_TTL
// (14 days) of idle allowance instead of SENFI_REFRESH_TTL (7 days), kept
// through rotation; the original accepted the flag and ignored it.
func TestRememberMe(t *testing.T) {
	s := start(t, backend{env: map[string]string{"SENFI_DATABASE_URL": "sqlite://senfi.db"}}, options{})
	s.signup("rem@sharif.edu")
	refreshTTL := func(token string) time.Duration {
		t.Helper()
		c, err := s.app.Auth.Verify(context.Background(), token, jwtauth.Refresh)
		require.NoError(t, err)
		return c.ExpiresAt.Sub(c.IssuedAt)
	}
	r := s.expect(200, "POST", "/api/auth/login", "", map[string]any{"email": "rem@sharif.edu", "password": testPassword, "remember_me": true})
	remembered := r.str("refresh_token")
	assert.Equal(t, 14*24*time.Hour, refreshTTL(remembered))
	r = s.expect(200, "POST", "/api/auth/login", "", map[string]any{"email": "rem@sharif.edu", "password": testPassword, "remember_me": false})
	plain := r.str("refresh_token")
	assert.Equal(t, 7*24*time.Hour, refreshTTL(plain))

	// Eight idle days: the plain session is over, the remembered one
	// rotates and keeps its 14 days.
	s.clock.Advance(8 * 24 * time.Hour)
	s.expect(401, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": plain})
	r = s.expect(200, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": remembered})
	assert.Equal(t, 14*24*time.Hour, refreshTTL(r.str("refresh_token")))
	s.expect(200, "GET", "/api/auth/user", r.str("access_token"), nil)
}

// TestGlobalRateLimit: SENFI_RATE_GLOBAL bounds every route per client
// address, on top of the route's own limit.
func TestGlobalRateLimit(t *testing.T) {
	s := start(t, backend{env: map[string]string{"SENFI_DATABASE_URL": "sqlite://senfi.db"}}, options{env: map[string]string{"SENFI_RATE_GLOBAL": "4/m"}})
	var allowed int
	var last resp
	for range 10 {
		if last = s.call("GET", "/api/campaigns/approved", "", nil); last.Status != 200 {
			break
		}
		allowed++
		assert.Contains(t, last.Header.Get("RateLimit-Policy"), `"senfi_global";q=4;w=60`)
	}
	assert.Equal(t, 429, last.Status, "after %d allowed requests", allowed)
	assert.LessOrEqual(t, allowed, 4)
	assert.Positive(t, allowed, "the first request of a fresh address is refused")
	assert.NotEmpty(t, last.Header.Get("Retry-After"))
	// Another route shares the same budget.
	s.expect(429, "GET", "/api/campaigns/categories", "", nil)
}

func TestTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{})
		access, refresh := s.signup("tok@sharif.edu")

		// Rotation: a new pair; the old refresh token is spent.
		r := s.expect(200, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": refresh})
		access2, refresh2 := r.str("access_token"), r.str("refresh_token")
		assert.NotEqual(t, refresh, refresh2)
		assert.Equal(t, access2, r.str("token"))
		s.expect(200, "GET", "/api/auth/user", access2, nil)
		// Reuse of the spent token: 401, and the whole family dies.
		s.expect(401, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": refresh})
		s.expect(401, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": refresh2})
		s.expect(401, "GET", "/api/auth/user", access2, nil)
		s.expect(401, "GET", "/api/auth/user", access, nil)
		s.expect(400, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": ""})
		s.expect(401, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": access})

		// 20 parallel refreshes with one token: exactly one wins.
		_, refresh = s.login("tok@sharif.edu", testPassword)
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.call("POST", "/api/auth/refresh", "", map[string]any{"refresh_token": refresh})
				mu.Lock()
				codes[r.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		assert.Equal(t, 1, codes[200], "statuses %v", codes)
		assert.Equal(t, 19, codes[401], "statuses %v", codes)

		// Logout ends the session at once; other sessions live on.
		a1, _ := s.login("tok@sharif.edu", testPassword)
		a2, _ := s.login("tok@sharif.edu", testPassword)
		s.expect(200, "POST", "/api/auth/logout", a1, nil)
		s.expect(401, "GET", "/api/auth/user", a1, nil)
		s.expect(200, "GET", "/api/auth/user", a2, nil)
		// logout-all ends every session; a login right after works.
		s.expect(200, "POST", "/api/auth/logout-all", a2, "")
		s.expect(401, "GET", "/api/auth/user", a2, nil)
		a3, _ := s.login("tok@sharif.edu", testPassword)
		s.expect(200, "GET", "/api/auth/user", a3, nil)

		// Forged, garbage and alg-none tokens.
		s.expect(401, "GET", "/api/auth/user", "not.a.token", nil)
		s.expect(401, "GET", "/api/auth/user", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwicm9sZSI6InN1cGVyYWRtaW4ifQ.", nil)
		s.expect(401, "GET", "/api/auth/user", a3[:len(a3)-2]+"xx", nil)
		r = s.expect(401, "GET", "/api/auth/user", "", nil)
		assert.Contains(t, r.Header.Get("WWW-Authenticate"), "Bearer")
	})
}

func TestPasswordChangeAndReset(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		s := start(t, b, options{clock: clk})
		access, _ := s.signup("pw@sharif.edu")
		const newPW = "a brand new passphrase 42"

		s.expect(400, "POST", "/api/auth/change-password", access, map[string]any{"current_password": "wrong one", "new_password": newPW, "confirm_password": newPW})
		s.expect(400, "POST", "/api/auth/change-password", access, map[string]any{"current_password": testPassword, "new_password": newPW, "confirm_password": "different"})
		r := s.expect(400, "POST", "/api/auth/change-password", access, map[string]any{"current_password": testPassword, "new_password": "short", "confirm_password": "short"})
		assert.Contains(t, r.str("detail"), "رمز عبور")
		assert.NotEmpty(t, r.JSON["errors"])
		s.expect(200, "POST", "/api/auth/change-password", access, map[string]any{"current_password": testPassword, "new_password": newPW, "confirm_password": newPW})
		s.expect(401, "GET", "/api/auth/user", access, nil)
		s.expect(401, "POST", "/api/auth/login", "", map[string]any{"email": "pw@sharif.edu", "password": testPassword})
		access, _ = s.login("pw@sharif.edu", newPW)
		assert.True(t, s.hasEvent("authn_password_change", "success"))

		// Reset: the same answer for unknown addresses, and no mail.
		before := len(s.smtp.Messages())
		s.expect(200, "POST", "/api/auth/password-reset/request", "", map[string]any{"email": "ghost@sharif.edu"})
		code := s.codeAfter("pw@sharif.edu", func() {
			s.expect(200, "POST", "/api/auth/password-reset/request", "", map[string]any{"email": "pw@sharif.edu"})
		})
		time.Sleep(100 * time.Millisecond)
		assert.Equal(t, before+1, len(s.smtp.Messages()), "no mail for the unknown address")

		const resetPW = "reset passphrase for real 9"
		wrong := "000000"
		if code == wrong {
			wrong = "999999"
		}
		s.expect(400, "POST", "/api/auth/password-reset/confirm", "", map[string]any{"email": "pw@sharif.edu", "code": wrong, "new_password": resetPW})
		s.expect(400, "POST", "/api/auth/password-reset/confirm", "", map[string]any{"email": "pw@sharif.edu", "code": code, "new_password": "123"})
		s.expect(200, "POST", "/api/auth/password-reset/confirm", "", map[string]any{"email": "pw@sharif.edu", "code": code, "new_password": resetPW})
		s.expect(401, "GET", "/api/auth/user", access, nil)
		s.expect(400, "POST", "/api/auth/password-reset/confirm", "", map[string]any{"email": "pw@sharif.edu", "code": code, "new_password": resetPW + "x"})
		s.login("pw@sharif.edu", resetPW)
	})
}

func TestRoles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{})
		user, _ := s.signup("user@sharif.edu")
		head := s.admin("head@sharif.edu", "head")
		super := s.admin("super@sharif.edu", "superadmin")

		r := s.expect(403, "GET", "/api/auth/users", user, nil)
		assert.Equal(t, "دسترسی ندارید.", r.str("detail"))
		s.expect(403, "GET", "/api/admin/campaigns", user, nil)
		s.expect(403, "GET", "/api/campaigns/rejected", user, nil)
		s.expect(401, "GET", "/api/auth/users", "", nil)
		r = s.expect(200, "GET", "/api/auth/users", head, nil)
		require.Len(t, r.Array, 3)
		assert.Equal(t, "super@sharif.edu", r.Array[0].(map[string]any)["email"], "newest first")
		uid := int64(r.Array[2].(map[string]any)["id"].(float64))
		r = s.expect(200, "GET", fmt.Sprintf("/api/auth/user/%d", uid), head, nil)
		assert.Equal(t, "user@sharif.edu", r.str("email"))
		s.expect(404, "GET", "/api/auth/user/999999", head, nil)
		s.expect(404, "GET", "/api/auth/user/abc", head, nil)
		s.expect(404, "GET", "/api/auth/user/-1", head, nil)
		s.expect(404, "GET", "/api/auth/user/99999999999999999999", head, nil)

		path := fmt.Sprintf("/api/user/%d/role", uid)
		s.expect(403, "PUT", path, head, map[string]any{"new_role": "head"})
		s.expect(400, "PUT", path, super, map[string]any{"new_role": "superadmin"})
		s.expect(400, "PUT", path, super, map[string]any{"new_role": "wizard"})
		s.expect(400, "PUT", path, super, map[string]any{})
		s.expect(400, "PUT", path, super, map[string]any{"new_role": 7})
		r = s.expect(200, "PUT", path, super, map[string]any{"new_role": "center_member"})
		assert.Equal(t, "center_member", r.JSON["user"].(map[string]any)["role"])
		assert.True(t, s.hasEvent("authz_change", "success"))
		// The target's tokens are revoked: the new role applies at once.
		s.expect(401, "GET", "/api/auth/user", user, nil)
		user, _ = s.login("user@sharif.edu", testPassword)
		s.expect(200, "GET", "/api/admin/campaigns", user, nil)
		r = s.expect(200, "PUT", path, super, map[string]any{"new_role": "user"})
		assert.Equal(t, "simple_user", r.JSON["user"].(map[string]any)["role"], "user is an alias")
		var superID int64
		require.NoError(t, s.app.DB.X().Get(&superID, s.app.DB.X().Rebind(`SELECT id FROM users WHERE email = ?`), "super@sharif.edu"))
		s.expect(400, "PUT", fmt.Sprintf("/api/user/%d/role", superID), super, map[string]any{"new_role": "head"})

		s.expect(403, "POST", "/api/auth/test-email", head, nil)
		r = s.expect(200, "POST", "/api/auth/test-email", super, nil)
		assert.Equal(t, true, r.JSON["success"])
	})
}

// TestEveryLimitIsUsed: the routes look up exactly the rate-limit names the
// configuration defines (GLOBAL is the chain's own). A name misspelt on
// either side would leave a route unlimited without a word.
func TestEveryLimitIsUsed(t *testing.T) {
	s := start(t, backend{env: map[string]string{"SENFI_DATABASE_URL": "sqlite://senfi.db"}}, options{})
	var configured []string
	for name := range config.DefaultRates {
		if name != "GLOBAL" {
			configured = append(configured, name)
		}
	}
	slices.Sort(configured)
	assert.Equal(t, configured, s.app.API.LimitNames())
}
