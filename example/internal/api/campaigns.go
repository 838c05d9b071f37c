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

// viewer is who is looking at campaigns.
type viewer struct {
	anonymous bool
	user      data.User
	admin     bool // ADMIN3
	signed    map[int64]bool
}

func (v viewer) toJSON(c data.Campaign) campaignJSON {
	tags := []string{}
	_ = json.Unmarshal([]byte(c.Tags), &tags)
	j := campaignJSON{
		ID: c.ID, Title: c.Title, Description: c.Description, Content: c.Description, Excerpt: c.Excerpt,
		Tags: tags, ImageURL: c.ImageURL, Slug: c.Slug, Label: c.Category, Category: c.Category,
		EndDatetime: timeJSON(c.Deadline()), Deadline: timeJSON(c.Deadline()),
		IsAnonymous: c.IsAnonymous, AnonymousAllowed: c.IsAnonymous == data.Anonymous,
		Status: c.Status, CreatedAt: timeJSON(c.CreatedAt()), UpdatedAt: timeJSON(c.UpdatedAt()),
		SignatureCount: c.SignatureCount, HasSigned: v.signed[c.ID],
	}
	// The creator's address only to admins and to the creator.
	if c.AuthorEmail.Valid && !v.anonymous && (v.admin || (c.AuthorID.Valid && c.AuthorID.Int64 == v.user.ID)) {
		e := c.AuthorEmail.String
		j.AuthorEmail, j.Email = &e, &e
	}
	return j
}

// viewerOf loads who is asking; ok=false: answered.
func (s *Server) viewerOf(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	u, anon, ok := s.optionalCaller(w, r)
	if !ok {
		return viewer{}, false
	}
	v := viewer{anonymous: anon, user: u, admin: !anon && hasRole(u.Role, ADMIN3)}
	if !anon {
		signed, err := s.o.DB.SignedCampaignIDs(r.Context(), u.ID)
		if err != nil {
			s.internal(w, r, "load signatures", err)
			return viewer{}, false
		}
		v.signed = signed
	}
	return v, true
}

// categories the viewer may see; nil means all.
func (v viewer) categories() []string {
	switch {
	case v.anonymous:
		return []string{GeneralCategory}
	case v.admin:
		return nil
	}
	return userCategories(v.user)
}

// canSee reports whether the viewer may see an approved or closed campaign.
func (v viewer) canSee(c data.Campaign) bool {
	if v.admin {
		return true
	}
	if c.Status != data.StatusApproved && c.Status != data.StatusClosed {
		return !v.anonymous && c.AuthorID.Valid && c.AuthorID.Int64 == v.user.ID
	}
	return contains(v.categories(), c.Category)
}

// listCampaigns answers {success, campaigns, total}.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, status string, v viewer, cats []string) {
	list, err := s.o.DB.ListCampaigns(r.Context(), status, cats)
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
	s.listCampaigns(w, r, data.StatusApproved, v, v.categories())
}

// adminList serves an ADMIN3 list of one status.
func (s *Server) adminList(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.viewerOf(w, r)
		if !ok {
			return
		}
		s.listCampaigns(w, r, status, v, nil)
	}
}

// GET /api/campaigns/rejected (ADMIN3)
func (s *Server) rejected(w http.ResponseWriter, r *http.Request) {
	s.adminList(data.StatusRejected)(w, r)
}

// GET /api/admin/campaigns (ADMIN3): pending campaigns.
func (s *Server) pending(w http.ResponseWriter, r *http.Request) {
	s.adminList(data.StatusPending)(w, r)
}

// submitInput accepts both generations' field names.
type submitInput struct {
	Title            string          `json:"title"`
	Description      *string         `json:"description"`
	Content          *string         `json:"content"`
	EndDatetime      string          `json:"end_datetime"`
	Deadline         string          `json:"deadline"`
	Label            string          `json:"label"`
	Category         string          `json:"category"`
	IsAnonymous      string          `json:"is_anonymous"`
	AnonymousAllowed *bool           `json:"anonymous_allowed"`
	Excerpt          string          `json:"excerpt"`
	Tags             json.RawMessage `json:"tags"`
	ImageURL         string          `json:"image_url"`
}

// POST /api/campaigns/submit
func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	var in submitInput
	if !decode(w, r, &in, false) {
		return
	}
	u, _, ok := s.caller(w, r)
	if !ok {
		return
	}
	title := strings.TrimSpace(in.Title)
	var desc string
	switch {
	case in.Description != nil && strings.TrimSpace(*in.Description) != "":
		desc = strings.TrimSpace(*in.Description)
	case in.Content != nil:
		desc = strings.TrimSpace(richText.Sanitize(*in.Content))
	}
	deadlineText := strings.TrimSpace(firstNonEmpty(in.EndDatetime, in.Deadline))
	bad := func(field, msg string) {
		fail(w, r, http.StatusBadRequest, msg, problem.FieldError{Field: field, Message: msg})
	}
	switch {
	case title == "":
		bad("title", "عنوان کارزار الزامی است.")
		return
	case textLen(title) < minTitle:
		bad("title", "عنوان کارزار باید حداقل 3 کاراکتر باشد.")
		return
	case textLen(title) > maxTitle:
		bad("title", "عنوان کارزار خیلی طولانی است.")
		return
	case desc == "":
		bad("description", "توضیحات کارزار الزامی است.")
		return
	case textLen(desc) < minDesc:
		bad("description", "توضیحات کارزار باید حداقل 10 کاراکتر باشد.")
		return
	case textLen(desc) > maxDesc:
		bad("description", "توضیحات کارزار خیلی طولانی است (حداکثر 50000 کاراکتر).")
		return
	case deadlineText == "":
		bad("end_datetime", "تاریخ پایان الزامی است.")
		return
	}
	deadline, err := parseTime(deadlineText)
	if err != nil {
		bad("end_datetime", "تاریخ پایان نامعتبر است (ISO 8601, e.g. 2026-12-31T23:59:00Z).")
		return
	}
	if !deadline.After(s.o.Now()) {
		bad("end_datetime", "تاریخ پایان باید بعد از اکنون باشد.")
		return
	}
	category := strings.TrimSpace(firstNonEmpty(in.Label, in.Category))
	if category == "" {
		category = GeneralCategory
	}
	if !isCategory(category) {
		bad("label", "دسته‌بندی نامعتبر است.")
		return
	}
	if !hasRole(u.Role, ADMIN3) && !contains(userCategories(u), category) {
		bad("label", "شما فقط می‌توانید در دسته‌بندی عمومی، دانشکده یا خوابگاه خود کارزار ثبت کنید.")
		return
	}
	anon := strings.TrimSpace(in.IsAnonymous)
	switch {
	case anon == "" && in.AnonymousAllowed != nil && *in.AnonymousAllowed:
		anon = data.Anonymous
	case anon == "":
		anon = data.Public
	case anon != data.Public && anon != data.Anonymous:
		bad("is_anonymous", `is_anonymous must be "public" or "anonymous".`)
		return
	}
	tags, msg := parseTags(in.Tags)
	if msg != "" {
		bad("tags", msg)
		return
	}
	excerpt := strings.TrimSpace(in.Excerpt)
	if textLen(excerpt) > maxExcerpt {
		bad("excerpt", "خلاصه خیلی طولانی است (حداکثر 500 کاراکتر).")
		return
	}
	imageURL := strings.TrimSpace(in.ImageURL)
	if imageURL != "" && !validImageURL(imageURL) {
		bad("image_url", "image_url must be an absolute http or https URL.")
		return
	}
	tagsJSON, _ := json.Marshal(tags)
	c, err := s.o.DB.CreateCampaign(r.Context(), data.Campaign{
		Title: title, Description: desc, Excerpt: excerpt, Tags: string(tagsJSON), ImageURL: imageURL,
		Category: category, DeadlineUS: deadline.UnixMicro(), IsAnonymous: anon, Status: data.StatusPending,
		AuthorID: sql.NullInt64{Int64: u.ID, Valid: true}, AuthorEmail: sql.NullString{String: u.Email, Valid: true},
	})
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

// POST /api/admin/campaigns/approve (ADMIN3)
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

// changeStatus sets a campaign's status and records it; ok=false: answered.
func (s *Server) changeStatus(w http.ResponseWriter, r *http.Request, id int64, status, notFound string) bool {
	ctx := r.Context()
	c, err := s.o.DB.CampaignByID(ctx, id)
	if errors.Is(err, data.ErrNotFound) || (err == nil && id <= 0) {
		fail(w, r, http.StatusNotFound, notFound)
		return false
	}
	if err != nil {
		s.internal(w, r, "load campaign", err)
		return false
	}
	if err := s.o.DB.SetCampaignStatus(ctx, id, status); err != nil {
		s.internal(w, r, "set status", err)
		return false
	}
	s.event(r, EvCampaignStatus, "success", slog.Int64("campaign_id", id), slog.String("old_status", c.Status), slog.String("new_status", status))
	return true
}

// PUT /api/campaigns/{id}/status (ADMIN3)
func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, msgCampaignNotFound)
	if !ok {
		return
	}
	var in struct {
		Status   *string `json:"status"`
		Approved *bool   `json:"approved"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	var status, msg string
	switch {
	case in.Status != nil && *in.Status != "":
		status = strings.TrimSpace(*in.Status)
		switch status {
		case data.StatusPending, data.StatusApproved, data.StatusRejected, data.StatusClosed:
		default:
			fail(w, r, http.StatusBadRequest, "وضعیت نامعتبر است", problem.FieldError{Field: "status", Message: "one of pending, approved, rejected, closed"})
			return
		}
		msg = "وضعیت کارزار به " + status + " تغییر یافت"
	case in.Approved != nil:
		status, msg = data.StatusRejected, "کارزار با موفقیت رد شد"
		if *in.Approved {
			status, msg = data.StatusApproved, "کارزار با موفقیت تایید شد"
		}
	default:
		fail(w, r, http.StatusBadRequest, "باید یکی از status یا approved ارسال شود")
		return
	}
	if !s.changeStatus(w, r, id, status, msgCampaignNotFound) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msg})
}

// visibleCampaign loads a campaign the viewer may see (404 otherwise).
func (s *Server) visibleCampaign(w http.ResponseWriter, r *http.Request, v viewer) (data.Campaign, bool) {
	id, ok := pathID(w, r, msgCampaignNotFound)
	if !ok {
		return data.Campaign{}, false
	}
	c, err := s.o.DB.CampaignByID(r.Context(), id)
	if errors.Is(err, data.ErrNotFound) || (err == nil && !v.canSee(c)) {
		fail(w, r, http.StatusNotFound, msgCampaignNotFound)
		return data.Campaign{}, false
	}
	if err != nil {
		s.internal(w, r, "load campaign", err)
		return data.Campaign{}, false
	}
	return c, true
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
	v, ok := s.viewerOf(w, r)
	if !ok {
		return
	}
	c, ok := s.visibleCampaign(w, r, v)
	if !ok {
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
	v, ok := s.viewerOf(w, r)
	if !ok {
		return
	}
	c, ok := s.visibleCampaign(w, r, v)
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
	v, ok := s.viewerOf(w, r)
	if !ok {
		return
	}
	c, ok := s.visibleCampaign(w, r, v)
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
