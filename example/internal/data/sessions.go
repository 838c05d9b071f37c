package data

import (
	"context"
	"strconv"
	"time"
)

// Session is one live token family of a user: a login on some device. The
// row exists while the family can still be refreshed; revoking the family
// deletes it (see [DB.EndSession]).
type Session struct {
	ID         int64  `db:"id"`
	Family     string `db:"family"`
	UserID     int64  `db:"user_id"`
	CreatedUS  int64  `db:"created_us"`
	LastUsedUS int64  `db:"last_used_us"`
	ExpiresUS  int64  `db:"expires_us"`
	// IP is the client address as the app's IP mode stores it (a network
	// such as "192.0.2.0/24" by default), never a raw address unless the
	// operator chose the full mode.
	IP string `db:"ip"`
	// UserAgent is the client's User-Agent, cut at MaxUserAgent bytes.
	UserAgent string `db:"user_agent"`
}

// MaxUserAgent bounds the stored user agent (the column's width).
const MaxUserAgent = 256

// CreatedAt is when the session began (the login).
func (s Session) CreatedAt() time.Time { return fromUS(s.CreatedUS) }

// LastUsedAt is when its tokens were last issued (login or refresh).
func (s Session) LastUsedAt() time.Time { return fromUS(s.LastUsedUS) }

// ExpiresAt is when its refresh token expires.
func (s Session) ExpiresAt() time.Time { return fromUS(s.ExpiresUS) }

const sessionCols = `id, family, user_id, created_us, last_used_us, expires_us, ip, user_agent`

// CreateSession records a new token family of userID.
func (db *DB) CreateSession(ctx context.Context, s Session) (Session, error) {
	now := db.nowUS()
	s.CreatedUS, s.LastUsedUS = now, now
	err := db.x.QueryRowxContext(ctx, db.q(`INSERT INTO sessions (family, user_id, created_us, last_used_us, expires_us, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		s.Family, s.UserID, s.CreatedUS, s.LastUsedUS, s.ExpiresUS, s.IP, s.UserAgent).Scan(&s.ID)
	return s, err
}

// TouchSession records a refresh of family: new last use, expiry, address
// and user agent. A family without a row (revoked meanwhile, or issued
// before sessions were recorded) is left alone.
func (db *DB) TouchSession(ctx context.Context, family string, expires time.Time, ip, userAgent string) error {
	_, err := db.x.ExecContext(ctx, db.q(`UPDATE sessions SET last_used_us = ?, expires_us = ?, ip = ?, user_agent = ? WHERE family = ?`),
		db.nowUS(), us(expires), ip, userAgent, family)
	return err
}

// UserSessions lists userID's sessions that have not expired, most
// recently used first.
func (db *DB) UserSessions(ctx context.Context, userID int64) ([]Session, error) {
	list := []Session{}
	err := db.x.SelectContext(ctx, &list, db.q(`SELECT `+sessionCols+` FROM sessions
		WHERE user_id = ? AND expires_us > ? ORDER BY last_used_us DESC, id DESC`), userID, db.nowUS())
	return list, err
}

// UserSession returns userID's session with this ID; another user's
// session is ErrNotFound, as is an expired one.
func (db *DB) UserSession(ctx context.Context, userID, id int64) (Session, error) {
	var s Session
	err := db.getOne(ctx, &s, `SELECT `+sessionCols+` FROM sessions WHERE id = ? AND user_id = ? AND expires_us > ?`, id, userID, db.nowUS())
	return s, err
}

// EndSession deletes the session of family (its tokens were revoked).
func (db *DB) EndSession(ctx context.Context, family string) error {
	_, err := db.x.ExecContext(ctx, db.q(`DELETE FROM sessions WHERE family = ?`), family)
	return err
}

// EndUserSessions deletes the sessions of subject (a user ID in decimal)
// last used at or before before: the families whose tokens a "revoke every
// token issued before" mark covers. A subject that is not a user ID ends
// nothing.
func (db *DB) EndUserSessions(ctx context.Context, subject string, before time.Time) error {
	id, err := strconv.ParseInt(subject, 10, 64)
	if err != nil {
		return nil
	}
	_, err = db.x.ExecContext(ctx, db.q(`DELETE FROM sessions WHERE user_id = ? AND last_used_us <= ?`), id, us(before))
	return err
}

// SweepSessions deletes expired sessions and reports how many.
func (db *DB) SweepSessions(ctx context.Context) (int64, error) {
	res, err := db.x.ExecContext(ctx, db.q(`DELETE FROM sessions WHERE expires_us <= ?`), db.nowUS())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
