package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoginCode: the passwordless e-mail-code login (send-mobile-code /
// verify-mobile-code). HEAD allowed unlimited guesses and answered 404 for
// unknown addresses; here codes are hashed, expire, allow 5 guesses, are
// rate-limited, and the answers do not depend on whether an account exists.
func TestLoginCode(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{env: headEnv(nil)})
		_, uid := s.member("holder@sharif.edu", "simple_user", nil)
		send := func(email string) resp {
			return s.expect(200, "POST", "/api/auth/send-mobile-code", "", map[string]any{"email": email})
		}
		verify := func(email, code string) resp {
			return s.call("POST", "/api/auth/verify-mobile-code", "", map[string]any{"email": email, "code": code})
		}

		// A registered address gets a mail; an unknown one the same answer
		// and no mail.
		var known resp
		code := s.codeAfter("holder@sharif.edu", func() { known = send("Holder@Sharif.edu") })
		unknown := send("ghost@sharif.edu")
		assert.Equal(t, known.JSON, unknown.JSON)
		msg := s.smtp.WaitFor(t, "holder@sharif.edu", 5*time.Second)
		assert.Equal(t, "Sharif Mobile Verification Code", msg.Subject)
		s.expect(400, "POST", "/api/auth/send-mobile-code", "", map[string]any{"email": "x@gmail.com"})
		s.expect(400, "POST", "/api/auth/send-mobile-code", "", map[string]any{"email": 7})

		// Guesses: five per code, then even the right code is dead; a
		// guess at an unknown address looks the same.
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 0; i < 5; i++ {
			r := verify("holder@sharif.edu", wrong)
			require.Equal(t, 400, r.Status)
			assert.Equal(t, "Invalid verification code", r.str("detail"))
		}
		r := verify("holder@sharif.edu", code)
		assert.Equal(t, 400, r.Status, "the sixth try fails even with the right code")
		r = verify("ghost@sharif.edu", wrong)
		assert.Equal(t, 400, r.Status)
		assert.Equal(t, "Invalid verification code", r.str("detail"), "no 404 User not found")
		assert.Equal(t, 400, verify("holder@sharif.edu", "12a456").Status)
		assert.Equal(t, 400, verify("holder@sharif.edu", "").Status)
		assert.True(t, s.hasEvent("authn_login_fail", "failure"))

		// Within the cooldown a request is answered alike and sends nothing.
		assert.Equal(t, known.JSON, send("holder@sharif.edu").JSON)
		time.Sleep(100 * time.Millisecond) // the mail queue is asynchronous
		assert.Equal(t, 1, countTo(s, "holder@sharif.edu"), "no second mail within 60 s")
		assert.Zero(t, countTo(s, "ghost@sharif.edu"), "nothing is mailed to an address without an account")

		// A fresh code logs in once, as a password login does.
		s.clock.Advance(61 * time.Second)
		code = s.codeAfter("holder@sharif.edu", func() { send("holder@sharif.edu") })
		r = s.expect(200, "POST", "/api/auth/verify-mobile-code", "", map[string]any{"email": "holder@sharif.edu", "code": code})
		assert.Equal(t, true, r.JSON["success"])
		assert.Equal(t, r.str("token"), r.str("access_token"))
		assert.NotEmpty(t, r.str("refresh_token"))
		assert.Equal(t, "ورود با موفقیت انجام شد", r.str("message"))
		me := s.expect(200, "GET", "/api/auth/user", r.str("access_token"), nil)
		assert.EqualValues(t, uid, me.num("id"))
		s.expect(200, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": r.str("refresh_token")})
		assert.Equal(t, 400, verify("holder@sharif.edu", code).Status, "single use")
		assert.True(t, s.hasEvent("authn_login_success", "success"))

		// Codes expire after 10 minutes.
		s.clock.Advance(61 * time.Second)
		code = s.codeAfter("holder@sharif.edu", func() { send("holder@sharif.edu") })
		s.clock.Advance(10*time.Minute + time.Second)
		assert.Equal(t, 400, verify("holder@sharif.edu", code).Status, "expired")

		// Stored as an HMAC, never the code.
		var stored []string
		require.NoError(t, s.app.DB.X().Select(&stored, `SELECT code_hash FROM verification_codes WHERE purpose = 'login'`))
		require.NotEmpty(t, stored)
		for _, h := range stored {
			assert.Len(t, h, 64)
			assert.NotContains(t, h, code)
		}
	})
}

// countTo counts the messages the SMTP server received for to.
func countTo(s *server, to string) int {
	n := 0
	for _, m := range s.smtp.Messages() {
		for _, r := range m.RcptTo {
			if r == to {
				n++
			}
		}
	}
	return n
}

// TestLoginCodeLimits: the per-IP limits of both routes and the per-address
// limit shared with send-code answer 429 with Retry-After.
func TestLoginCodeLimits(t *testing.T) {
	s := start(t, backend{env: map[string]string{"SENFI_DATABASE_URL": "sqlite://senfi.db"}}, options{env: headEnv(map[string]string{
		"SENFI_RATE_SEND_MOBILE_CODE": "3/h", "SENFI_RATE_VERIFY_MOBILE_CODE": "3/m", "SENFI_RATE_SEND_CODE_EMAIL": "2/10m",
	})})
	s.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": "a@sharif.edu"})
	s.expect(200, "POST", "/api/auth/send-mobile-code", "", map[string]any{"email": "a@sharif.edu"})
	r := s.expect(429, "POST", "/api/auth/send-mobile-code", "", map[string]any{"email": "a@sharif.edu"})
	assert.NotEmpty(t, r.Header.Get("Retry-After"), "the address's budget is shared with send-code")
	assert.True(t, s.hasEvent("excess_rate_limit_exceeded", "failure"), "the per-address refusal is in the security log (no per-IP limit has fired yet)")
	s.expect(200, "POST", "/api/auth/send-mobile-code", "", map[string]any{"email": "b@sharif.edu"})
	r = s.expect(429, "POST", "/api/auth/send-mobile-code", "", map[string]any{"email": "c@sharif.edu"})
	assert.NotEmpty(t, r.Header.Get("Retry-After"), "per IP")

	for i := 0; i < 3; i++ {
		s.expect(400, "POST", "/api/auth/verify-mobile-code", "", map[string]any{"email": "a@sharif.edu", "code": "123456"})
	}
	r = s.expect(429, "POST", "/api/auth/verify-mobile-code", "", map[string]any{"email": "a@sharif.edu", "code": "123456"})
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
	assert.True(t, s.hasEvent("excess_rate_limit_exceeded", "failure"))
}
