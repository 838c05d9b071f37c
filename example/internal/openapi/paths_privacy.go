package openapi

import (
	"github.com/senfi-sharif/senfi/example/internal/api"
	"github.com/senfi-sharif/senfi/example/internal/data"
)

// privacyPaths are the data-rights and session routes (issue 11): the
// caller's export, account deletion, and the list of logins.
func (b *builder) privacyPaths() {
	msg := ok200("Done.", ref("Message"), nil)
	anyObject := object()

	b.add("GET /api/user/me/export", operation{
		id: "exportMyData", tag: "account", summary: "Everything stored about the caller",
		description: "The profile, campaigns, signatures, poll participation (choices only for polls that are not " +
			"anonymous), polls, posts, sessions and the security-log records whose actor is the caller, and nothing " +
			"about anyone else; sent as an attachment (`senfi-export.json`).",
		access: bearer, limit: "EXPORT",
		ok: []success{ok200("The export.", envelope(
			req("exported_at", dateTime()),
			req("profile", closed(object(
				req("id", integerID()), req("email", email()), req("role", enum(roles...)), req("unit", nullable(str(0, 0))),
				req("faculty", str(0, 0)), req("dormitory", str(0, 0)), req("council_member_status", enum(councilStatuses...)),
				req("is_active", boolean()), req("created_at", dateTime()), req("last_login_at", nullable(dateTime())),
			))),
			req("campaigns", array(ref("Campaign"))),
			req("signatures", array(closed(object(
				req("signature_id", integerID()), req("campaign_id", integerID()), req("campaign_title", str(1, 0)),
				req("signed_at", dateTime()), req("is_anonymous", enum(data.Public, data.Anonymous)),
			)))),
			req("poll_participation", array(closed(object(
				req("poll_id", integerID()), req("poll_title", str(1, 0)), req("poll_is_anonymous", boolean()), req("voted_at", dateTime()),
				opt("choices", note(array(closed(object(req("option_id", integerID()), req("option_text", str(1, 0))))), "Absent for an anonymous poll, which records no choice.")),
			)))),
			req("polls", array(object(
				req("id", integerID()), req("title", str(1, 0)), req("description", str(0, 0)), req("slug", str(0, 0)),
				req("category", str(1, 0)), req("status", enum(statuses...)), req("is_anonymous", boolean()), req("created_at", dateTime()),
			))),
			req("blog_posts", array(ref("BlogPost"))),
			req("sessions", array(ref("Session"))),
			req("ip_mode", enum(api.IPFull, api.IPTruncate, api.IPHMAC)),
			req("audit_events", note(array(anyObject), "Security-log records, oldest first, without the chain's proof members.")),
			req("audit_truncated", boolean()),
			req("max_audit_events", minimum(integer(), 1)),
			req("notes", object()),
		), nil)},
	})
	b.add("DELETE /api/user/me", operation{
		id: "deleteMyAccount", tag: "account", summary: "Delete the caller's account",
		description: "Needs the password (400 without it or when wrong). Every token of the account is revoked " +
			"first; personal data is erased, signatures are kept without it, and the account's campaigns, polls " +
			"and posts are kept without an author.",
		access: bearer, limit: "DELETE_ACCOUNT",
		body: optionalBody(object(in("password", str(0, 0))), map[string]any{"password": "correct horse battery staple 7"}),
		ok:   []success{msg},
	})
	b.add("DELETE /api/user/{id}", operation{
		id: "deleteUser", tag: "users", summary: "Delete an account on its owner's request",
		description: "As DELETE /api/user/me does. A superadmin account is refused (403).",
		roles:       []string{api.RoleSuperadmin},
		ok:          []success{msg},
	})
	b.add("GET /api/auth/sessions", operation{
		id: "listSessions", tag: "auth", summary: "The caller's active logins",
		access: bearer,
		ok: []success{ok200("The sessions.", envelope(req("sessions", array(ref("Session"))), req("total", count())),
			map[string]any{"success": true, "total": 1, "sessions": []any{map[string]any{
				"id": 4, "created_at": exTime, "last_used_at": exTime, "expires_at": exDeadline, "ip": "192.0.2.0/24",
				"user_agent": "Mozilla/5.0", "current": true,
			}}})},
	})
	b.add("DELETE /api/auth/sessions/{id}", operation{
		id: "endSession", tag: "auth", summary: "End one of the caller's sessions",
		description: "Its tokens stop working at once. Another user's session is 404, as an unknown one.",
		access:      bearer,
		ok:          []success{msg},
	})
}
