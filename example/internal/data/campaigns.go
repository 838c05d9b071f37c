package data

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Campaign statuses.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusClosed   = "closed"
)

// Anonymity values of campaigns and signatures.
const (
	Public    = "public"
	Anonymous = "anonymous"
)

// Campaign is one campaign of any status. Tags is a JSON array.
type Campaign struct {
	ID             int64          `db:"id"`
	Title          string         `db:"title"`
	Description    string         `db:"description"`
	Excerpt        string         `db:"excerpt"`
	Tags           string         `db:"tags"`
	ImageURL       string         `db:"image_url"`
	Slug           string         `db:"slug"`
	Category       string         `db:"category"`
	DeadlineUS     int64          `db:"deadline_us"`
	IsAnonymous    string         `db:"is_anonymous"`
	Status         string         `db:"status"`
	AuthorID       sql.NullInt64  `db:"author_id"`
	AuthorEmail    sql.NullString `db:"author_email"`
	CreatedUS      int64          `db:"created_us"`
	UpdatedUS      int64          `db:"updated_us"`
	SignatureCount int64          `db:"signature_count"`
}

// Deadline is when signing closes.
func (c Campaign) Deadline() time.Time { return fromUS(c.DeadlineUS) }

// CreatedAt is when the campaign was submitted.
func (c Campaign) CreatedAt() time.Time { return fromUS(c.CreatedUS) }

// UpdatedAt is when the campaign last changed.
func (c Campaign) UpdatedAt() time.Time { return fromUS(c.UpdatedUS) }

// SetDeadline sets DeadlineUS.
func (c *Campaign) SetDeadline(t time.Time) { c.DeadlineUS = us(t) }

const campaignCols = `c.id, c.title, c.description, c.excerpt, c.tags, c.image_url, c.slug, c.category,
	c.deadline_us, c.is_anonymous, c.status, c.author_id, c.author_email, c.created_us, c.updated_us,
	(SELECT COUNT(*) FROM signatures s WHERE s.campaign_id = c.id) AS signature_count`

// CreateCampaign inserts c (its status as given) with a unique slug derived
// from the title, and returns it with ID, slug and times set.
func (db *DB) CreateCampaign(ctx context.Context, c Campaign) (Campaign, error) {
	c.CreatedUS = db.nowUS()
	c.UpdatedUS = c.CreatedUS
	if c.Tags == "" {
		c.Tags = "[]"
	}
	var err error
	c.ID, c.Slug, err = db.insertSlugged(ctx, db.x, Slugify(c.Title), false, `INSERT INTO campaigns (title, description, excerpt, tags, image_url, slug, category,
		deadline_us, is_anonymous, status, author_id, author_email, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING RETURNING id`,
		func(slug string) []any {
			return []any{c.Title, c.Description, c.Excerpt, c.Tags, c.ImageURL, slug, c.Category, c.DeadlineUS,
				c.IsAnonymous, c.Status, c.AuthorID, c.AuthorEmail, c.CreatedUS, c.UpdatedUS}
		})
	return c, err
}

// Slugify makes a URL slug from a title, keeping letters and digits of any
// script (Persian titles give Persian slugs), lower-cased, with runs of
// anything else turned into one '-'; at most 80 code points. An empty result
// is "campaign".
func Slugify(title string) string { return slugify(title, "campaign") }

// CampaignByID returns the campaign with its signature count.
func (db *DB) CampaignByID(ctx context.Context, id int64) (Campaign, error) {
	var c Campaign
	err := db.getOne(ctx, &c, `SELECT `+campaignCols+` FROM campaigns c WHERE c.id = ?`, id)
	return c, err
}

// CampaignFilter selects campaigns. Zero value: every campaign.
type CampaignFilter struct {
	// Statuses, when non-empty, keeps these statuses only.
	Statuses []string
	// Categories, when non-nil, keeps these categories only (an empty,
	// non-nil slice: none).
	Categories []string
	// AuthorID, when non-zero, keeps this user's campaigns only.
	AuthorID int64
}

// FindCampaigns returns the campaigns f selects, newest first.
func (db *DB) FindCampaigns(ctx context.Context, f CampaignFilter) ([]Campaign, error) {
	var w where
	if len(f.Statuses) > 0 {
		if err := w.in("c.status", f.Statuses); err != nil {
			return nil, err
		}
	}
	if f.Categories != nil {
		if err := w.in("c.category", f.Categories); err != nil {
			return nil, err
		}
	}
	if f.AuthorID != 0 {
		w.add("c.author_id = ?", f.AuthorID)
	}
	list := []Campaign{}
	err := db.x.SelectContext(ctx, &list, db.q(`SELECT `+campaignCols+` FROM campaigns c`+w.sql()+` ORDER BY c.id DESC`), w.args...)
	return list, err
}

// UpdateCampaign stores the editable fields of c (title, description,
// excerpt, tags, image URL, slug, category, deadline, anonymity, status) and
// sets updated_us. A slug another campaign uses gives ErrDuplicate.
func (db *DB) UpdateCampaign(ctx context.Context, c Campaign) error {
	err := db.exec1(ctx, `UPDATE campaigns SET title = ?, description = ?, excerpt = ?, tags = ?, image_url = ?, slug = ?,
		category = ?, deadline_us = ?, is_anonymous = ?, status = ?, updated_us = ? WHERE id = ?`,
		c.Title, c.Description, c.Excerpt, c.Tags, c.ImageURL, c.Slug, c.Category, c.DeadlineUS, c.IsAnonymous, c.Status,
		db.nowUS(), c.ID)
	if isUnique(err) {
		return ErrDuplicate
	}
	return err
}

// DeleteCampaign removes a campaign and its signatures.
func (db *DB) DeleteCampaign(ctx context.Context, id int64) error {
	return db.exec1(ctx, `DELETE FROM campaigns WHERE id = ?`, id)
}

// SetCampaignStatus changes a campaign's status.
func (db *DB) SetCampaignStatus(ctx context.Context, id int64, status string) error {
	return db.exec1(ctx, `UPDATE campaigns SET status = ?, updated_us = ? WHERE id = ?`, status, db.nowUS(), id)
}

// Signature is one user's signature on a campaign.
type Signature struct {
	ID            int64  `db:"id"`
	CampaignID    int64  `db:"campaign_id"`
	UserID        int64  `db:"user_id"`
	UserEmail     string `db:"user_email"`
	SignedUS      int64  `db:"signed_us"`
	IsAnonymous   string `db:"is_anonymous"`
	CampaignTitle string `db:"campaign_title"`
}

// SignedAt is when the signature was made.
func (s Signature) SignedAt() time.Time { return fromUS(s.SignedUS) }

// Sign refusals.
var (
	// ErrNotSignable: the campaign is not approved or its deadline passed.
	ErrNotSignable = errors.New("data: campaign cannot be signed")
)

// Sign records a signature, only on an approved campaign before its deadline
// (checked in the same statement as the insert). A second signature by the
// same user gives ErrDuplicate, whatever the concurrency: the unique
// constraint decides. It returns the signature and the new total.
func (db *DB) Sign(ctx context.Context, campaignID, userID int64, email, anonymity string) (Signature, int64, error) {
	now := db.nowUS()
	s := Signature{CampaignID: campaignID, UserID: userID, UserEmail: email, SignedUS: now, IsAnonymous: anonymity}
	err := db.x.QueryRowxContext(ctx, db.q(`INSERT INTO signatures (campaign_id, user_id, user_email, signed_us, is_anonymous)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = ? AND status = 'approved' AND deadline_us > ?)
		RETURNING id`), campaignID, userID, email, now, anonymity, campaignID, now).Scan(&s.ID)
	switch {
	case isUnique(err):
		return Signature{}, 0, ErrDuplicate
	case errors.Is(err, sql.ErrNoRows):
		return Signature{}, 0, ErrNotSignable
	case err != nil:
		return Signature{}, 0, err
	}
	total, err := db.CountSignatures(ctx, campaignID)
	return s, total, err
}

// CountSignatures counts a campaign's signatures.
func (db *DB) CountSignatures(ctx context.Context, campaignID int64) (int64, error) {
	var n int64
	err := db.x.GetContext(ctx, &n, db.q(`SELECT COUNT(*) FROM signatures WHERE campaign_id = ?`), campaignID)
	return n, err
}

const signatureCols = `s.id, s.campaign_id, s.user_id, s.user_email, s.signed_us, s.is_anonymous, c.title AS campaign_title`

// CampaignSignatures lists a campaign's signatures, oldest first.
func (db *DB) CampaignSignatures(ctx context.Context, campaignID int64) ([]Signature, error) {
	list := []Signature{}
	err := db.x.SelectContext(ctx, &list, db.q(`SELECT `+signatureCols+` FROM signatures s JOIN campaigns c ON c.id = s.campaign_id
		WHERE s.campaign_id = ? ORDER BY s.id`), campaignID)
	return list, err
}

// SignatureOf returns the user's signature on a campaign.
func (db *DB) SignatureOf(ctx context.Context, campaignID, userID int64) (Signature, error) {
	var s Signature
	err := db.getOne(ctx, &s, `SELECT `+signatureCols+` FROM signatures s JOIN campaigns c ON c.id = s.campaign_id
		WHERE s.campaign_id = ? AND s.user_id = ?`, campaignID, userID)
	return s, err
}

// UserSignatures lists the campaigns a user signed, newest first; publicOnly
// leaves out anonymous signatures.
func (db *DB) UserSignatures(ctx context.Context, userID int64, publicOnly bool) ([]Signature, error) {
	list := []Signature{}
	query := `SELECT ` + signatureCols + ` FROM signatures s JOIN campaigns c ON c.id = s.campaign_id WHERE s.user_id = ?`
	if publicOnly {
		query += ` AND s.is_anonymous = 'public'`
	}
	err := db.x.SelectContext(ctx, &list, db.q(query+` ORDER BY s.id DESC`), userID)
	return list, err
}

// SignedCampaignIDs returns the IDs of the campaigns a user signed.
func (db *DB) SignedCampaignIDs(ctx context.Context, userID int64) (map[int64]bool, error) {
	var ids []int64
	if err := db.x.SelectContext(ctx, &ids, db.q(`SELECT campaign_id FROM signatures WHERE user_id = ?`), userID); err != nil {
		return nil, err
	}
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m, nil
}
