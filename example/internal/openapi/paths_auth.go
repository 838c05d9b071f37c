package openapi

import (
	"net/http"

	"github.com/senfi-sharif/senfi/example/internal/api"
)

// authPaths are the auth and user routes (contract §3, and the e-mail-code
// login and council membership of generation B/C).
func (b *builder) authPaths() {
	emailBody := jsonBody(object(req("email", email())), map[string]any{"email": exEmail})
	codeBody := jsonBody(object(req("email", email()), req("code", note(str(6, 6), "Six ASCII digits."))),
		map[string]any{"email": exEmail, "code": "482913"})
	sent := ok200("Accepted; the same answer whether or not the address has an account.",
		ref("Message"), map[string]any{"success": true, "message": "اگر این ایمیل ثبت شده باشد، کد بازیابی برای آن ارسال شد."})
	tokens := ref("TokenResponse")

	b.add("POST /api/auth/check-email", operation{
		id: "checkEmail", tag: "auth", summary: "Tell whether an address is registered",
		description: "Truthful and case-insensitive (the registration form needs it); rate-limited per address " +
			"of the caller. An address outside the allowed domains is `exists: false`.",
		limit: "CHECK_EMAIL", body: emailBody,
		ok: []success{ok200("Whether an account uses the address.", closed(object(req("exists", boolean()))), map[string]any{"exists": true})},
	})
	b.add("POST /api/auth/send-code", operation{
		id: "sendCode", tag: "auth", summary: "Mail a registration code",
		description: "Mails a 6-digit code, valid 10 minutes, to an address of an allowed domain (sharif.edu by " +
			"default), also when the address is registered (no enumeration). A new code replaces the old one; " +
			"within 60 s of the last code the answer is 429 with `Retry-After`. Per address: `SEND_CODE_EMAIL`.",
		limit: "SEND_CODE", body: emailBody,
		ok:     []success{ok200("The code is on its way.", ref("Success"), map[string]any{"success": true})},
		errors: []int{http.StatusServiceUnavailable},
	})
	b.add("POST /api/auth/verify-code", operation{
		id: "verifyCode", tag: "auth", summary: "Check a registration code",
		description: "A wrong code is `valid: false`, not an error. After 5 wrong tries the code is dead (even the " +
			"right one is then `valid: false`). A right code is used up and marks the address verified for " +
			"registration for 30 minutes. Malformed input is 400 with `valid: false` in the problem.",
		limit: "VERIFY_CODE", body: codeBody,
		ok: []success{ok200("Whether the code was right.", closed(object(req("valid", boolean()))), map[string]any{"valid": true})},
	})
	b.add("POST /api/auth/register", operation{
		id: "register", tag: "auth", summary: "Create an account",
		description: "The address must be verified (by a prior verify-code, or a valid `code` here) and the " +
			"password must satisfy the password policy (each violation is a field error). Logs the new user in.",
		limit: "REGISTER",
		body: jsonBody(object(
			req("email", email()),
			req("password", str(1, 0)),
			in("faculty", enum(withEmpty(api.Faculties)...)),
			in("dormitory", enum(withEmpty(api.Dormitories)...)),
			in("code", note(str(0, 0), "A registration code, instead of a prior verify-code.")),
		), map[string]any{"email": exEmail, "password": "correct horse battery staple 7", "faculty": "کامپیوتر"}),
		ok:     []success{created("Registered and logged in.", tokens, nil)},
		errors: []int{http.StatusConflict},
	})
	b.add("POST /api/auth/login", operation{
		id: "login", tag: "auth", summary: "Log in with e-mail and password",
		description: "Wrong e-mail or password is 401 `Invalid credentials`, with the same answer and timing for " +
			"unknown addresses. Five consecutive failures lock the account for 15 minutes, doubling on repeat " +
			"(429 with `Retry-After` and `retry_after`, even with the right password, except from an address " +
			"that logged into the account within 30 days). 503 when the server is too busy hashing. " +
			"`remember_me: true` keeps the session's refresh tokens valid for SENFI_REMEMBER_TTL (by default 14 days) " +
			"instead of SENFI_REFRESH_TTL (by default 7 days), through every refresh.",
		limit: "LOGIN",
		body: jsonBody(object(req("email", email()), req("password", str(1, 0)), in("remember_me", boolean())),
			map[string]any{"email": exEmail, "password": "correct horse battery staple 7"}),
		ok:     []success{ok200("Logged in.", tokens, nil)},
		errors: []int{http.StatusUnauthorized, http.StatusServiceUnavailable},
	})
	b.add("POST /api/auth/refresh", operation{
		id: "refreshToken", tag: "auth", summary: "Exchange a refresh token for new tokens",
		description: "Rotates: the refresh token is used up and a new pair returned. Presenting a used refresh " +
			"token again is 401 and ends its whole session (reuse detection).",
		limit: "REFRESH",
		body:  jsonBody(object(req("refresh_token", str(1, 0))), map[string]any{"refresh_token": exJWT}),
		ok: []success{ok200("A new token pair.", object(
			req("success", constant(true)), req("access_token", str(1, 0)), req("token", str(1, 0)),
			req("refresh_token", str(1, 0)), req("expires_at", dateTime()),
		), nil)},
		errors: []int{http.StatusUnauthorized, http.StatusServiceUnavailable},
	})
	b.add("POST /api/auth/logout", operation{
		id: "logout", tag: "auth", summary: "End this session",
		description: "Revokes the token's session (its access token stops working at once) and, when " +
			"`refresh_token` names another session of the same user, that one too. The body may be empty.",
		access: bearer,
		body:   optionalBody(object(in("refresh_token", str(0, 0))), map[string]any{"refresh_token": exJWT}),
		ok:     []success{ok200("Logged out.", ref("Message"), nil)},
	})
	b.add("POST /api/auth/logout-all", operation{
		id: "logoutAll", tag: "auth", summary: "End every session of the user",
		description: "Every token of the user issued before now stops working; a login right after works.",
		access:      bearer,
		ok:          []success{ok200("Logged out everywhere.", ref("Message"), nil)},
	})
	b.add("POST /api/auth/change-password", operation{
		id: "changePassword", tag: "auth", summary: "Change the password",
		description: "A wrong current password is 400. The new password must satisfy the policy. Every session " +
			"of the user ends.",
		access: bearer, limit: "CHANGE_PASSWORD",
		body: jsonBody(object(req("current_password", str(1, 0)), req("new_password", str(1, 0)), req("confirm_password", str(1, 0))),
			map[string]any{"current_password": "correct horse battery staple 7", "new_password": "another long pass phrase 8", "confirm_password": "another long pass phrase 8"}),
		ok: []success{ok200("Changed; log in again.", ref("Message"), nil)},
	})
	b.add("POST /api/auth/password-reset/request", operation{
		id: "requestPasswordReset", tag: "auth", summary: "Mail a password reset code",
		description: "Always the same answer (no enumeration); a code is mailed only when the account exists.",
		limit:       "PASSWORD_RESET", body: emailBody,
		ok: []success{sent},
	})
	b.add("POST /api/auth/password-reset/confirm", operation{
		id: "confirmPasswordReset", tag: "auth", summary: "Set a new password with a reset code",
		description: "A wrong or expired code is 400. Every session of the user ends.",
		limit:       "PASSWORD_RESET",
		body: jsonBody(object(req("email", email()), req("code", str(1, 0)), req("new_password", str(1, 0))),
			map[string]any{"email": exEmail, "code": "482913", "new_password": "another long pass phrase 8"}),
		ok: []success{ok200("The password was reset.", ref("Message"), nil)},
	})
	b.add("POST /api/auth/send-mobile-code", operation{
		id: "sendLoginCode", tag: "auth", summary: "Mail a login code (passwordless login)",
		description: "Generation B/C's e-mail-code login, under its original name. The same answer whether an " +
			"account exists; the code is mailed only to an active account. Codes follow the send-code rules " +
			"(10 minutes, 5 tries, 60 s between codes) and share its per-address limit.",
		limit: "SEND_MOBILE_CODE", body: emailBody,
		ok: []success{sent},
	})
	b.add("POST /api/auth/verify-mobile-code", operation{
		id: "verifyLoginCode", tag: "auth", summary: "Log in with a mailed code",
		description: "A right code of an active account logs in as POST /api/auth/login does; every failure is " +
			"the same 400 `Invalid verification code`.",
		limit: "VERIFY_MOBILE_CODE", body: codeBody,
		ok: []success{ok200("Logged in.", tokens, nil)},
	})
	b.add("GET /api/auth/user", operation{
		id: "currentUser", tag: "auth", summary: "The signed-in user",
		access: bearer,
		ok:     []success{ok200("The bare user object.", ref("User"), nil)},
	})
	b.add("GET /api/auth/validate", operation{
		id: "validateToken", tag: "auth", summary: "Check the token",
		access: bearer,
		ok: []success{ok200("The token is valid.", object(req("valid", constant(true)), req("user", ref("ShortUser"))),
			map[string]any{"valid": true, "user": map[string]any{"id": 7, "email": exEmail, "role": api.RoleUser, "unit": nil}})},
	})
	b.add("POST /api/auth/test-email", operation{
		id: "testEmail", tag: "auth", summary: "Check the mail server",
		description: "Connects to the configured SMTP server. 503 when none is configured; 502 when the check " +
			"fails, saying what failed without server internals.",
		roles:  []string{api.RoleSuperadmin},
		ok:     []success{ok200("The mail server answers.", ref("Message"), nil)},
		errors: []int{http.StatusBadGateway, http.StatusServiceUnavailable},
	})

	// users
	b.add("GET /api/auth/users", operation{
		id: "listUsers", tag: "users", summary: "Every user, newest first",
		roles: api.HEAD2,
		ok:    []success{ok200("A bare array.", array(ref("User")), nil)},
	})
	b.add("GET /api/auth/user/{id}", operation{
		id: "getUser", tag: "users", summary: "One user",
		roles: api.HEAD2,
		ok:    []success{ok200("The user.", ref("User"), nil)},
	})
	b.add("PUT /api/user/{id}/role", operation{
		id: "changeRole", tag: "users", summary: "Change a user's role",
		description: "Never to or from superadmin (400). The target's tokens are revoked, so the change applies at once.",
		roles:       []string{api.RoleSuperadmin},
		body:        jsonBody(object(req("new_role", enum(assignableRoles...))), map[string]any{"new_role": api.RoleCenterMember}),
		ok: []success{ok200("The role was changed.", envelope(req("message", str(1, 0)), req("user", ref("ShortUser"))),
			map[string]any{"success": true, "message": "User role updated successfully.", "user": map[string]any{"id": 7, "email": exEmail, "role": api.RoleCenterMember, "unit": nil}})},
	})
	b.add("PUT /api/user/{id}/council-status", operation{
		id: "setCouncilStatus", tag: "users", summary: "Set a user's General Council membership",
		description: "Members see, post, sign and vote in the council's category; observers only see it. " +
			"Applies at once (read on every request). `status` is accepted for `council_member_status`.",
		roles: api.HEAD2,
		body: jsonBody(requireOne(object(in("council_member_status", enum(councilStatuses...)), in("status", enum(councilStatuses...))),
			"council_member_status", "status"), map[string]any{"council_member_status": "member"}),
		ok: []success{ok200("The membership was set.", envelope(req("message", str(1, 0)), req("user", ref("User"))), nil)},
	})
	b.add("GET /api/user/{id}/signed-campaigns", operation{
		id: "userSignedCampaigns", tag: "users", summary: "A user's public signatures",
		description: "Anonymous signatures are omitted (the original revealed them to heads).",
		roles:       api.HEAD2,
		ok:          []success{ok200("The signatures.", ref("SignedCampaignList"), nil)},
	})
}
