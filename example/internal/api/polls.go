package api

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// Polls (reference §9.5, §9.7): created by any user, pending until a
// moderator approves them, voted on once per user (a unique constraint),
// with max_choices enforced, option IDs checked against the poll, no option
// twice, anonymous votes stored as tallies only, and options that can no
// longer be replaced once votes exist.

// Poll limits, in code points.
const (
	maxPollDescription       = 10000
	minPollOptions           = 2
	maxPollOptions           = 20
	maxPollOption            = 255
	unlimitedChoices   int64 = -1 // the frontend's "no limit" value of max_choices
)

// Event names of polls.
const (
	EvPollCreated = "poll_created"
	EvPollUpdated = "poll_updated"
	EvPollStatus  = "poll_status_change"
	EvPollDeleted = "poll_deleted"
	EvVoteCast    = "vote_cast"
)

const msgPollNotFound = "نظرسنجی یافت نشد"

// pollOptionJSON is one option with its tally.
type pollOptionJSON struct {
	ID         int64  `json:"id"`
	Text       string `json:"text"`
	Order      int    `json:"order"`
	VotesCount int64  `json:"votes_count"`
}

// pollJSON is a poll as the frontend reads it.
type pollJSON struct {
	ID               int64            `json:"id"`
	Title            string           `json:"title"`
	Description      string           `json:"description"`
	Content          string           `json:"content"`
	Slug             string           `json:"slug"`
	Category         string           `json:"category"`
	ImageURL         string           `json:"image_url"`
	IsAnonymous      bool             `json:"is_anonymous"`
	IsMultipleChoice bool             `json:"is_multiple_choice"`
	MaxChoices       *int64           `json:"max_choices"`
	Deadline         *string          `json:"deadline"`
	EndDatetime      *string          `json:"end_datetime"`
	Status           string           `json:"status"`
	CreatedAt        string           `json:"created_at"`
	UpdatedAt        string           `json:"updated_at"`
	AuthorEmail      *string          `json:"author_email"`
	Options          []pollOptionJSON `json:"options"`
	TotalVotes       int64            `json:"total_votes"`
	TotalVoters      int64            `json:"total_voters"`
	HasVoted         bool             `json:"has_voted"`
}

// pollView is a viewer with the polls they voted in.
type pollView struct {
	viewer
	voted map[int64]bool
}

// pollViewer loads who is asking and the polls they voted in; ok=false:
// answered.
func (s *Server) pollViewer(w http.ResponseWriter, r *http.Request) (pollView, bool) {
	v, ok := s.who(w, r)
	if !ok || v.anonymous {
		return pollView{viewer: v}, ok
	}
	voted, err := s.o.DB.VotedPollIDs(r.Context(), v.user.ID)
	if err != nil {
		s.internal(w, r, "load votes", err)
		return pollView{}, false
	}
	return pollView{viewer: v, voted: voted}, true
}

func (v pollView) toJSON(p data.Poll) pollJSON {
	j := pollJSON{
		ID: p.ID, Title: p.Title, Description: p.Description, Content: p.Description, Slug: p.Slug,
		Category: p.Category, ImageURL: p.ImageURL, IsAnonymous: p.IsAnonymous, IsMultipleChoice: p.IsMultipleChoice,
		Status: p.Status, CreatedAt: timeJSON(p.CreatedAt()), UpdatedAt: timeJSON(p.UpdatedAt()),
		AuthorEmail: v.authorEmail(p.AuthorEmail, p.AuthorID, p.Category),
		Options:     make([]pollOptionJSON, len(p.Options)), TotalVoters: p.Voters, HasVoted: v.voted[p.ID],
	}
	if p.MaxChoices.Valid {
		j.MaxChoices = &p.MaxChoices.Int64
	}
	if d, ok := p.Deadline(); ok {
		t := timeJSON(d)
		j.Deadline, j.EndDatetime = &t, &t
	}
	for i, o := range p.Options {
		j.Options[i] = pollOptionJSON{ID: o.ID, Text: o.Text, Order: o.Position, VotesCount: o.Votes}
		j.TotalVotes += o.Votes
	}
	return j
}

func (v pollView) list(polls []data.Poll) map[string]any {
	out := make([]pollJSON, len(polls))
	for i, p := range polls {
		out[i] = v.toJSON(p)
	}
	return map[string]any{"success": true, "polls": out, "total": len(out)}
}

// canSeePoll is viewer.sees for a poll.
func (v viewer) canSeePoll(p data.Poll) bool { return v.sees(p.Status, p.Category, p.AuthorID) }

// visiblePoll loads the {id} poll if the viewer may see it (404 otherwise).
func (s *Server) visiblePoll(w http.ResponseWriter, r *http.Request, v viewer) (data.Poll, bool) {
	id, ok := pathID(w, r, msgPollNotFound)
	if !ok {
		return data.Poll{}, false
	}
	return visible(s, w, r, id, s.o.DB.PollByID, v.canSeePoll, msgPollNotFound)
}

// seenPoll loads who is asking (with the polls they voted in when votes is
// set) and the {id} poll, if they may see it (404 otherwise); ok=false:
// answered.
func (s *Server) seenPoll(w http.ResponseWriter, r *http.Request, votes bool) (data.Poll, pollView, bool) {
	var v pollView
	var ok bool
	if votes {
		v, ok = s.pollViewer(w, r)
	} else {
		v.viewer, ok = s.who(w, r)
	}
	if !ok {
		return data.Poll{}, v, false
	}
	p, ok := s.visiblePoll(w, r, v.viewer)
	return p, v, ok
}

// moderatedPoll loads a poll the caller moderates: 404 when it does not
// exist or they cannot see it, 403 when they do not moderate its category.
func (s *Server) moderatedPoll(w http.ResponseWriter, r *http.Request, id int64) (data.Poll, bool) {
	v, ok := s.who(w, r)
	if !ok {
		return data.Poll{}, false
	}
	p, ok := visible(s, w, r, id, s.o.DB.PollByID, v.canSeePoll, msgPollNotFound)
	return p, ok && s.mayModerate(w, r, v, p.Category, "poll", id)
}

// GET /api/polls: approved polls the caller sees (by category, as
// campaigns), newest first, with has_voted.
func (s *Server) polls(w http.ResponseWriter, r *http.Request) {
	v, ok := s.pollViewer(w, r)
	if !ok {
		return
	}
	s.findPolls(w, r, v, data.PollFilter{Statuses: []string{data.StatusApproved}, Categories: v.categories()})
}

func (s *Server) findPolls(w http.ResponseWriter, r *http.Request, v pollView, f data.PollFilter) {
	list, err := s.o.DB.FindPolls(r.Context(), f)
	if err != nil {
		s.internal(w, r, "list polls", err)
		return
	}
	writeJSON(w, http.StatusOK, v.list(list))
}

// pollInput is the body of poll creation and edit. A nil field is one not
// sent: creation uses its default, an edit keeps the stored value.
// MaxChoices is raw so that null (no limit) differs from absent.
type pollInput struct {
	Title            *string         `json:"title"`
	Description      *string         `json:"description"`
	Content          *string         `json:"content"`
	Options          json.RawMessage `json:"options"`
	IsAnonymous      *bool           `json:"is_anonymous"`
	IsMultipleChoice *bool           `json:"is_multiple_choice"`
	MaxChoices       json.RawMessage `json:"max_choices"`
	Category         *string         `json:"category"`
	Deadline         *string         `json:"deadline"`
	EndDatetime      *string         `json:"end_datetime"`
	ImageURL         *string         `json:"image_url"`
}

// apply validates in onto p: a new poll (p.ID == 0) or a stored one. It
// returns the option texts to store (nil: keep the stored options).
func (in pollInput) apply(p *data.Poll, u data.User, asModerator bool, now time.Time) ([]string, *fieldError) {
	create := p.ID == 0
	if create || in.Title != nil {
		t, e := checkTitle(in.Title, "نظرسنجی", minTitle, maxTitle)
		if e != nil {
			return nil, e
		}
		p.Title = t
	}
	switch {
	case in.Description != nil && strings.TrimSpace(*in.Description) != "":
		p.Description = strings.TrimSpace(*in.Description)
	case in.Content != nil:
		p.Description = sanitizeRich(*in.Content)
	}
	if textLen(p.Description) > maxPollDescription {
		return nil, bad("description", "توضیحات نظرسنجی نباید بیشتر از ۱۰,۰۰۰ کاراکتر باشد.")
	}
	var options []string
	if create || (len(in.Options) > 0 && string(in.Options) != "null") {
		var e *fieldError
		if options, e = parseOptions(in.Options); e != nil {
			return nil, e
		}
	}
	if in.IsAnonymous != nil {
		p.IsAnonymous = *in.IsAnonymous
	} else if create {
		p.IsAnonymous = true // HEAD's default: secret ballots
	}
	if in.IsMultipleChoice != nil {
		p.IsMultipleChoice = *in.IsMultipleChoice
	}
	n := len(options)
	if options == nil {
		n = len(p.Options)
	}
	if e := in.applyMaxChoices(p, n); e != nil {
		return nil, e
	}
	if text := strings.TrimSpace(firstNonEmpty(deref(in.Deadline), deref(in.EndDatetime))); text != "" {
		d, err := parseTime(text)
		if err != nil {
			return nil, bad("deadline", "تاریخ پایان نامعتبر است (ISO 8601, e.g. 2026-12-31T23:59:00Z).")
		}
		if d.UnixMicro() != p.DeadlineUS.Int64 && !d.After(now) {
			return nil, bad("deadline", "تاریخ پایان باید بعد از اکنون باشد.")
		}
		p.DeadlineUS = sql.NullInt64{Int64: d.UnixMicro(), Valid: true}
	}
	def := p.Category
	if create {
		def = GeneralCategory
	}
	cat, e := checkCategory(in.Category, def, u, asModerator)
	if e != nil {
		return nil, e
	}
	p.Category = cat
	cm, e := commonInput{ImageURL: in.ImageURL}.check(common{imageURL: p.ImageURL})
	if e != nil {
		return nil, e
	}
	p.ImageURL = cm.imageURL
	return options, nil
}

// applyMaxChoices sets p.MaxChoices from the input: a single-choice poll has
// none (one option per vote); a multiple-choice poll takes 1..n (n options),
// or null / -1 for "every option". Absent keeps the stored value.
func (in pollInput) applyMaxChoices(p *data.Poll, n int) *fieldError {
	if len(in.MaxChoices) > 0 {
		var m *int64
		if err := json.Unmarshal(in.MaxChoices, &m); err != nil {
			return bad("max_choices", "max_choices must be an integer or null")
		}
		switch {
		case m == nil || *m == unlimitedChoices:
			p.MaxChoices = sql.NullInt64{}
		case *m < 1 || *m > int64(n):
			return bad("max_choices", fmt.Sprintf("حداکثر تعداد انتخاب باید بین ۱ و تعداد گزینه‌ها (%d) باشد.", n))
		default:
			p.MaxChoices = sql.NullInt64{Int64: *m, Valid: true}
		}
	}
	if !p.IsMultipleChoice {
		p.MaxChoices = sql.NullInt64{}
	} else if p.MaxChoices.Valid && p.MaxChoices.Int64 > int64(n) {
		return bad("max_choices", fmt.Sprintf("حداکثر تعداد انتخاب باید بین ۱ و تعداد گزینه‌ها (%d) باشد.", n))
	}
	return nil
}

// parseOptions reads options: [{"text": ...}] (the frontend's form) or
// ["...", ...]; 2..20 distinct texts of 1..255 code points.
func parseOptions(raw json.RawMessage) ([]string, *fieldError) {
	var objs []struct {
		Text *string `json:"text"`
	}
	var texts []string
	if err := json.Unmarshal(raw, &objs); err == nil {
		for _, o := range objs {
			texts = append(texts, deref(o.Text))
		}
	} else if err := json.Unmarshal(raw, &texts); err != nil {
		return nil, bad("options", `options must be a list of {"text": "..."} objects or of strings`)
	}
	if len(texts) < minPollOptions || len(texts) > maxPollOptions {
		return nil, bad("options", "نظرسنجی باید بین ۲ تا ۲۰ گزینه داشته باشد.")
	}
	seen := make(map[string]bool, len(texts))
	out := make([]string, len(texts))
	for i, t := range texts {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			return nil, bad("options", "متن گزینه‌ها نمی‌تواند خالی باشد.")
		case textLen(t) > maxPollOption:
			return nil, bad("options", "متن هر گزینه حداکثر ۲۵۵ کاراکتر است.")
		case seen[t]:
			return nil, bad("options", "گزینه‌ها نباید تکراری باشند.")
		}
		seen[t] = true
		out[i] = t
	}
	return out, nil
}

// POST /api/polls (any user; POLL_CREATE): a new poll, always pending.
func (s *Server) createPoll(w http.ResponseWriter, r *http.Request) {
	var in pollInput
	if !decode(w, r, &in, false) {
		return
	}
	u, _, ok := s.caller(w, r)
	if !ok {
		return
	}
	p := data.Poll{
		Status:   data.StatusPending,
		AuthorID: sql.NullInt64{Int64: u.ID, Valid: true}, AuthorEmail: sql.NullString{String: u.Email, Valid: true},
	}
	options, e := in.apply(&p, u, false, s.o.Now())
	if e != nil {
		e.answer(w, r)
		return
	}
	p, err := s.o.DB.CreatePoll(r.Context(), p, options)
	if err != nil {
		s.internal(w, r, "create poll", err)
		return
	}
	s.event(r, EvPollCreated, "success", slog.Int64("poll_id", p.ID))
	writeJSON(w, http.StatusCreated, map[string]any{
		"success": true, "message": "نظرسنجی با موفقیت ایجاد شد و در انتظار تایید است.",
		"poll_id": p.ID, "poll": pollView{viewer: viewer{user: u}}.toJSON(p),
	})
}

// GET /api/polls/{id}
func (s *Server) pollDetail(w http.ResponseWriter, r *http.Request) {
	p, v, ok := s.seenPoll(w, r, true)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "poll": v.toJSON(p)})
}

// GET /api/polls/{id}/results: the tally of a poll the caller sees.
func (s *Server) pollResults(w http.ResponseWriter, r *http.Request) {
	p, v, ok := s.seenPoll(w, r, false)
	if !ok {
		return
	}
	j := v.toJSON(p)
	type optionResult struct {
		pollOptionJSON
		Percentage float64 `json:"percentage"`
	}
	opts := make([]optionResult, len(j.Options))
	for i, o := range j.Options {
		opts[i].pollOptionJSON = o
		if j.TotalVotes > 0 {
			opts[i].Percentage = math.Round(1000*float64(o.VotesCount)/float64(j.TotalVotes)) / 10
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "results": map[string]any{
		"poll_id": p.ID, "options": opts, "total_votes": j.TotalVotes, "total_voters": j.TotalVoters,
		"is_anonymous": p.IsAnonymous, "status": p.Status,
	}})
}

// parseOptionIDs reads option_ids: one integer or a list of integers
// (strings, fractions and other types are refused).
func parseOptionIDs(raw json.RawMessage) ([]int64, bool) {
	var one int64
	if err := json.Unmarshal(raw, &one); err == nil && len(raw) > 0 && raw[0] != 'n' {
		return []int64{one}, true
	}
	var list []int64
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return nil, false
	}
	return list, true
}

// POST /api/polls/{id}/vote (VOTE): {"option_ids": [..]} or one ID.
func (s *Server) vote(w http.ResponseWriter, r *http.Request) {
	var in struct {
		OptionIDs json.RawMessage `json:"option_ids"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	ids, ok := parseOptionIDs(in.OptionIDs)
	if !ok {
		invalid(w, r, "option_ids", "option_ids must be an option ID or a list of option IDs (integers)")
		return
	}
	p, v, ok := s.seenPoll(w, r, false)
	if !ok {
		return
	}
	if !mayParticipate(v.user, p.Category) {
		s.event(r, EvAuthzFail, "failure", slog.Int64("poll_id", p.ID), slog.String("reason", "council_vote"))
		fail(w, r, http.StatusForbidden, msgCouncilOnly)
		return
	}
	if msg := voteRefusal(p, ids, s.o.Now()); msg != "" {
		invalid(w, r, "option_ids", msg)
		return
	}
	voters, err := s.o.DB.Vote(r.Context(), p.ID, v.user.ID, ids)
	switch {
	case errors.Is(err, data.ErrDuplicate):
		fail(w, r, http.StatusConflict, "شما قبلاً در این نظرسنجی رأی داده‌اید.")
		return
	case errors.Is(err, data.ErrNotFound):
		fail(w, r, http.StatusNotFound, msgPollNotFound)
		return
	case errors.Is(err, data.ErrNotVotable), errors.Is(err, data.ErrBadChoice):
		// The poll changed between the check above and the vote.
		invalid(w, r, "option_ids", "این نظرسنجی تغییر کرده است؛ صفحه را دوباره بارگذاری کنید.")
		return
	case err != nil:
		s.internal(w, r, "vote", err)
		return
	}
	// The event names the poll only: never the choice (a secret ballot
	// must not leak through the log).
	s.event(r, EvVoteCast, "success", slog.Int64("poll_id", p.ID))
	writeJSON(w, http.StatusCreated, map[string]any{"success": true, "message": "رأی شما با موفقیت ثبت شد", "total_voters": voters})
}

// voteRefusal explains why ids cannot be a vote in p now ("" if they can):
// the data layer checks the same in its transaction; this gives the reason.
func voteRefusal(p data.Poll, ids []int64, now time.Time) string {
	if p.Status != data.StatusApproved {
		return "فقط در نظرسنجی‌های تأییدشده می‌توان رأی داد."
	}
	if d, ok := p.Deadline(); ok && !d.After(now) {
		return "مهلت رأی‌گیری این نظرسنجی به پایان رسیده است."
	}
	if len(ids) == 0 {
		return "حداقل یک گزینه را انتخاب کنید."
	}
	valid := make(map[int64]bool, len(p.Options))
	for _, o := range p.Options {
		valid[o.ID] = true
	}
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		switch {
		case seen[id]:
			return "هر گزینه را فقط یک بار می‌توان انتخاب کرد."
		case !valid[id]:
			return "گزینه انتخاب‌شده متعلق به این نظرسنجی نیست."
		}
		seen[id] = true
	}
	if limit := p.ChoiceLimit(); len(ids) > limit {
		if !p.IsMultipleChoice {
			return "این نظرسنجی تک‌گزینه‌ای است؛ فقط یک گزینه را انتخاب کنید."
		}
		return fmt.Sprintf("حداکثر %d گزینه را می‌توانید انتخاب کنید.", limit)
	}
	return ""
}

// GET /api/polls/{id}/voters: who chose what, for polls that are not
// anonymous only (403 otherwise: an anonymous poll keeps no such record), to
// ADMIN3, the category's moderators, the author and those who voted.
func (s *Server) pollVoters(w http.ResponseWriter, r *http.Request) {
	p, v, ok := s.seenPoll(w, r, false)
	if !ok {
		return
	}
	if p.IsAnonymous {
		fail(w, r, http.StatusForbidden, "این نظرسنجی ناشناس است؛ رأی‌دهندگان آن نمایش داده نمی‌شوند.")
		return
	}
	if !v.moderates(p.Category) && !v.isAuthor(p.AuthorID) {
		voted, err := s.o.DB.HasVoted(r.Context(), p.ID, v.user.ID)
		if err != nil {
			s.internal(w, r, "check vote", err)
			return
		}
		if !voted {
			s.denied(w, r, "poll", p.ID)
			return
		}
	}
	list, err := s.o.DB.PollVoters(r.Context(), p.ID)
	if err != nil {
		s.internal(w, r, "list voters", err)
		return
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i] = map[string]any{"user_email": x.UserEmail, "option_id": x.OptionID, "option_text": x.OptionText, "voted_at": timeJSON(x.VotedAt())}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "voters": out, "total": len(out)})
}

// PUT /api/polls/{id}: edit. Moderators of the poll's category edit it in
// any status and keep its status; its author edits it while it is pending
// or rejected (a rejected poll goes back to review). The status is never
// written here (HEAD let an author self-approve this way). Once the poll has
// votes, replacing its options or changing how votes count is 409: votes are
// not deleted by an edit.
func (s *Server) editPoll(w http.ResponseWriter, r *http.Request) {
	var in pollInput
	if !decode(w, r, &in, false) {
		return
	}
	p, v, ok := s.seenPoll(w, r, true)
	if !ok {
		return
	}
	asModerator := v.moderates(p.Category)
	if !asModerator && !s.authorMayEdit(w, r, v.viewer, p.AuthorID, p.Status, "poll", p.ID, "نظرسنجی") {
		return
	}
	old := p.Status
	options, e := in.apply(&p, v.user, asModerator && !v.isAuthor(p.AuthorID), s.o.Now())
	if e != nil {
		e.answer(w, r)
		return
	}
	if !asModerator && p.Status == data.StatusRejected {
		p.Status = data.StatusPending
	}
	err := s.o.DB.UpdatePoll(r.Context(), p, options)
	if s.changeRefused(w, r, err, msgPollNotFound, "این نظرسنجی رأی دارد: گزینه‌ها و نحوه شمارش آرا دیگر قابل تغییر نیستند.") {
		return
	}
	p, err = s.o.DB.PollByID(r.Context(), p.ID)
	if s.changeRefused(w, r, err, msgPollNotFound, "") {
		return
	}
	s.event(r, EvPollUpdated, "success", slog.Int64("poll_id", p.ID), slog.String("old_status", old), slog.String("new_status", p.Status))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "نظرسنجی با موفقیت ویرایش شد", "poll": v.toJSON(p)})
}

// GET /api/admin/polls (moderators): polls of every status (or ?status=) in
// the caller's categories, for the poll management page.
func (s *Server) adminPolls(w http.ResponseWriter, r *http.Request) {
	statuses, ok := statusFilter(w, r, "all")
	if !ok {
		return
	}
	v, ok := s.pollViewer(w, r)
	if !ok {
		return
	}
	s.findPolls(w, r, v, data.PollFilter{Statuses: statuses, Categories: moderatedCategories(v.user)})
}

// POST /api/admin/polls/approve (moderators): {poll_id, approved: bool}.
func (s *Server) approvePoll(w http.ResponseWriter, r *http.Request) {
	var in struct {
		PollID   *int64 `json:"poll_id"`
		Approved *bool  `json:"approved"`
	}
	if !decode(w, r, &in, false) {
		return
	}
	if in.PollID == nil || in.Approved == nil {
		fail(w, r, http.StatusBadRequest, "poll_id و approved الزامی است.")
		return
	}
	status, msg := data.StatusRejected, "نظرسنجی رد شد"
	if *in.Approved {
		status, msg = data.StatusApproved, "نظرسنجی تأیید شد"
	}
	if !s.changePollStatus(w, r, *in.PollID, status) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msg, "poll_id": *in.PollID, "new_status": status})
}

// PUT /api/polls/{id}/status (moderators): {status} or {approved}.
func (s *Server) setPollStatus(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, msgPollNotFound)
	if !ok {
		return
	}
	status, msg, ok := statusInput(w, r, "نظرسنجی")
	if !ok || !s.changePollStatus(w, r, id, status) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msg})
}

func (s *Server) changePollStatus(w http.ResponseWriter, r *http.Request, id int64, status string) bool {
	p, ok := s.moderatedPoll(w, r, id)
	if !ok {
		return false
	}
	if s.changeRefused(w, r, s.o.DB.SetPollStatus(r.Context(), id, status), msgPollNotFound, "") {
		return false
	}
	s.event(r, EvPollStatus, "success", slog.Int64("poll_id", id), slog.String("old_status", p.Status), slog.String("new_status", status))
	return true
}

// DELETE /api/polls/{id}/delete: the author or the category's moderators.
func (s *Server) deletePoll(w http.ResponseWriter, r *http.Request) {
	p, v, ok := s.seenPoll(w, r, false)
	if !ok {
		return
	}
	if !v.moderates(p.Category) && !v.isAuthor(p.AuthorID) {
		s.denied(w, r, "poll", p.ID)
		return
	}
	if s.changeRefused(w, r, s.o.DB.DeletePoll(r.Context(), p.ID), msgPollNotFound, "") {
		return
	}
	s.event(r, EvPollDeleted, "success", slog.Int64("poll_id", p.ID), slog.String("status", p.Status), slog.Int64("voters", p.Voters))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "نظرسنجی با موفقیت حذف شد"})
}

// GET /api/user/created-polls: the caller's polls of every status.
func (s *Server) createdPolls(w http.ResponseWriter, r *http.Request) {
	v, ok := s.pollViewer(w, r)
	if !ok {
		return
	}
	s.findPolls(w, r, v, data.PollFilter{AuthorID: v.user.ID})
}

// GET /api/user/voted-polls: the polls the caller voted in, with the tallies
// and, for polls that are not anonymous, user_vote (their choices); for an
// anonymous poll user_vote is null, since nothing records the choice.
func (s *Server) votedPolls(w http.ResponseWriter, r *http.Request) {
	v, ok := s.pollViewer(w, r)
	if !ok {
		return
	}
	list, err := s.o.DB.FindPolls(r.Context(), data.PollFilter{VoterID: v.user.ID})
	if err != nil {
		s.internal(w, r, "list polls", err)
		return
	}
	mine, err := s.o.DB.UserPollVotes(r.Context(), v.user.ID)
	if err != nil {
		s.internal(w, r, "list votes", err)
		return
	}
	type choiceJSON struct {
		OptionID   int64  `json:"option_id"`
		OptionText string `json:"option_text"`
		VotedAt    string `json:"voted_at"`
	}
	type votedJSON struct {
		pollJSON
		UserVote []choiceJSON `json:"user_vote"`
	}
	out := make([]votedJSON, len(list))
	for i, p := range list {
		out[i].pollJSON = v.toJSON(p)
		if p.IsAnonymous {
			continue
		}
		out[i].UserVote = []choiceJSON{}
		for _, c := range mine[p.ID] {
			out[i].UserVote = append(out[i].UserVote, choiceJSON{OptionID: c.OptionID, OptionText: c.OptionText, VotedAt: timeJSON(c.VotedAt())})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "polls": out, "total": len(out)})
}
