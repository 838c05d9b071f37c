package ratelimit

import (
	"context"
	"hash/maphash"
	"time"
)

// LockoutStore keeps the failure counts, locks and trust marks of a
// [Lockout]. Every method must be atomic per key and safe for concurrent
// use; a store shared by several processes (ratelimit/redisstore) makes
// their lockouts one. [MemoryStore] implements it for one process.
type LockoutStore interface {
	// Fail records one failure under key at now and returns the new state:
	// failures older than rule.Window are forgotten first; at rule.Threshold
	// failures the key is locked for rule.LockFor(n), n being the number of
	// locks since the history was last forgotten (rule.Forget after the last
	// failure), and its count starts again. A key that is locked at now is
	// returned unchanged.
	Fail(ctx context.Context, key string, now time.Time, rule LockoutRule) (LockState, error)
	// State returns key's state at now without changing it.
	State(ctx context.Context, key string, now time.Time) (LockState, error)
	// Reset forgets key's failures, lock and history.
	Reset(ctx context.Context, key string) error
	// Mark sets a flag on key until the given time.
	Mark(ctx context.Context, key string, until time.Time) error
	// Marked reports whether key's flag is set at now.
	Marked(ctx context.Context, key string, now time.Time) (bool, error)
}

// LockState is the state of one lockout key.
type LockState struct {
	// Failures counts failures since the last lock, reset or forgetting.
	Failures int
	// LockedUntil is when the current lock ends; zero or past when unlocked.
	LockedUntil time.Time
	// Locks counts locks since the history was last forgotten or reset.
	Locks int
}

// Locked reports whether the state is locked at now.
func (s LockState) Locked(now time.Time) bool { return now.Before(s.LockedUntil) }

// LockoutRule is how one key's failures turn into locks.
type LockoutRule struct {
	// Threshold is the number of failures that locks the key.
	Threshold int
	// Window: failures further apart than this do not add up.
	Window time.Duration
	// BaseLock is the first lock's length; each further lock doubles it, up
	// to MaxLock.
	BaseLock, MaxLock time.Duration
	// Forget: a key with no failure for this long loses its lock history.
	Forget time.Duration
}

// LockFor returns the length of the n-th lock (n ≥ 1).
func (r LockoutRule) LockFor(n int) time.Duration {
	d := r.BaseLock
	for i := 1; i < n && d < r.MaxLock; i++ {
		d *= 2
	}
	return min(d, r.MaxLock)
}

// FailState is the transition of Fail, for LockoutStore implementations: the
// state after one failure at now, given the stored state and the time of the
// previous failure (zero if none).
func FailState(s LockState, last, now time.Time, rule LockoutRule) LockState {
	if s.Locked(now) {
		return s
	}
	if !last.IsZero() && now.Sub(last) > rule.Forget {
		s = LockState{}
	}
	if !last.IsZero() && now.Sub(last) > rule.Window {
		s.Failures = 0
	}
	s.Failures++
	if s.Failures >= rule.Threshold {
		s.Locks++
		s.LockedUntil = now.Add(rule.LockFor(s.Locks))
		s.Failures = 0
	}
	return s
}

// lockEntry is a MemoryStore lockout entry.
type lockEntry struct {
	state    LockState
	last     time.Time // last failure counted
	forgetAt time.Time // last + rule.Forget: after it the history is forgotten
	marked   time.Time // Mark's until
}

// idle reports whether e carries no information at now: its history is
// forgotten, it is not locked and not marked.
func (e lockEntry) idle(now time.Time) bool {
	return now.After(e.forgetAt) && !e.state.Locked(now) && !now.Before(e.marked)
}

var _ LockoutStore = (*MemoryStore)(nil)

func (s *MemoryStore) lockShard(key string) (*memShard, uint64) {
	h := maphash.String(s.seed, key)
	return &s.shards[h&s.mask], h
}

// Fail implements [LockoutStore].
func (s *MemoryStore) Fail(_ context.Context, key string, now time.Time, rule LockoutRule) (LockState, error) {
	sh, h := s.lockShard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.locks[h]
	wasLocked := e.state.Locked(now)
	e.state = FailState(e.state, e.last, now, rule)
	if !wasLocked {
		e.last, e.forgetAt = now, now.Add(rule.Forget)
	}
	s.putLockLocked(sh, h, e, now)
	return e.state, nil
}

// State implements [LockoutStore].
func (s *MemoryStore) State(_ context.Context, key string, now time.Time) (LockState, error) {
	sh, h := s.lockShard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.locks[h]
	if !ok || (now.After(e.forgetAt) && !e.state.Locked(now)) {
		return LockState{}, nil
	}
	return e.state, nil
}

// Reset implements [LockoutStore].
func (s *MemoryStore) Reset(_ context.Context, key string) error {
	sh, h := s.lockShard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.locks[h]; ok {
		if e.marked.IsZero() {
			delete(sh.locks, h)
			sh.lockDels++
		} else {
			sh.locks[h] = lockEntry{marked: e.marked}
		}
	}
	return nil
}

// Mark implements [LockoutStore].
func (s *MemoryStore) Mark(_ context.Context, key string, until time.Time) error {
	sh, h := s.lockShard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.locks[h]
	if until.After(e.marked) {
		e.marked = until
	}
	s.putLockLocked(sh, h, e, time.Time{})
	return nil
}

// Marked implements [LockoutStore].
func (s *MemoryStore) Marked(_ context.Context, key string, now time.Time) (bool, error) {
	sh, h := s.lockShard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.locks[h]
	return ok && now.Before(e.marked), nil
}

// putLockLocked stores e, making room first if the shard's lockout entries
// are at their bound: an idle entry goes first, else the one whose
// information ends soonest among a sample. The lockout map (a Go map, which
// never shrinks) is rebuilt once it has deleted as many entries as it holds,
// so that churn cannot grow it without bound. sh.mu must be held.
func (s *MemoryStore) putLockLocked(sh *memShard, h uint64, e lockEntry, now time.Time) {
	if _, ok := sh.locks[h]; !ok && len(sh.locks) >= s.perShard {
		var victim uint64
		var soonest time.Time
		i := 0
		for k, v := range sh.locks {
			if !now.IsZero() && v.idle(now) {
				victim = k
				break
			}
			if end := maxTime(maxTime(v.forgetAt, v.state.LockedUntil), v.marked); i == 0 || end.Before(soonest) {
				victim, soonest = k, end
			}
			if i++; i == 16 {
				break
			}
		}
		delete(sh.locks, victim)
		if sh.lockDels++; sh.lockDels >= s.perShard {
			fresh := make(map[uint64]lockEntry, len(sh.locks))
			for k, v := range sh.locks {
				if now.IsZero() || !v.idle(now) {
					fresh[k] = v
				}
			}
			sh.locks, sh.lockDels = fresh, 0
		}
	}
	sh.locks[h] = e
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
