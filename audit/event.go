package audit

import "log/slog"

// Event names what happened, in the words of the OWASP Application Logging
// Vocabulary (https://cheatsheetseries.owasp.org/cheatsheets/Logging_Vocabulary_Cheat_Sheet.html)
// where it has a name, and in the same lower_snake style where it has none.
// A record's "event" field holds the name, so alerts can key on it.
//
// The constants below are the names the kit and the Senfi application use;
// any other lower_snake name may be logged too. Each constant's comment
// gives the level its records get (see [Logger.Log]).
type Event string

// Authentication events (OWASP [AUTHN]).
const (
	// AuthnLoginSuccess: a user logged in. INFO.
	AuthnLoginSuccess Event = "authn_login_success"
	// AuthnLoginSuccessAfterFail: a user logged in after failed attempts.
	// INFO.
	AuthnLoginSuccessAfterFail Event = "authn_login_successafterfail"
	// AuthnLoginFail: a login failed (unknown user, wrong password, inactive
	// account). WARN.
	AuthnLoginFail Event = "authn_login_fail"
	// AuthnLoginFailMax: an account reached its maximum of failed logins.
	// WARN.
	AuthnLoginFailMax Event = "authn_login_fail_max"
	// AuthnLoginLock: an account or address was locked out. WARN.
	AuthnLoginLock Event = "authn_login_lock"
	// AuthnPasswordChange: a password was changed. INFO.
	AuthnPasswordChange Event = "authn_password_change"
	// AuthnPasswordChangeFail: a password change was refused. CRITICAL.
	AuthnPasswordChangeFail Event = "authn_password_change_fail"
	// AuthnTokenCreated: a token (pair) was issued. INFO.
	AuthnTokenCreated Event = "authn_token_created"
	// AuthnTokenRefreshed: a refresh token was exchanged for a new pair.
	// INFO. Not in the OWASP vocabulary.
	AuthnTokenRefreshed Event = "authn_token_refreshed"
	// AuthnTokenRevoked: a token family or all of a user's tokens were
	// revoked (logout, log out everywhere). INFO.
	AuthnTokenRevoked Event = "authn_token_revoked"
	// AuthnTokenReuse: a consumed or revoked token was presented again: a
	// token was probably stolen. CRITICAL.
	AuthnTokenReuse Event = "authn_token_reuse"
	// AuthnTokenDelete: a token was deleted. WARN.
	AuthnTokenDelete Event = "authn_token_delete"
)

// Authorization events (OWASP [AUTHZ]).
const (
	// AuthzFail: an authenticated user was refused access to a resource.
	// CRITICAL.
	AuthzFail Event = "authz_fail"
	// AuthzChange: a user's role or entitlements changed. WARN.
	AuthzChange Event = "authz_change"
	// AuthzAdmin: an administrator did something privileged. WARN.
	AuthzAdmin Event = "authz_admin"
)

// User, session, input, excess-use and system events (OWASP [USER],
// [SESSION], [INPUT], [EXCESS], [SYS]).
const (
	// UserCreated: an account was created. WARN.
	UserCreated Event = "user_created"
	// UserUpdated: an account was changed. WARN.
	UserUpdated Event = "user_updated"
	// UserDeleted: an account was deleted. WARN.
	UserDeleted Event = "user_deleted"
	// SessionExpired: a session ended by expiry. INFO.
	SessionExpired Event = "session_expired"
	// InputValidationFail: the server refused invalid input. WARN.
	InputValidationFail Event = "input_validation_fail"
	// ExcessRateLimitExceeded: a client went over a rate limit. WARN. The
	// OWASP vocabulary has this name, so it is used instead of the
	// "ratelimit_exceeded" of the kit's issue tracker.
	ExcessRateLimitExceeded Event = "excess_rate_limit_exceeded"
	// SysStartup: the application started. WARN.
	SysStartup Event = "sys_startup"
	// SysShutdown: the application stopped. WARN.
	SysShutdown Event = "sys_shutdown"
)

// Events the OWASP vocabulary has no name for.
const (
	// VerificationCodeSent: an email verification code was sent. INFO.
	VerificationCodeSent Event = "verification_code_sent"
	// VerificationSuccess: a verification code was accepted. INFO.
	VerificationSuccess Event = "verification_success"
	// VerificationFail: a verification code was refused. WARN.
	VerificationFail Event = "verification_fail"
	// BackupCreated: a database backup was written. INFO.
	BackupCreated Event = "backup_created"
	// BackupRestored: the database was restored from a backup. WARN.
	BackupRestored Event = "backup_restored"
	// BackupDeleted: retention deleted a backup. INFO.
	BackupDeleted Event = "backup_deleted"
	// BackupVerified: a backup passed verification (a restore test). INFO.
	BackupVerified Event = "backup_verified"
	// BackupFail: a backup or restore failed. ERROR.
	BackupFail Event = "backup_fail"
	// HTTPRequest: one served request, written by [Logger.Requests]. INFO
	// below status 400, WARN for 4xx, ERROR for 5xx and aborted requests.
	HTTPRequest Event = "http_request"
	// HTTPPanic: a handler panicked; written by [Logger.Recover] with the
	// stack. ERROR.
	HTTPPanic Event = "http_panic"
	// AuditCheckpoint: the sequence number and MAC a [Chain] had reached,
	// written to its checkpoint sink. INFO.
	AuditCheckpoint Event = "audit_checkpoint"
)

// Outcome says whether the action an event describes succeeded. A record
// stores it in its "outcome" field.
type Outcome string

// The outcomes.
const (
	// Success: the action was carried out.
	Success Outcome = "success"
	// Failure: the action was refused or failed.
	Failure Outcome = "failure"
)

// LevelCritical is the level of the events the OWASP vocabulary rates
// CRITICAL (token reuse, authorization failures). slog has no such level; a
// record shows it as "CRITICAL".
const LevelCritical = slog.LevelError + 4

// level returns the level of a record of event e with outcome o: the
// event's OWASP level (INFO for events without one), raised to WARN for a
// failure.
func (e Event) level(o Outcome) slog.Level {
	var lv slog.Level
	switch e {
	case AuthnPasswordChangeFail, AuthnTokenReuse, AuthzFail:
		lv = LevelCritical
	case BackupFail, HTTPPanic:
		lv = slog.LevelError
	case AuthnLoginFail, AuthnLoginFailMax, AuthnLoginLock, AuthnTokenDelete,
		AuthzChange, AuthzAdmin, UserCreated, UserUpdated, UserDeleted,
		InputValidationFail, ExcessRateLimitExceeded, SysStartup, SysShutdown,
		VerificationFail, BackupRestored:
		lv = slog.LevelWarn
	default:
		lv = slog.LevelInfo
	}
	if o == Failure && lv < slog.LevelWarn {
		lv = slog.LevelWarn
	}
	return lv
}

// LevelName returns the text a record shows for lv: DEBUG, INFO, WARN,
// ERROR, CRITICAL, or slog's "INFO+2" form for levels in between.
func LevelName(lv slog.Level) string {
	switch lv {
	case slog.LevelDebug:
		return "DEBUG"
	case slog.LevelInfo:
		return "INFO"
	case slog.LevelWarn:
		return "WARN"
	case slog.LevelError:
		return "ERROR"
	case LevelCritical:
		return "CRITICAL"
	}
	return lv.String()
}
