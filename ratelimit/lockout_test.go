package ratelimit_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/ratelimit"
)

type lockClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lockClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *lockClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type lockFixture struct {
	l      *ratelimit.Lockout
	clock  *lockClock
	locks  []ratelimit.LockEvent
	unlock []ratelimit.LockEvent
}

func newLockout(t *testing.T, mod func(*ratelimit.LockoutOptions)) *lockFixture {
	t.Helper()
	f := &lockFixture{clock: &lockClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}}
	var mu sync.Mutex
	opts := ratelimit.LockoutOptions{
		Now:      f.clock.Now,
		OnLock:   func(_ context.Context, e ratelimit.LockEvent) { mu.Lock(); f.locks = append(f.locks, e); mu.Unlock() },
		OnUnlock: func(_ context.Context, e ratelimit.LockEvent) { mu.Lock(); f.unlock = append(f.unlock, e); mu.Unlock() },
	}
	if mod != nil {
		mod(&opts)
	}
	var err error
	f.l, err = ratelimit.NewLockout(opts)
	require.NoError(t, err)
	return f
}

var (
	attacker = netip.MustParseAddr("203.0.113.66")
	victimIP = netip.MustParseAddr("198.51.100.7")
	ctx      = context.Background()
)

func (f *lockFixture) fail(t *testing.T, account string, ip netip.Addr, n int) ratelimit.LockStatus {
	t.Helper()
	var st ratelimit.LockStatus
	for range n {
		var err error
		st, err = f.l.Failure(ctx, account, ip)
		require.NoError(t, err)
	}
	return st
}

func (f *lockFixture) check(t *testing.T, account string, ip netip.Addr) ratelimit.LockStatus {
	t.Helper()
	st, err := f.l.Check(ctx, account, ip)
	require.NoError(t, err)
	return st
}

func TestLockoutThresholdAndDoubling(t *testing.T) {
	f := newLockout(t, nil)
	st := f.fail(t, "a@sharif.edu", attacker, 4)
	assert.False(t, st.Locked)
	assert.False(t, f.check(t, "a@sharif.edu", attacker).Locked)

	st = f.fail(t, "a@sharif.edu", attacker, 1)
	require.True(t, st.Locked, "the fifth failure locks at once")
	assert.Equal(t, 15*time.Minute, st.RetryAfter)
	assert.Equal(t, "account", st.Scope)
	require.Len(t, f.locks, 1)
	assert.Equal(t, 1, f.locks[0].Locks)

	st = f.check(t, "a@sharif.edu", victimIP)
	assert.True(t, st.Locked, "locked from everywhere, whatever the password")
	assert.False(t, f.check(t, "b@sharif.edu", victimIP).Locked, "other accounts are not")

	f.clock.Advance(15 * time.Minute)
	assert.False(t, f.check(t, "a@sharif.edu", attacker).Locked, "the lock ends")

	st = f.fail(t, "a@sharif.edu", attacker, 5)
	require.True(t, st.Locked)
	assert.Equal(t, 30*time.Minute, st.RetryAfter, "doubling on repeat")
	f.clock.Advance(30 * time.Minute)
	st = f.fail(t, "a@sharif.edu", attacker, 5)
	assert.Equal(t, time.Hour, st.RetryAfter)
}

func TestLockoutFailuresDuringLockDoNotExtendIt(t *testing.T) {
	f := newLockout(t, nil)
	f.fail(t, "a", attacker, 5)
	f.clock.Advance(10 * time.Minute)
	f.fail(t, "a", attacker, 3)
	st := f.check(t, "a", attacker)
	assert.Equal(t, 5*time.Minute, st.RetryAfter)
}

func TestLockoutWindow(t *testing.T) {
	f := newLockout(t, nil)
	f.fail(t, "a", attacker, 4)
	f.clock.Advance(16 * time.Minute)
	st := f.fail(t, "a", attacker, 1)
	assert.False(t, st.Locked, "failures further apart than the window do not add up")
}

func TestLockoutSuccessResets(t *testing.T) {
	f := newLockout(t, nil)
	f.fail(t, "a", victimIP, 4)
	require.NoError(t, f.l.Success(ctx, "a", victimIP))
	st := f.fail(t, "a", victimIP, 4)
	assert.False(t, st.Locked, "consecutive failures start again after a success")
}

func TestLockoutTrustedAddressKeepsItsAllowance(t *testing.T) {
	f := newLockout(t, nil)
	require.NoError(t, f.l.Success(ctx, "victim@sharif.edu", victimIP))
	f.clock.Advance(24 * time.Hour)

	// Someone fails on the victim's account from elsewhere and locks it.
	st := f.fail(t, "victim@sharif.edu", attacker, 5)
	require.True(t, st.Locked)
	assert.True(t, f.check(t, "victim@sharif.edu", attacker).Locked)
	assert.True(t, f.check(t, "victim@sharif.edu", netip.MustParseAddr("192.0.2.1")).Locked)

	// The victim, from the address they logged in from before, is not locked out.
	assert.False(t, f.check(t, "victim@sharif.edu", victimIP).Locked)
	// A victim's address in the same /64 counts as the same address.
	// But its own failures still count, on their own.
	st = f.fail(t, "victim@sharif.edu", victimIP, 5)
	assert.True(t, st.Locked)
	assert.Equal(t, "account+ip", st.Scope)

	// Its success does not lift the lock that keeps the guesser out.
	f.clock.Advance(15 * time.Minute)
	require.NoError(t, f.l.Success(ctx, "victim@sharif.edu", victimIP))
	assert.False(t, f.check(t, "victim@sharif.edu", attacker).Locked, "the first lock has ended by now")

	// Trust lapses after 30 days.
	g := newLockout(t, nil)
	require.NoError(t, g.l.Success(ctx, "v", victimIP))
	g.clock.Advance(31 * 24 * time.Hour)
	g.fail(t, "v", attacker, 5)
	assert.True(t, g.check(t, "v", victimIP).Locked)
}

func TestLockoutTrustDisabled(t *testing.T) {
	f := newLockout(t, func(o *ratelimit.LockoutOptions) { o.DisableTrustedAddresses = true })
	require.NoError(t, f.l.Success(ctx, "v", victimIP))
	f.fail(t, "v", attacker, 5)
	assert.True(t, f.check(t, "v", victimIP).Locked)
}

func TestLockoutPerAddress(t *testing.T) {
	f := newLockout(t, func(o *ratelimit.LockoutOptions) { o.IPThreshold = 10 })
	// Password spraying: one failure on each of many accounts.
	var st ratelimit.LockStatus
	for i := range 10 {
		var err error
		st, err = f.l.Failure(ctx, string(rune('a'+i)), attacker)
		require.NoError(t, err)
	}
	require.True(t, st.Locked)
	assert.Equal(t, "ip", st.Scope)
	assert.True(t, f.check(t, "zzz", attacker).Locked, "the address is locked for every account")
	// Rotating inside the /64 does not help an IPv6 attacker either.
	g := newLockout(t, func(o *ratelimit.LockoutOptions) { o.IPThreshold = 3 })
	for i := range 3 {
		ip := netip.MustParseAddr("2001:db8:1:2::" + string(rune('1'+i)))
		_, err := g.l.Failure(ctx, string(rune('a'+i)), ip)
		require.NoError(t, err)
	}
	assert.True(t, g.check(t, "other", netip.MustParseAddr("2001:db8:1:2:ffff::9")).Locked)
	assert.False(t, g.check(t, "other", netip.MustParseAddr("2001:db8:1:3::1")).Locked)
}

func TestLockoutAccountAndIP(t *testing.T) {
	f := newLockout(t, func(o *ratelimit.LockoutOptions) { o.Mode = ratelimit.AccountAndIP })
	st := f.fail(t, "v", attacker, 5)
	require.True(t, st.Locked)
	assert.Equal(t, "account+ip", st.Scope)
	assert.True(t, f.check(t, "v", attacker).Locked)
	assert.False(t, f.check(t, "v", victimIP).Locked, "nobody can lock a victim out from elsewhere")
}

func TestLockoutHistoryForgotten(t *testing.T) {
	f := newLockout(t, nil)
	f.fail(t, "a", attacker, 5)
	f.clock.Advance(25 * time.Hour)
	st := f.fail(t, "a", attacker, 5)
	assert.Equal(t, 30*time.Minute, st.RetryAfter, "a day later the history still counts")
	f.clock.Advance(8 * 24 * time.Hour)
	st = f.fail(t, "a", attacker, 5)
	assert.Equal(t, 15*time.Minute, st.RetryAfter, "a week without failures forgets it")
}

func TestLockoutKeepsDoublingAtMaxLock(t *testing.T) {
	f := newLockout(t, func(o *ratelimit.LockoutOptions) { o.BaseLock = 12 * time.Hour })
	st := f.fail(t, "a", attacker, 5)
	require.Equal(t, 12*time.Hour, st.RetryAfter)
	f.clock.Advance(12 * time.Hour)
	st = f.fail(t, "a", attacker, 5)
	require.Equal(t, 24*time.Hour, st.RetryAfter)
	f.clock.Advance(24*time.Hour + time.Minute) // the longest lock, then more failures
	st = f.fail(t, "a", attacker, 5)
	assert.Equal(t, 24*time.Hour, st.RetryAfter, "the history outlives the longest lock")
}

func TestLockoutUnlockEvent(t *testing.T) {
	f := newLockout(t, nil)
	f.fail(t, "a", victimIP, 5)
	f.clock.Advance(15 * time.Minute)
	require.NoError(t, f.l.Success(ctx, "a", victimIP))
	require.NotEmpty(t, f.unlock)
	assert.Equal(t, "account", f.unlock[len(f.unlock)-1].Scope)
	st := f.fail(t, "a", victimIP, 5)
	assert.Equal(t, 15*time.Minute, st.RetryAfter, "a success resets the history too")
}

func TestLockoutConcurrentFailures(t *testing.T) {
	f := newLockout(t, func(o *ratelimit.LockoutOptions) { o.Threshold = 50; o.IPThreshold = 1000 })
	var wg sync.WaitGroup
	for range 49 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.l.Failure(ctx, "a", attacker)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.False(t, f.check(t, "a", attacker).Locked, "49 failures do not lock")
	assert.True(t, f.fail(t, "a", attacker, 1).Locked, "the fiftieth does: no failure was lost")
	assert.Len(t, f.locks, 1)
}

func TestNewLockoutRefusals(t *testing.T) {
	for name, o := range map[string]ratelimit.LockoutOptions{
		"negative window":      {Window: -time.Second},
		"negative threshold":   {Threshold: -1},
		"bad mode":             {Mode: 7},
		"max below base":       {BaseLock: time.Hour, MaxLock: time.Minute},
		"forget below max":     {MaxLock: 8 * 24 * time.Hour},
		"forget equal max":     {MaxLock: 24 * time.Hour, Forget: 24 * time.Hour},
		"bad prefix":           {Prefix: "a|b"},
		"bad ipv6 prefix":      {IPv6Prefix: 200},
		"negative trusted for": {TrustedFor: -1},
	} {
		t.Run(name, func(t *testing.T) {
			l, err := ratelimit.NewLockout(o)
			require.Error(t, err)
			assert.Nil(t, l)
		})
	}
}

func TestLockoutSprayNotResetByOwnLogin(t *testing.T) {
	f := newLockout(t, nil) // IPThreshold 20
	locked := false
	for round := 0; round < 5 && !locked; round++ {
		for i := range 19 {
			st, err := f.l.Failure(ctx, fmt.Sprintf("victim%d-%d", round, i), attacker)
			require.NoError(t, err)
			locked = locked || st.Locked
		}
		require.NoError(t, f.l.Success(ctx, "attacker-own-account", attacker))
	}
	assert.True(t, locked, "logging into one's own account between rounds must not reset the address's count")
	assert.True(t, f.check(t, "anyone", attacker).Locked)
}
