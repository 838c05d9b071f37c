package api

import (
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/internal/problem"
)

// msgCouncilOnly refuses signing or voting in the council's category to
// those without a council vote.
const msgCouncilOnly = "فقط اعضای دارای حق رأی شورای عمومی می‌توانند در این دسته‌بندی امضا یا رأی دهند."

// Campaign text limits, in code points.
const (
	minTitle, maxTitle   = 3, 255
	minDesc, maxDesc     = 10, 50000
	maxExcerpt, maxTags  = 500, 20
	maxTagLen, maxURLLen = 50, 2048
)

// richText sanitises HTML sent under the HEAD field name "content".
var richText = bluemonday.UGCPolicy()

// campaignJSON carries both frontend generations' names for the same data.
type campaignJSON struct {
	ID               int64    `json:"id"`
	Title            string   `json:"title"`
	Description      string   `json:"description"`
	Content          string   `json:"content"`
	Excerpt          string   `json:"excerpt"`
	Tags             []string `json:"tags"`
	ImageURL         string   `json:"image_url"`
	Slug             string   `json:"slug"`
	Label            string   `json:"label"`
	Category         string   `json:"category"`
	EndDatetime      string   `json:"end_datetime"`
	Deadline         string   `json:"deadline"`
	IsAnonymous      string   `json:"is_anonymous"`
	AnonymousAllowed bool     `json:"anonymous_allowed"`
	Status           string   `json:"status"`
	CreatedAt        string   `json:"created_at"`
	UpdatedAt        string   `json:"updated_at"`
	AuthorEmail      *string  `json:"author_email"`
	Email            *string  `json:"email"`
	SignatureCount   int64    `json:"signature_count"`
	HasSigned        bool     `json:"has_signed"`
}

func (v viewer) toJSON(c data.Campaign) campaignJSON {
	email := v.authorEmail(c.AuthorEmail, c.AuthorID, c.Category)
	return campaignJSON{
		ID: c.ID, Title: c.Title, Description: c.Description, Content: c.Description, Excerpt: c.Excerpt,
		Tags: tagList(c.Tags), ImageURL: c.ImageURL, Slug: c.Slug, Label: c.Category, Category: c.Category,
		EndDatetime: timeJSON(c.Deadline()), Deadline: timeJSON(c.Deadline()),
		IsAnonymous: c.IsAnonymous, AnonymousAllowed: c.IsAnonymous == data.Anonymous,
		Status: c.Status, CreatedAt: timeJSON(c.CreatedAt()), UpdatedAt: timeJSON(c.UpdatedAt()),
		AuthorEmail: email, Email: email,
		SignatureCount: c.SignatureCount, HasSigned: v.signed[c.ID],
	}
}

// viewerOf loads who is asking, with the campaigns they signed; ok=false:
// answered.
func (s *Server) viewerOf(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	v, ok := s.who(w, r)
	if !ok || v.anonymous {
		return v, ok
	}
	signed, err := s.o.DB.SignedCampaignIDs(r.Context(), v.user.ID)
	if err != nil {
		s.internal(w, r, "load signatures", err)
		return viewer{}, false
	}
	v.signed = signed
	return v, true
}

// canSee reports whether the viewer may see the campaign (viewer.sees).
func (v viewer) canSee(c data.Campaign) bool { return v.sees(c.Status, c.Category, c.AuthorID) }

// listCampaigns answers {success, campaigns, total}.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, f data.CampaignFilter, v viewer) {
	list, err := s.o.DB.FindCampaigns(r.Context(), f)
	if err != nil {
		s.internal(w, r, "list campaigns", err)
		return
	}
	out := make([]campaignJSON, len(list))
	for i, c := range list {
		out[i] = v.toJSON(c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "campaigns": out, "total": len(out)})
}

// GET /api/campaigns/approved
func (s *Server) approved(w http.ResponseWriter, r *http.Request) {
	v, ok := s.viewerOf(w, r)
	if !ok {
		return
	}
	s.listCampaigns(w, r, data.CampaignFilter{Statuses: []string{data.StatusApproved}, Categories: v.categories()}, v)
}

// moderationList serves a moderators' list: campaigns of the statuses
// ?status= selects (def when absent), in the categories the caller
// moderates (ADMIN3: all).
func (s *Server) moderationList(def string, query bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		statuses := []string{def}
		if query {
			var ok bool
			if statuses, ok = statusFilter(w, r, def); !ok {
				return
			}
		}
		v, ok := s.viewerOf(w, r)
		if !ok {
			return
		}
		s.listCampaigns(w, r, data.CampaignFilter{Statuses: statuses, Categories: moderatedCategories(v.user)}, v)
	}
}

// GET /api/campaigns/rejected (moderators): rejected campaigns.
func (s *Server) rejected(w http.ResponseWriter, r *http.Request) {
	s.moderationList(data.StatusRejected, false)(w, r)
}

// GET /api/admin/campaigns (moderators): pending campaigns, or those of
// ?status= (pending, approved, rejected, closed, all), as the generation B
// campaign management page lists them.
func (s *Server) pending(w http.ResponseWriter, r *http.Request) {
	s.moderationList(data.StatusPending, true)(w, r)
}

// campaignInput accepts both generations' field names. A nil pointer is a
// field not sent: submit requires it or uses its default, an edit keeps the
// stored value.
type campaignInput struct {
	commonInput
	Title            *string `json:"title"`
	Description      *string `json:"description"`
	Content          *string `json:"content"`
	EndDatetime      *string `json:"end_datetime"`
	Deadline         *string `json:"deadline"`
	Label            *string `json:"label"`
	Category         *string `json:"category"`
	IsAnonymous      *string `json:"is_anonymous"`
	AnonymousAllowed *bool   `json:"anonymous_allowed"`
}

// apply validates in onto c: a new campaign (c.ID == 0: title, text and
// deadline required) or a stored one (only the fields sent change). u is
// who acts; asModerator: a moderator editing someone else's campaign (see
// checkCategory). A plain description is kept verbatim; HTML sent as
// content is sanitised.
func (in campaignInput) apply(c *data.Campaign, u data.User, asModerator bool, now time.Time) *fieldError {
	create := c.ID == 0
	if create || in.Title != nil {
		t, e := checkTitle(in.Title, "کارزار", minTitle, maxTitle)
		if e != nil {
			return e
		}
		c.Title = t
	}
	switch {
	case in.Description != nil && strings.TrimSpace(*in.Description) != "":
		c.Description = strings.TrimSpace(*in.Description)
	case in.Content != nil:
		c.Description = sanitizeRich(*in.Content)
	case create:
		c.Description = ""
	}
	switch desc := c.Description; {
	case desc == "":
		return bad("description", "توضیحات کارزار الزامی است.")
	case textLen(desc) < minDesc:
		return bad("description", "توضیحات کارزار باید حداقل 10 کاراکتر باشد.")
	case textLen(desc) > maxDesc:
		return bad("description", "توضیحات کارزار خیلی طولانی است (حداکثر 50000 کاراکتر).")
	}
	if text := strings.TrimSpace(firstNonEmpty(deref(in.EndDatetime), deref(in.Deadline))); text != "" {
		deadline, err := parseTime(text)
		if err != nil {
			return bad("end_datetime", "تاریخ پایان نامعتبر است (ISO 8601, e.g. 2026-12-31T23:59:00Z).")
		}
		if deadline.UnixMicro() != c.DeadlineUS && !deadline.After(now) {
			return bad("end_datetime", "تاریخ پایان باید بعد از اکنون باشد.")
		}
		c.SetDeadline(deadline)
	} else if create {
		return bad("end_datetime", "تاریخ پایان الزامی است.")
	}
	def := c.Category
	if create {
		def = GeneralCategory
	}
	cat, e := checkCategory(firstSet(in.Label, in.Category), def, u, asModerator)
	if e != nil {
		e.field = "label"
		return e
	}
	c.Category = cat
	anon := strings.TrimSpace(deref(in.IsAnonymous))
	switch {
	case anon == "" && in.AnonymousAllowed != nil:
		anon = data.Public
		if *in.AnonymousAllowed {
			anon = data.Anonymous
		}
	case anon == "" && create:
		anon = data.Public
	case anon == "":
		anon = c.IsAnonymous
	case anon != data.Public && anon != data.Anonymous:
		return bad("is_anonymous", `is_anonymous must be "public" or "anonymous".`)
	}
	if !create && c.IsAnonymous == data.Anonymous && anon == data.Public && c.SignatureCount > 0 {
		// The signers were promised a hidden list.
		return bad("is_anonymous", "فهرست امضاکنندگان این کارزار پنهان است و پس از امضا شدن آشکار نمی‌شود.")
	}
	c.IsAnonymous = anon
	cm, e := in.commonInput.check(common{excerpt: c.Excerpt, tags: c.Tags, imageURL: c.ImageURL, slug: c.Slug})
	if e != nil {
		return e
	}
	if create {
		cm.slug = "" // a new campaign's slug comes from its title
	}
	c.Excerpt, c.Tags, c.ImageURL, c.Slug = cm.excerpt, cm.tags, cm.imageURL, cm.slug
	return nil
}

// POST /api/campaigns/submit
func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	var in campaignInput
	if !decode(w, r, &in, false) {
		return
	}
	u, _, ok := s.caller(w, r)
	if !ok {
		return
	}
	c := data.Campaign{
		Status:   data.StatusPending,
		AuthorID: sql.NullInt64{Int64: u.ID, Valid: true}, AuthorEmail: sql.NullString{String: u.Email, Valid: true},
	}
	if e := in.apply(&c, u, false, s.o.Now()); e != nil {
		e.answer(w, r)
		return
	}
	c, err := s.o.DB.CreateCampaign(r.Context(), c)
	if err != nil {
		s.internal(w, r, "create campaign", err)
		return
	}
	s.event(r, EvCampaignCreated, "success", slog.Int64("campaign_id", c.ID))
	writeJSON(w, http.StatusCreated, map[string]any{
		"success": true, "campaignId": c.ID, "campaign_id": c.ID, "status": c.Status, "slug": c.Slug,
		"created_at": timeJSON(c.CreatedAt()), "end_datetime": timeJSON(c.Deadline()), "deadline": timeJSON(c.Deadline()),
	})
}

// deref is *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// firstSet is the first pointer holding a non-blank string, else nil.
func firstSet(ps ...*string) *string {
	for _, p := range ps {
		if p != nil && strings.TrimSpace(*p) != "" {
			return p
		}
	}
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// parseTime reads ISO 8601 as the reference did: with a zone, or naive
// (taken as UTC), or a bare date.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not an ISO 8601 time")
}

// parseTags accepts an array of strings or a comma-separated string.
func parseTags(raw json.RawMessage) ([]string, string) {
	out := []string{}
	if len(raw) == 0 || string(raw) == "null" {
		return out, ""
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, "tags must be an array of strings or a comma-separated string"
		}
		list = strings.Split(s, ",")
	}
	seen := map[string]bool{}
	for _, t := range list {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		if textLen(t) > maxTagLen {
			return nil, "each tag has at most 50 characters"
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, "at most 20 tags"
	}
	return out, ""
}

// validImageURL: an absolute http(s) URL with a host.
func validImageURL(s string) bool {
	if len(s) > maxURLLen {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// POST /api/admin/campaigns/approve (moderators, within their scope)
func (s *Server) approve(w http.ResponseWriter, r *http.Request) {
	var in struct {
		CampaignID *int64 `json:"campaign_id"`
		Approved   *bool  `json:"approved"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	if in.CampaignID == nil || in.Approved == nil {
		fail(w, r, http.StatusBadRequest, "campaign_id و approved الزامی است.")
		return
	}
	status, msg := data.StatusRejected, "کمپین رد شد"
	if *in.Approved {
		status, msg = data.StatusApproved, "کمپین تأیید شد"
	}
	if !s.changeStatus(w, r, *in.CampaignID, status, "Campaign not found") {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msg, "campaign_id": *in.CampaignID, "new_status": status})
}

// moderatedCampaign loads a campaign the caller moderates: 404 when it does
// not exist or they cannot see it, 403 when they see it but do not moderate
// its category. ok=false: answered.
func (s *Server) moderatedCampaign(w http.ResponseWriter, r *http.Request, id int64, notFound string) (data.Campaign, bool) {
	v, ok := s.who(w, r)
	if !ok {
		return data.Campaign{}, false
	}
	c, ok := visible(s, w, r, id, s.o.DB.CampaignByID, v.canSee, notFound)
	return c, ok && s.mayModerate(w, r, v, c.Category, "campaign", id)
}

// changeStatus sets a campaign's status and records it; ok=false: answered.
func (s *Server) changeStatus(w http.ResponseWriter, r *http.Request, id int64, status, notFound string) bool {
	c, ok := s.moderatedCampaign(w, r, id, notFound)
	if !ok {
		return false
	}
	if err := s.o.DB.SetCampaignStatus(r.Context(), id, status); err != nil {
		s.internal(w, r, "set status", err)
		return false
	}
	s.event(r, EvCampaignStatus, "success", slog.Int64("campaign_id", id), slog.String("old_status", c.Status), slog.String("new_status", status))
	return true
}

// PUT /api/campaigns/{id}/status (moderators, within their scope)
func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, msgCampaignNotFound)
	if !ok {
		return
	}
	status, msg, ok := statusInput(w, r, "کارزار")
	if !ok {
		return
	}
	if !s.changeStatus(w, r, id, status, msgCampaignNotFound) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msg})
}

// statusInput reads the body of a status route: {status} in pending,
// approved, rejected, closed, or {approved: bool}. noun names the item in the
// Persian messages ("کارزار": the original's words). ok=false: answered.
func statusInput(w http.ResponseWriter, r *http.Request, noun string) (status, msg string, ok bool) {
	var in struct {
		Status   *string `json:"status"`
		Approved *bool   `json:"approved"`
	}
	if !decode(w, r, &in, false) {
		return "", "", false
	}
	switch {
	case in.Status != nil && *in.Status != "":
		status = strings.TrimSpace(*in.Status)
		switch status {
		case data.StatusPending, data.StatusApproved, data.StatusRejected, data.StatusClosed:
		default:
			fail(w, r, http.StatusBadRequest, "وضعیت نامعتبر است", problem.FieldError{Field: "status", Message: "one of pending, approved, rejected, closed"})
			return "", "", false
		}
		return status, "وضعیت " + noun + " به " + status + " تغییر یافت", true
	case in.Approved != nil && *in.Approved:
		return data.StatusApproved, noun + " با موفقیت تایید شد", true
	case in.Approved != nil:
		return data.StatusRejected, noun + " با موفقیت رد شد", true
	}
	fail(w, r, http.StatusBadRequest, "باید یکی از status یا approved ارسال شود")
	return "", "", false
}

// seenCampaign loads who is asking and the {id} campaign, if they may see
// it (404 otherwise); ok=false: answered. With signed, the viewer also
// carries the campaigns they signed (viewerOf: one more query), which only
// an answer with has_signed needs.
func (s *Server) seenCampaign(w http.ResponseWriter, r *http.Request, signed bool) (data.Campaign, viewer, bool) {
	var v viewer
	var ok bool
	if signed {
		v, ok = s.viewerOf(w, r)
	} else {
		v, ok = s.who(w, r)
	}
	if !ok {
		return data.Campaign{}, v, false
	}
	c, ok := s.visibleCampaign(w, r, v)
	return c, v, ok
}

// visibleCampaign loads a campaign the viewer may see (404 otherwise).
func (s *Server) visibleCampaign(w http.ResponseWriter, r *http.Request, v viewer) (data.Campaign, bool) {
	id, ok := pathID(w, r, msgCampaignNotFound)
	if !ok {
		return data.Campaign{}, false
	}
	return visible(s, w, r, id, s.o.DB.CampaignByID, v.canSee, msgCampaignNotFound)
}

// POST /api/campaigns/{id}/sign
func (s *Server) sign(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IsAnonymous *string `json:"is_anonymous"`
	}
	if !decode(w, r, &in, true) {
		return
	}
	anon := data.Public
	if in.IsAnonymous != nil {
		anon = strings.TrimSpace(*in.IsAnonymous)
		if anon != data.Public && anon != data.Anonymous {
			fail(w, r, http.StatusBadRequest, `is_anonymous must be "public" or "anonymous".`, problem.FieldError{Field: "is_anonymous", Message: `"public" or "anonymous"`})
			return
		}
	}
	c, v, ok := s.seenCampaign(w, r, false)
	if !ok {
		return
	}
	if !mayParticipate(v.user, c.Category) {
		s.event(r, EvAuthzFail, "failure", slog.Int64("campaign_id", c.ID), slog.String("reason", "council_vote"))
		fail(w, r, http.StatusForbidden, msgCouncilOnly)
		return
	}
	sig, total, err := s.o.DB.Sign(r.Context(), c.ID, v.user.ID, v.user.Email, anon)
	switch {
	case errors.Is(err, data.ErrDuplicate):
		fail(w, r, http.StatusConflict, msgAlreadySigned)
		return
	case errors.Is(err, data.ErrNotSignable):
		if c.Status == data.StatusApproved {
			fail(w, r, http.StatusBadRequest, "مهلت امضای این کارزار به پایان رسیده است.")
		} else {
			fail(w, r, http.StatusBadRequest, "فقط کارزارهای تأییدشده را می‌توان امضا کرد.")
		}
		return
	case err != nil:
		s.internal(w, r, "sign", err)
		return
	}
	s.event(r, EvCampaignSigned, "success", slog.Int64("campaign_id", c.ID), slog.Int64("signature_id", sig.ID))
	writeJSON(w, http.StatusCreated, map[string]any{"success": true, "message": "کارزار با موفقیت امضا شد", "signature_id": sig.ID, "total_signatures": total})
}

// signatureJSON is one entry of the public signature list.
type signatureJSON struct {
	ID          int64  `json:"id"`
	UserEmail   string `json:"user_email"`
	SignedAt    string `json:"signed_at"`
	IsAnonymous string `json:"is_anonymous"`
}

// GET /api/campaigns/{id}/signatures
func (s *Server) signatures(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.seenCampaign(w, r, false)
	if !ok {
		return
	}
	if c.IsAnonymous == data.Anonymous {
		writeJSON(w, http.StatusOK, map[string]any{
			"success": true, "signatures": []signatureJSON{}, "total": c.SignatureCount,
			"campaign_is_anonymous": data.Anonymous, "campaign_anonymous_allowed": true,
		})
		return
	}
	list, err := s.o.DB.CampaignSignatures(r.Context(), c.ID)
	if err != nil {
		s.internal(w, r, "list signatures", err)
		return
	}
	out := make([]signatureJSON, len(list))
	for i, sg := range list {
		email := "ناشناس"
		if sg.IsAnonymous == data.Public {
			email = sg.UserEmail
		}
		out[i] = signatureJSON{ID: sg.ID, UserEmail: email, SignedAt: timeJSON(sg.SignedAt()), IsAnonymous: sg.IsAnonymous}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true, "signatures": out, "total": len(out),
		"campaign_is_anonymous": data.Public, "campaign_anonymous_allowed": false,
	})
}

// GET /api/campaigns/{id}/check-signature
func (s *Server) checkSignature(w http.ResponseWriter, r *http.Request) {
	c, v, ok := s.seenCampaign(w, r, false)
	if !ok {
		return
	}
	sg, err := s.o.DB.SignatureOf(r.Context(), c.ID, v.user.ID)
	if errors.Is(err, data.ErrNotFound) {
		writeJSON(w, http.StatusOK, map[string]any{"has_signed": false, "signature": nil})
		return
	}
	if err != nil {
		s.internal(w, r, "load signature", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"has_signed": true, "signature": map[string]any{
		"id": sg.ID, "signed_at": timeJSON(sg.SignedAt()), "is_anonymous": sg.IsAnonymous,
	}})
}
