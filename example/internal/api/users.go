package api

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// GET /api/auth/users (HEAD2): a bare array, newest first.
func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	list, err := s.o.DB.ListUsers(r.Context())
	if err != nil {
		s.internal(w, r, "list users", err)
		return
	}
	out := make([]userJSON, len(list))
	for i, u := range list {
		out[i] = toUserJSON(u)
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /api/auth/user/{id} (HEAD2)
func (s *Server) userDetail(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, msgUserNotFound2)
	if !ok {
		return
	}
	u, ok := s.userAt(w, r, id, msgUserNotFound2)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

// PUT /api/user/{id}/council-status (HEAD2): {"council_member_status":
// "member"|"observer"|"none"} ("status" is accepted too). The General
// Council's secretary (head) keeps the member list: members see, post,
// sign and vote in the council's category, observers only see it. The
// status is read from the database on every request, so it applies at once
// without revoking the target's tokens.
func (s *Server) setCouncilStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, msgUserNotFound)
	if !ok {
		return
	}
	var in struct {
		CouncilMemberStatus string `json:"council_member_status"`
		Status              string `json:"status"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	status := strings.TrimSpace(firstNonEmpty(in.CouncilMemberStatus, in.Status))
	if !slices.Contains(councilStatuses, status) {
		invalid(w, r, "council_member_status", "council_member_status must be member, observer or none")
		return
	}
	ctx := r.Context()
	u, ok := s.userAt(w, r, id, msgUserNotFound)
	if !ok {
		return
	}
	if err := s.o.DB.SetCouncilStatus(ctx, id, status); err != nil {
		s.internal(w, r, "set council status", err)
		return
	}
	s.event(r, EvAuthzChange, "success", slog.Int64("target_user_id", id), slog.String("old_council_status", u.CouncilStatus), slog.String("new_council_status", status))
	u.CouncilStatus = status
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "وضعیت عضویت شورا به‌روز شد.", "user": toUserJSON(u)})
}

// PUT /api/user/{id}/role (superadmin)
func (s *Server) changeRole(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "User not found.")
	if !ok {
		return
	}
	var in struct {
		NewRole string `json:"new_role"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	newRole := strings.TrimSpace(in.NewRole)
	if newRole == "user" {
		newRole = RoleUser
	}
	switch {
	case newRole == "":
		fail(w, r, http.StatusBadRequest, "new_role is required.", fieldErr("new_role", "required"))
		return
	case newRole == RoleSuperadmin:
		s.event(r, EvAuthzChange, "failure", slog.Int64("target_user_id", id), slog.String("new_role", newRole), slog.String("reason", "superadmin_not_assignable"))
		fail(w, r, http.StatusBadRequest, "Cannot assign superadmin role.", fieldErr("new_role", "superadmin cannot be assigned through the API"))
		return
	case !assignable[newRole]:
		fail(w, r, http.StatusBadRequest, "Unknown role. Use one of: simple_user, center_member, head, faculty_member, dorm_member.", fieldErr("new_role", "unknown role"))
		return
	}
	ctx := r.Context()
	u, ok := s.userAt(w, r, id, "User not found.")
	if !ok {
		return
	}
	if u.Role == RoleSuperadmin {
		s.event(r, EvAuthzChange, "failure", slog.Int64("target_user_id", id), slog.String("new_role", newRole), slog.String("reason", "target_is_superadmin"))
		fail(w, r, http.StatusBadRequest, "Cannot change role of another superadmin.")
		return
	}
	old := u.Role
	if err := s.o.DB.SetRole(ctx, id, newRole); err != nil {
		s.internal(w, r, "set role", err)
		return
	}
	// The role travels in the target's tokens: end them so the change
	// applies at once (a promotion as much as a demotion).
	if err := s.o.Auth.RevokeSubject(ctx, strconv.FormatInt(id, 10)); err != nil {
		s.internal(w, r, "revoke target sessions", err)
		return
	}
	u.Role = newRole
	s.event(r, EvAuthzChange, "success", slog.Int64("target_user_id", id), slog.String("old_role", old), slog.String("new_role", newRole))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "User role updated successfully.", "user": shortUser(u)})
}

// signedJSON is one entry of the signed-campaigns lists.
type signedJSON struct {
	CampaignID    int64  `json:"campaign_id"`
	CampaignTitle string `json:"campaign_title"`
	SignedAt      string `json:"signed_at"`
	IsAnonymous   string `json:"is_anonymous"`
}

func signedList(list []data.Signature) map[string]any {
	out := make([]signedJSON, len(list))
	for i, sg := range list {
		out[i] = signedJSON{CampaignID: sg.CampaignID, CampaignTitle: sg.CampaignTitle, SignedAt: timeJSON(sg.SignedAt()), IsAnonymous: sg.IsAnonymous}
	}
	return map[string]any{"success": true, "campaigns": out, "total": len(out)}
}

// GET /api/user/signed-campaigns: the caller's own signatures.
func (s *Server) mySignatures(w http.ResponseWriter, r *http.Request) {
	u, _, ok := s.caller(w, r)
	if !ok {
		return
	}
	list, err := s.o.DB.UserSignatures(r.Context(), u.ID, false)
	if err != nil {
		s.internal(w, r, "list signatures", err)
		return
	}
	writeJSON(w, http.StatusOK, signedList(list))
}

// GET /api/user/{id}/signed-campaigns (HEAD2): public signatures only; the
// original revealed anonymous ones to heads.
func (s *Server) userSignatures(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, msgUserNotFound)
	if !ok {
		return
	}
	if _, ok := s.userAt(w, r, id, msgUserNotFound); !ok {
		return
	}
	list, err := s.o.DB.UserSignatures(r.Context(), id, true)
	if err != nil {
		s.internal(w, r, "list signatures", err)
		return
	}
	writeJSON(w, http.StatusOK, signedList(list))
}

// userAt loads the account with this ID, answering 404 with notFound when
// there is none; ok=false: answered.
func (s *Server) userAt(w http.ResponseWriter, r *http.Request, id int64, notFound string) (data.User, bool) {
	return visible(s, w, r, id, s.o.DB.UserByID, func(data.User) bool { return true }, notFound)
}
