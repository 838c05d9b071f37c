package api

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/example/internal/mail"
	"github.com/senfi-sharif/senfi/internal/clientip"
	"github.com/senfi-sharif/senfi/internal/problem"
	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/password"
	"github.com/senfi-sharif/senfi/ratelimit"
)

// Verification code rules (contract §3).
const (
	CodeTTL         = 10 * time.Minute
	CodeCooldown    = 60 * time.Second
	CodeMaxAttempts = 5
	VerifiedTTL     = 30 * time.Minute
	maxEmailLen     = 254
)

// userJSON is the reference's user object.
type userJSON struct {
	ID        int64   `json:"id"`
	Email     string  `json:"email"`
	Role      string  `json:"role"`
	Unit      *string `json:"unit"`
	Faculty   string  `json:"faculty"`
	Dormitory string  `json:"dormitory"`
	// CouncilMemberStatus is member, observer or none (HEAD's field).
	CouncilMemberStatus string `json:"council_member_status"`
}

func toUserJSON(u data.User) userJSON {
	j := userJSON{ID: u.ID, Email: u.Email, Role: u.Role, Faculty: u.Faculty, Dormitory: u.Dormitory, CouncilMemberStatus: u.CouncilStatus}
	if u.Unit.Valid {
		j.Unit = &u.Unit.String
	}
	return j
}

// shortUser is the user object of validate and of the role change answer.
func shortUser(u data.User) map[string]any {
	j := toUserJSON(u)
	return map[string]any{"id": j.ID, "email": j.Email, "role": j.Role, "unit": j.Unit}
}

// normalizeEmail trims and lower-cases: one canonical form per address.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validEmail accepts a bare ASCII address (no display name, no comments).
func validEmail(e string) bool {
	if e == "" || len(e) > maxEmailLen {
		return false
	}
	for i := 0; i < len(e); i++ {
		if c := e[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	a, err := netmail.ParseAddress(e)
	return err == nil && a.Address == e && a.Name == ""
}

// allowedDomain reports whether e's domain may register.
func (s *Server) allowedDomain(e string) bool {
	at := strings.LastIndexByte(e, '@')
	if at < 0 {
		return false
	}
	for _, d := range s.o.EmailDomains {
		if e[at+1:] == d {
			return true
		}
	}
	return false
}

func (s *Server) domainMessage() string {
	return "Email must end with @" + strings.Join(s.o.EmailDomains, " or @")
}

// checkEmailInput validates an address for the code endpoints, answering
// with the reference's messages. ext is added to error bodies.
func (s *Server) checkEmailInput(w http.ResponseWriter, r *http.Request, email string, ext map[string]any) bool {
	switch {
	case email == "":
		invalidExt(w, r, "email", "Email is required", ext)
	case len(email) > maxEmailLen:
		invalidExt(w, r, "email", "Email is too long", ext)
	case !validEmail(email):
		invalidExt(w, r, "email", "Enter a valid email address.", ext)
	case !s.allowedDomain(email):
		invalidExt(w, r, "email", s.domainMessage(), ext)
	default:
		return true
	}
	return false
}

// decodeEmail reads a body of {email}, normalized; an empty address is 400.
func decodeEmail(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Email string `json:"email"`
	}
	if !decode(w, r, &in, false) {
		return "", false
	}
	email := normalizeEmail(in.Email)
	if email == "" {
		fail(w, r, http.StatusBadRequest, "Email is required", fieldErr("email", "required"))
		return "", false
	}
	return email, true
}

// POST /api/auth/check-email
func (s *Server) checkEmail(w http.ResponseWriter, r *http.Request) {
	email, ok := decodeEmail(w, r)
	if !ok {
		return
	}
	if !validEmail(email) || !s.allowedDomain(email) {
		writeJSON(w, http.StatusOK, map[string]any{"exists": false})
		return
	}
	exists, err := s.o.DB.EmailExists(r.Context(), email)
	if err != nil {
		s.internal(w, r, "check email", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"exists": exists})
}

// newCode is a 6-digit code from crypto/rand.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// issueCode stores and mails a new code; it answers on failure.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, email, purpose string, silentCooldown bool) bool {
	code, err := newCode()
	if err != nil {
		s.internal(w, r, "generate code", err)
		return false
	}
	wait, err := s.o.DB.PutCode(r.Context(), email, purpose, s.codeHash(purpose, email, code), CodeTTL, CodeCooldown)
	if errors.Is(err, data.ErrCooldown) {
		if silentCooldown {
			return true
		}
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		fail(w, r, http.StatusTooManyRequests, fmt.Sprintf("لطفاً %d ثانیه دیگر دوباره تلاش کنید (a code was sent moments ago; retry in %d s)", secs, secs))
		return false
	}
	if err != nil {
		s.internal(w, r, "store code", err)
		return false
	}
	msg := mail.VerificationCode(email, code)
	if purpose == data.PurposeReset {
		msg = mail.PasswordReset(email, code)
	}
	if err := s.o.Mailer.Enqueue(msg); err != nil {
		s.o.Logger.ErrorContext(r.Context(), "api: queue mail", "err", err)
		w.Header().Set("Retry-After", "30")
		fail(w, r, http.StatusServiceUnavailable, "ارسال ایمیل در حال حاضر ممکن نیست؛ کمی بعد دوباره تلاش کنید (mail cannot be sent right now)")
		return false
	}
	s.event(r, EvCodeSent, "success", slog.String("purpose", purpose), slog.String("email_domain", domainOf(email)))
	return true
}

func domainOf(email string) string {
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		return email[at+1:]
	}
	return ""
}

// POST /api/auth/send-code
func (s *Server) sendCode(w http.ResponseWriter, r *http.Request) {
	email, ok := s.codeAddress(w, r)
	if !ok {
		return
	}
	if !s.issueCode(w, r, email, data.PurposeRegister, false) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true})
}

// POST /api/auth/verify-code
func (s *Server) verifyCode(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
		Code  string `json:"code"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	invalid := map[string]any{"valid": false}
	email, code := normalizeEmail(in.Email), strings.TrimSpace(in.Code)
	switch {
	case email == "":
		invalidExt(w, r, "email", "Email is required", invalid)
		return
	case code == "":
		invalidExt(w, r, "code", "Verification code is required", invalid)
		return
	case !isCode(code):
		invalidExt(w, r, "code", "Invalid verification code format", invalid)
		return
	}
	if !s.checkEmailInput(w, r, email, invalid) {
		return
	}
	ok, err := s.o.DB.CheckCode(r.Context(), email, data.PurposeRegister, s.codeHash(data.PurposeRegister, email, code), CodeMaxAttempts)
	if err != nil {
		s.internal(w, r, "check code", err)
		return
	}
	if ok {
		if err := s.o.DB.MarkVerified(r.Context(), email, VerifiedTTL); err != nil {
			s.internal(w, r, "mark verified", err)
			return
		}
		s.event(r, EvCodeSuccess, "success", slog.String("email_domain", domainOf(email)))
	} else {
		s.event(r, EvCodeFail, "failure", slog.String("email_domain", domainOf(email)))
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": ok})
}

// isCode: exactly six ASCII digits.
func isCode(c string) bool {
	if len(c) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return true
}

// tokenResponse is the body of login and register.
func tokenResponse(p jwtauth.Pair, u data.User) map[string]any {
	return map[string]any{
		"success":       true,
		"token":         p.AccessToken,
		"access_token":  p.AccessToken,
		"refresh_token": p.RefreshToken,
		"expires_at":    timeJSON(p.AccessExpiresAt),
		"user":          toUserJSON(u),
	}
}

// POST /api/auth/register
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email     string `json:"email"`
		Password  string `json:"password"`
		Faculty   string `json:"faculty"`
		Dormitory string `json:"dormitory"`
		Code      string `json:"code"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	email := normalizeEmail(in.Email)
	switch {
	case email == "":
		fail(w, r, http.StatusBadRequest, "This field is required.", fieldErr("email", "required"))
		return
	case !validEmail(email):
		fail(w, r, http.StatusBadRequest, "Enter a valid email address.", fieldErr("email", "not a valid e-mail address"))
		return
	case !s.allowedDomain(email):
		fail(w, r, http.StatusBadRequest, s.domainMessage(), fieldErr("email", "domain not allowed"))
		return
	case in.Password == "":
		fail(w, r, http.StatusBadRequest, "This field is required.", fieldErr("password", "required"))
		return
	}
	faculty, dorm := strings.TrimSpace(in.Faculty), strings.TrimSpace(in.Dormitory)
	if faculty != "" && !isFaculty(faculty) {
		fail(w, r, http.StatusBadRequest, "دانشکده نامعتبر است.", fieldErr("faculty", "not one of the faculty choices"))
		return
	}
	if dorm != "" && !isDormitory(dorm) {
		fail(w, r, http.StatusBadRequest, "خوابگاه نامعتبر است.", fieldErr("dormitory", "not one of the dormitory choices"))
		return
	}
	if !s.checkPassword(w, r, in.Password, email) {
		return
	}
	ctx := r.Context()
	if code := strings.TrimSpace(in.Code); code != "" {
		ok := false
		if isCode(code) {
			var err error
			ok, err = s.o.DB.CheckCode(ctx, email, data.PurposeRegister, s.codeHash(data.PurposeRegister, email, code), CodeMaxAttempts)
			if err != nil {
				s.internal(w, r, "check code", err)
				return
			}
		}
		if !ok {
			s.event(r, EvCodeFail, "failure", slog.String("email_domain", domainOf(email)))
			fail(w, r, http.StatusBadRequest, "کد تأیید نامعتبر یا منقضی شده است.", fieldErr("code", "invalid or expired"))
			return
		}
	} else {
		ok, err := s.o.DB.ConsumeVerified(ctx, email)
		if err != nil {
			s.internal(w, r, "consume verification", err)
			return
		}
		if !ok {
			fail(w, r, http.StatusBadRequest, "ابتدا ایمیل خود را با کد ارسال‌شده تأیید کنید. (verify the e-mail address with a code first)", fieldErr("email", "not verified"))
			return
		}
	}
	hash, err := s.o.Hasher.Hash(ctx, in.Password)
	if err != nil {
		s.internal(w, r, "hash password", err)
		return
	}
	u, err := s.o.DB.CreateUser(ctx, data.User{Email: email, Password: hash, Faculty: faculty, Dormitory: dorm})
	if errors.Is(err, data.ErrDuplicate) {
		fail(w, r, http.StatusConflict, "کاربری با این ایمیل قبلاً ثبت نام کرده است.", fieldErr("email", "already registered"))
		return
	}
	if err != nil {
		s.internal(w, r, "create user", err)
		return
	}
	s.event(r, EvUserCreated, "success", slog.Int64("user_id", u.ID))
	p, ok := s.issueSession(w, r, u, 0)
	if !ok {
		return
	}
	s.event(r, EvTokenCreated, "success", slog.Int64("user_id", u.ID), slog.String("family", p.Family))
	body := tokenResponse(p, u)
	body["message"] = "ثبت نام با موفقیت انجام شد و وارد سیستم شدید"
	writeJSON(w, http.StatusCreated, body)
}

// checkPassword applies the policy; on violations it answers 400 with every
// violation as a field error, in Persian where the original had the message.
func (s *Server) checkPassword(w http.ResponseWriter, r *http.Request, pw, email string) bool {
	return s.checkPasswordField(w, r, "password", pw, email)
}

func (s *Server) checkPasswordField(w http.ResponseWriter, r *http.Request, field, pw, email string) bool {
	err := s.o.Policy.Validate(pw, password.Attribute{Name: "email", Value: email})
	if err == nil {
		return true
	}
	var ve *password.ValidationError
	if !errors.As(err, &ve) {
		s.internal(w, r, "password policy", err)
		return false
	}
	fields := make([]problem.FieldError, 0, len(ve.Violations))
	for _, v := range ve.Violations {
		fields = append(fields, fieldErr(field, persianViolation(v)))
	}
	fail(w, r, http.StatusBadRequest, fields[0].Message, fields...)
	return false
}

// persianViolation words a violation as the original's validators did.
func persianViolation(v password.Violation) string {
	switch v.Rule {
	case password.RuleTooShort:
		return fmt.Sprintf("رمز عبور باید حداقل %d کاراکتر باشد.", v.Min)
	case password.RuleTooLong:
		return fmt.Sprintf("رمز عبور باید حداکثر %d کاراکتر باشد.", v.Max)
	case password.RuleMissingUpper:
		return "رمز عبور باید حداقل یک حرف بزرگ داشته باشد."
	case password.RuleMissingLower:
		return "رمز عبور باید حداقل یک حرف کوچک داشته باشد."
	case password.RuleMissingDigit:
		return "رمز عبور باید حداقل یک عدد داشته باشد."
	case password.RuleMissingSymbol:
		return "رمز عبور باید حداقل یک کاراکتر خاص (" + v.Symbols + ") داشته باشد."
	case password.RuleNumeric:
		return "رمز عبور نمی‌تواند فقط شامل اعداد باشد."
	case password.RuleCommon:
		return "این رمز عبور خیلی ساده است. لطفاً رمز عبور قوی‌تری انتخاب کنید."
	case password.RuleSimilar:
		return "رمز عبور شما خیلی شبیه اطلاعات شخصی شما است."
	case password.RuleBreached:
		return "این رمز عبور در نشت‌های اطلاعاتی دیده شده است؛ رمز دیگری انتخاب کنید."
	}
	return v.String()
}

// POST /api/auth/login
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email      string `json:"email"`
		Password   string `json:"password"`
		RememberMe bool   `json:"remember_me"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	email := normalizeEmail(in.Email)
	if email == "" || in.Password == "" {
		var fields []problem.FieldError
		if email == "" {
			fields = append(fields, fieldErr("email", "required"))
		}
		if in.Password == "" {
			fields = append(fields, fieldErr("password", "required"))
		}
		fail(w, r, http.StatusBadRequest, "This field is required.", fields...)
		return
	}
	ctx := r.Context()
	ip := clientip.FromRequest(r)
	st, err := s.o.Lockout.Check(ctx, email, ip)
	if err != nil {
		s.internal(w, r, "lockout check", err)
		return
	}
	if st.Locked {
		s.event(r, EvLoginFail, "failure", slog.String("reason", "locked"), slog.String("scope", st.Scope))
		s.locked(w, r, st)
		return
	}
	u, err := s.o.DB.UserByEmail(ctx, email)
	found := err == nil
	if err != nil && !errors.Is(err, data.ErrNotFound) {
		s.internal(w, r, "load user", err)
		return
	}
	var rehash bool
	if found {
		rehash, err = s.o.Hasher.Verify(ctx, u.Password, in.Password)
	} else {
		err = s.o.Hasher.DummyVerify(ctx, in.Password)
		if err == nil {
			err = password.ErrMismatch
		}
	}
	if err == nil && !u.IsActive {
		err = password.ErrMismatch
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, password.ErrBusy) {
			// Not the client's failure: do not count it towards a lock.
			w.Header().Set("Retry-After", "2")
			fail(w, r, http.StatusServiceUnavailable, "سرور مشغول است؛ چند لحظه بعد دوباره تلاش کنید (server busy)")
			return
		}
		if !errors.Is(err, password.ErrMismatch) && !errors.Is(err, password.ErrPasswordTooLong) {
			// A stored hash we cannot verify: say so in the log, answer as
			// for a wrong password.
			s.o.Logger.WarnContext(ctx, "api: password verification failed", "err", err)
		}
		st, lerr := s.o.Lockout.Failure(ctx, email, ip)
		if lerr != nil {
			s.o.Logger.ErrorContext(ctx, "api: lockout failure", "err", lerr)
		}
		attrs := []slog.Attr{slog.String("reason", "invalid_credentials")}
		if found {
			attrs = append(attrs, slog.Int64("user_id", u.ID))
		}
		s.event(r, EvLoginFail, "failure", attrs...)
		if st.Locked {
			s.locked(w, r, st)
			return
		}
		fail(w, r, http.StatusUnauthorized, "Invalid credentials")
		return
	}
	if err := s.o.Lockout.Success(ctx, email, ip); err != nil {
		s.o.Logger.ErrorContext(ctx, "api: lockout success", "err", err)
	}
	if rehash {
		if h, err := s.o.Hasher.Hash(ctx, in.Password); err == nil {
			if err := s.o.DB.UpgradePassword(ctx, u.ID, u.Password, h); err != nil {
				s.o.Logger.ErrorContext(ctx, "api: upgrade password hash", "err", err)
			}
		}
	}
	_ = s.o.DB.TouchLogin(ctx, u.ID)
	var refreshTTL time.Duration
	if in.RememberMe {
		// A longer idle allowance for this session only; every rotation
		// keeps it, SENFI_SESSION_TTL still ends the session.
		refreshTTL = s.o.RememberTTL
	}
	p, ok := s.issueSession(w, r, u, refreshTTL)
	if !ok {
		return
	}
	s.event(r, EvLoginSuccess, "success", slog.Int64("user_id", u.ID), slog.String("family", p.Family), slog.Bool("hash_upgraded", rehash))
	writeJSON(w, http.StatusOK, tokenResponse(p, u))
}

// locked answers a locked login: 429 with Retry-After.
func (s *Server) locked(w http.ResponseWriter, r *http.Request, st ratelimit.LockStatus) {
	secs := int((st.RetryAfter + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	failExt(w, r, http.StatusTooManyRequests,
		fmt.Sprintf("به دلیل تلاش‌های ناموفق زیاد، ورود تا %d دقیقه دیگر ممکن نیست. (too many failed logins; retry later)", (secs+59)/60),
		map[string]any{"retry_after": secs})
}

// POST /api/auth/refresh
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	if strings.TrimSpace(in.RefreshToken) == "" {
		fail(w, r, http.StatusBadRequest, "Refresh token is required", fieldErr("refresh_token", "required"))
		return
	}
	p, err := s.o.Auth.Refresh(r.Context(), strings.TrimSpace(in.RefreshToken))
	if err != nil {
		if jwtauth.StatusCode(err) == http.StatusServiceUnavailable {
			jwtauth.WriteError(w, r, err, "api")
			return
		}
		s.event(r, EvTokenInvalid, "failure", slog.String("token", "refresh"), slog.String("reason", tokenReason(err)))
		fail(w, r, http.StatusUnauthorized, "Invalid refresh token")
		return
	}
	s.touchSession(r, p)
	s.event(r, EvTokenRefreshed, "success", slog.String("family", p.Family))
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true, "access_token": p.AccessToken, "token": p.AccessToken,
		"refresh_token": p.RefreshToken, "expires_at": timeJSON(p.AccessExpiresAt),
	})
}

// tokenReason names why a token was refused, for the log.
func tokenReason(err error) string {
	switch {
	case errors.Is(err, jwtauth.ErrTokenReused):
		return "reused"
	case errors.Is(err, jwtauth.ErrTokenRevoked):
		return "revoked"
	case errors.Is(err, jwtauth.ErrTokenExpired), errors.Is(err, jwtauth.ErrSessionExpired):
		return "expired"
	case errors.Is(err, jwtauth.ErrWrongTokenType):
		return "wrong_type"
	}
	return "invalid"
}

// POST /api/auth/logout
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if !decode(w, r, &in, true) {
		return
	}
	c, _ := claims(r)
	ctx := r.Context()
	if err := s.o.Auth.Revoke(ctx, c.Family); err != nil {
		s.internal(w, r, "revoke family", err)
		return
	}
	if rt := strings.TrimSpace(in.RefreshToken); rt != "" {
		// A refresh token of another session of the same user ends it too;
		// anything else is ignored (logout must not fail on a stale token).
		if rc, err := s.o.Auth.Verify(ctx, rt, jwtauth.Refresh); err == nil && rc.Subject == c.Subject && rc.Family != c.Family {
			if err := s.o.Auth.Revoke(ctx, rc.Family); err != nil {
				s.internal(w, r, "revoke family", err)
				return
			}
		}
	}
	s.event(r, EvTokenRevoked, "success", slog.String("scope", "session"), slog.String("family", c.Family))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "خروج با موفقیت انجام شد"})
}

// POST /api/auth/logout-all
func (s *Server) logoutAll(w http.ResponseWriter, r *http.Request) {
	c, _ := claims(r)
	if err := s.o.Auth.RevokeSubject(r.Context(), c.Subject); err != nil {
		s.internal(w, r, "revoke subject", err)
		return
	}
	s.event(r, EvTokenRevoked, "success", slog.String("scope", "all_sessions"))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "از همه نشست‌ها خارج شدید"})
}

// POST /api/auth/change-password
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
		Confirm string `json:"confirm_password"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	u, c, ok := s.caller(w, r)
	if !ok {
		return
	}
	switch {
	case in.Current == "":
		fail(w, r, http.StatusBadRequest, "رمز عبور فعلی الزامی است.", fieldErr("current_password", "required"))
		return
	case in.New == "":
		fail(w, r, http.StatusBadRequest, "رمز عبور جدید الزامی است.", fieldErr("new_password", "required"))
		return
	case in.New != in.Confirm:
		fail(w, r, http.StatusBadRequest, "رمز عبور جدید و تکرار آن یکسان نیستند.", fieldErr("confirm_password", "does not match new_password"))
		return
	}
	ctx := r.Context()
	if _, err := s.o.Hasher.Verify(ctx, u.Password, in.Current); err != nil {
		if ctx.Err() != nil {
			return
		}
		s.event(r, EvPasswordChange, "failure", slog.String("reason", "wrong_current_password"))
		fail(w, r, http.StatusBadRequest, "رمز عبور فعلی اشتباه است.", fieldErr("current_password", "wrong password"))
		return
	}
	if !s.checkPasswordField(w, r, "new_password", in.New, u.Email) {
		return
	}
	if !s.setPassword(w, r, u, in.New) {
		return
	}
	s.event(r, EvPasswordChange, "success", slog.String("family", c.Family))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "رمز عبور با موفقیت تغییر کرد. لطفاً دوباره وارد شوید."})
}

// setPassword stores a new hash and revokes every session of the user.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, u data.User, pw string) bool {
	ctx := r.Context()
	hash, err := s.o.Hasher.Hash(ctx, pw)
	if err != nil {
		s.internal(w, r, "hash password", err)
		return false
	}
	if err := s.o.DB.SetPassword(ctx, u.ID, hash); err != nil {
		s.internal(w, r, "set password", err)
		return false
	}
	if err := s.o.Auth.RevokeSubject(ctx, strconv.FormatInt(u.ID, 10)); err != nil {
		s.internal(w, r, "revoke sessions", err)
		return false
	}
	s.event(r, EvTokenRevoked, "success", slog.String("scope", "all_sessions"), slog.Int64("user_id", u.ID), slog.String("reason", "password_change"))
	return true
}

// POST /api/auth/password-reset/request
func (s *Server) resetRequest(w http.ResponseWriter, r *http.Request) {
	email, ok := decodeEmail(w, r)
	if !ok {
		return
	}
	if validEmail(email) {
		_, err := s.o.DB.UserByEmail(r.Context(), email)
		switch {
		case err == nil:
			// A cooldown is not reported: the answer must not differ
			// between registered and unknown addresses.
			if !s.issueCode(w, r, email, data.PurposeReset, true) {
				return
			}
		case !errors.Is(err, data.ErrNotFound):
			s.internal(w, r, "load user", err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "اگر این ایمیل ثبت شده باشد، کد بازیابی برای آن ارسال شد."})
}

// POST /api/auth/password-reset/confirm
func (s *Server) resetConfirm(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email       string `json:"email"`
		Code        string `json:"code"`
		NewPassword string `json:"new_password"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	email, code := normalizeEmail(in.Email), strings.TrimSpace(in.Code)
	switch {
	case email == "":
		fail(w, r, http.StatusBadRequest, "Email is required", fieldErr("email", "required"))
		return
	case code == "":
		fail(w, r, http.StatusBadRequest, "Verification code is required", fieldErr("code", "required"))
		return
	case in.NewPassword == "":
		fail(w, r, http.StatusBadRequest, "رمز عبور جدید الزامی است.", fieldErr("new_password", "required"))
		return
	}
	if !s.checkPasswordField(w, r, "new_password", in.NewPassword, email) {
		return
	}
	ctx := r.Context()
	bad := func() {
		s.event(r, EvPasswordReset, "failure", slog.String("reason", "invalid_code"))
		fail(w, r, http.StatusBadRequest, "کد بازیابی نامعتبر یا منقضی شده است.", fieldErr("code", "invalid or expired"))
	}
	if !isCode(code) {
		bad()
		return
	}
	ok, err := s.o.DB.CheckCode(ctx, email, data.PurposeReset, s.codeHash(data.PurposeReset, email, code), CodeMaxAttempts)
	if err != nil {
		s.internal(w, r, "check code", err)
		return
	}
	if !ok {
		bad()
		return
	}
	u, err := s.o.DB.UserByEmail(ctx, email)
	if errors.Is(err, data.ErrNotFound) {
		bad()
		return
	}
	if err != nil {
		s.internal(w, r, "load user", err)
		return
	}
	if !s.setPassword(w, r, u, in.NewPassword) {
		return
	}
	if err := s.o.Lockout.Success(ctx, email, clientip.FromRequest(r)); err != nil {
		s.o.Logger.ErrorContext(ctx, "api: lockout reset", "err", err)
	}
	s.event(r, EvPasswordReset, "success", slog.Int64("user_id", u.ID))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "رمز عبور با موفقیت بازنشانی شد."})
}

// GET /api/auth/user
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u, _, ok := s.caller(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

// GET /api/auth/validate
func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	u, _, ok := s.caller(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "user": shortUser(u)})
}

// POST /api/auth/test-email (superadmin)
func (s *Server) testEmail(w http.ResponseWriter, r *http.Request) {
	if s.o.CheckMail == nil {
		fail(w, r, http.StatusServiceUnavailable, "no SMTP server is configured (SENFI_SMTP_HOST); mails are printed to stdout")
		return
	}
	if err := s.o.CheckMail(r.Context()); err != nil {
		s.o.Logger.WarnContext(r.Context(), "api: mail check failed", "err", err)
		s.event(r, EvMailCheck, "failure")
		fail(w, r, http.StatusBadGateway, s.o.DescribeMailError(err))
		return
	}
	s.event(r, EvMailCheck, "success")
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Email configuration is working"})
}

// fieldErr builds a field error.
func fieldErr(field, msg string) problem.FieldError {
	return problem.FieldError{Field: field, Message: msg}
}

// textLen counts code points, as the reference's len() did.
func textLen(s string) int { return utf8.RuneCountInString(s) }
