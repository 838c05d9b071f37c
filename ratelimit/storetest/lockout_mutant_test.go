package storetest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/internal/mutanttest"
	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/ratelimit/storetest"
)

// TestLockoutSuiteCatchesBugs runs RunLockout against lockout stores with
// one planted bug each (in a child process, since the suite must fail
// there) and checks that the subtests meant to catch the bug fail.
func TestLockoutSuiteCatchesBugs(t *testing.T) {
	mutanttest.Check(t, "TestLockoutMutant", []mutanttest.Case{
		{Bug: "none", CaughtBy: nil}, // the correct store passes
		{Bug: "racy", CaughtBy: []string{"Concurrent"}},
		{Bug: "extend-lock", CaughtBy: []string{"FailDuringLock", "Concurrent"}},
		{Bug: "last-during-lock", CaughtBy: []string{"FailDuringLock"}},
		{Bug: "reset-drops-mark", CaughtBy: []string{"ResetKeepsMark"}},
		{Bug: "reset-keeps-history", CaughtBy: []string{"Reset"}},
		{Bug: "lock-late", CaughtBy: []string{"Threshold", "Window", "Doubling", "Concurrent"}},
		{Bug: "no-window", CaughtBy: []string{"Window"}},
		{Bug: "window-inclusive", CaughtBy: []string{"Window", "RandomSequence"}},
		{Bug: "window-from-first", CaughtBy: []string{"Window"}},
		{Bug: "lock-keeps-count", CaughtBy: []string{"Threshold", "Window"}},
		{Bug: "no-forget", CaughtBy: []string{"Forget", "Doubling"}},
		{Bug: "forget-inclusive", CaughtBy: []string{"ForgetExact"}},
		{Bug: "forget-from-lock", CaughtBy: []string{"Forget"}},
		{Bug: "no-doubling", CaughtBy: []string{"Doubling"}},
		{Bug: "no-cap", CaughtBy: []string{"Doubling"}},
		{Bug: "state-clears-ended-lock", CaughtBy: []string{"StateChangesNothing"}},
		{Bug: "stale-state", CaughtBy: []string{"Forget", "ForgetExact"}},
		{Bug: "epoch-zero", CaughtBy: []string{"UnknownKey", "Reset"}},
		{Bug: "milli", CaughtBy: []string{"Threshold", "Doubling"}},
		{Bug: "mark-overwrites", CaughtBy: []string{"Mark", "ConcurrentMark"}},
		{Bug: "mark-inclusive", CaughtBy: []string{"Mark"}},
		{Bug: "mark-resets", CaughtBy: []string{"Mark"}},
		{Bug: "fold-case", CaughtBy: []string{"AwkwardKeys"}},
		{Bug: "truncate-key", CaughtBy: []string{"AwkwardKeys"}},
		{Bug: "cancelled-answers-zero", CaughtBy: []string{"CancelledContext"}},
	})
}

// TestLockoutMutant runs RunLockout against a store with the bug mutanttest
// plants; only TestLockoutSuiteCatchesBugs runs it.
func TestLockoutMutant(t *testing.T) {
	bug := mutanttest.Bug("TestLockoutMutant")
	if bug == "" {
		t.Skip("run by TestLockoutSuiteCatchesBugs")
	}
	storetest.RunLockout(t, func(t *testing.T) ratelimit.LockoutStore {
		return &lockMutant{bug: bug, m: map[string]*lockMutantEntry{}}
	})
}

// lockMutant is a map store over ratelimit.FailState that behaves
// correctly unless bug names a planted bug.
type lockMutant struct {
	bug string

	race mutanttest.Race // makes the "racy" bug bite every run
	mu   sync.Mutex
	m    map[string]*lockMutantEntry
}

type lockMutantEntry struct {
	state  ratelimit.LockState
	last   time.Time
	first  time.Time // the current count's first failure (window-from-first)
	forget time.Duration
	mark   time.Time
}

func (s *lockMutant) key(key string) string {
	switch s.bug {
	case "fold-case":
		return strings.ToLower(key)
	case "truncate-key":
		return key[:min(len(key), 1024)]
	}
	return key
}

func (s *lockMutant) entryLocked(key string) *lockMutantEntry {
	e, ok := s.m[s.key(key)]
	if !ok {
		e = &lockMutantEntry{}
		s.m[s.key(key)] = e
	}
	return e
}

func (s *lockMutant) Fail(ctx context.Context, key string, now time.Time, rule ratelimit.LockoutRule) (ratelimit.LockState, error) {
	if s.bug == "cancelled-answers-zero" && ctx.Err() != nil {
		return ratelimit.LockState{}, nil
	}
	if s.bug == "milli" {
		now = now.Truncate(time.Millisecond)
	}
	s.mu.Lock()
	e := s.entryLocked(key)
	old, last := e.state, e.last
	if s.bug == "racy" {
		// Read, then write in a second critical section.
		s.mu.Unlock()
		s.race.Gap()
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if old.Locked(now) {
		switch s.bug {
		case "extend-lock":
			e.state.LockedUntil = now.Add(rule.LockFor(old.Locks))
		case "last-during-lock":
			e.last = now
		}
		return e.state, nil
	}
	switch s.bug {
	case "no-window":
		rule.Window = 1 << 62
	case "window-inclusive":
		if !last.IsZero() && now.Sub(last) == rule.Window {
			old.Failures = 0
		}
	case "window-from-first":
		// A fixed window from the count's first failure, not a sliding one.
		if !e.first.IsZero() && now.Sub(e.first) > rule.Window {
			old.Failures = 0
		}
		rule.Window = 1 << 62
	case "no-forget":
		rule.Forget = 1 << 62
	case "forget-inclusive":
		if !last.IsZero() && now.Sub(last) == rule.Forget {
			old = ratelimit.LockState{}
		}
	case "forget-from-lock":
		if old.Locks > 0 {
			lockedAt := old.LockedUntil.Add(-rule.LockFor(old.Locks))
			if now.Sub(lockedAt) > rule.Forget {
				old, last = ratelimit.LockState{}, time.Time{}
			}
		}
	case "lock-late":
		rule.Threshold++
	case "no-doubling":
		rule.MaxLock = rule.BaseLock
	case "no-cap":
		rule.MaxLock = 1 << 62
	}
	e.state = ratelimit.FailState(old, last, now, rule)
	if s.bug == "lock-keeps-count" && e.state.Locked(now) {
		e.state.Failures = rule.Threshold
	}
	if e.state.Failures == 1 {
		e.first = now
	}
	e.last, e.forget = now, rule.Forget
	return e.state, nil
}

func (s *lockMutant) State(ctx context.Context, key string, now time.Time) (ratelimit.LockState, error) {
	if s.bug == "cancelled-answers-zero" && ctx.Err() != nil {
		return ratelimit.LockState{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[s.key(key)]
	if !ok || e.last.IsZero() {
		if s.bug == "epoch-zero" {
			return ratelimit.LockState{LockedUntil: time.Unix(0, 0)}, nil
		}
		return ratelimit.LockState{}, nil
	}
	if s.bug == "state-clears-ended-lock" && e.state.Locks > 0 && !e.state.Locked(now) {
		e.state, e.last = ratelimit.LockState{}, time.Time{}
		return ratelimit.LockState{}, nil
	}
	if s.bug != "stale-state" && now.Sub(e.last) > e.forget && !e.state.Locked(now) {
		return ratelimit.LockState{}, nil
	}
	return e.state, nil
}

func (s *lockMutant) Reset(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.bug {
	case "reset-drops-mark":
		delete(s.m, s.key(key))
	case "reset-keeps-history":
		if e, ok := s.m[s.key(key)]; ok {
			e.state.Failures, e.state.LockedUntil = 0, time.Time{}
		}
	default:
		if e, ok := s.m[s.key(key)]; ok {
			*e = lockMutantEntry{mark: e.mark}
		}
	}
	return nil
}

func (s *lockMutant) Mark(ctx context.Context, key string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entryLocked(key)
	if s.bug == "mark-resets" {
		*e = lockMutantEntry{mark: e.mark}
	}
	if until.After(e.mark) || s.bug == "mark-overwrites" {
		e.mark = until
	}
	return nil
}

func (s *lockMutant) Marked(ctx context.Context, key string, now time.Time) (bool, error) {
	if s.bug == "cancelled-answers-zero" && ctx.Err() != nil {
		return true, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[s.key(key)]
	if !ok {
		return false, nil
	}
	if s.bug == "mark-inclusive" {
		return !now.After(e.mark) && !e.mark.IsZero(), nil
	}
	return now.Before(e.mark), nil
}
