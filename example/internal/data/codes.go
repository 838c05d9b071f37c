package data

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"
)

// Code purposes.
const (
	PurposeRegister = "register"
	PurposeReset    = "reset"
	// PurposeLogin is the passwordless e-mail-code login
	// (send-mobile-code / verify-mobile-code).
	PurposeLogin = "login"
)

// ErrCooldown is returned by PutCode when the previous code for the address
// was sent less than the cooldown ago.
var ErrCooldown = errors.New("data: a code was sent to this address moments ago")

// PutCode stores the hash of a new code for (email, purpose), replacing any
// previous one and resetting its attempt counter, unless the previous code is
// younger than cooldown: then it returns ErrCooldown and how long to wait.
// The check and the write are one statement, so replicas racing on one
// address send at most one code per cooldown.
func (db *DB) PutCode(ctx context.Context, email, purpose, hash string, ttl, cooldown time.Duration) (time.Duration, error) {
	now := db.now()
	n := us(now)
	res, err := db.x.ExecContext(ctx, db.q(`INSERT INTO verification_codes (email, purpose, code_hash, attempts, created_us, expires_us)
		VALUES (?, ?, ?, 0, ?, ?)
		ON CONFLICT (email, purpose) DO UPDATE SET code_hash = excluded.code_hash, attempts = 0,
			created_us = excluded.created_us, expires_us = excluded.expires_us
		WHERE verification_codes.created_us <= ?`),
		email, purpose, hash, n, us(now.Add(ttl)), n-cooldown.Microseconds())
	if err != nil {
		return 0, err
	}
	if k, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if k == 0 {
		var created int64
		if err := db.getOne(ctx, &created, `SELECT created_us FROM verification_codes WHERE email = ? AND purpose = ?`, email, purpose); err != nil {
			return 0, err
		}
		wait := time.Duration(created+cooldown.Microseconds()-n) * time.Microsecond
		if wait < time.Second {
			wait = time.Second
		}
		return wait, ErrCooldown
	}
	return 0, nil
}

// CheckCode spends one attempt on the live code for (email, purpose) and
// reports whether hash matches it. A match consumes the code. A code that has
// expired or used up maxAttempts never matches, even with the right hash.
// Concurrent checks each spend their own attempt, and at most one of them
// consumes the code.
func (db *DB) CheckCode(ctx context.Context, email, purpose, hash string, maxAttempts int) (bool, error) {
	var stored string
	err := db.getOne(ctx, &stored, `UPDATE verification_codes SET attempts = attempts + 1
		WHERE email = ? AND purpose = ? AND attempts < ? AND expires_us > ?
		RETURNING code_hash`, email, purpose, maxAttempts, db.nowUS())
	if err == ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(hash)) != 1 {
		return false, nil
	}
	res, err := db.x.ExecContext(ctx, db.q(`DELETE FROM verification_codes WHERE email = ? AND purpose = ? AND code_hash = ?`), email, purpose, hash)
	if err != nil {
		return false, err
	}
	k, err := res.RowsAffected()
	return k == 1, err
}

// MarkVerified records that email proved ownership, valid until now + ttl.
func (db *DB) MarkVerified(ctx context.Context, email string, ttl time.Duration) error {
	_, err := db.x.ExecContext(ctx, db.q(`INSERT INTO verified_emails (email, expires_us) VALUES (?, ?)
		ON CONFLICT (email) DO UPDATE SET expires_us = excluded.expires_us`), email, us(db.now().Add(ttl)))
	return err
}

// ConsumeVerified reports whether email holds an unexpired verification and
// removes it, so that one proof registers one account.
func (db *DB) ConsumeVerified(ctx context.Context, email string) (bool, error) {
	res, err := db.x.ExecContext(ctx, db.q(`DELETE FROM verified_emails WHERE email = ? AND expires_us > ?`), email, db.nowUS())
	if err != nil {
		return false, err
	}
	k, err := res.RowsAffected()
	return k == 1, err
}

// SweepCodes deletes expired codes and verifications.
func (db *DB) SweepCodes(ctx context.Context) error {
	n := db.nowUS()
	if _, err := db.x.ExecContext(ctx, db.q(`DELETE FROM verification_codes WHERE expires_us <= ?`), n); err != nil {
		return err
	}
	_, err := db.x.ExecContext(ctx, db.q(`DELETE FROM verified_emails WHERE expires_us <= ?`), n)
	return err
}
