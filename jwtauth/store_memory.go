package jwtauth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrStoreFull is returned by a [MemoryStore] that holds MaxEntries live
// entries. Forgetting a live entry would un-revoke a token, so the store
// refuses instead; the Authenticator answers 503.
var ErrStoreFull = errors.New("jwtauth: memory store is full")

// DefaultMaxEntries is the MemoryStore capacity when MaxEntries is zero.
const DefaultMaxEntries = 1 << 20

// MemoryStore is a [Store] kept in process memory: correct for one process,
// useless for several replicas (use jwtauth/sqlstore or jwtauth/redisstore
// there) and lost on restart (a restart therefore un-revokes tokens that have
// not expired yet: keep access tokens short). It is bounded: it holds at most
// MaxEntries live entries, about 120 bytes each, and forgets expired ones as
// it goes. It is safe for concurrent use; the zero value is not usable, call
// [NewMemoryStore].
type MemoryStore struct {
	max int
	now func() time.Time

	mu       sync.RWMutex
	used     map[string]usedEntry  // consumed refresh token IDs
	families map[string]time.Time  // revoked family -> expires
	subjects map[string]subjectRev // per-subject revocation
	inserts  int                   // since the last sweep
}

type usedEntry struct{ at, expires time.Time }

type subjectRev struct{ before, expires time.Time }

// MemoryStoreOptions configures a MemoryStore.
type MemoryStoreOptions struct {
	// MaxEntries bounds the number of live entries. Zero value:
	// DefaultMaxEntries (about 120 MiB when full).
	MaxEntries int
	// Now is the clock used to decide expiry. Zero value: time.Now.
	Now func() time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	s := &MemoryStore{
		max:      opts.MaxEntries,
		now:      opts.Now,
		used:     make(map[string]usedEntry),
		families: make(map[string]time.Time),
		subjects: make(map[string]subjectRev),
	}
	if s.max <= 0 {
		s.max = DefaultMaxEntries
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

var _ Store = (*MemoryStore)(nil)

// Revoked implements [Store]. It does not allocate.
func (s *MemoryStore) Revoked(_ context.Context, t TokenRef) (bool, error) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if exp, ok := s.families[t.Family]; ok && now.Before(exp) {
		return true, nil
	}
	if rev, ok := s.subjects[t.Subject]; ok && now.Before(rev.expires) && !t.IssuedAt.After(rev.before) {
		return true, nil
	}
	return false, nil
}

// Consume implements [Store].
func (s *MemoryStore) Consume(_ context.Context, jti string, now, expires time.Time) (bool, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.used[jti]; ok && s.now().Before(e.expires) {
		return false, e.at, nil
	}
	if err := s.roomLocked(); err != nil {
		return false, time.Time{}, err
	}
	s.used[jti] = usedEntry{at: now, expires: expires}
	return true, now, nil
}

// RevokeFamily implements [Store].
func (s *MemoryStore) RevokeFamily(_ context.Context, fid string, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.families[fid]; ok {
		if expires.After(old) {
			s.families[fid] = expires
		}
		return nil
	}
	if err := s.roomLocked(); err != nil {
		return err
	}
	s.families[fid] = expires
	return nil
}

// RevokeSubject implements [Store].
func (s *MemoryStore) RevokeSubject(_ context.Context, sub string, before, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.subjects[sub]; ok && s.now().Before(old.expires) {
		if before.After(old.before) {
			old.before = before
		}
		if expires.After(old.expires) {
			old.expires = expires
		}
		s.subjects[sub] = old
		return nil
	}
	if err := s.roomLocked(); err != nil {
		return err
	}
	s.subjects[sub] = subjectRev{before: before, expires: expires}
	return nil
}

// Len returns the number of entries held, expired ones not yet swept
// included.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.used) + len(s.families) + len(s.subjects)
}

// roomLocked makes room for one more entry: it sweeps expired entries every
// so often (amortized O(1) per insert) and whenever the store is full. s.mu
// must be held for writing.
func (s *MemoryStore) roomLocked() error {
	s.inserts++
	n := len(s.used) + len(s.families) + len(s.subjects)
	if n >= s.max || s.inserts >= max(1024, n/2) {
		s.sweepLocked(s.now())
		n = len(s.used) + len(s.families) + len(s.subjects)
	}
	if n >= s.max {
		return ErrStoreFull
	}
	return nil
}

func (s *MemoryStore) sweepLocked(now time.Time) {
	s.inserts = 0
	for k, e := range s.used {
		if !now.Before(e.expires) {
			delete(s.used, k)
		}
	}
	for k, exp := range s.families {
		if !now.Before(exp) {
			delete(s.families, k)
		}
	}
	for k, rev := range s.subjects {
		if !now.Before(rev.expires) {
			delete(s.subjects, k)
		}
	}
}
