package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/example/internal/mail"
	"github.com/senfi-sharif/senfi/internal/clientip"
	"github.com/senfi-sharif/senfi/ratelimit"
)

// The passwordless e-mail-code login of HEAD (§9.4), under its misleading
// names send-mobile-code and verify-mobile-code. HEAD allowed unlimited
// guesses at a 6-digit code and answered 404 for unknown addresses; here the
// code follows the send-code rules (crypto/rand, stored as an HMAC in the
// database, 10 minutes, 5 guesses, 60 s between codes, per-address and
// per-IP limits) and the answers are the same whether an account exists.

// LoginCodeSubject is the subject of the login-code mail (HEAD's, so that
// users' mail filters keep matching).
const LoginCodeSubject = "Sharif Mobile Verification Code"

// Event name of a login-code request (the login itself is
// authn_login_success / authn_login_fail with method=email_code).
const EvLoginCodeRequested = "authn_login_code_requested"

// msgBadLoginCode is the one answer to every failed code login: a wrong,
// expired, used-up or never-sent code, or an address without an account.
const msgBadLoginCode = "Invalid verification code"

// loginCodeMail is the mail carrying a login code: what it is for, its
// 10-minute validity, and that ignoring it is safe, in English and in
// Persian (code in ASCII digits in both).
func loginCodeMail(to, code string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: LoginCodeSubject,
		Text: "Your Senfi login code is: " + code + "\n" +
			"It is valid for 10 minutes. If you did not try to sign in, ignore this email: " +
			"nobody can sign in with it but you.\n" +
			"\n" +
			"کد ورود شما به صنفی: " + code + "\n" +
			"این کد ۱۰ دقیقه اعتبار دارد. اگر قصد ورود نداشته‌اید، این ایمیل را نادیده بگیرید؛ " +
			"بدون این کد کسی نمی‌تواند وارد حساب شما شود.\n",
	}
}

// POST /api/auth/send-mobile-code (SEND_MOBILE_CODE per IP, and
// SEND_CODE_EMAIL per address, shared with send-code).
//
// A code is stored for every allowed address, but mailed only when an
// active account has it: the answer, its timing (one write either way) and
// a later verify-mobile-code behave the same for registered and unknown
// addresses, and nobody can make the server mail an address that has no
// account. A request within 60 s of the last code is answered the same way
// and sends nothing.
func (s *Server) sendLoginCode(w http.ResponseWriter, r *http.Request) {
	email, ok := s.codeAddress(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	u, err := s.o.DB.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, data.ErrNotFound) {
		s.internal(w, r, "load user", err)
		return
	}
	account := err == nil && u.IsActive
	code, err := newCode()
	if err != nil {
		s.internal(w, r, "generate code", err)
		return
	}
	_, err = s.o.DB.PutCode(ctx, email, data.PurposeLogin, s.codeHash(data.PurposeLogin, email, code), CodeTTL, CodeCooldown)
	switch {
	case errors.Is(err, data.ErrCooldown):
		account = false // nothing new to send
	case err != nil:
		s.internal(w, r, "store code", err)
		return
	}
	if account {
		if err := s.o.Mailer.Enqueue(loginCodeMail(email, code)); err != nil {
			// Not reported to the client: a 503 only for registered
			// addresses would tell which exist. The user asks again after
			// the cooldown.
			s.o.Logger.ErrorContext(ctx, "api: queue login code mail", "err", err)
		}
	}
	s.event(r, EvLoginCodeRequested, "success", slog.String("email_domain", domainOf(email)), slog.Bool("mailed", account))
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true,
		"message": "اگر حسابی با این ایمیل ثبت شده باشد، کد ورود به آن ارسال شد. (if an account uses this address, a login code was sent to it)",
	})
}

// codeAddress reads the {"email"} of a request for a code, normalises and
// checks it (400 with the send-code messages), and spends one unit of the
// address's SEND_CODE_EMAIL budget (429 when spent), which every code route
// shares so that no address can be mail-bombed through another route.
// ok=false: answered.
func (s *Server) codeAddress(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Email string `json:"email"`
	}
	if !decode(w, r, &in, false) {
		return "", false
	}
	email := normalizeEmail(in.Email)
	if !s.checkEmailInput(w, r, email, nil) {
		return "", false
	}
	l := s.o.Limits["SEND_CODE_EMAIL"]
	if l == nil {
		return email, true
	}
	d, err := l.Allow(withLimitKey(r, email))
	if err == nil && !d.Allowed {
		// Allow, unlike the Handler, calls no OnLimited: record it here.
		s.event(r, EvRateLimitBlocked, "failure", slog.String("limit", "SEND_CODE_EMAIL"))
		err = &ratelimit.LimitError{Name: l.Name(), Decision: d}
	}
	if err != nil {
		ratelimit.WriteError(w, r, err)
		return "", false
	}
	return email, true
}

// POST /api/auth/verify-mobile-code (VERIFY_MOBILE_CODE per IP): the
// passwordless login. A right code of an active account logs in as
// POST /api/auth/login does ({success, token, access_token, refresh_token,
// user, message}); every failure is the same 400 "Invalid verification
// code", and each spends one of the code's 5 attempts.
func (s *Server) verifyLoginCode(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
		Code  string `json:"code"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	email, code := normalizeEmail(in.Email), strings.TrimSpace(in.Code)
	switch {
	case email == "":
		invalid(w, r, "email", "Email is required")
		return
	case code == "":
		invalid(w, r, "code", "Verification code is required")
		return
	case !isCode(code):
		invalid(w, r, "code", "Invalid verification code format")
		return
	}
	if !s.checkEmailInput(w, r, email, nil) {
		return
	}
	ctx := r.Context()
	ok, err := s.o.DB.CheckCode(ctx, email, data.PurposeLogin, s.codeHash(data.PurposeLogin, email, code), CodeMaxAttempts)
	if err != nil {
		s.internal(w, r, "check code", err)
		return
	}
	var u data.User
	if ok {
		u, err = s.o.DB.UserByEmail(ctx, email)
		if err != nil && !errors.Is(err, data.ErrNotFound) {
			s.internal(w, r, "load user", err)
			return
		}
		ok = err == nil && u.IsActive
	}
	if !ok {
		s.event(r, EvLoginFail, "failure", slog.String("method", "email_code"), slog.String("reason", "invalid_code"))
		invalid(w, r, "code", msgBadLoginCode)
		return
	}
	if err := s.o.Lockout.Success(ctx, email, clientip.FromRequest(r)); err != nil {
		s.o.Logger.ErrorContext(ctx, "api: lockout success", "err", err)
	}
	_ = s.o.DB.TouchLogin(ctx, u.ID)
	p, ok := s.issueSession(w, r, u, 0)
	if !ok {
		return
	}
	s.event(r, EvLoginSuccess, "success", slog.Int64("user_id", u.ID), slog.String("family", p.Family), slog.String("method", "email_code"))
	body := tokenResponse(p, u)
	body["message"] = "ورود با موفقیت انجام شد"
	writeJSON(w, http.StatusOK, body)
}
