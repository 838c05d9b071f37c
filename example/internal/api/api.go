// Package api serves the Senfi HTTP API of ../shared/spec/senfi-api.md: auth
// and users (§3), campaigns and signatures (§4), the generation B/C routes of
// the reference's §9 (campaign pages, categories, polls, blog, my-content
// lists, e-mail-code login, council status; head_routes.go) and the privacy
// routes (export, account deletion, sessions; privacy.go, sessions.go),
// behind the middleware chain that package app builds.
//
// Handlers share a few rules, kept in this file: every path is served with and
// without a trailing slash; an {id} that is not a positive 64-bit integer is
// 404; bodies are decoded strictly by secure.DecodeJSON (unknown fields
// ignored, wrong types 400 naming the field); every error is problem+json with
// "success": false (set once for the whole chain, see Handler); role denials
// are 403 "دسترسی ندارید.".
package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/example/internal/mail"
	"github.com/senfi-sharif/senfi/internal/problem"
	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/password"
	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/secure"
)

// Roles, as in the reference (§2.4) plus the category moderators of HEAD.
const (
	RoleUser          = "simple_user"
	RoleCenterMember  = "center_member"
	RoleHead          = "head"
	RoleSuperadmin    = "superadmin"
	RoleFacultyMember = "faculty_member"
	RoleDormMember    = "dorm_member"
)

// ADMIN3 and HEAD2 are the reference's role groups.
var (
	ADMIN3 = []string{RoleSuperadmin, RoleHead, RoleCenterMember}
	HEAD2  = []string{RoleSuperadmin, RoleHead}
)

// assignable are the roles PUT /api/user/{id}/role may set.
var assignable = map[string]bool{
	RoleUser: true, RoleCenterMember: true, RoleHead: true, RoleFacultyMember: true, RoleDormMember: true,
}

// Persian messages of the original, reused where the contract keeps them.
const (
	msgForbidden        = "دسترسی ندارید."
	msgCampaignNotFound = "کارزار یافت نشد"
	msgUserNotFound     = "کاربر یافت نشد"
	msgUserNotFound2    = "کاربر پیدا نشد"
	msgAlreadySigned    = "شما قبلاً این کارزار را امضا کرده‌اید"
	msgInvalidInput     = "اطلاعات وارد شده نامعتبر است"
)

// Event names sent to Options.Event (the OWASP logging vocabulary where it
// has a name).
const (
	EvLoginSuccess     = "authn_login_success"
	EvLoginFail        = "authn_login_fail"
	EvLoginLock        = "authn_login_lock"
	EvTokenCreated     = "authn_token_created"
	EvTokenRefreshed   = "authn_token_refreshed"
	EvTokenRevoked     = "authn_token_revoked"
	EvTokenInvalid     = "authn_token_invalid"
	EvPasswordChange   = "authn_password_change"
	EvPasswordReset    = "authn_password_reset"
	EvUserCreated      = "user_created"
	EvAuthzFail        = "authz_fail"
	EvAuthzChange      = "authz_change"
	EvCodeSent         = "verification_code_sent"
	EvCodeFail         = "verification_fail"
	EvCodeSuccess      = "verification_success"
	EvCampaignCreated  = "campaign_created"
	EvCampaignStatus   = "campaign_status_change"
	EvCampaignSigned   = "campaign_signed"
	EvMailCheck        = "mail_check"
	EvRateLimitBlocked = "excess_rate_limit_exceeded"
)

// EventFunc records a security event for the request: name is one of the Ev
// constants, outcome "success" or "failure", attrs the event's fields (never
// secrets). The app sends it to the audit log.
type EventFunc func(r *http.Request, name, outcome string, attrs ...slog.Attr)

// Mailer queues a message for delivery without waiting for the SMTP server.
type Mailer interface {
	Enqueue(m mail.Message) error
}

// Options are the API's dependencies. Every field without a "Zero value"
// note is required.
type Options struct {
	DB      *data.DB
	Auth    *jwtauth.Authenticator
	Hasher  *password.Hasher
	Policy  password.Policy
	Lockout *ratelimit.Lockout
	// Limits are the per-route limiters by contract name (LOGIN, SIGN, ...).
	// A missing name leaves that route unlimited.
	Limits map[string]*ratelimit.Limiter
	Mailer Mailer
	// CheckMail tests the SMTP connection for POST /api/auth/test-email. Zero
	// value: the endpoint answers 503 (no mail server configured).
	CheckMail func(ctx context.Context) error
	// DescribeMailError turns a CheckMail error into a safe message. Zero
	// value: a generic message.
	DescribeMailError func(error) string
	// EmailDomains may register ("sharif.edu").
	EmailDomains []string
	// CodeKey keys the HMAC under which verification codes are stored.
	CodeKey []byte
	// RememberTTL is the refresh-token lifetime of a password login with
	// "remember_me": true (the original meant 14-day tokens and never made
	// them). Zero value: remember_me changes nothing.
	RememberTTL time.Duration
	// Privacy pseudonymises what sessions, exports and events record.
	// Zero value: IPs truncated, no user pseudonyms, exports without
	// security-log events.
	Privacy *Privacy
	// Event records security events. Zero value: nothing is recorded.
	Event EventFunc
	// Logger receives internal errors (never sent to clients). Zero value:
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// Server holds the handlers.
type Server struct {
	o        Options
	mux      *http.ServeMux
	patterns []string // registered through Handle, in order
	// limitNames are the contract names the routes asked Limits for.
	limitNames map[string]bool
}

// New builds the API's routes.
func New(o Options) (*Server, error) {
	switch {
	case o.DB == nil, o.Auth == nil, o.Hasher == nil, o.Lockout == nil, o.Mailer == nil:
		return nil, errors.New("api: DB, Auth, Hasher, Lockout and Mailer are required")
	case len(o.CodeKey) < 32:
		return nil, errors.New("api: CodeKey must be at least 32 bytes")
	case len(o.EmailDomains) == 0:
		return nil, errors.New("api: EmailDomains must name at least one domain")
	}
	if err := o.Policy.Check(); err != nil {
		return nil, err
	}
	p := defaultPrivacy
	if o.Privacy != nil {
		p = *o.Privacy
		if p.IP == nil { // default only what is missing: keep User and AuditLog
			p.IP = defaultPrivacy.IP
		}
	}
	o.Privacy = &p
	if o.Privacy.MaxAuditEvents <= 0 {
		o.Privacy.MaxAuditEvents = 1000
	}
	if o.Event == nil {
		o.Event = func(*http.Request, string, string, ...slog.Attr) {}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DescribeMailError == nil {
		o.DescribeMailError = func(error) string { return "the mail server check failed; see the server log" }
	}
	// SEND_CODE_EMAIL is spent by the code handlers themselves (per address).
	s := &Server{o: o, mux: http.NewServeMux(), limitNames: map[string]bool{"SEND_CODE_EMAIL": true}}
	s.routes()
	return s, nil
}

// Mux is the route table, for callers that add routes of their own.
func (s *Server) Mux() *http.ServeMux { return s.mux }

// Routes lists the patterns registered through Handle ("METHOD /path"),
// without their trailing-slash twins, in registration order: the OpenAPI
// contract test checks that the document describes every one.
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

// LimitNames returns the rate-limit names (LOGIN, SIGN, ...) the routes look
// up in Options.Limits, sorted. A name missing from Limits leaves its route
// unlimited, so the app's tests compare this list with the names it
// configures.
func (s *Server) LimitNames() []string { return slices.Sorted(maps.Keys(s.limitNames)) }

// Handle registers h for pattern ("METHOD /path") and the same path with a
// trailing slash, so that both forms are served identically.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.patterns = append(s.patterns, pattern)
	if !strings.HasSuffix(pattern, "/") {
		// "/{$}" matches exactly the slash form; a bare trailing slash
		// would match the whole subtree.
		s.mux.Handle(pattern+"/{$}", h)
	}
}

// requireAuth admits authenticated requests only (401 otherwise).
func (s *Server) requireAuth(h http.Handler) http.Handler { return s.o.Auth.Require(h) }

// requireRole admits authenticated requests whose role is one of roles (403
// "دسترسی ندارید." otherwise).
func (s *Server) requireRole(roles ...string) func(http.Handler) http.Handler {
	return s.o.Auth.RequireRole(roles...) // 401 without a token, as Require
}

// limited wraps h in the limiter of that contract name, if configured.
func (s *Server) limited(name string, h http.HandlerFunc) http.Handler {
	s.limitNames[name] = true
	if l := s.o.Limits[name]; l != nil {
		return l.Handler(h)
	}
	return h
}

// userLimited is limited after authentication (per-user limits need the
// user).
func (s *Server) userLimited(name string, h http.HandlerFunc) http.Handler {
	return s.requireAuth(s.limited(name, h))
}

func (s *Server) routes() {
	auth, role, limit, withUserLimit := s.requireAuth, s.requireRole, s.limited, s.userLimited

	// §3 auth and users
	s.Handle("POST /api/auth/check-email", limit("CHECK_EMAIL", s.checkEmail))
	s.Handle("POST /api/auth/send-code", limit("SEND_CODE", s.sendCode))
	s.Handle("POST /api/auth/verify-code", limit("VERIFY_CODE", s.verifyCode))
	s.Handle("POST /api/auth/register", limit("REGISTER", s.register))
	s.Handle("POST /api/auth/login", limit("LOGIN", s.login))
	s.Handle("POST /api/auth/refresh", limit("REFRESH", s.refresh))
	s.Handle("POST /api/auth/logout", auth(http.HandlerFunc(s.logout)))
	s.Handle("POST /api/auth/logout-all", auth(http.HandlerFunc(s.logoutAll)))
	s.Handle("POST /api/auth/change-password", withUserLimit("CHANGE_PASSWORD", s.changePassword))
	s.Handle("POST /api/auth/password-reset/request", limit("PASSWORD_RESET", s.resetRequest))
	s.Handle("POST /api/auth/password-reset/confirm", limit("PASSWORD_RESET", s.resetConfirm))
	s.Handle("GET /api/auth/user", auth(http.HandlerFunc(s.me)))
	s.Handle("GET /api/auth/validate", auth(http.HandlerFunc(s.validate)))
	s.Handle("POST /api/auth/test-email", role(RoleSuperadmin)(http.HandlerFunc(s.testEmail)))
	s.Handle("GET /api/auth/users", role(HEAD2...)(http.HandlerFunc(s.users)))
	s.Handle("GET /api/auth/user/{id}", role(HEAD2...)(http.HandlerFunc(s.userDetail)))
	s.Handle("PUT /api/user/{id}/role", role(RoleSuperadmin)(http.HandlerFunc(s.changeRole)))

	// §4 campaigns and signatures
	s.Handle("POST /api/campaigns/submit", withUserLimit("SUBMIT", s.submit))
	s.Handle("GET /api/campaigns/approved", http.HandlerFunc(s.approved))
	s.Handle("GET /api/campaigns/rejected", role(moderatorRoles...)(http.HandlerFunc(s.rejected)))
	s.Handle("GET /api/admin/campaigns", role(moderatorRoles...)(http.HandlerFunc(s.pending)))
	s.Handle("POST /api/admin/campaigns/approve", role(moderatorRoles...)(http.HandlerFunc(s.approve)))
	s.Handle("PUT /api/campaigns/{id}/status", role(moderatorRoles...)(http.HandlerFunc(s.setStatus)))
	s.Handle("POST /api/campaigns/{id}/sign", withUserLimit("SIGN", s.sign))
	s.Handle("GET /api/campaigns/{id}/signatures", http.HandlerFunc(s.signatures))
	s.Handle("GET /api/campaigns/{id}/check-signature", auth(http.HandlerFunc(s.checkSignature)))
	s.Handle("GET /api/user/signed-campaigns", auth(http.HandlerFunc(s.mySignatures)))
	s.Handle("GET /api/user/{id}/signed-campaigns", role(HEAD2...)(http.HandlerFunc(s.userSignatures)))

	s.headRoutes()
	s.privacyRoutes()
}

// ---- responses ----

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		problem.Write(w, nil, problem.New(http.StatusInternalServerError, "the response could not be encoded"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// fail sends a problem with the detail and optional field errors.
func fail(w http.ResponseWriter, r *http.Request, status int, detail string, fields ...problem.FieldError) {
	problem.Write(w, r, problem.Problem{Status: status, Detail: detail, Errors: fields})
}

// failExt sends a problem with extension members (e.g. "valid": false).
func failExt(w http.ResponseWriter, r *http.Request, status int, detail string, ext map[string]any) {
	problem.Write(w, r, problem.Problem{Status: status, Detail: detail, Extensions: ext})
}

// internal logs err and sends a 500 that says nothing about it.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, where string, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	s.o.Logger.ErrorContext(r.Context(), "api: "+where, "err", err, "route", r.Pattern)
	fail(w, r, http.StatusInternalServerError, "خطای داخلی سرور؛ لطفاً دوباره تلاش کنید (internal error)")
}

// decode reads the JSON body into v; on error it has answered.
// allowEmpty accepts a request without a body (fields keep their zero values).
func decode(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) bool {
	err := secure.DecodeJSON(r, v, secure.JSONOptions{})
	if err == nil {
		return true
	}
	if allowEmpty && errors.Is(err, secure.ErrEmptyBody) {
		return true
	}
	var re *secure.RequestError
	if errors.As(err, &re) {
		secure.WriteError(w, r, err) // the field, the sentinel's type URI, Connection: close on 413
		return false
	}
	fail(w, r, http.StatusBadRequest, msgInvalidInput)
	return false
}

// pathID reads the {id} path value; anything but a positive int64 is 404.
func pathID(w http.ResponseWriter, r *http.Request, notFound string) (int64, bool) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || v[0] == '+' {
		fail(w, r, http.StatusNotFound, notFound)
		return 0, false
	}
	return id, true
}

// ---- identity ----

// claims returns the caller's verified token claims, if any.
func claims(r *http.Request) (*jwtauth.Claims, bool) { return jwtauth.FromContext(r.Context()) }

// caller loads the authenticated user. A token whose user no longer exists
// or is inactive gets 401, as in the reference. ok=false: answered.
func (s *Server) caller(w http.ResponseWriter, r *http.Request) (data.User, *jwtauth.Claims, bool) {
	c, ok := claims(r)
	if !ok {
		jwtauth.WriteError(w, r, jwtauth.ErrNoToken, "api")
		return data.User{}, nil, false
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		jwtauth.WriteError(w, r, jwtauth.ErrInvalidToken, "api")
		return data.User{}, nil, false
	}
	u, err := s.o.DB.UserByID(r.Context(), id)
	if errors.Is(err, data.ErrNotFound) || (err == nil && !u.IsActive) {
		jwtauth.WriteError(w, r, jwtauth.ErrInvalidToken, "api")
		return data.User{}, nil, false
	}
	if err != nil {
		s.internal(w, r, "load caller", err)
		return data.User{}, nil, false
	}
	return u, c, true
}

// optionalCaller is caller for endpoints open to anonymous clients.
func (s *Server) optionalCaller(w http.ResponseWriter, r *http.Request) (u data.User, anonymous, ok bool) {
	if _, has := claims(r); !has {
		return data.User{}, true, true
	}
	u, _, ok = s.caller(w, r)
	return u, false, ok
}

// codeHash is the stored form of a verification code.
func (s *Server) codeHash(purpose, email, code string) string {
	m := hmac.New(sha256.New, s.o.CodeKey)
	m.Write([]byte(purpose + "\x00" + email + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// event records a security event.
func (s *Server) event(r *http.Request, name, outcome string, attrs ...slog.Attr) {
	s.o.Event(r, name, outcome, attrs...)
}

// timeJSON formats a time as the reference did: UTC, RFC 3339, fractional
// seconds only when non-zero.
func timeJSON(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ForbiddenHandler is the jwtauth ErrorHandler the app installs: 403 in the
// original's Persian words, every other failure as jwtauth writes it. report,
// when set, is told about every refusal except a request without any token
// (the app records authz_fail and authn_token_invalid events).
func ForbiddenHandler(realm string, report func(r *http.Request, name string, attrs ...slog.Attr)) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		status := jwtauth.StatusCode(err)
		if report != nil {
			switch {
			case status == http.StatusForbidden:
				report(r, EvAuthzFail, slog.String("route", r.URL.Path))
			case status == http.StatusUnauthorized && !errors.Is(err, jwtauth.ErrNoToken):
				report(r, EvTokenInvalid, slog.String("token", "access"), slog.String("reason", tokenReason(err)))
			}
		}
		if status == http.StatusForbidden {
			fail(w, r, http.StatusForbidden, msgForbidden)
			return
		}
		jwtauth.WriteError(w, r, err, realm)
	}
}

type limitKey struct{}

// withLimitKey returns r carrying a key for the limiter of EmailKey.
func withLimitKey(r *http.Request, key string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), limitKey{}, key))
}

// EmailKey is the key function of the per-address limiter SEND_CODE_EMAIL:
// the normalized address the handler decoded from the body.
func EmailKey(r *http.Request, dst []byte) ([]byte, error) {
	k, ok := r.Context().Value(limitKey{}).(string)
	if !ok || k == "" {
		return dst, ratelimit.ErrNoKey
	}
	return append(append(dst, "email:"...), k...), nil
}
