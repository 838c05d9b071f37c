package api

import (
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// The blog (reference §9.5, §9.7): any user writes a post, which stays
// unpublished until a moderator of its category publishes it (HEAD let the
// client send is_published:true and skip review); published posts are
// public, listed with bounded pages, a category filter and a search.

// Blog limits.
const (
	maxPostContent  = 50000
	defaultPageSize = 10
	maxPageSize     = 100
	maxPage         = 1_000_000
	maxSearch       = 200
)

// Event names of the blog.
const (
	EvBlogPostCreated     = "blog_post_created"
	EvBlogPostUpdated     = "blog_post_updated"
	EvBlogPostPublished   = "blog_post_published"
	EvBlogPostUnpublished = "blog_post_unpublished"
	EvBlogPostDeleted     = "blog_post_deleted"
)

const msgPostNotFound = "مطلب یافت نشد"

// blogJSON is a post as the frontend reads it.
type blogJSON struct {
	ID          int64    `json:"id"`
	Title       string   `json:"title"`
	Slug        string   `json:"slug"`
	Content     string   `json:"content"`
	Excerpt     string   `json:"excerpt"`
	Tags        []string `json:"tags"`
	Category    string   `json:"category"`
	ImageURL    string   `json:"image_url"`
	ReadingTime int      `json:"reading_time"`
	IsPublished bool     `json:"is_published"`
	Status      string   `json:"status"`
	PublishedAt *string  `json:"published_at"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
	AuthorEmail *string  `json:"author_email"`
}

func (v viewer) blogJSON(p data.BlogPost) blogJSON {
	j := blogJSON{
		ID: p.ID, Title: p.Title, Slug: p.Slug, Content: p.Content, Excerpt: p.Excerpt, Tags: tagList(p.Tags),
		Category: p.Category, ImageURL: p.ImageURL, ReadingTime: p.ReadingTime, IsPublished: p.IsPublished,
		Status: "unpublished", CreatedAt: timeJSON(p.CreatedAt()), UpdatedAt: timeJSON(p.UpdatedAt()),
		AuthorEmail: v.authorEmail(p.AuthorEmail, p.AuthorID, p.Category),
	}
	if p.IsPublished {
		j.Status = "published"
	}
	if t, ok := p.PublishedAt(); ok {
		s := timeJSON(t)
		j.PublishedAt = &s
	}
	return j
}

func (v viewer) blogList(posts []data.BlogPost) []blogJSON {
	out := make([]blogJSON, len(posts))
	for i, p := range posts {
		out[i] = v.blogJSON(p)
	}
	return out
}

// seesPost: published posts are public; unpublished ones are seen by their
// author, ADMIN3 and the category's moderators.
func (v viewer) seesPost(p data.BlogPost) bool {
	return p.IsPublished || v.admin || v.isAuthor(p.AuthorID) || v.moderates(p.Category)
}

// intParam reads a positive integer query parameter (def when absent), at
// most maxV; ok=false: answered 400.
func intParam(w http.ResponseWriter, r *http.Request, name string, def, maxV int) (int, bool) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxV {
		invalid(w, r, name, name+" must be an integer from 1 to "+strconv.Itoa(maxV))
		return 0, false
	}
	return n, true
}

// GET /api/blog/posts: published posts, newest first, a page at a time
// (page from 1, page_size 1..100, default 10; anything else is 400, not the
// original's 500), optionally of one category and matching ?search= in the
// title, content or excerpt.
func (s *Server) blogPosts(w http.ResponseWriter, r *http.Request) {
	page, ok := intParam(w, r, "page", 1, maxPage)
	if !ok {
		return
	}
	size, ok := intParam(w, r, "page_size", defaultPageSize, maxPageSize)
	if !ok {
		return
	}
	q := r.URL.Query()
	search := strings.TrimSpace(q.Get("search"))
	if textLen(search) > maxSearch {
		invalid(w, r, "search", "search has at most 200 characters")
		return
	}
	v, ok := s.who(w, r)
	if !ok {
		return
	}
	published := true
	list, total, err := s.o.DB.FindBlogPosts(r.Context(), data.BlogFilter{
		Published: &published, Category: strings.TrimSpace(q.Get("category")), Search: search,
		Limit: size, Offset: (page - 1) * size,
	})
	if err != nil {
		s.internal(w, r, "list posts", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true, "posts": v.blogList(list),
		"pagination": map[string]any{"page": page, "page_size": size, "total_count": total, "total_pages": (total + int64(size) - 1) / int64(size)},
	})
}

// GET /api/blog/posts/{slug}: the bare post, if the caller may see it.
func (s *Server) blogPost(w http.ResponseWriter, r *http.Request) {
	v, ok := s.who(w, r)
	if !ok {
		return
	}
	slug := r.PathValue("slug")
	if textLen(slug) > data.MaxSlugLength {
		fail(w, r, http.StatusNotFound, msgPostNotFound)
		return
	}
	p, err := s.o.DB.BlogPostBySlug(r.Context(), slug)
	if errors.Is(err, data.ErrNotFound) || (err == nil && !v.seesPost(p)) {
		fail(w, r, http.StatusNotFound, msgPostNotFound)
		return
	}
	if err != nil {
		s.internal(w, r, "load post", err)
		return
	}
	writeJSON(w, http.StatusOK, v.blogJSON(p))
}

// blogInput is the body of post creation and edit; a nil field is one not
// sent (an edit keeps the stored value). is_published and reading_time are
// not fields: publication is a moderator's act and the reading time is
// computed.
type blogInput struct {
	commonInput
	Title    *string `json:"title"`
	Content  *string `json:"content"`
	Category *string `json:"category"`
}

// apply validates in onto p (p.ID == 0: a new post).
func (in blogInput) apply(p *data.BlogPost, u data.User, asModerator bool) *fieldError {
	create := p.ID == 0
	if create || in.Title != nil {
		t, e := checkTitle(in.Title, "مطلب", minTitle, maxTitle)
		if e != nil {
			return e
		}
		p.Title = t
	}
	if in.Content != nil {
		p.Content = sanitizeRich(*in.Content)
	}
	switch {
	case p.Content == "":
		return bad("content", "محتوای مطلب الزامی است.")
	case textLen(p.Content) > maxPostContent:
		return bad("content", "محتوای مطلب نباید بیشتر از ۵۰,۰۰۰ کاراکتر باشد.")
	}
	p.ReadingTime = readingTime(p.Content)
	def := p.Category
	if create {
		def = GeneralCategory
	}
	cat, e := checkCategory(in.Category, def, u, asModerator)
	if e != nil {
		return e
	}
	p.Category = cat
	cm, e := in.commonInput.check(common{excerpt: p.Excerpt, tags: p.Tags, imageURL: p.ImageURL, slug: p.Slug})
	if e != nil {
		return e
	}
	p.Excerpt, p.Tags, p.ImageURL, p.Slug = cm.excerpt, cm.tags, cm.imageURL, cm.slug
	return nil
}

// POST /api/admin/blog/posts/create (any user; BLOG_CREATE): a new post,
// always unpublished.
func (s *Server) createBlogPost(w http.ResponseWriter, r *http.Request) {
	var in blogInput
	if !decode(w, r, &in, false) {
		return
	}
	u, _, ok := s.caller(w, r)
	if !ok {
		return
	}
	p := data.BlogPost{AuthorID: sql.NullInt64{Int64: u.ID, Valid: true}, AuthorEmail: sql.NullString{String: u.Email, Valid: true}}
	if e := in.apply(&p, u, false); e != nil {
		e.answer(w, r)
		return
	}
	p, err := s.o.DB.CreateBlogPost(r.Context(), p)
	if s.changeRefused(w, r, err, msgPostNotFound, "") {
		return
	}
	s.event(r, EvBlogPostCreated, "success", slog.Int64("post_id", p.ID))
	writeJSON(w, http.StatusCreated, map[string]any{
		"success": true, "message": "مطلب شما با موفقیت ایجاد شد و در انتظار تایید ادمین است.",
		"post": viewer{user: u}.blogJSON(p),
	})
}

// postByID loads the {id} post if the caller may see it (404 otherwise).
func (s *Server) postByID(w http.ResponseWriter, r *http.Request) (data.BlogPost, viewer, bool) {
	v, ok := s.who(w, r)
	if !ok {
		return data.BlogPost{}, v, false
	}
	id, ok := pathID(w, r, msgPostNotFound)
	if !ok {
		return data.BlogPost{}, v, false
	}
	p, ok := visible(s, w, r, id, s.o.DB.BlogPostByID, v.seesPost, msgPostNotFound)
	return p, v, ok
}

// PUT /api/admin/blog/posts/{id}: a partial edit, by the category's
// moderators, or by the author while the post is unpublished (a published
// post changes only through a moderator, so an author cannot swap the text
// after review).
func (s *Server) editBlogPost(w http.ResponseWriter, r *http.Request) {
	var in blogInput
	if !decode(w, r, &in, false) {
		return
	}
	p, v, ok := s.postByID(w, r)
	if !ok {
		return
	}
	asModerator := v.moderates(p.Category)
	switch {
	case asModerator:
	case !v.isAuthor(p.AuthorID):
		s.denied(w, r, "post", p.ID)
		return
	case p.IsPublished:
		fail(w, r, http.StatusConflict, "مطلب منتشرشده را فقط مدیران می‌توانند ویرایش کنند.")
		return
	}
	if e := in.apply(&p, v.user, asModerator && !v.isAuthor(p.AuthorID)); e != nil {
		e.answer(w, r)
		return
	}
	if s.changeRefused(w, r, s.o.DB.UpdateBlogPost(r.Context(), p), msgPostNotFound, "") {
		return
	}
	p, err := s.o.DB.BlogPostByID(r.Context(), p.ID)
	if s.changeRefused(w, r, err, msgPostNotFound, "") {
		return
	}
	s.event(r, EvBlogPostUpdated, "success", slog.Int64("post_id", p.ID))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "مطلب با موفقیت ویرایش شد", "post": v.blogJSON(p)})
}

// DELETE /api/admin/blog/posts/{id}/delete: the author or the category's
// moderators.
func (s *Server) deleteBlogPost(w http.ResponseWriter, r *http.Request) {
	p, v, ok := s.postByID(w, r)
	if !ok {
		return
	}
	if !v.moderates(p.Category) && !v.isAuthor(p.AuthorID) {
		s.denied(w, r, "post", p.ID)
		return
	}
	if s.changeRefused(w, r, s.o.DB.DeleteBlogPost(r.Context(), p.ID), msgPostNotFound, "") {
		return
	}
	s.event(r, EvBlogPostDeleted, "success", slog.Int64("post_id", p.ID), slog.Bool("was_published", p.IsPublished))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "مطلب با موفقیت حذف شد"})
}

// POST /api/admin/blog/posts/{id}/publish (moderators, within their scope):
// {"action": "approve"|"reject"|"toggle"} ("publish"/"unpublish" too);
// no body is toggle. The first publication sets published_at.
func (s *Server) publishBlogPost(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Action string `json:"action"`
	}
	if !decode(w, r, &in, true) {
		return
	}
	var want *bool
	switch strings.TrimSpace(in.Action) {
	case "", "toggle":
	case "approve", "publish":
		t := true
		want = &t
	case "reject", "unpublish":
		f := false
		want = &f
	default:
		invalid(w, r, "action", "action must be approve, reject or toggle")
		return
	}
	p, v, ok := s.postByID(w, r)
	if !ok {
		return
	}
	if !v.moderates(p.Category) {
		s.denied(w, r, "post", p.ID)
		return
	}
	published, err := s.o.DB.SetBlogPublished(r.Context(), p.ID, want)
	if s.changeRefused(w, r, err, msgPostNotFound, "") {
		return
	}
	ev, msg := EvBlogPostUnpublished, "انتشار مطلب لغو شد"
	if published {
		ev, msg = EvBlogPostPublished, "مطلب منتشر شد"
	}
	s.event(r, ev, "success", slog.Int64("post_id", p.ID))
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": msg, "is_published": published, "post_id": p.ID})
}

// GET /api/admin/blog/posts?status=all|published|unpublished (moderators):
// a bare array of the posts in the caller's categories.
func (s *Server) adminBlogPosts(w http.ResponseWriter, r *http.Request) {
	var published *bool
	switch r.URL.Query().Get("status") {
	case "", "all":
	case "published":
		t := true
		published = &t
	case "unpublished":
		f := false
		published = &f
	default:
		invalid(w, r, "status", "status must be all, published or unpublished")
		return
	}
	v, ok := s.who(w, r)
	if !ok {
		return
	}
	list, _, err := s.o.DB.FindBlogPosts(r.Context(), data.BlogFilter{Published: published, Categories: moderatedCategories(v.user)})
	if err != nil {
		s.internal(w, r, "list posts", err)
		return
	}
	writeJSON(w, http.StatusOK, v.blogList(list))
}

// GET /api/user/created-blog-posts: the caller's posts, published or not.
func (s *Server) createdBlogPosts(w http.ResponseWriter, r *http.Request) {
	v, ok := s.who(w, r)
	if !ok {
		return
	}
	list, _, err := s.o.DB.FindBlogPosts(r.Context(), data.BlogFilter{AuthorID: v.user.ID})
	if err != nil {
		s.internal(w, r, "list posts", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "blog_posts": v.blogList(list), "total": len(list)})
}
