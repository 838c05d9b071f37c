package data

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
)

// Poll is one poll of any status (the statuses are those of campaigns).
// Options is filled by the methods that say so.
type Poll struct {
	ID               int64          `db:"id"`
	Title            string         `db:"title"`
	Description      string         `db:"description"`
	Slug             string         `db:"slug"`
	Category         string         `db:"category"`
	ImageURL         string         `db:"image_url"`
	IsAnonymous      bool           `db:"is_anonymous"`
	IsMultipleChoice bool           `db:"is_multiple_choice"`
	MaxChoices       sql.NullInt64  `db:"max_choices"`
	DeadlineUS       sql.NullInt64  `db:"deadline_us"`
	Status           string         `db:"status"`
	AuthorID         sql.NullInt64  `db:"author_id"`
	AuthorEmail      sql.NullString `db:"author_email"`
	CreatedUS        int64          `db:"created_us"`
	UpdatedUS        int64          `db:"updated_us"`
	// Voters counts the users who voted (participations).
	Voters  int64 `db:"voter_count"`
	Options []PollOption
}

// PollOption is one choice of a poll, with its tally.
type PollOption struct {
	ID       int64  `db:"id"`
	PollID   int64  `db:"poll_id"`
	Text     string `db:"text"`
	Position int    `db:"position"`
	Votes    int64  `db:"vote_count"`
}

// Deadline is when voting closes; ok=false: the poll has no deadline.
func (p Poll) Deadline() (time.Time, bool) {
	return fromUS(p.DeadlineUS.Int64), p.DeadlineUS.Valid
}

// CreatedAt is when the poll was created.
func (p Poll) CreatedAt() time.Time { return fromUS(p.CreatedUS) }

// UpdatedAt is when the poll last changed.
func (p Poll) UpdatedAt() time.Time { return fromUS(p.UpdatedUS) }

// ChoiceLimit is how many options one vote may pick: 1 for a single-choice
// poll, MaxChoices (capped at the number of options) or every option for a
// multiple-choice one. The poll's Options must be loaded.
func (p Poll) ChoiceLimit() int {
	n := len(p.Options)
	switch {
	case !p.IsMultipleChoice:
		return 1
	case p.MaxChoices.Valid && int(p.MaxChoices.Int64) < n:
		return int(p.MaxChoices.Int64)
	}
	return n
}

// Vote refusals.
var (
	// ErrNotVotable: the poll is not approved, or its deadline passed.
	ErrNotVotable = errors.New("data: poll is not open for voting")
	// ErrBadChoice: the option IDs are empty, repeat one, name an option of
	// another poll, or exceed the poll's choice limit.
	ErrBadChoice = errors.New("data: the options chosen do not fit the poll")
)

const pollCols = `p.id, p.title, p.description, p.slug, p.category, p.image_url, p.is_anonymous, p.is_multiple_choice,
	p.max_choices, p.deadline_us, p.status, p.author_id, p.author_email, p.created_us, p.updated_us,
	(SELECT COUNT(*) FROM poll_participations v WHERE v.poll_id = p.id) AS voter_count`

// CreatePoll inserts p (its status as given) with a unique slug derived from
// the title and its options in this order, in one transaction, and returns
// it as stored.
func (db *DB) CreatePoll(ctx context.Context, p Poll, options []string) (Poll, error) {
	p.CreatedUS = db.nowUS()
	p.UpdatedUS = p.CreatedUS
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		p.ID, p.Slug, err = db.insertSlugged(ctx, tx, slugify(p.Title, "poll"), false, `INSERT INTO polls (title, description, slug, category,
			image_url, is_anonymous, is_multiple_choice, max_choices, deadline_us, status, author_id, author_email, created_us, updated_us)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING RETURNING id`,
			func(slug string) []any {
				return []any{p.Title, p.Description, slug, p.Category, p.ImageURL, p.IsAnonymous, p.IsMultipleChoice,
					p.MaxChoices, p.DeadlineUS, p.Status, p.AuthorID, p.AuthorEmail, p.CreatedUS, p.UpdatedUS}
			})
		if err != nil {
			return err
		}
		return db.insertOptions(ctx, tx, p.ID, options)
	})
	if err != nil {
		return Poll{}, err
	}
	return db.PollByID(ctx, p.ID)
}

func (db *DB) insertOptions(ctx context.Context, tx *sqlx.Tx, pollID int64, options []string) error {
	for i, text := range options {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO poll_options (poll_id, text, position) VALUES (?, ?, ?)`), pollID, text, i+1); err != nil {
			return err
		}
	}
	return nil
}

// PollByID returns the poll with its options (in their order) and tallies.
func (db *DB) PollByID(ctx context.Context, id int64) (Poll, error) {
	var p Poll
	if err := db.getOne(ctx, &p, `SELECT `+pollCols+` FROM polls p WHERE p.id = ?`, id); err != nil {
		return Poll{}, err
	}
	err := db.x.SelectContext(ctx, &p.Options, db.q(`SELECT id, poll_id, text, position, vote_count FROM poll_options
		WHERE poll_id = ? ORDER BY position, id`), id)
	return p, err
}

// PollFilter selects polls. Zero value: every poll.
type PollFilter struct {
	// Statuses, when non-empty, keeps these statuses only.
	Statuses []string
	// Categories, when non-nil, keeps these categories only (an empty,
	// non-nil slice: none).
	Categories []string
	// AuthorID, when non-zero, keeps this user's polls only.
	AuthorID int64
	// VoterID, when non-zero, keeps the polls this user voted in.
	VoterID int64
}

// FindPolls returns the polls f selects, newest first, with their options.
func (db *DB) FindPolls(ctx context.Context, f PollFilter) ([]Poll, error) {
	var w where
	if len(f.Statuses) > 0 {
		if err := w.in("p.status", f.Statuses); err != nil {
			return nil, err
		}
	}
	if f.Categories != nil {
		if err := w.in("p.category", f.Categories); err != nil {
			return nil, err
		}
	}
	if f.AuthorID != 0 {
		w.add("p.author_id = ?", f.AuthorID)
	}
	if f.VoterID != 0 {
		w.add("EXISTS (SELECT 1 FROM poll_participations v WHERE v.poll_id = p.id AND v.user_id = ?)", f.VoterID)
	}
	list := []Poll{}
	if err := db.x.SelectContext(ctx, &list, db.q(`SELECT `+pollCols+` FROM polls p`+w.sql()+` ORDER BY p.id DESC`), w.args...); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return list, nil
	}
	ids := make([]int64, len(list))
	at := make(map[int64]int, len(list))
	for i, p := range list {
		ids[i], at[p.ID] = p.ID, i
	}
	query, args, err := sqlx.In(`SELECT id, poll_id, text, position, vote_count FROM poll_options WHERE poll_id IN (?) ORDER BY position, id`, ids)
	if err != nil {
		return nil, err
	}
	var opts []PollOption
	if err := db.x.SelectContext(ctx, &opts, db.q(query), args...); err != nil {
		return nil, err
	}
	for _, o := range opts {
		i := at[o.PollID]
		list[i].Options = append(list[i].Options, o)
	}
	return list, nil
}

// UpdatePoll stores the editable fields of p (title, description, category,
// image URL, anonymity, choice settings, deadline, status) and, when options
// is non-nil, replaces the options with these texts. Once the poll has votes,
// replacing its options or changing how votes are counted (anonymity,
// multiple choice, max choices) gives ErrConflict: votes are never deleted
// or reinterpreted by an edit. Options equal to the current ones (same texts
// in the same order) are not a replacement. The check and the change happen
// under the poll's row lock, so a vote cannot slip in between.
func (db *DB) UpdatePoll(ctx context.Context, p Poll, options []string) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := db.lockPoll(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		var texts []string
		if err := tx.SelectContext(ctx, &texts, db.q(`SELECT text FROM poll_options WHERE poll_id = ? ORDER BY position, id`), p.ID); err != nil {
			return err
		}
		replace := options != nil && !equalStrings(texts, options)
		counting := cur.IsAnonymous != p.IsAnonymous || cur.IsMultipleChoice != p.IsMultipleChoice || cur.MaxChoices != p.MaxChoices
		if cur.Voters > 0 && (replace || counting) {
			return ErrConflict
		}
		if replace {
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM poll_options WHERE poll_id = ?`), p.ID); err != nil {
				return err
			}
			if err := db.insertOptions(ctx, tx, p.ID, options); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, db.q(`UPDATE polls SET title = ?, description = ?, category = ?, image_url = ?, is_anonymous = ?,
			is_multiple_choice = ?, max_choices = ?, deadline_us = ?, status = ?, updated_us = ? WHERE id = ?`),
			p.Title, p.Description, p.Category, p.ImageURL, p.IsAnonymous, p.IsMultipleChoice, p.MaxChoices, p.DeadlineUS,
			p.Status, db.nowUS(), p.ID)
		return err
	})
}

// lockPoll takes the poll's row lock in tx and then reads the poll. Votes
// and edits of one poll take it, so they run one at a time: an edit never
// sees half a vote, a vote never counts for an option being replaced, and,
// all writers to a poll's tallies queueing on one row, they cannot deadlock
// on the option rows. The read is a statement of its own so that, on
// PostgreSQL, it sees what the previous holder committed (a statement's
// snapshot predates its wait for a lock).
func (db *DB) lockPoll(ctx context.Context, tx *sqlx.Tx, id int64) (Poll, error) {
	var p Poll
	err := tx.GetContext(ctx, &p.ID, db.q(`SELECT id FROM polls WHERE id = ?`+db.lockClause("UPDATE")), id)
	if err == nil {
		err = tx.GetContext(ctx, &p, db.q(`SELECT `+pollCols+` FROM polls p WHERE p.id = ?`), id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Poll{}, ErrNotFound
	}
	return p, err
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// SetPollStatus changes a poll's status.
func (db *DB) SetPollStatus(ctx context.Context, id int64, status string) error {
	return db.exec1(ctx, `UPDATE polls SET status = ?, updated_us = ? WHERE id = ?`, status, db.nowUS(), id)
}

// DeletePoll removes a poll with its options and votes.
func (db *DB) DeletePoll(ctx context.Context, id int64) error {
	return db.exec1(ctx, `DELETE FROM polls WHERE id = ?`, id)
}

// Vote records userID's vote for optionIDs, all in one transaction under
// the poll's row lock (lockPoll):
//
//   - the poll must exist (ErrNotFound), be approved and before its deadline
//     (ErrNotVotable);
//   - the IDs must be distinct options of this poll, at least one and at
//     most the poll's ChoiceLimit (ErrBadChoice);
//   - one vote per user and poll (ErrDuplicate), decided by the unique
//     constraint on participations, so of concurrent votes exactly one wins.
//
// Each chosen option's tally grows by one. For a poll that is not anonymous
// a row per choice records who chose it and when; an anonymous poll records
// only that the user took part, so nothing links a voter to a choice (not
// even the row versions PostgreSQL keeps: see the tally update). The poll's
// options cannot change meanwhile: UpdatePoll takes the same lock. It
// returns the number of voters after this vote.
func (db *DB) Vote(ctx context.Context, pollID, userID int64, optionIDs []int64) (int64, error) {
	var voters int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		p, err := db.lockPoll(ctx, tx, pollID)
		if err != nil {
			return err
		}
		now := db.nowUS()
		if p.Status != StatusApproved || (p.DeadlineUS.Valid && p.DeadlineUS.Int64 <= now) {
			return ErrNotVotable
		}
		if err := tx.SelectContext(ctx, &p.Options, db.q(`SELECT id, poll_id, text, position, vote_count FROM poll_options WHERE poll_id = ?`), pollID); err != nil {
			return err
		}
		if !fitsPoll(p, optionIDs) {
			return ErrBadChoice
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO poll_participations (poll_id, user_id, voted_us) VALUES (?, ?, ?)`), pollID, userID, now); err != nil {
			if isUnique(err) {
				return ErrDuplicate
			}
			return err
		}
		// Every option row is rewritten, chosen or not: on PostgreSQL a row
		// carries the ID of the transaction that last wrote it (xmin), which
		// would otherwise point from each option to its latest voter's
		// participation.
		query, args, err := sqlx.In(`UPDATE poll_options SET vote_count = vote_count + CASE WHEN id IN (?) THEN 1 ELSE 0 END
			WHERE poll_id = ?`, optionIDs, pollID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(query), args...); err != nil {
			return err
		}
		if !p.IsAnonymous {
			for _, o := range optionIDs {
				if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO poll_votes (poll_id, option_id, user_id, voted_us) VALUES (?, ?, ?, ?)`),
					pollID, o, userID, now); err != nil {
					return err
				}
			}
		}
		return tx.GetContext(ctx, &voters, db.q(`SELECT COUNT(*) FROM poll_participations WHERE poll_id = ?`), pollID)
	})
	return voters, err
}

// fitsPoll reports whether ids are distinct options of p, between 1 and
// p.ChoiceLimit() of them.
func fitsPoll(p Poll, ids []int64) bool {
	if len(ids) == 0 || len(ids) > p.ChoiceLimit() {
		return false
	}
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return false
		}
		seen[id] = true
	}
	n := 0
	for _, o := range p.Options {
		if seen[o.ID] {
			n++
		}
	}
	return n == len(ids)
}

// PollVote is one recorded choice of a poll that is not anonymous.
type PollVote struct {
	PollID     int64  `db:"poll_id"`
	OptionID   int64  `db:"option_id"`
	OptionText string `db:"option_text"`
	UserEmail  string `db:"user_email"`
	VotedUS    int64  `db:"voted_us"`
}

// VotedAt is when the vote was cast.
func (v PollVote) VotedAt() time.Time { return fromUS(v.VotedUS) }

// PollVoters lists who chose what in a poll that is not anonymous, oldest
// first (an anonymous poll has no such rows, so the list is empty).
func (db *DB) PollVoters(ctx context.Context, pollID int64) ([]PollVote, error) {
	list := []PollVote{}
	err := db.x.SelectContext(ctx, &list, db.q(`SELECT v.poll_id, v.option_id, o.text AS option_text, u.email AS user_email, v.voted_us
		FROM poll_votes v JOIN poll_options o ON o.id = v.option_id JOIN users u ON u.id = v.user_id
		WHERE v.poll_id = ? ORDER BY v.voted_us, v.id`), pollID)
	return list, err
}

// UserPollVotes returns userID's recorded choices in polls that are not
// anonymous, by poll ID.
func (db *DB) UserPollVotes(ctx context.Context, userID int64) (map[int64][]PollVote, error) {
	var list []PollVote
	err := db.x.SelectContext(ctx, &list, db.q(`SELECT v.poll_id, v.option_id, o.text AS option_text, u.email AS user_email, v.voted_us
		FROM poll_votes v JOIN poll_options o ON o.id = v.option_id JOIN users u ON u.id = v.user_id
		WHERE v.user_id = ? ORDER BY o.position, o.id`), userID)
	if err != nil {
		return nil, err
	}
	m := make(map[int64][]PollVote)
	for _, v := range list {
		m[v.PollID] = append(m[v.PollID], v)
	}
	return m, nil
}

// VotedPollIDs returns the IDs of the polls userID voted in.
func (db *DB) VotedPollIDs(ctx context.Context, userID int64) (map[int64]bool, error) {
	var ids []int64
	if err := db.x.SelectContext(ctx, &ids, db.q(`SELECT poll_id FROM poll_participations WHERE user_id = ?`), userID); err != nil {
		return nil, err
	}
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m, nil
}

// HasVoted reports whether userID voted in the poll.
func (db *DB) HasVoted(ctx context.Context, pollID, userID int64) (bool, error) {
	var n int
	err := db.x.GetContext(ctx, &n, db.q(`SELECT COUNT(*) FROM poll_participations WHERE poll_id = ? AND user_id = ?`), pollID, userID)
	return n > 0, err
}
