package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/ratelimit"
)

// RunLockout runs the conformance suite for implementations of
// [ratelimit.LockoutStore] as subtests of t, as [Run] does for
// ratelimit.Store. newStore is called once per subtest, with the subtest's
// t, and must return a new, empty store (it may register cleanups with
// t.Cleanup, and may skip t). The subtests run one after another; the stores
// must be safe for concurrent use.
//
// The contract is [ratelimit.FailState]: the suite keeps a reference model
// next to the store under test, per key the state, the time of the last
// failure that counted and the trust mark, and compares every answer with
// it. It checks in addition, with numbers written out rather than computed
// by FailState or LockoutRule.LockFor:
//
//   - the Threshold-th failure within Window locks the key at once, with
//     LockedUntil exactly now + BaseLock, Locks 1 and the count at 0;
//   - a failure while the key is locked changes nothing: not the state, not
//     the lock's end, and not the time of the last failure, from which
//     Window and Forget count;
//   - failures exactly Window apart add up, 1 ns further apart they start
//     the count again, and a lock starts it again too;
//   - each further lock doubles, up to MaxLock, as long as no failure is
//     further than Forget from the previous one; 1 ns more and the history
//     is forgotten (the next lock is a first one again), exactly Forget
//     apart it is not;
//   - State changes nothing, and answers the zero LockState (==, as
//     Lockout compares it) for a key never failed, reset or forgotten,
//     whatever its mark;
//   - Reset clears failures, lock and history, but not a live mark;
//   - Mark sets a flag until a time (exclusive), a later Mark extends it and
//     an earlier one does not shorten it, and Mark and the lockout state do
//     not touch each other;
//   - keys are opaque byte strings ('|', ':', Unicode, invalid UTF-8, 1 KiB
//     keys, keys differing only in case or a trailing space never share
//     state);
//   - Fail is atomic per key: of 32 concurrent failures at one instant with
//     a Threshold of 33, each returns a distinct count from 1 to 32, none
//     locks, and the 33rd locks; concurrent Marks and Resets keep the latest
//     mark;
//   - a call with an already cancelled context returns promptly, with an
//     error or the correct answer.
//
// Times are nanoseconds: lock lengths and windows that are not whole
// microseconds, and instants with sub-microsecond digits, catch stores that
// keep times at a coarser resolution.
//
// The suite never sleeps. It drives the store with explicit instants, a
// synthetic clock that starts at the current time and moves forwards by up
// to two years and backwards by up to an hour. A store may drop a key once
// it carries no information by its own clock (Redis expiry): every Forget
// and every mark the suite expects to be kept is at least an hour of real
// time away, and a mark whose until is before the current time may be
// dropped at once.
func RunLockout(t *testing.T, newStore func(t *testing.T) ratelimit.LockoutStore) {
	t.Helper()
	for _, c := range lockoutCases() {
		t.Run(c.name, func(t *testing.T) {
			c.run(newLockChecker(t, newStore(t)))
		})
	}
}

type lockoutCase struct {
	name string
	run  func(c *lockChecker)
}

func lockoutCases() []lockoutCase {
	return []lockoutCase{
		{"UnknownKey", testLockUnknownKey},
		{"Threshold", testLockThreshold},
		{"FailDuringLock", testLockFailDuringLock},
		{"Window", testLockWindow},
		{"Doubling", testLockDoubling},
		{"Forget", testLockForget},
		{"ForgetExact", testLockForgetExact},
		{"StateChangesNothing", testLockStateChangesNothing},
		{"Reset", testLockReset},
		{"ResetKeepsMark", testLockResetKeepsMark},
		{"Mark", testLockMark},
		{"AwkwardKeys", testLockAwkwardKeys},
		{"RandomSequence", testLockRandomSequence},
		{"Concurrent", testLockConcurrent},
		{"ConcurrentMark", testLockConcurrentMark},
		{"CancelledContext", testLockCancelledContext},
	}
}

// lockRule is a LockoutRule with the lengths of its first locks written
// out; every later lock is as long as the last one listed.
type lockRule struct {
	ratelimit.LockoutRule
	name  string
	locks []time.Duration
}

// lockLen returns the length of the n-th lock (n ≥ 1) by the rule's list.
func (r lockRule) lockLen(n int) time.Duration {
	return r.locks[min(n, len(r.locks))-1]
}

// The odd rule's lengths: not whole microseconds.
const (
	oddWindow = 7*time.Minute + 333_333_333
	oddBase   = 90*time.Second + 333_333_333
	oddMax    = 5*time.Minute + 1
	oddForget = time.Hour + 1
)

// lockRules returns the rules the checks run with.
func lockRules() []lockRule {
	return []lockRule{{
		// Lockout's defaults. Forget equals MaxLock, so a failure after a
		// lock of MaxLock is more than Forget after the locking failure.
		name:        "login",
		LockoutRule: ratelimit.LockoutRule{Threshold: 5, Window: 15 * time.Minute, BaseLock: 15 * time.Minute, MaxLock: 24 * time.Hour, Forget: 24 * time.Hour},
		locks: []time.Duration{
			15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour,
			8 * time.Hour, 16 * time.Hour, 24 * time.Hour,
		},
	}, {
		name:        "odd",
		LockoutRule: ratelimit.LockoutRule{Threshold: 3, Window: oddWindow, BaseLock: oddBase, MaxLock: oddMax, Forget: oddForget},
		locks:       []time.Duration{oddBase, 2 * oddBase, oddMax},
	}, {
		// Every failure locks.
		name:        "single",
		LockoutRule: ratelimit.LockoutRule{Threshold: 1, Window: time.Minute, BaseLock: time.Second + 1, MaxLock: 10 * time.Second, Forget: 2 * time.Hour},
		locks:       []time.Duration{time.Second + 1, 2*time.Second + 2, 4*time.Second + 4, 8*time.Second + 8, 10 * time.Second},
	}}
}

// lockModel is the reference model of one key.
type lockModel struct {
	state  ratelimit.LockState
	last   time.Time     // the last failure that counted; zero if none
	forget time.Duration // the Forget of that failure's rule
	mark   time.Time
}

// lockChecker drives a LockoutStore and the reference model side by side.
type lockChecker struct {
	t     *testing.T
	s     ratelimit.LockoutStore
	base  time.Time
	rules []lockRule
	mu    sync.Mutex
	m     map[string]*lockModel
}

func newLockChecker(t *testing.T, s ratelimit.LockoutStore) *lockChecker {
	return &lockChecker{t: t, s: s, base: base(), rules: lockRules(), m: map[string]*lockModel{}}
}

// rule returns the suite's rule with the given name.
func (c *lockChecker) rule(name string) lockRule {
	c.t.Helper()
	for _, r := range c.rules {
		if r.name == name {
			return r
		}
	}
	c.t.Fatalf("storetest: no lockout rule %q", name)
	return lockRule{}
}

// at returns the instant d after the clock's origin.
func (c *lockChecker) at(d time.Duration) time.Time { return c.base.Add(d) }

// entryLocked returns key's model, creating it. c.mu must be held.
func (c *lockChecker) entryLocked(key string) *lockModel {
	m, ok := c.m[key]
	if !ok {
		m = &lockModel{}
		c.m[key] = m
	}
	return m
}

// modelFail applies one failure to the model and returns the new state. A
// failure while locked changes nothing, not even the last failure's time.
func (c *lockChecker) modelFail(key string, now time.Time, r ratelimit.LockoutRule) ratelimit.LockState {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.entryLocked(key)
	if m.state.Locked(now) {
		return m.state
	}
	m.state = ratelimit.FailState(m.state, m.last, now, r)
	m.last, m.forget = now, r.Forget
	return m.state
}

// modelState returns key's state at now: the last Fail's, or zero once the
// history is forgotten (as FailState would forget it at now).
func (c *lockChecker) modelState(key string, now time.Time) ratelimit.LockState {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[key]
	if !ok || m.last.IsZero() || now.Sub(m.last) > m.forget && !m.state.Locked(now) {
		return ratelimit.LockState{}
	}
	return m.state
}

func (c *lockChecker) modelReset(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.entryLocked(key)
	*m = lockModel{mark: m.mark}
}

func (c *lockChecker) modelMark(key string, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.entryLocked(key)
	if until.After(m.mark) {
		m.mark = until
	}
}

func (c *lockChecker) modelMarked(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[key]
	return ok && now.Before(m.mark)
}

// lastFailure returns the model's time of key's last counted failure.
func (c *lockChecker) lastFailure(key string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m, ok := c.m[key]; ok {
		return m.last
	}
	return time.Time{}
}

// sameState reports whether got is want: the zero state exactly (Lockout
// compares states with ==), others field by field, times with Equal.
func sameState(got, want ratelimit.LockState) bool {
	if want == (ratelimit.LockState{}) {
		return got == want
	}
	return got.Failures == want.Failures && got.Locks == want.Locks &&
		got.LockedUntil.Equal(want.LockedUntil) && got.LockedUntil.IsZero() == want.LockedUntil.IsZero()
}

func (c *lockChecker) fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return "base" + fmtOffset(t.Sub(c.base))
}

func (c *lockChecker) fmtState(s ratelimit.LockState) string {
	if s == (ratelimit.LockState{}) {
		return "{} (zero)"
	}
	return fmt.Sprintf("{Failures:%d Locks:%d LockedUntil:%s}", s.Failures, s.Locks, c.fmtTime(s.LockedUntil))
}

// fail calls Fail and fails the test on an error; it checks the state
// against the model and returns it.
func (c *lockChecker) fail(key string, now time.Time, r lockRule) ratelimit.LockState {
	c.t.Helper()
	got, err := c.s.Fail(c.t.Context(), key, now, r.LockoutRule)
	if err != nil {
		c.t.Fatalf("Fail(%s, %s, %q) error: %v", short(key), c.fmtTime(now), r.name, err)
	}
	if want := c.modelFail(key, now, r.LockoutRule); !sameState(got, want) {
		c.t.Errorf("Fail(%s, %s, %q) = %s, want (FailState) %s", short(key), c.fmtTime(now), r.name, c.fmtState(got), c.fmtState(want))
	}
	return got
}

// failN calls fail n times at now and returns the last state.
func (c *lockChecker) failN(key string, now time.Time, r lockRule, n int) ratelimit.LockState {
	c.t.Helper()
	var st ratelimit.LockState
	for range n {
		st = c.fail(key, now, r)
	}
	return st
}

// state calls State, checks it against the model and returns it.
func (c *lockChecker) state(key string, now time.Time) ratelimit.LockState {
	c.t.Helper()
	got, err := c.s.State(c.t.Context(), key, now)
	if err != nil {
		c.t.Fatalf("State(%s, %s) error: %v", short(key), c.fmtTime(now), err)
	}
	if want := c.modelState(key, now); !sameState(got, want) {
		c.t.Errorf("State(%s, %s) = %s, want %s", short(key), c.fmtTime(now), c.fmtState(got), c.fmtState(want))
	}
	return got
}

func (c *lockChecker) reset(key string) {
	c.t.Helper()
	if err := c.s.Reset(c.t.Context(), key); err != nil {
		c.t.Fatalf("Reset(%s) error: %v", short(key), err)
	}
	c.modelReset(key)
}

func (c *lockChecker) mark(key string, until time.Time) {
	c.t.Helper()
	if err := c.s.Mark(c.t.Context(), key, until); err != nil {
		c.t.Fatalf("Mark(%s, %s) error: %v", short(key), c.fmtTime(until), err)
	}
	c.modelMark(key, until)
}

// marked calls Marked, checks it against the model and returns it.
func (c *lockChecker) marked(key string, now time.Time) bool {
	c.t.Helper()
	got, err := c.s.Marked(c.t.Context(), key, now)
	if err != nil {
		c.t.Fatalf("Marked(%s, %s) error: %v", short(key), c.fmtTime(now), err)
	}
	if want := c.modelMarked(key, now); got != want {
		c.t.Errorf("Marked(%s, %s) = %v, want %v", short(key), c.fmtTime(now), got, want)
	}
	return got
}

// expect checks a state against what the rule promises, independently of
// the model.
func (c *lockChecker) expect(got, want ratelimit.LockState, format string, args ...any) {
	c.t.Helper()
	if !sameState(got, want) {
		c.t.Errorf("%s: got %s, want %s", fmt.Sprintf(format, args...), c.fmtState(got), c.fmtState(want))
	}
}

// counting is the state of an unlocked key with n failures and no lock in
// its history.
func counting(n int) ratelimit.LockState { return ratelimit.LockState{Failures: n} }

// lockedState is the state right after the locks-th lock, ending at until.
func lockedState(locks int, until time.Time) ratelimit.LockState {
	return ratelimit.LockState{Locks: locks, LockedUntil: until}
}

// testLockUnknownKey checks that a key never failed has the zero state and
// no mark at any instant, that Reset of it succeeds, and that none of this
// creates state: its first failure counts 1.
func testLockUnknownKey(c *lockChecker) {
	key := "unknown"
	for _, d := range []time.Duration{0, time.Nanosecond, -time.Second, time.Hour, 2 * 365 * 24 * time.Hour} {
		c.expect(c.state(key, c.at(d)), ratelimit.LockState{}, "State of an unknown key at %s", c.fmtTime(c.at(d)))
		if c.marked(key, c.at(d)) {
			c.t.Errorf("an unknown key is marked at %s", c.fmtTime(c.at(d)))
		}
	}
	c.reset(key)
	c.expect(c.state(key, c.at(0)), ratelimit.LockState{}, "State after Reset of an unknown key")
	for _, r := range c.rules {
		k := key + ":" + r.name
		c.state(k, c.at(0))
		want := counting(1)
		if r.Threshold == 1 {
			want = lockedState(1, c.at(r.lockLen(1)))
		}
		c.expect(c.fail(k, c.at(0), r), want, "%q: first failure of an unknown key", r.name)
	}
}

// testLockThreshold counts failures up to each rule's Threshold within its
// Window: each one below it counts, and the Threshold-th locks at once for
// BaseLock, the count starting again.
func testLockThreshold(c *lockChecker) {
	for _, r := range c.rules {
		key := "threshold:" + r.name
		step := time.Millisecond + 1
		for i := 1; i < r.Threshold; i++ {
			at := c.at(time.Duration(i) * step)
			c.expect(c.fail(key, at, r), counting(i), "%q: failure %d", r.name, i)
			c.expect(c.state(key, at), counting(i), "%q: State after failure %d", r.name, i)
		}
		at := c.at(time.Duration(r.Threshold) * step)
		want := lockedState(1, at.Add(r.BaseLock))
		c.expect(c.fail(key, at, r), want, "%q: failure %d (the threshold)", r.name, r.Threshold)
		c.expect(c.state(key, at), want, "%q: State after the locking failure", r.name)
		c.expect(c.state(key, at.Add(r.BaseLock-1)), want, "%q: State 1ns before the lock ends", r.name)
	}
}

// testLockFailDuringLock fails a locked key: nothing changes, neither the
// state nor the lock's end, nor the time from which Forget counts. At the
// lock's end failures count again.
func testLockFailDuringLock(c *lockChecker) {
	r := c.rule("odd")
	key := "during"
	t0 := c.at(0)
	until := t0.Add(oddBase)
	lock := c.failN(key, t0, r, r.Threshold)
	c.expect(lock, lockedState(1, until), "the locking failure")
	for _, at := range []time.Time{t0, t0.Add(1), t0.Add(oddBase / 2), until.Add(-1)} {
		c.expect(c.fail(key, at, r), lock, "failure during the lock, at %s", c.fmtTime(at))
		c.expect(c.state(key, at), lock, "State during the lock, at %s", c.fmtTime(at))
	}
	// At LockedUntil the key is unlocked; the count started again at the
	// lock.
	c.expect(c.fail(key, until, r), ratelimit.LockState{Failures: 1, Locks: 1, LockedUntil: until}, "failure when the lock ends")

	// Failures during a lock are not the last failure: an hour (Forget)
	// after the locking failure its history is forgotten, however late in
	// the lock they came.
	key = "during:forget"
	c.failN(key, t0, r, r.Threshold)
	c.expect(c.fail(key, until.Add(-1), r), lock, "failure 1ns before the lock ends")
	c.expect(c.fail(key, t0.Add(oddForget+1), r), counting(1), "failure Forget+1ns after the locking failure")
}

// testLockWindow checks that failures exactly Window apart add up (the
// window slides with each failure), that 1 ns more starts the count again,
// and that a lock starts it again too.
func testLockWindow(c *lockChecker) {
	r := c.rule("odd")
	t0 := c.at(0)

	key := "window:apart"
	c.expect(c.fail(key, t0, r), counting(1), "first failure")
	c.expect(c.fail(key, t0.Add(oddWindow), r), counting(2), "failure Window later")
	c.expect(c.fail(key, t0.Add(2*oddWindow), r), lockedState(1, t0.Add(2*oddWindow+oddBase)), "failure 2·Window later")

	key = "window:restart"
	at := t0
	for i, step := range []struct {
		gap  time.Duration
		want int
	}{{0, 1}, {oddWindow + 1, 1}, {oddWindow, 2}, {oddWindow + 1, 1}, {0, 2}, {oddWindow + time.Hour, 1}, {time.Nanosecond, 2}} {
		at = at.Add(step.gap)
		c.expect(c.fail(key, at, r), counting(step.want), "step %d: failure %v after the previous one", i, step.gap)
	}
	c.expect(c.fail(key, at.Add(oddWindow), r), lockedState(1, at.Add(oddWindow+oddBase)), "the third failure within the window")

	// After a lock the count starts again, even within the window.
	login := c.rule("login")
	key = "window:after-lock"
	c.failN(key, t0, login, login.Threshold)
	end := t0.Add(login.BaseLock)
	for i := 1; i < login.Threshold; i++ {
		c.expect(c.fail(key, end, login), ratelimit.LockState{Failures: i, Locks: 1, LockedUntil: end}, "failure %d after the lock", i)
	}
	c.expect(c.fail(key, end, login), lockedState(2, end.Add(2*login.BaseLock)), "failure %d after the lock", login.Threshold)
}

// testLockDoubling locks each rule's key again and again, each time when the
// previous lock ends: the locks double up to MaxLock. Where a lock is as
// long as Forget, the failures after it are more than Forget after the
// locking one, and the next lock is a first one again.
func testLockDoubling(c *lockChecker) {
	for _, r := range c.rules {
		key := "doubling:" + r.name
		at := c.at(0)
		n := 0
		for i := range len(r.locks) + 3 {
			n++
			d := r.lockLen(n)
			c.expect(c.failN(key, at, r, r.Threshold), lockedState(n, at.Add(d)), "%q: lock %d (%d in the history)", r.name, i+1, n)
			at = at.Add(d)
			if d >= r.Forget {
				at = at.Add(1)
				n = 0
			}
		}
	}
}

// testLockForget checks that a key's history is kept while its failures are
// at most Forget apart, counting from the last failure, and forgotten 1 ns
// later: State is zero and the next lock a first one.
func testLockForget(c *lockChecker) {
	r := c.rule("odd")
	t0 := c.at(0)
	lock1 := lockedState(1, t0.Add(oddBase))

	key := "forget:kept"
	c.failN(key, t0, r, r.Threshold)
	at := t0.Add(oddForget - 1)
	c.expect(c.state(key, at), lock1, "State Forget-1ns after the locking failure")
	c.expect(c.fail(key, at, r), ratelimit.LockState{Failures: 1, Locks: 1, LockedUntil: lock1.LockedUntil}, "failure Forget-1ns after the locking failure")
	c.expect(c.failN(key, at, r, r.Threshold-1), lockedState(2, at.Add(2*oddBase)), "the next lock")

	key = "forget:lost"
	c.failN(key, t0, r, r.Threshold)
	at = t0.Add(oddForget + 1)
	c.expect(c.state(key, at), ratelimit.LockState{}, "State Forget+1ns after the locking failure")
	c.expect(c.fail(key, at, r), counting(1), "failure Forget+1ns after the locking failure")
	c.expect(c.failN(key, at, r, r.Threshold-1), lockedState(1, at.Add(oddBase)), "the next lock")

	// Forget counts from the last failure, not from the lock.
	key = "forget:from-last"
	c.failN(key, t0, r, r.Threshold)
	last := t0.Add(oddBase)
	c.fail(key, last, r)
	at = last.Add(oddForget - 1)
	c.expect(c.fail(key, at, r), ratelimit.LockState{Failures: 1, Locks: 1, LockedUntil: lock1.LockedUntil}, "failure Forget-1ns after the last failure")
	c.expect(c.state(key, at.Add(oddForget+1)), ratelimit.LockState{}, "State Forget+1ns after the last failure")

	key = "forget:idle"
	c.failN(key, t0, r, r.Threshold)
	c.failN(key, lock1.LockedUntil, r, r.Threshold)
	for _, d := range []time.Duration{24 * time.Hour, 365 * 24 * time.Hour} {
		c.expect(c.state(key, t0.Add(d)), ratelimit.LockState{}, "State after %v idle", d)
	}
	at = t0.Add(365 * 24 * time.Hour)
	c.expect(c.failN(key, at, r, r.Threshold), lockedState(1, at.Add(oddBase)), "a lock after a year idle")
}

// testLockForgetExact checks the exact end of a history: exactly Forget
// after the last failure it is kept (FailState forgets failures further
// apart than Forget), and once forgotten State is zero even if the key
// carries a mark.
func testLockForgetExact(c *lockChecker) {
	r := c.rule("odd")
	t0 := c.at(0)
	lock1 := lockedState(1, t0.Add(oddBase))

	key := "exact:kept"
	c.failN(key, t0, r, r.Threshold)
	at := t0.Add(oddForget)
	c.expect(c.state(key, at), lock1, "State exactly Forget after the locking failure")
	c.expect(c.fail(key, at, r), ratelimit.LockState{Failures: 1, Locks: 1, LockedUntil: lock1.LockedUntil}, "failure exactly Forget after the locking failure")
	c.expect(c.failN(key, at, r, r.Threshold-1), lockedState(2, at.Add(2*oddBase)), "the next lock")

	key = "exact:marked"
	c.mark(key, t0.Add(30*24*time.Hour))
	c.failN(key, t0, r, r.Threshold)
	at = t0.Add(oddForget + 1)
	c.expect(c.state(key, at), ratelimit.LockState{}, "State of a marked key Forget+1ns after its last failure")
	c.marked(key, at)
}

// testLockStateChangesNothing interleaves State calls, at instants before,
// during and long after a key's failures and locks, with failures: the
// failures' states are as if State had never been called.
func testLockStateChangesNothing(c *lockChecker) {
	r := c.rule("odd")
	key := "state"
	t0 := c.at(0)
	probe := func(offsets ...time.Duration) {
		c.t.Helper()
		for _, d := range offsets {
			c.state(key, t0.Add(d))
		}
	}
	probe(0, time.Hour)
	c.fail(key, t0, r)
	probe(2*365*24*time.Hour, oddForget+1, -time.Hour, oddWindow+1, 0)
	c.expect(c.fail(key, t0.Add(time.Millisecond), r), counting(2), "second failure")
	lock := c.fail(key, t0.Add(2*time.Millisecond), r)
	until := lock.LockedUntil
	probe(until.Sub(t0), until.Sub(t0)+oddForget+1, 365*24*time.Hour, 0)
	// The lock has ended; its history must still be there.
	c.failN(key, until, r, r.Threshold)
	c.expect(c.state(key, until), lockedState(2, until.Add(2*oddBase)), "the second lock")
	probe(-time.Second, 2*365*24*time.Hour)
	c.expect(c.fail(key, until, r), lockedState(2, until.Add(2*oddBase)), "failure during the second lock")
}

// testLockReset checks that Reset forgets a key's failures, lock and
// history, and nothing of other keys.
func testLockReset(c *lockChecker) {
	r := c.rule("odd")
	t0 := c.at(0)
	key := "reset"
	c.failN(key, t0, r, r.Threshold)
	at := t0.Add(oddBase)
	lock2 := c.failN(key, at, r, r.Threshold)
	c.expect(lock2, lockedState(2, at.Add(2*oddBase)), "second lock")
	c.failN("reset:other", t0, r, r.Threshold-1)

	at = at.Add(time.Second) // during the second lock
	c.reset(key)
	c.expect(c.state(key, at), ratelimit.LockState{}, "State after Reset during a lock")
	c.expect(c.fail(key, at, r), counting(1), "failure after Reset")
	c.expect(c.failN(key, at, r, r.Threshold-1), lockedState(1, at.Add(oddBase)), "lock after Reset: a first one")

	c.fail(key, at.Add(oddBase), r)
	c.reset(key)
	c.reset(key)
	c.expect(c.state(key, at.Add(oddBase)), ratelimit.LockState{}, "State after two Resets")
	c.reset("reset:never")
	c.expect(c.state("reset:other", t0), counting(r.Threshold-1), "another key")
}

// testLockResetKeepsMark checks that Reset leaves a key's mark.
func testLockResetKeepsMark(c *lockChecker) {
	r := c.rule("odd")
	t0 := c.at(0)
	until := t0.Add(30 * 24 * time.Hour)
	for _, key := range []string{"trusted", "trusted:locked", "trusted:failed"} {
		c.mark(key, until)
	}
	c.failN("trusted:locked", t0, r, r.Threshold)
	c.fail("trusted:failed", t0, r)
	for _, key := range []string{"trusted", "trusted:locked", "trusted:failed"} {
		c.reset(key)
		c.expect(c.state(key, t0), ratelimit.LockState{}, "%s: State after Reset", key)
		for _, at := range []time.Time{t0, until.Add(-1), until} {
			c.marked(key, at)
		}
		c.expect(c.fail(key, t0, r), counting(1), "%s: failure after Reset", key)
		c.reset(key)
		c.marked(key, t0)
	}
}

// testLockMark checks Mark and Marked: a mark holds until its until
// (exclusive), a later Mark extends it, an earlier one does not shorten it,
// a past one sets nothing, and marks and failures do not touch each other.
func testLockMark(c *lockChecker) {
	r := c.rule("odd")
	t0 := c.at(0)
	key := "mark"
	c.marked(key, t0)
	c.mark(key, t0.Add(time.Hour))
	for _, d := range []time.Duration{-time.Hour, 0, time.Hour - 1, time.Hour, time.Hour + 1, 365 * 24 * time.Hour} {
		c.marked(key, t0.Add(d))
	}
	c.mark(key, t0.Add(30*time.Minute))
	c.marked(key, t0.Add(45*time.Minute))
	c.mark(key, t0.Add(2*time.Hour))
	for _, d := range []time.Duration{time.Hour, 2*time.Hour - 1, 2 * time.Hour} {
		c.marked(key, t0.Add(d))
	}
	// An earlier time, even one before 1970 or the zero Time, must not clear
	// the mark (a store may refuse times before 1970).
	for _, until := range []time.Time{t0.Add(-time.Second), time.Unix(0, 0), time.Unix(-1, 0), {}} {
		if err := c.s.Mark(c.t.Context(), key, until); err == nil {
			c.modelMark(key, until)
		}
		c.marked(key, t0.Add(2*time.Hour-1))
	}
	// A past mark on a new key marks nothing.
	c.mark("mark:past", t0.Add(-time.Second))
	c.marked("mark:past", t0)

	// A mark is not a failure, and failures and locks leave the mark.
	c.expect(c.state(key, t0), ratelimit.LockState{}, "State of a marked key")
	c.expect(c.fail(key, t0, r), counting(1), "first failure of a marked key")
	c.failN(key, t0, r, r.Threshold-1)
	c.marked(key, t0)
	c.mark(key, t0.Add(3*time.Hour))
	c.expect(c.state(key, t0), lockedState(1, t0.Add(oddBase)), "State of a locked key after Mark")
	c.marked(key, t0.Add(3*time.Hour-1))
}

// testLockAwkwardKeys fails key i i+1 times and marks every other key, so
// any two keys that shared state would show a wrong count or mark.
func testLockAwkwardKeys(c *lockChecker) {
	r := lockRule{
		name:        "many",
		LockoutRule: ratelimit.LockoutRule{Threshold: 1000, Window: time.Hour, BaseLock: time.Minute, MaxLock: time.Hour, Forget: 2 * time.Hour},
		locks:       []time.Duration{time.Minute},
	}
	keys := awkwardKeys()
	t0 := c.at(0)
	for i, key := range keys {
		for j := 1; j <= i+1; j++ {
			c.expect(c.fail(key, t0, r), counting(j), "key %d %s: failure %d", i, short(key), j)
		}
		if i%2 == 0 {
			c.mark(key, t0.Add(time.Hour))
		}
	}
	for i, key := range keys {
		c.expect(c.fail(key, t0, r), counting(i+2), "key %d %s: second pass", i, short(key))
		if got := c.marked(key, t0); got != (i%2 == 0) {
			c.t.Errorf("key %d %s: marked = %v, want %v", i, short(key), got, i%2 == 0)
		}
	}
	for i, key := range keys {
		if i%3 == 0 {
			c.reset(key)
		}
	}
	for i, key := range keys {
		want := counting(i + 2)
		if i%3 == 0 {
			want = ratelimit.LockState{}
		}
		c.expect(c.state(key, t0), want, "key %d %s: after some keys were reset", i, short(key))
		c.marked(key, t0)
	}
}

// testLockRandomSequence drives three keys per rule with a pseudo-random
// (fixed seed) sequence of failures, State calls and Resets, at gaps from
// nothing to beyond Forget, including exact Window boundaries and steps
// backwards, comparing every answer with the model. It keeps clear of the
// instant exactly Forget after a key's last failure, which ForgetExact
// checks.
func testLockRandomSequence(c *lockChecker) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, r := range c.rules {
		nows := make([]time.Time, 3)
		for i := range nows {
			nows[i] = c.at(0)
		}
		for range 300 {
			k := rng.IntN(len(nows))
			key := fmt.Sprintf("random:%s:%d", r.name, k)
			last := c.lastFailure(key)
			switch rng.IntN(10) {
			case 0: // same instant
			case 1:
				nows[k] = nows[k].Add(time.Duration(rng.Int64N(int64(time.Second))))
			case 2:
				nows[k] = nows[k].Add(time.Duration(rng.Int64N(int64(r.Window))))
			case 3: // exactly Window, or 1 ns more, after the last failure
				if at := last.Add(r.Window + time.Duration(rng.IntN(2))); !last.IsZero() && at.After(nows[k]) {
					nows[k] = at
				}
			case 4:
				nows[k] = nows[k].Add(time.Duration(rng.Int64N(int64(r.BaseLock) + 1)))
			case 5:
				nows[k] = nows[k].Add(time.Duration(rng.Int64N(2 * int64(r.MaxLock))))
			case 6:
				nows[k] = nows[k].Add(r.Forget + time.Duration(rng.Int64N(int64(time.Hour))))
			case 7:
				nows[k] = nows[k].Add(-time.Duration(rng.Int64N(int64(2 * time.Second))))
			default:
				nows[k] = nows[k].Add(time.Duration(rng.Int64N(1000)))
			}
			if !last.IsZero() && nows[k].Sub(last) == r.Forget {
				nows[k] = nows[k].Add(1)
			}
			switch op := rng.IntN(20); {
			case op < 14:
				c.fail(key, nows[k], r)
			case op < 19:
				c.state(key, nows[k])
			default:
				c.reset(key)
			}
		}
	}
}

// testLockConcurrent sends 32 failures for one key at one instant, with a
// Threshold of 33: each returns a distinct count from 1 to 32, none locks,
// and the next failure does. 32 failures during that lock change nothing,
// and 32 keys failed from 32 goroutines see only their own failures.
func testLockConcurrent(c *lockChecker) {
	const n = 32
	r := lockRule{
		name:        "concurrent",
		LockoutRule: ratelimit.LockoutRule{Threshold: n + 1, Window: time.Hour, BaseLock: 15*time.Minute + 1, MaxLock: time.Hour, Forget: 2 * time.Hour},
		locks:       []time.Duration{15*time.Minute + 1},
	}
	ctx := c.t.Context()
	key := "concurrent"
	now := c.at(0)
	run := func(f func(i int) error) {
		c.t.Helper()
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = f(i)
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				c.t.Fatal(err)
			}
		}
	}

	got := make([]ratelimit.LockState, n)
	run(func(i int) (err error) {
		got[i], err = c.s.Fail(ctx, key, now, r.LockoutRule)
		return err
	})
	counts := make([]int, n)
	for i, st := range got {
		counts[i] = st.Failures
		if st.Locked(now) || st.Locks != 0 {
			c.t.Errorf("concurrent failure %d of %d returned %s: locked before the threshold of %d", i, n, c.fmtState(st), r.Threshold)
		}
	}
	sort.Ints(counts)
	for i, v := range counts {
		if v != i+1 {
			c.t.Errorf("the concurrent failures returned the counts %v, want each of 1 to %d once", counts, n)
			break
		}
	}
	for range n {
		c.modelFail(key, now, r.LockoutRule)
	}
	c.expect(c.state(key, now), counting(n), "State after %d concurrent failures", n)
	lock := c.fail(key, now, r)
	c.expect(lock, lockedState(1, now.Add(r.BaseLock)), "failure %d", n+1)

	// Failures during the lock, concurrently.
	during := now.Add(time.Second)
	run(func(i int) error {
		st, err := c.s.Fail(ctx, key, during, r.LockoutRule)
		if err == nil && !sameState(st, lock) {
			err = fmt.Errorf("concurrent failure %d during the lock returned %s, want %s", i, c.fmtState(st), c.fmtState(lock))
		}
		return err
	})
	c.expect(c.state(key, during), lock, "State after concurrent failures during the lock")

	// Distinct keys, concurrently.
	single := c.rule("odd")
	run(func(i int) error {
		k := fmt.Sprintf("concurrent:%d", i)
		for j := 1; j <= single.Threshold; j++ {
			st, err := c.s.Fail(ctx, k, now, single.LockoutRule)
			if err != nil {
				return fmt.Errorf("Fail(%q) error: %w", k, err)
			}
			want := counting(j)
			if j == single.Threshold {
				want = lockedState(1, now.Add(oddBase))
			}
			if !sameState(st, want) {
				return fmt.Errorf("Fail(%q) failure %d = %s, want %s", k, j, c.fmtState(st), c.fmtState(want))
			}
		}
		return nil
	})
}

// testLockConcurrentMark sends 32 Marks with different untils for one key
// from 32 goroutines, with a Reset next to each: the latest until holds.
func testLockConcurrentMark(c *lockChecker) {
	const n = 32
	ctx := c.t.Context()
	key := "concurrent:mark"
	t0 := c.at(0)
	c.failN(key, t0, c.rule("odd"), 1)
	order := rand.New(rand.NewPCG(7, 8)).Perm(n)
	start := make(chan struct{})
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i, h := range order {
		until := t0.Add(time.Duration(h+1) * time.Hour)
		wg.Go(func() {
			<-start
			errs[i] = c.s.Mark(ctx, key, until)
		})
		wg.Go(func() {
			<-start
			errs[n+i] = c.s.Reset(ctx, key)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			c.t.Fatal(err)
		}
	}
	c.modelReset(key)
	for h := range n {
		c.modelMark(key, t0.Add(time.Duration(h+1)*time.Hour))
	}
	for _, at := range []time.Time{t0, t0.Add(n*time.Hour - 1), t0.Add(n * time.Hour)} {
		c.marked(key, at)
	}
	c.expect(c.state(key, t0), ratelimit.LockState{}, "State after the Resets")
}

// testLockCancelledContext calls each method with an already cancelled
// context and with one whose deadline has passed, on a new key and on a key
// with state: each call must return promptly, with an error or the correct
// answer.
func testLockCancelledContext(c *lockChecker) {
	r := c.rule("odd")
	now := c.at(0)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	ops := []struct {
		name string
		call func(ctx context.Context, key string) (string, error)
		want func(key string) string
	}{
		{"Fail", func(ctx context.Context, key string) (string, error) {
			st, err := c.s.Fail(ctx, key, now, r.LockoutRule)
			return c.fmtState(st), err
		}, func(key string) string { return c.fmtState(c.modelFail(key, now, r.LockoutRule)) }},
		{"State", func(ctx context.Context, key string) (string, error) {
			st, err := c.s.State(ctx, key, now)
			return c.fmtState(st), err
		}, func(key string) string { return c.fmtState(c.modelState(key, now)) }},
		{"Marked", func(ctx context.Context, key string) (string, error) {
			ok, err := c.s.Marked(ctx, key, now)
			return fmt.Sprint(ok), err
		}, func(key string) string { return fmt.Sprint(c.modelMarked(key, now)) }},
		{"Mark", func(ctx context.Context, key string) (string, error) {
			return "", c.s.Mark(ctx, key, now.Add(2*time.Hour))
		}, func(key string) string { c.modelMark(key, now.Add(2*time.Hour)); return "" }},
		{"Reset", func(ctx context.Context, key string) (string, error) {
			return "", c.s.Reset(ctx, key)
		}, func(key string) string { c.modelReset(key); return "" }},
	}
	for _, cx := range []struct {
		name string
		ctx  context.Context
	}{{"cancelled", cancelled}, {"expired", expired}} {
		for _, known := range []bool{false, true} {
			for _, op := range ops {
				key := fmt.Sprintf("%s:%s:known=%v", cx.name, op.name, known)
				if known {
					c.fail(key, now, r)
					c.mark(key, now.Add(time.Hour))
				}
				var got string
				var err error
				done := make(chan struct{})
				go func() {
					defer close(done)
					got, err = op.call(cx.ctx, key)
				}()
				timer := time.NewTimer(blockLimit)
				select {
				case <-done:
					timer.Stop()
				case <-timer.C:
					c.t.Fatalf("%s(%q) with a %s context did not return within %v", op.name, key, cx.name, blockLimit)
				}
				if err != nil {
					continue // whether a write happened is unknown; the key is not used again
				}
				if want := op.want(key); got != want {
					c.t.Errorf("%s(%q) with a %s context = %s without an error, want %s", op.name, key, cx.name, got, want)
				}
				// A write that succeeded must have happened.
				c.state(key, now)
				c.marked(key, now)
			}
		}
	}
}
