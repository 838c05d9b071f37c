package data

import (
	"context"
	"database/sql"
	"time"
)

// BlogPost is one post of the blog, published or not. Tags is a JSON array;
// Content is HTML the API sanitised before storing it.
type BlogPost struct {
	ID          int64          `db:"id"`
	Title       string         `db:"title"`
	Slug        string         `db:"slug"`
	Content     string         `db:"content"`
	Excerpt     string         `db:"excerpt"`
	Tags        string         `db:"tags"`
	Category    string         `db:"category"`
	ImageURL    string         `db:"image_url"`
	ReadingTime int            `db:"reading_time"`
	IsPublished bool           `db:"is_published"`
	PublishedUS sql.NullInt64  `db:"published_us"`
	AuthorID    sql.NullInt64  `db:"author_id"`
	AuthorEmail sql.NullString `db:"author_email"`
	CreatedUS   int64          `db:"created_us"`
	UpdatedUS   int64          `db:"updated_us"`
}

// PublishedAt is when the post was first published; ok=false: never.
func (p BlogPost) PublishedAt() (time.Time, bool) {
	return fromUS(p.PublishedUS.Int64), p.PublishedUS.Valid
}

// CreatedAt is when the post was written.
func (p BlogPost) CreatedAt() time.Time { return fromUS(p.CreatedUS) }

// UpdatedAt is when the post last changed.
func (p BlogPost) UpdatedAt() time.Time { return fromUS(p.UpdatedUS) }

const blogCols = `id, title, slug, content, excerpt, tags, category, image_url, reading_time, is_published,
	published_us, author_id, author_email, created_us, updated_us`

// CreateBlogPost inserts p, unpublished whatever p says: publishing is a
// moderator's act (SetBlogPublished). A non-empty p.Slug is used as given
// and gives ErrDuplicate when taken; an empty one is derived from the title
// and made unique.
func (db *DB) CreateBlogPost(ctx context.Context, p BlogPost) (BlogPost, error) {
	p.CreatedUS = db.nowUS()
	p.UpdatedUS = p.CreatedUS
	p.IsPublished, p.PublishedUS = false, sql.NullInt64{}
	if p.Tags == "" {
		p.Tags = "[]"
	}
	base, fixed := p.Slug, p.Slug != ""
	if !fixed {
		base = slugify(p.Title, "post")
	}
	var err error
	p.ID, p.Slug, err = db.insertSlugged(ctx, db.x, base, fixed, `INSERT INTO blog_posts (title, slug, content, excerpt, tags, category,
		image_url, reading_time, is_published, author_id, author_email, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING RETURNING id`,
		func(slug string) []any {
			return []any{p.Title, slug, p.Content, p.Excerpt, p.Tags, p.Category, p.ImageURL, p.ReadingTime, false,
				p.AuthorID, p.AuthorEmail, p.CreatedUS, p.UpdatedUS}
		})
	return p, err
}

// BlogPostByID returns the post with this ID.
func (db *DB) BlogPostByID(ctx context.Context, id int64) (BlogPost, error) {
	var p BlogPost
	err := db.getOne(ctx, &p, `SELECT `+blogCols+` FROM blog_posts WHERE id = ?`, id)
	return p, err
}

// BlogPostBySlug returns the post with this slug.
func (db *DB) BlogPostBySlug(ctx context.Context, slug string) (BlogPost, error) {
	var p BlogPost
	err := db.getOne(ctx, &p, `SELECT `+blogCols+` FROM blog_posts WHERE slug = ?`, slug)
	return p, err
}

// BlogFilter selects blog posts. Zero value: every post, without a limit.
type BlogFilter struct {
	// Published, when set, keeps published (true) or unpublished (false)
	// posts only.
	Published *bool
	// Categories, when non-nil, keeps these categories only (an empty,
	// non-nil slice: none).
	Categories []string
	// Category, when set, keeps this category only.
	Category string
	// Search, when set, keeps posts whose title, content or excerpt holds
	// it, ignoring case ('%' and '_' are matched literally).
	Search string
	// AuthorID, when non-zero, keeps this user's posts only.
	AuthorID int64
	// Limit, when positive, returns at most Limit posts, after skipping
	// Offset.
	Limit, Offset int
}

// FindBlogPosts returns the posts f selects, newest first, and how many
// posts match in all (before Limit and Offset).
func (db *DB) FindBlogPosts(ctx context.Context, f BlogFilter) ([]BlogPost, int64, error) {
	var w where
	if f.Published != nil {
		w.add("is_published = ?", *f.Published)
	}
	if f.Categories != nil {
		if err := w.in("category", f.Categories); err != nil {
			return nil, 0, err
		}
	}
	if f.Category != "" {
		w.add("category = ?", f.Category)
	}
	if f.Search != "" {
		pat := likePattern(f.Search)
		w.add(`(LOWER(title) LIKE ? ESCAPE '\' OR LOWER(content) LIKE ? ESCAPE '\' OR LOWER(excerpt) LIKE ? ESCAPE '\')`, pat, pat, pat)
	}
	if f.AuthorID != 0 {
		w.add("author_id = ?", f.AuthorID)
	}
	var total int64
	if err := db.x.GetContext(ctx, &total, db.q(`SELECT COUNT(*) FROM blog_posts`+w.sql()), w.args...); err != nil {
		return nil, 0, err
	}
	query := `SELECT ` + blogCols + ` FROM blog_posts` + w.sql() + ` ORDER BY id DESC`
	args := w.args
	if f.Limit > 0 {
		query += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, f.Offset)
	}
	list := []BlogPost{}
	err := db.x.SelectContext(ctx, &list, db.q(query), args...)
	return list, total, err
}

// UpdateBlogPost stores the editable fields of p (title, slug, content,
// excerpt, tags, category, image URL, reading time) and sets updated_us; the
// publication state is not touched. A slug another post uses gives
// ErrDuplicate.
func (db *DB) UpdateBlogPost(ctx context.Context, p BlogPost) error {
	err := db.exec1(ctx, `UPDATE blog_posts SET title = ?, slug = ?, content = ?, excerpt = ?, tags = ?, category = ?,
		image_url = ?, reading_time = ?, updated_us = ? WHERE id = ?`,
		p.Title, p.Slug, p.Content, p.Excerpt, p.Tags, p.Category, p.ImageURL, p.ReadingTime, db.nowUS(), p.ID)
	if isUnique(err) {
		return ErrDuplicate
	}
	return err
}

// SetBlogPublished publishes (true) or unpublishes (false) a post, or
// toggles it (nil), in one statement; the first publication sets
// published_us, which later ones keep. It reports the new state.
func (db *DB) SetBlogPublished(ctx context.Context, id int64, publish *bool) (bool, error) {
	now := db.nowUS()
	var state bool
	var err error
	if publish == nil {
		err = db.getOne(ctx, &state, `UPDATE blog_posts SET is_published = NOT is_published,
			published_us = CASE WHEN is_published THEN published_us ELSE COALESCE(published_us, ?) END, updated_us = ?
			WHERE id = ? RETURNING is_published`, now, now, id)
	} else {
		err = db.getOne(ctx, &state, `UPDATE blog_posts SET is_published = ?,
			published_us = CASE WHEN ? THEN COALESCE(published_us, ?) ELSE published_us END, updated_us = ?
			WHERE id = ? RETURNING is_published`, *publish, *publish, now, now, id)
	}
	return state, err
}

// DeleteBlogPost removes a post.
func (db *DB) DeleteBlogPost(ctx context.Context, id int64) error {
	return db.exec1(ctx, `DELETE FROM blog_posts WHERE id = ?`, id)
}
