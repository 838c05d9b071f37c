package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/microcosm-cc/bluemonday"

	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/internal/problem"
)

// What campaigns, polls and blog posts share: who is looking (viewer), who
// may see and moderate what, and the validation of their common fields.

// plainText strips every tag, for word counts.
var plainText = bluemonday.StrictPolicy()

// viewer is who is looking at campaigns, polls or blog posts.
type viewer struct {
	anonymous bool
	user      data.User
	admin     bool // ADMIN3
	// signed holds the IDs of the campaigns the user signed (loaded by
	// viewerOf only).
	signed map[int64]bool
}

// who loads who is asking, without their signatures; ok=false: answered.
func (s *Server) who(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	u, anon, ok := s.optionalCaller(w, r)
	if !ok {
		return viewer{}, false
	}
	return viewer{anonymous: anon, user: u, admin: !anon && slices.Contains(ADMIN3, u.Role)}, true
}

// categories the viewer may see approved content of; nil means all.
func (v viewer) categories() []string {
	switch {
	case v.anonymous:
		return []string{GeneralCategory}
	case v.admin:
		return nil
	}
	return userCategories(v.user)
}

// isAuthor reports whether the viewer wrote the item.
func (v viewer) isAuthor(author sql.NullInt64) bool {
	return !v.anonymous && author.Valid && author.Int64 == v.user.ID
}

// moderates reports whether the viewer moderates the category.
func (v viewer) moderates(category string) bool {
	return !v.anonymous && moderates(v.user, category)
}

// sees is the visibility rule of campaigns and polls: their authors and
// moderators see them in any status; anyone else sees approved and closed
// ones of a category they see (categories).
func (v viewer) sees(status, category string, author sql.NullInt64) bool {
	switch {
	case v.admin, v.isAuthor(author), v.moderates(category):
		return true
	case status != data.StatusApproved && status != data.StatusClosed:
		return false
	}
	return slices.Contains(v.categories(), category)
}

// authorEmail is the author's address for those who may see it (ADMIN3, the
// category's moderators, the author), else nil.
func (v viewer) authorEmail(email sql.NullString, author sql.NullInt64, category string) *string {
	if !email.Valid || !(v.admin || v.moderates(category) || v.isAuthor(author)) {
		return nil
	}
	e := email.String
	return &e
}

// visible loads the item id with load: 404 (notFound) when it does not exist
// or sees refuses it, so that nobody learns of items they may not see; 500
// on a failure. ok=false: answered.
func visible[T any](s *Server, w http.ResponseWriter, r *http.Request, id int64, load func(context.Context, int64) (T, error), sees func(T) bool, notFound string) (T, bool) {
	x, err := load(r.Context(), id)
	switch {
	case errors.Is(err, data.ErrNotFound), err == nil && !sees(x):
		fail(w, r, http.StatusNotFound, notFound)
		return x, false
	case err != nil:
		s.internal(w, r, "load item", err)
		return x, false
	}
	return x, true
}

// mayModerate reports whether v moderates category, answering 403 (and
// recording the denial) when not.
func (s *Server) mayModerate(w http.ResponseWriter, r *http.Request, v viewer, category, what string, id int64) bool {
	if v.moderates(category) {
		return true
	}
	s.denied(w, r, what, id)
	return false
}

// statusFilter reads ?status= of the moderation lists: one status, or "all"
// (nil: every status); empty is def. ok=false: answered (400).
func statusFilter(w http.ResponseWriter, r *http.Request, def string) ([]string, bool) {
	v := strings.TrimSpace(r.URL.Query().Get("status"))
	if v == "" {
		v = def
	}
	switch v {
	case "all":
		return nil, true
	case data.StatusPending, data.StatusApproved, data.StatusRejected, data.StatusClosed:
		return []string{v}, true
	}
	fail(w, r, http.StatusBadRequest, "وضعیت نامعتبر است", fieldErr("status", "one of pending, approved, rejected, closed, all"))
	return nil, false
}

// denied answers 403 "دسترسی ندارید." and records the denial.
func (s *Server) denied(w http.ResponseWriter, r *http.Request, what string, id int64) {
	s.event(r, EvAuthzFail, "failure", slog.Int64(what+"_id", id))
	fail(w, r, http.StatusForbidden, msgForbidden)
}

// invalid answers 400 with one field error whose message is the detail.
func invalid(w http.ResponseWriter, r *http.Request, field, msg string) {
	invalidExt(w, r, field, msg, nil)
}

// invalidExt is invalid with extension members (verify-code's "valid": false).
func invalidExt(w http.ResponseWriter, r *http.Request, field, msg string, ext map[string]any) {
	problem.Write(w, r, problem.Problem{Status: http.StatusBadRequest, Detail: msg, Errors: []problem.FieldError{fieldErr(field, msg)}, Extensions: ext})
}

// fieldError is a validation failure of one input field.
type fieldError struct{ field, msg string }

// answer sends it as 400.
func (e *fieldError) answer(w http.ResponseWriter, r *http.Request) { invalid(w, r, e.field, e.msg) }

func bad(field, msg string) *fieldError { return &fieldError{field, msg} }

// checkTitle trims a title and checks its length (min..max code points);
// noun names the item in the Persian messages ("کارزار": the original's
// campaign messages word for word).
func checkTitle(in *string, noun string, min, max int) (string, *fieldError) {
	t := ""
	if in != nil {
		t = strings.TrimSpace(*in)
	}
	switch {
	case t == "":
		return "", bad("title", "عنوان "+noun+" الزامی است.")
	case textLen(t) < min:
		return "", bad("title", "عنوان "+noun+" باید حداقل "+strconv.Itoa(min)+" کاراکتر باشد.")
	case textLen(t) > max:
		return "", bad("title", "عنوان "+noun+" خیلی طولانی است.")
	}
	return t, nil
}

// sanitizeRich cleans HTML rich text (the HEAD field "content") with the
// UGC policy: formatting and links stay; scripts, event handlers, styles and
// javascript: URLs go.
func sanitizeRich(html string) string { return strings.TrimSpace(richText.Sanitize(html)) }

// readingTime is the minutes of reading of HTML content at 200 words a
// minute, at least 1 (HEAD's rule).
func readingTime(html string) int {
	return max(1, len(strings.Fields(plainText.Sanitize(html)))/200)
}

// commonInput are the optional fields campaigns, polls and blog posts share.
// A nil pointer is a field not sent: an edit keeps the stored value.
type commonInput struct {
	Excerpt  *string         `json:"excerpt"`
	Tags     json.RawMessage `json:"tags"`
	ImageURL *string         `json:"image_url"`
	Slug     *string         `json:"slug"`
}

// common holds the checked values of commonInput.
type common struct {
	excerpt, tags, imageURL, slug string
}

// check validates in onto cur (the stored values, or zero for a new item).
// An empty slug keeps the stored one (or lets a new item get one from its
// title).
func (in commonInput) check(cur common) (common, *fieldError) {
	out := cur
	if in.Excerpt != nil {
		out.excerpt = strings.TrimSpace(*in.Excerpt)
		if textLen(out.excerpt) > maxExcerpt {
			return out, bad("excerpt", "خلاصه خیلی طولانی است (حداکثر 500 کاراکتر).")
		}
	}
	if len(in.Tags) > 0 {
		tags, msg := parseTags(in.Tags)
		if msg != "" {
			return out, bad("tags", msg)
		}
		raw, _ := json.Marshal(tags)
		out.tags = string(raw)
	}
	if in.ImageURL != nil {
		out.imageURL = strings.TrimSpace(*in.ImageURL)
		if out.imageURL != "" && !validImageURL(out.imageURL) {
			return out, bad("image_url", "image_url must be an absolute http or https URL.")
		}
	}
	if in.Slug != nil && strings.TrimSpace(*in.Slug) != "" {
		out.slug = strings.TrimSpace(*in.Slug)
		if !data.ValidSlug(out.slug) {
			return out, bad("slug", "نامک نامعتبر است: فقط حروف کوچک، رقم، - و _ (حداکثر 200 نویسه).")
		}
	}
	return out, nil
}

// tagList decodes a stored JSON array of tags ([] when empty).
func tagList(stored string) []string {
	tags := []string{}
	_ = json.Unmarshal([]byte(stored), &tags)
	return tags
}

// checkCategory validates a category for content u creates or moves. Empty,
// or equal to def (the stored category, or the general label for new
// content), is def. Otherwise it must be a category (isCategory) and, for an
// author, one they may post in (postCategories); for a moderator editing
// someone else's content (asModerator), one they moderate, so that a
// category-scoped moderator cannot move content out of their scope.
func checkCategory(in *string, def string, u data.User, asModerator bool) (string, *fieldError) {
	c := def
	if in != nil && strings.TrimSpace(*in) != "" {
		c = strings.TrimSpace(*in)
	}
	switch {
	case c == def:
		return c, nil
	case !isCategory(c):
		return "", bad("category", "دسته‌بندی نامعتبر است.")
	case asModerator && moderates(u, c), !asModerator && slices.Contains(postCategories(u), c):
		return c, nil
	case c == CouncilCategory:
		return "", bad("category", "فقط اعضای دارای حق رأی شورای عمومی می‌توانند در این دسته‌بندی مطلب ثبت کنند.")
	}
	return "", bad("category", "شما فقط می‌توانید در دسته‌بندی عمومی، دانشکده یا خوابگاه خود مطلب ثبت کنید.")
}

// changeRefused answers the refusal of a data-layer change: 409 for a
// duplicate slug or a conflicting state, 404 for a vanished row, 500
// otherwise. It reports whether err was one (answered).
func (s *Server) changeRefused(w http.ResponseWriter, r *http.Request, err error, notFound, conflict string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, data.ErrDuplicate):
		fail(w, r, http.StatusConflict, "این نامک قبلاً استفاده شده است.", fieldErr("slug", "already used"))
	case errors.Is(err, data.ErrConflict):
		fail(w, r, http.StatusConflict, conflict)
	case errors.Is(err, data.ErrNotFound):
		fail(w, r, http.StatusNotFound, notFound)
	default:
		s.internal(w, r, "store change", err)
	}
	return true
}
