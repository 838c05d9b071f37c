package redisstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/internal/testenv"
	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/ratelimit/redisstore"
	"github.com/senfi-sharif/senfi/ratelimit/storetest"
)

func TestLockoutConformance(t *testing.T) {
	client, prefix := testenv.Redis(t)
	var n atomic.Int64
	storetest.RunLockout(t, func(t *testing.T) ratelimit.LockoutStore {
		return newStore(t, client, redisstore.Options{Prefix: fmt.Sprintf("%s%d:", prefix, n.Add(1))})
	})
}

// TestLockoutConformanceRing runs the suite over a one-shard Ring client.
func TestLockoutConformanceRing(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ring := testenv.RedisRing(t, client)
	var n atomic.Int64
	storetest.RunLockout(t, func(t *testing.T) ratelimit.LockoutStore {
		return newStore(t, ring, redisstore.Options{Prefix: fmt.Sprintf("%s%d:", prefix, n.Add(1))})
	})
}

// loginRule is the rule of a Lockout with default options.
var loginRule = ratelimit.LockoutRule{Threshold: 5, Window: 15 * time.Minute, BaseLock: 15 * time.Minute, MaxLock: 24 * time.Hour, Forget: 24 * time.Hour}

// TestLockoutReplicas gives two Stores two clients (two replicas of the app)
// on one Redis: their failures add up to one lock, which both see, as they
// see each other's marks and resets.
func TestLockoutReplicas(t *testing.T) {
	c1, prefix := testenv.Redis(t)
	c2 := testenv.RedisClient(t)
	a := newStore(t, c1, redisstore.Options{Prefix: prefix})
	b := newStore(t, c2, redisstore.Options{Prefix: prefix})
	replicas := []*redisstore.Store{a, b}
	ctx := t.Context()
	now := time.Now()

	key := "lockout|acct|victim@sharif.edu"
	for i := range loginRule.Threshold - 1 {
		st, err := replicas[i%2].Fail(ctx, key, now.Add(time.Duration(i)*time.Second), loginRule)
		require.NoError(t, err)
		assert.Equal(t, i+1, st.Failures, "failure %d, on replica %d", i+1, i%2)
	}
	at := now.Add(time.Minute)
	st, err := b.Fail(ctx, key, at, loginRule)
	require.NoError(t, err)
	assert.True(t, st.Locked(at), "the fifth failure, across both replicas, locks")
	for i, s := range replicas {
		got, err := s.State(ctx, key, at)
		require.NoError(t, err)
		assert.True(t, got.LockedUntil.Equal(at.Add(15*time.Minute)), "replica %d sees the lock: %+v", i, got)
	}

	// 32 concurrent failures, half on each replica, with a threshold of 33.
	const n = 32
	rule := loginRule
	rule.Threshold = n + 1
	key = "lockout|acct|concurrent"
	var wg sync.WaitGroup
	counts := make([]int, n)
	for i := range n {
		wg.Go(func() {
			st, err := replicas[i%2].Fail(ctx, key, now, rule)
			assert.NoError(t, err)
			counts[i] = st.Failures
		})
	}
	wg.Wait()
	assert.ElementsMatch(t, seq(1, n), counts, "each failure counted once, across replicas")
	st, err = a.Fail(ctx, key, now, rule)
	require.NoError(t, err)
	assert.True(t, st.Locked(now), "failure %d locks", n+1)

	// Marks and resets are shared too.
	trust := "lockout|trust|victim@sharif.edu|198.51.100.7"
	require.NoError(t, a.Mark(ctx, trust, now.Add(time.Hour)))
	marked, err := b.Marked(ctx, trust, now)
	require.NoError(t, err)
	assert.True(t, marked)
	require.NoError(t, b.Reset(ctx, key))
	st, err = a.State(ctx, key, now)
	require.NoError(t, err)
	assert.Equal(t, ratelimit.LockState{}, st, "reset on the other replica")
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// lockClock is a Lockout clock that tests move by hand.
type lockClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lockClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *lockClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// TestLockoutOnRedis runs a ratelimit.Lockout on the Redis store, as two
// replicas: an attacker guessing a victim's password from one address locks
// the account everywhere, whichever replicas the guesses reach, but the
// victim, from the address they logged in from before, still gets in.
func TestLockoutOnRedis(t *testing.T) {
	c1, prefix := testenv.Redis(t)
	c2 := testenv.RedisClient(t)
	clock := &lockClock{t: time.Now()}
	var mu sync.Mutex
	var locks []ratelimit.LockEvent
	newLockout := func(client redis.UniversalClient) *ratelimit.Lockout {
		l, err := ratelimit.NewLockout(ratelimit.LockoutOptions{
			Store: newStore(t, client, redisstore.Options{Prefix: prefix}),
			Now:   clock.Now,
			OnLock: func(_ context.Context, e ratelimit.LockEvent) {
				mu.Lock()
				defer mu.Unlock()
				locks = append(locks, e)
			},
		})
		require.NoError(t, err)
		return l
	}
	replicas := []*ratelimit.Lockout{newLockout(c1), newLockout(c2)}
	ctx := t.Context()
	victim := "victim@sharif.edu"
	victimIP := netip.MustParseAddr("198.51.100.7")
	attacker := netip.MustParseAddr("203.0.113.66")
	elsewhere := netip.MustParseAddr("192.0.2.1")

	// The victim logged in yesterday.
	require.NoError(t, replicas[0].Success(ctx, victim, victimIP))
	clock.Advance(24 * time.Hour)

	// Five guesses, alternating between the replicas.
	var st ratelimit.LockStatus
	for i := range 5 {
		var err error
		st, err = replicas[i%2].Failure(ctx, victim, attacker)
		require.NoError(t, err)
		assert.Equal(t, i == 4, st.Locked, "guess %d", i+1)
	}
	assert.Equal(t, ratelimit.LockStatus{Locked: true, RetryAfter: 15 * time.Minute, Scope: "account"}, st)
	require.Len(t, locks, 1)
	assert.Equal(t, ratelimit.LockEvent{Scope: "account", Account: victim, IP: attacker, Until: clock.Now().Add(15 * time.Minute), Locks: 1}, locks[0])

	for i, l := range replicas {
		st, err := l.Check(ctx, victim, attacker)
		require.NoError(t, err)
		assert.True(t, st.Locked, "replica %d: the attacker is locked out", i)
		st, err = l.Check(ctx, victim, elsewhere)
		require.NoError(t, err)
		assert.True(t, st.Locked, "replica %d: an unknown address is locked out", i)
		st, err = l.Check(ctx, victim, victimIP)
		require.NoError(t, err)
		assert.False(t, st.Locked, "replica %d: the victim's trusted address gets in", i)
	}
	// The victim logs in; the lock that keeps the guesser out stays.
	require.NoError(t, replicas[1].Success(ctx, victim, victimIP))
	st, err := replicas[0].Check(ctx, victim, attacker)
	require.NoError(t, err)
	assert.True(t, st.Locked, "a success of the victim does not lift the account lock")

	// The lock ends; the next five guesses lock for twice as long.
	clock.Advance(15 * time.Minute)
	for i := range 5 {
		st, err = replicas[(i+1)%2].Failure(ctx, victim, attacker)
		require.NoError(t, err)
	}
	assert.Equal(t, ratelimit.LockStatus{Locked: true, RetryAfter: 30 * time.Minute, Scope: "account"}, st)
}

// lockKey is the Redis key of a lockout key under prefix.
func lockKey(prefix, key string) string { return prefix + "lock|" + key }

// TestLockoutKeyAndTTL checks the documented hash layout, and that the key's
// time to live ends when it carries no information any more: Forget after
// the last failure, the end of a longer lock, or the end of a mark.
func TestLockoutKeyAndTTL(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	now := time.Now().Truncate(time.Second).Add(123_456_789)
	ns := func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }
	hash := func(key string) map[string]string {
		t.Helper()
		h, err := client.HGetAll(ctx, lockKey(prefix, key)).Result()
		require.NoError(t, err)
		return h
	}
	// ttlNear asserts that a PTTL is want, within a second: the real time
	// passed since the write, and the difference between now and the
	// process's clock, which Mark and Reset use.
	ttlNear := func(key string, want time.Duration, msg string) {
		t.Helper()
		got, err := client.PTTL(ctx, lockKey(prefix, key)).Result()
		require.NoError(t, err)
		assert.True(t, got < want+time.Second && got > want-time.Second, "%s: PTTL %v, want about %v", msg, got, want)
	}
	rule := ratelimit.LockoutRule{Threshold: 2, Window: time.Minute, BaseLock: 40 * time.Minute, MaxLock: 3 * time.Hour, Forget: time.Hour + 1}

	_, err := s.Fail(ctx, "k", now, rule)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"failures": "1", "locks": "0", "last": ns(now), "forget_at": ns(now.Add(time.Hour + 1)),
	}, hash("k"))
	ttlNear("k", time.Hour+time.Millisecond, "after a failure: Forget, rounded up to the ms")

	at := now.Add(time.Second)
	st, err := s.Fail(ctx, "k", at, rule)
	require.NoError(t, err)
	require.True(t, st.Locked(at))
	assert.Equal(t, map[string]string{
		"failures": "0", "locks": "1", "last": ns(at), "forget_at": ns(at.Add(time.Hour + 1)),
		"locked_until": ns(at.Add(40 * time.Minute)),
	}, hash("k"))
	ttlNear("k", time.Hour+time.Millisecond, "after a lock shorter than Forget")

	// The second lock, 80 min, is longer than Forget: its end is the
	// horizon.
	at = st.LockedUntil
	for range 2 {
		st, err = s.Fail(ctx, "k", at, rule)
		require.NoError(t, err)
	}
	require.Equal(t, 2, st.Locks)
	require.Equal(t, 80*time.Minute, st.LockedUntil.Sub(at))
	ttlNear("k", 80*time.Minute, "after a lock longer than Forget")
	// A failure during the lock writes nothing.
	before := hash("k")
	_, err = s.Fail(ctx, "k", at.Add(time.Minute), rule)
	require.NoError(t, err)
	assert.Equal(t, before, hash("k"), "a failure during the lock")

	// A mark lives until its end; Reset keeps it, alone, until then.
	until := now.Add(30 * 24 * time.Hour)
	require.NoError(t, s.Mark(ctx, "k", until))
	assert.Equal(t, ns(until), hash("k")["mark"])
	ttlNear("k", time.Until(until), "after a mark")
	require.NoError(t, s.Mark(ctx, "k", now.Add(time.Hour)))
	assert.Equal(t, ns(until), hash("k")["mark"], "an earlier mark")
	require.NoError(t, s.Reset(ctx, "k"))
	assert.Equal(t, map[string]string{"mark": ns(until)}, hash("k"))
	ttlNear("k", time.Until(until), "after Reset of a marked key")
	// A failure does not shorten the mark's life.
	_, err = s.Fail(ctx, "k", now, rule)
	require.NoError(t, err)
	ttlNear("k", time.Until(until), "after a failure of a marked key")

	// Reset of an unmarked key deletes it; a past mark writes nothing.
	_, err = s.Fail(ctx, "unmarked", now, rule)
	require.NoError(t, err)
	require.NoError(t, s.Reset(ctx, "unmarked"))
	require.NoError(t, s.Mark(ctx, "past", time.Now().Add(-time.Second)))
	require.NoError(t, s.Mark(ctx, "zero", time.Time{}))
	n, err := client.Exists(ctx, lockKey(prefix, "unmarked"), lockKey(prefix, "past"), lockKey(prefix, "zero")).Result()
	require.NoError(t, err)
	assert.Zero(t, n)

	// A mark past 2262 is kept as 2262.
	require.NoError(t, s.Mark(ctx, "far", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, strconv.FormatInt(math.MaxInt64, 10), hash("far")["mark"])
	marked, err := s.Marked(ctx, "far", time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.True(t, marked)

	// Lockout keys and rate-limit keys of the same name are distinct.
	_, err = s.Take(ctx, "k", policy(t, "5/m"), now)
	require.NoError(t, err)
	assert.Equal(t, ns(until), hash("k")["mark"])
}

// TestLockoutMalformed plants hashes the store did not write: every method
// reports ErrMalformed instead of guessing, and leaves them alone.
func TestLockoutMalformed(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	now := time.Now()
	t0 := strconv.FormatInt(now.UnixNano(), 10)
	good := func(kv ...string) map[string]string {
		h := map[string]string{"failures": "1", "locks": "0", "last": t0, "forget_at": t0}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "<absent>" {
				delete(h, kv[i])
			} else {
				h[kv[i]] = kv[i+1]
			}
		}
		return h
	}
	for i, h := range []map[string]string{
		good("failures", "x"),
		good("failures", ""),
		good("failures", "-1"),
		good("failures", "+1"),
		good("failures", "1234567890123456"),
		good("locks", "1.5"),
		good("last", "123"),
		good("last", "-1764770412123456789"),
		good("last", "1764770412.123"),
		good("last", "9999999999999999999"), // more than 2^63-1
		good("forget_at", "99999999999999999999"),
		good("locked_until", "soon"),
		good("mark", "tomorrow"),
		good("failures", "<absent>"),
		good("last", "<absent>"),
		good("forget_at", "<absent>"),
		{"locked_until": t0},
		{"failures": "1"},
		{"mark": "1764770412 123456789"},
		{"mark": ""},
	} {
		key := fmt.Sprintf("bad:%d", i)
		k := lockKey(prefix, key)
		require.NoError(t, client.HSet(ctx, k, h).Err())
		require.NoError(t, client.Expire(ctx, k, time.Hour).Err())
		calls := map[string]error{}
		_, calls["Fail"] = s.Fail(ctx, key, now, loginRule)
		_, calls["State"] = s.State(ctx, key, now)
		calls["Reset"] = s.Reset(ctx, key)
		calls["Mark"] = s.Mark(ctx, key, now.Add(time.Hour))
		_, calls["Marked"] = s.Marked(ctx, key, now)
		for name, err := range calls {
			assert.ErrorIs(t, err, redisstore.ErrMalformed, "%s on %v", name, h)
		}
		got, err := client.HGetAll(ctx, k).Result()
		require.NoError(t, err)
		assert.Equal(t, h, got, "hash changed")
	}

	// A key of another type: an error, and the key is left alone.
	k := lockKey(prefix, "string")
	require.NoError(t, client.Set(ctx, k, "x", time.Hour).Err())
	_, err := s.Fail(ctx, "string", now, loginRule)
	assert.Error(t, err)
	_, err = s.State(ctx, "string", now)
	assert.Error(t, err)
	assert.Error(t, s.Reset(ctx, "string"))
	assert.Error(t, s.Mark(ctx, "string", now.Add(time.Hour)))
	_, err = s.Marked(ctx, "string", now)
	assert.Error(t, err)
	v, err := client.Get(ctx, k).Result()
	require.NoError(t, err)
	assert.Equal(t, "x", v)
}

// TestLockoutBadInput checks that times the layout cannot hold and rules
// with negative durations give errors, and write nothing.
func TestLockoutBadInput(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	now := time.Now()
	for _, r := range []ratelimit.LockoutRule{
		{Threshold: 5, Window: -1, BaseLock: time.Minute, MaxLock: time.Hour, Forget: time.Hour},
		{Threshold: 5, Window: time.Minute, BaseLock: -time.Minute, MaxLock: time.Hour, Forget: time.Hour},
		{Threshold: 5, Window: time.Minute, BaseLock: time.Minute, MaxLock: -1, Forget: time.Hour},
		{Threshold: 5, Window: time.Minute, BaseLock: time.Minute, MaxLock: time.Hour, Forget: -time.Hour},
	} {
		_, err := s.Fail(ctx, "k", now, r)
		assert.ErrorIs(t, err, redisstore.ErrInvalidRule, "rule %+v", r)
	}
	for _, at := range []time.Time{time.Unix(-1, 0), {}, time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := s.Fail(ctx, "k", at, loginRule)
		assert.ErrorIs(t, err, redisstore.ErrTimeRange, "Fail at %v", at)
		_, err = s.State(ctx, "k", at)
		assert.ErrorIs(t, err, redisstore.ErrTimeRange, "State at %v", at)
		_, err = s.Marked(ctx, "k", at)
		assert.ErrorIs(t, err, redisstore.ErrTimeRange, "Marked at %v", at)
	}
	long := loginRule
	long.MaxLock = 250 * 365 * 24 * time.Hour // beyond 2262 from now
	long.Forget = long.MaxLock
	_, err := s.Fail(ctx, "k", now, long)
	assert.ErrorIs(t, err, redisstore.ErrTimeRange, "a lock that could end after 2262")
	n, err := client.Exists(ctx, lockKey(prefix, "k")).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "a failed call wrote the key")

	// A Forget that reaches past 2262 (never forget) is fine.
	never := loginRule
	never.Forget = math.MaxInt64
	for range 5 {
		_, err = s.Fail(ctx, "never", now, never)
		require.NoError(t, err)
	}
	st, err := s.State(ctx, "never", time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, 1, st.Locks, "the history is kept to the end of time")
}

// TestLockoutMatchesFailState drives the store with pseudo-random rules and
// failures from 1970 to 2200, with lengths that are not whole milliseconds
// and Unix nanoseconds well beyond 2^53: Fail checks every state its script
// computes against ratelimit.FailState and errs on a difference, and State
// agrees with a model built on FailState.
func TestLockoutMatchesFailState(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(9, 10))
	dur := func(max time.Duration) time.Duration { return time.Duration(rng.Int64N(int64(max))) + 1 }
	for _, start := range []time.Time{
		time.Unix(0, 1),
		time.Unix(1, 999_999_999),
		time.Now(),
		time.Date(2200, 1, 1, 0, 0, 0, 999_999_999, time.UTC),
	} {
		for ri := range 6 {
			base := dur(time.Hour)
			r := ratelimit.LockoutRule{
				Threshold: 1 + rng.IntN(5),
				Window:    dur(time.Hour),
				BaseLock:  base,
				MaxLock:   base + dur(10*time.Hour),
				Forget:    dur(24 * time.Hour),
			}
			t.Run(fmt.Sprintf("%d/%d", start.Year(), ri), func(t *testing.T) {
				key := fmt.Sprintf("match:%d:%d", start.UnixNano(), ri)
				var state ratelimit.LockState
				var last time.Time
				now := start
				for i := range 200 {
					switch rng.IntN(4) {
					case 1:
						now = now.Add(dur(r.Window))
					case 2:
						now = now.Add(dur(r.MaxLock))
					case 3:
						now = now.Add(dur(2 * r.Forget))
					}
					got, err := s.Fail(ctx, key, now, r)
					require.NoError(t, err, "failure %d at %s", i, now.UTC().Format(time.RFC3339Nano))
					if !state.Locked(now) {
						state, last = ratelimit.FailState(state, last, now, r), now
					}
					require.Equal(t, state.Failures, got.Failures, "failure %d", i)
					require.Equal(t, state.Locks, got.Locks, "failure %d", i)
					require.True(t, state.LockedUntil.Equal(got.LockedUntil), "failure %d: %v, want %v", i, got.LockedUntil, state.LockedUntil)
					probe := now.Add(dur(2 * r.Forget))
					st, err := s.State(ctx, key, probe)
					require.NoError(t, err)
					if probe.Sub(last) > r.Forget && !state.Locked(probe) {
						require.Equal(t, ratelimit.LockState{}, st, "State after failure %d", i)
					} else {
						require.True(t, st.LockedUntil.Equal(state.LockedUntil) && st.Failures == state.Failures && st.Locks == state.Locks,
							"State after failure %d: %+v, want %+v", i, st, state)
					}
				}
			})
		}
	}
}

// TestLockoutOneRoundTrip checks that each method sends one command once
// the server has the scripts.
func TestLockoutOneRoundTrip(t *testing.T) {
	_, prefix := testenv.Redis(t)
	client := testenv.RedisClient(t)
	hook := &countingHook{}
	client.AddHook(hook)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	now := time.Now()
	calls := []struct {
		name string
		call func() error
	}{
		{"Fail", func() error { _, err := s.Fail(ctx, "k", now, loginRule); return err }},
		{"State", func() error { _, err := s.State(ctx, "k", now); return err }},
		{"Mark", func() error { return s.Mark(ctx, "k", now.Add(time.Hour)) }},
		{"Marked", func() error { _, err := s.Marked(ctx, "k", now); return err }},
		{"Reset", func() error { return s.Reset(ctx, "k") }},
	}
	for _, c := range calls {
		require.NoError(t, c.call(), "%s (warming up)", c.name)
	}
	for _, c := range calls {
		hook.cmds.Store(0)
		require.NoError(t, c.call(), c.name)
		assert.EqualValues(t, 1, hook.cmds.Load(), "%s: commands sent", c.name)
	}
}
