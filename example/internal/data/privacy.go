package data

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"
)

// The neutral account that keeps what deleted accounts leave in public: their
// signatures (so campaign totals do not change) and the campaigns, polls and
// blog posts they wrote. It is created by the first deletion, is inactive,
// has no usable password (no hash format matches "!") and an address in the
// reserved .invalid domain, which no one can register.
const (
	DeletedUserID    int64 = 0
	DeletedUserEmail       = "deleted-user@deleted.invalid"
	// DeletedUserLabel replaces the signer's address on a kept signature:
	// "deleted user", shown where a public signature showed the address.
	DeletedUserLabel = "کاربر حذف‌شده"
)

// Deletion reports what DeleteUser did with a deleted account's data.
type Deletion struct {
	// Signatures were moved to the neutral account (totals unchanged).
	Signatures int64
	// Campaigns, Polls and BlogPosts were attributed to the neutral account.
	Campaigns, Polls, BlogPosts int64
	// Sessions were deleted.
	Sessions int64
}

// DeleteUser erases account id in one transaction: its signatures, poll
// participations and authored campaigns, polls and posts move to the
// neutral account (with the stored author address removed), so every total
// and tally stays as it was; its verification codes, sessions and
// attributable poll choices are deleted; then the account row itself. Nothing left in the database
// holds the account's address. An unknown or neutral account is
// ErrNotFound. Revoking the account's tokens is the caller's job.
func (db *DB) DeleteUser(ctx context.Context, id int64) (Deletion, error) {
	var d Deletion
	if id == DeletedUserID {
		return d, ErrNotFound
	}
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var email string
		if err := tx.GetContext(ctx, &email, db.q(`SELECT email FROM users WHERE id = ?`+db.lockClause("UPDATE")), id); err != nil {
			return notFound(err)
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO users (id, email, password, role, faculty, dormitory, is_active, created_us, council_member_status)
			VALUES (?, ?, '!', 'simple_user', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			DeletedUserID, DeletedUserEmail, FacultyUnspecified, NoDormitory, false, db.nowUS(), CouncilNone); err != nil {
			return err
		}
		steps := []struct {
			n     *int64
			query string
			args  []any
		}{
			{&d.Signatures, `UPDATE signatures SET user_id = ?, user_email = ? WHERE user_id = ?`, []any{DeletedUserID, DeletedUserLabel, id}},
			{&d.Campaigns, `UPDATE campaigns SET author_id = ?, author_email = NULL WHERE author_id = ?`, []any{DeletedUserID, id}},
			{&d.Polls, `UPDATE polls SET author_id = ?, author_email = NULL WHERE author_id = ?`, []any{DeletedUserID, id}},
			{&d.BlogPosts, `UPDATE blog_posts SET author_id = ?, author_email = NULL WHERE author_id = ?`, []any{DeletedUserID, id}},
			// Voter counts keep the participation; the choice itself (polls
			// that are not anonymous) goes with the row.
			{nil, `UPDATE poll_participations SET user_id = ? WHERE user_id = ?`, []any{DeletedUserID, id}},
			{&d.Sessions, `DELETE FROM sessions WHERE user_id = ?`, []any{id}},
			{nil, `DELETE FROM verification_codes WHERE email = ?`, []any{email}},
			{nil, `DELETE FROM verified_emails WHERE email = ?`, []any{email}},
			// Attributable votes go with the row (ON DELETE CASCADE).
			{nil, `DELETE FROM users WHERE id = ?`, []any{id}},
		}
		for _, st := range steps {
			res, err := tx.ExecContext(ctx, db.q(st.query), st.args...)
			if err != nil {
				return err
			}
			if st.n != nil {
				if *st.n, err = res.RowsAffected(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return d, err
}

// notFound maps "no rows" to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// Participation is one poll a user took part in. For an anonymous poll the
// database holds only this (that they voted, and when), never the choice.
type Participation struct {
	PollID      int64  `db:"poll_id"`
	PollTitle   string `db:"poll_title"`
	IsAnonymous bool   `db:"is_anonymous"`
	VotedUS     int64  `db:"voted_us"`
}

// UserParticipations lists the polls userID voted in, oldest vote first.
func (db *DB) UserParticipations(ctx context.Context, userID int64) ([]Participation, error) {
	list := []Participation{}
	err := db.x.SelectContext(ctx, &list, db.q(`SELECT v.poll_id, p.title AS poll_title, p.is_anonymous, v.voted_us
		FROM poll_participations v JOIN polls p ON p.id = v.poll_id WHERE v.user_id = ? ORDER BY v.id`), userID)
	return list, err
}
