package jwtauth

import (
	"context"
	"time"
)

// Store keeps the revocation state of tokens: consumed refresh tokens,
// revoked token families and per-subject revocation times. Implementations
// must be safe for concurrent use, and correct when several processes share
// them (that is the point of the SQL and Redis stores).
//
// Every entry carries an expiry after which it may be forgotten: by then
// every token it concerns has expired too.
//
// This package ships [MemoryStore]; jwtauth/sqlstore and jwtauth/redisstore
// keep the same state in a database or Redis so that several replicas share
// it. All of them pass the conformance suite in jwtauth/storetest.
type Store interface {
	// Revoked reports whether a token is revoked: its family was revoked, or
	// its subject's tokens issued at or before its IssuedAt were. It is
	// called on every authenticated request and must cost at most one round
	// trip to a remote store.
	Revoked(ctx context.Context, t TokenRef) (bool, error)

	// Consume marks the refresh token with ID jti as used, atomically: of
	// several concurrent calls with one jti exactly one gets first == true.
	// usedAt is when the token was first consumed (now, for the first call).
	// The mark may be forgotten after expires.
	Consume(ctx context.Context, jti string, now, expires time.Time) (first bool, usedAt time.Time, err error)

	// RevokeFamily revokes every token of family fid. The mark may be
	// forgotten after expires.
	RevokeFamily(ctx context.Context, fid string, expires time.Time) error

	// RevokeSubject revokes every token of subject sub issued at or before
	// before. A later call with an earlier time must not move the mark back.
	// The mark may be forgotten after expires.
	RevokeSubject(ctx context.Context, sub string, before, expires time.Time) error
}

// TokenRef is what a Store needs to know about a token to decide whether it
// is revoked.
type TokenRef struct {
	// Subject is the token's sub claim.
	Subject string
	// Family is the token's fid claim.
	Family string
	// IssuedAt is the token's iat claim, with microsecond precision. Stores
	// must keep and compare it at that precision: a login in the same
	// millisecond as a "log out everywhere" must still work.
	IssuedAt time.Time
}
