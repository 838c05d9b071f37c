package data

import (
	"context"
	"database/sql"
	"time"
)

// Default profile values, as in the original: the faculty "unspecified" and
// the dormitory "I do not live in a dorm".
const (
	FacultyUnspecified = "نامشخص"
	NoDormitory        = "خوابگاهی نیستم"
)

// Council membership statuses (HEAD's council_member_status): a voting
// member of the General Council, a member without a vote, or not a member.
const (
	CouncilMember   = "member"
	CouncilObserver = "observer"
	CouncilNone     = "none"
)

// User is one account. Email is stored lower-cased (the caller normalizes).
type User struct {
	ID          int64          `db:"id"`
	Email       string         `db:"email"`
	Password    string         `db:"password"`
	Role        string         `db:"role"`
	Unit        sql.NullString `db:"unit"`
	Faculty     string         `db:"faculty"`
	Dormitory   string         `db:"dormitory"`
	IsActive    bool           `db:"is_active"`
	CreatedUS   int64          `db:"created_us"`
	LastLoginUS sql.NullInt64  `db:"last_login_us"`
	// CouncilStatus is CouncilMember, CouncilObserver or CouncilNone (a
	// CHECK constraint holds the column to these).
	CouncilStatus string `db:"council_member_status"`
}

// CreatedAt is when the account was created.
func (u User) CreatedAt() time.Time { return fromUS(u.CreatedUS) }

const userCols = `id, email, password, role, unit, faculty, dormitory, is_active, created_us, last_login_us, council_member_status`

// CreateUser inserts u and returns it with its ID. An e-mail that is already
// registered gives ErrDuplicate.
func (db *DB) CreateUser(ctx context.Context, u User) (User, error) {
	if u.Role == "" {
		u.Role = "simple_user"
	}
	if u.Faculty == "" {
		u.Faculty = FacultyUnspecified
	}
	if u.Dormitory == "" {
		u.Dormitory = NoDormitory
	}
	if u.CouncilStatus == "" {
		u.CouncilStatus = CouncilNone
	}
	u.IsActive = true
	u.CreatedUS = db.nowUS()
	err := db.x.QueryRowxContext(ctx, db.q(`INSERT INTO users (email, password, role, unit, faculty, dormitory, is_active, created_us, council_member_status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		u.Email, u.Password, u.Role, u.Unit, u.Faculty, u.Dormitory, u.IsActive, u.CreatedUS, u.CouncilStatus).Scan(&u.ID)
	if isUnique(err) {
		return User{}, ErrDuplicate
	}
	return u, err
}

// UserByEmail finds the account with this (lower-cased) e-mail.
func (db *DB) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := db.getOne(ctx, &u, `SELECT `+userCols+` FROM users WHERE email = ?`, email)
	return u, err
}

// UserByID finds the account with this ID.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := db.getOne(ctx, &u, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
	return u, err
}

// EmailExists reports whether an account uses this (lower-cased) e-mail.
func (db *DB) EmailExists(ctx context.Context, email string) (bool, error) {
	var n int
	err := db.x.GetContext(ctx, &n, db.q(`SELECT COUNT(*) FROM users WHERE email = ?`), email)
	return n > 0, err
}

// ListUsers returns every account, newest first, without the neutral
// "deleted user" account that holds deleted users' public artefacts.
func (db *DB) ListUsers(ctx context.Context) ([]User, error) {
	users := []User{}
	err := db.x.SelectContext(ctx, &users, db.q(`SELECT `+userCols+` FROM users WHERE id <> ? ORDER BY id DESC`), DeletedUserID)
	return users, err
}

// SetPassword replaces the password hash of an account.
func (db *DB) SetPassword(ctx context.Context, id int64, hash string) error {
	return db.exec1(ctx, `UPDATE users SET password = ? WHERE id = ?`, hash, id)
}

// UpgradePassword replaces the hash only if it is still old, so that a
// rehash after login never overwrites a password changed in the meantime.
func (db *DB) UpgradePassword(ctx context.Context, id int64, old, hash string) error {
	_, err := db.x.ExecContext(ctx, db.q(`UPDATE users SET password = ? WHERE id = ? AND password = ?`), hash, id, old)
	return err
}

// SetRole changes the role of an account.
func (db *DB) SetRole(ctx context.Context, id int64, role string) error {
	return db.exec1(ctx, `UPDATE users SET role = ? WHERE id = ?`, role, id)
}

// SetCouncilStatus changes the council membership of an account (one of
// CouncilMember, CouncilObserver, CouncilNone).
func (db *DB) SetCouncilStatus(ctx context.Context, id int64, status string) error {
	return db.exec1(ctx, `UPDATE users SET council_member_status = ? WHERE id = ?`, status, id)
}

// SetProfile changes the faculty and dormitory of an account.
func (db *DB) SetProfile(ctx context.Context, id int64, faculty, dormitory string) error {
	return db.exec1(ctx, `UPDATE users SET faculty = ?, dormitory = ? WHERE id = ?`, faculty, dormitory, id)
}

// TouchLogin records a successful login.
func (db *DB) TouchLogin(ctx context.Context, id int64) error {
	return db.exec1(ctx, `UPDATE users SET last_login_us = ? WHERE id = ?`, db.nowUS(), id)
}

// exec1 runs a statement that must change exactly one row.
func (db *DB) exec1(ctx context.Context, query string, args ...any) error {
	res, err := db.x.ExecContext(ctx, db.q(query), args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
