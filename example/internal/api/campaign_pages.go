package api

import (
	"database/sql"
	"log/slog"
	"net/http"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// The campaign routes of generations B and C: a campaign's page, its edit and
// deletion, the category list, and the author's own campaigns.

// Event names of campaign changes (campaign_created and
// campaign_status_change are in api.go).
const (
	EvCampaignUpdated = "campaign_updated"
	EvCampaignDeleted = "campaign_deleted"
)

// GET /api/campaigns/{id}: the campaign page. Approved and closed campaigns
// are visible as in the approved list (by category); pending and rejected
// ones to their author, ADMIN3 and the category's moderators; anything else
// is 404.
func (s *Server) campaignDetail(w http.ResponseWriter, r *http.Request) {
	c, v, ok := s.seenCampaign(w, r, true)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, v.toJSON(c))
}

// PUT /api/campaigns/{id}: edit (the frontend's campaign management page
// calls it; the original had no handler). Moderators of the campaign's
// category edit it in any status and keep its status; its author edits it
// while it is pending or rejected, and an edit of a rejected campaign sends
// it back to review (pending). The status itself is never an editable field:
// PUT /api/campaigns/{id}/status changes it.
func (s *Server) editCampaign(w http.ResponseWriter, r *http.Request) {
	var in campaignInput
	if !decode(w, r, &in, false) {
		return
	}
	c, v, ok := s.seenCampaign(w, r, true)
	if !ok {
		return
	}
	asModerator := v.moderates(c.Category)
	if !asModerator && !s.authorMayEdit(w, r, v, c.AuthorID, c.Status, "campaign", c.ID, "کارزار") {
		return
	}
	old := c.Status
	if e := in.apply(&c, v.user, asModerator && !v.isAuthor(c.AuthorID), s.o.Now()); e != nil {
		e.answer(w, r)
		return
	}
	if !asModerator && c.Status == data.StatusRejected {
		c.Status = data.StatusPending
	}
	if s.changeRefused(w, r, s.o.DB.UpdateCampaign(r.Context(), c), msgCampaignNotFound, "") {
		return
	}
	c, err := s.o.DB.CampaignByID(r.Context(), c.ID)
	if s.changeRefused(w, r, err, msgCampaignNotFound, "") {
		return
	}
	s.event(r, EvCampaignUpdated, "success", slog.Int64("campaign_id", c.ID), slog.String("old_status", old), slog.String("new_status", c.Status))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "کارزار با موفقیت ویرایش شد", "campaign": v.toJSON(c)})
}

// authorMayEdit lets the author edit their own item while it awaits review
// or was rejected: 403 for anyone else, 409 once it is approved or closed
// (then only moderators edit it). noun names the item in the Persian
// message. ok=false: answered.
func (s *Server) authorMayEdit(w http.ResponseWriter, r *http.Request, v viewer, author sql.NullInt64, status, what string, id int64, noun string) bool {
	if !v.isAuthor(author) {
		s.denied(w, r, what, id)
		return false
	}
	if status == data.StatusApproved || status == data.StatusClosed {
		fail(w, r, http.StatusConflict, noun+" تأییدشده یا بسته‌شده را فقط مدیران می‌توانند ویرایش کنند.")
		return false
	}
	return true
}

// DELETE /api/campaigns/{id}/delete (moderators, within their scope): the
// campaign and its signatures.
func (s *Server) deleteCampaign(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, msgCampaignNotFound)
	if !ok {
		return
	}
	c, ok := s.moderatedCampaign(w, r, id, msgCampaignNotFound)
	if !ok {
		return
	}
	if s.changeRefused(w, r, s.o.DB.DeleteCampaign(r.Context(), id), msgCampaignNotFound, "") {
		return
	}
	s.event(r, EvCampaignDeleted, "success", slog.Int64("campaign_id", id), slog.String("status", c.Status), slog.Int64("signatures", c.SignatureCount))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "کارزار با موفقیت حذف شد"})
}

// GET /api/campaigns/categories: the categories the caller sees (and the
// frontend offers in its forms): the general label for anonymous callers;
// for users also their faculty and dormitory, and the council's for council
// members, observers and HEAD2; for ADMIN3 all 18 (allCategories).
func (s *Server) categories(w http.ResponseWriter, r *http.Request) {
	v, ok := s.who(w, r)
	if !ok {
		return
	}
	cats := v.categories()
	if cats == nil {
		cats = allCategories()
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "categories": cats, "total": len(cats)})
}

// GET /api/user/created-campaigns: the caller's campaigns of every status,
// newest first.
func (s *Server) createdCampaigns(w http.ResponseWriter, r *http.Request) {
	v, ok := s.viewerOf(w, r)
	if !ok {
		return
	}
	s.listCampaigns(w, r, data.CampaignFilter{AuthorID: v.user.ID}, v)
}
