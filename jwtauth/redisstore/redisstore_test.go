package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/internal/testenv"
	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/redisstore"
	"github.com/senfi-sharif/senfi/jwtauth/storetest"
)

func newStore(t testing.TB, client redis.UniversalClient, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(client, opts)
	require.NoError(t, err)
	return s
}

func TestConformance(t *testing.T) {
	client, prefix := testenv.Redis(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) jwtauth.Store {
		return newStore(t, client, redisstore.Options{Prefix: fmt.Sprintf("%s%d:", prefix, n.Add(1))})
	})
}

// TestConformanceRing runs the suite over a Ring client, which takes the
// pipelined-GET path of Revoked instead of MGET.
func TestConformanceRing(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ring := testenv.RedisRing(t, client)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) jwtauth.Store {
		return newStore(t, ring, redisstore.Options{Prefix: fmt.Sprintf("%s%d:", prefix, n.Add(1))})
	})
}

func TestNewNilClient(t *testing.T) {
	_, err := redisstore.New(nil, redisstore.Options{})
	require.ErrorIs(t, err, redisstore.ErrNilClient)
}

// TestReplicas gives two Stores two clients (two replicas of the app) on one
// Redis: each sees the other's writes, and concurrent Consume calls spread
// over both have exactly one winner.
func TestReplicas(t *testing.T) {
	c1, prefix := testenv.Redis(t)
	c2 := testenv.RedisClient(t)
	a := newStore(t, c1, redisstore.Options{Prefix: prefix})
	b := newStore(t, c2, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	now := time.Now()

	require.NoError(t, a.RevokeFamily(ctx, "f", now.Add(time.Hour)))
	require.NoError(t, b.RevokeSubject(ctx, "alice", now, now.Add(time.Hour)))
	for _, s := range []*redisstore.Store{a, b} {
		got, err := s.Revoked(ctx, jwtauth.TokenRef{Subject: "bob", Family: "f", IssuedAt: now})
		require.NoError(t, err)
		assert.True(t, got, "family revoked through a")
		got, err = s.Revoked(ctx, jwtauth.TokenRef{Subject: "alice", Family: "g", IssuedAt: now})
		require.NoError(t, err)
		assert.True(t, got, "subject revoked through b")
	}

	const n = 50
	var firsts atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			first, _, err := s.Consume(ctx, "jti", now.Add(time.Duration(i)*time.Millisecond), now.Add(time.Hour))
			assert.NoError(t, err)
			if first {
				firsts.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, firsts.Load(), "exactly one first across both replicas")
}

// TestUnreachable checks that a store whose Redis is down or whose client is
// closed returns errors, promptly, and never a bare "not revoked".
func TestUnreachable(t *testing.T) {
	dead := redis.NewClient(&redis.Options{
		Addr:          "127.0.0.1:1",
		DialTimeout:   200 * time.Millisecond,
		MaxRetries:    -1,
		DialerRetries: 1,
	})
	t.Cleanup(func() { dead.Close() })

	closed := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	require.NoError(t, closed.Close())

	// A server that accepts connections and never answers: only the
	// client's read timeout ends the wait.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	silent := redis.NewClient(&redis.Options{
		Addr:         ln.Addr().String(),
		DialTimeout:  200 * time.Millisecond,
		ReadTimeout:  200 * time.Millisecond,
		WriteTimeout: 200 * time.Millisecond,
		MaxRetries:   -1,
		Protocol:     2, // no HELLO handshake, so the dial itself succeeds
	})
	t.Cleanup(func() { silent.Close() })

	for name, client := range map[string]*redis.Client{"refused": dead, "closed": closed, "silent": silent} {
		t.Run(name, func(t *testing.T) {
			s := newStore(t, client, redisstore.Options{})
			ctx := t.Context()
			now := time.Now()
			begin := time.Now()
			got, err := s.Revoked(ctx, jwtauth.TokenRef{Subject: "a", Family: "f", IssuedAt: now})
			assert.Error(t, err, "Revoked must report the outage")
			assert.False(t, got)
			_, _, err = s.Consume(ctx, "jti", now, now.Add(time.Hour))
			assert.Error(t, err, "Consume")
			assert.Error(t, s.RevokeFamily(ctx, "f", now.Add(time.Hour)), "RevokeFamily")
			assert.Error(t, s.RevokeSubject(ctx, "a", now, now.Add(time.Hour)), "RevokeSubject")
			assert.Less(t, time.Since(begin), 5*time.Second, "errors must come quickly")
		})
	}
}

// TestKeysAndTTL checks the documented key layout and that times to live
// follow Options.Now and only ever grow.
func TestKeysAndTTL(t *testing.T) {
	client, prefix := testenv.Redis(t)
	// The application's clock runs 30 minutes behind the real one: an entry
	// expiring in one hour by that clock lives one hour, not 30 minutes.
	skew := -30 * time.Minute
	appNow := func() time.Time { return time.Now().Add(skew) }
	s := newStore(t, client, redisstore.Options{Prefix: prefix, Now: appNow})
	ctx := t.Context()

	pttl := func(key string) time.Duration {
		t.Helper()
		d, err := client.PTTL(ctx, prefix+key).Result()
		require.NoError(t, err)
		return d
	}
	near := func(want, got time.Duration, msg string) {
		t.Helper()
		assert.InDelta(t, want.Seconds(), got.Seconds(), 60, "%s: time to live %v, want about %v", msg, got, want)
	}

	now := appNow()
	require.NoError(t, s.RevokeFamily(ctx, "f", now.Add(time.Hour)))
	near(time.Hour, pttl("fam:f"), "family")
	require.NoError(t, s.RevokeFamily(ctx, "f", now.Add(2*time.Hour)))
	near(2*time.Hour, pttl("fam:f"), "family extended")
	require.NoError(t, s.RevokeFamily(ctx, "f", now.Add(time.Minute)))
	near(2*time.Hour, pttl("fam:f"), "family not shortened")

	// A before with microseconds, and nanoseconds that the store drops.
	before := now.Truncate(time.Millisecond).Add(123*time.Microsecond + 456*time.Nanosecond)
	require.NoError(t, s.RevokeSubject(ctx, "alice", before, now.Add(time.Hour)))
	near(time.Hour, pttl("sub:alice"), "subject")
	v, err := client.Get(ctx, prefix+"sub:alice").Result()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(before.UnixMicro()), v)
	require.NoError(t, s.RevokeSubject(ctx, "alice", before.Add(-time.Minute), now.Add(2*time.Hour)))
	near(2*time.Hour, pttl("sub:alice"), "subject extended by an earlier before")
	v, err = client.Get(ctx, prefix+"sub:alice").Result()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(before.UnixMicro()), v, "before kept at the later time")
	require.NoError(t, s.RevokeSubject(ctx, "alice", before.Add(time.Minute), now.Add(time.Minute)))
	near(2*time.Hour, pttl("sub:alice"), "subject not shortened by a later before")
	v, err = client.Get(ctx, prefix+"sub:alice").Result()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(before.Add(time.Minute).UnixMicro()), v, "before moved forward")
	require.NoError(t, s.RevokeSubject(ctx, "alice", before.Add(time.Minute+time.Microsecond), now.Add(time.Minute)))
	v, err = client.Get(ctx, prefix+"sub:alice").Result()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprint(before.Add(time.Minute+time.Microsecond).UnixMicro()), v, "before moved forward by 1 µs")

	_, _, err = s.Consume(ctx, "jti", now, now.Add(time.Hour))
	require.NoError(t, err)
	near(time.Hour, pttl("used:jti"), "used token")
	v, err = client.Get(ctx, prefix+"used:jti").Result()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(v, fmt.Sprint(now.UnixMicro())+" "), "used value %q", v)

	// Past expiries write nothing.
	require.NoError(t, s.RevokeFamily(ctx, "old", now.Add(-time.Second)))
	require.NoError(t, s.RevokeSubject(ctx, "old", now, now.Add(-time.Second)))
	n, err := client.Exists(ctx, prefix+"fam:old", prefix+"sub:old").Result()
	require.NoError(t, err)
	assert.Zero(t, n)
}

// TestMalformed plants values the store did not write: the store reports
// ErrMalformed instead of guessing.
func TestMalformed(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	now := time.Now()
	require.NoError(t, client.Set(ctx, prefix+"sub:alice", "garbage", time.Hour).Err())
	require.NoError(t, client.Set(ctx, prefix+"used:jti", "garbage", time.Hour).Err())

	_, err := s.Revoked(ctx, jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: now})
	assert.ErrorIs(t, err, redisstore.ErrMalformed)
	err = s.RevokeSubject(ctx, "alice", now, now.Add(time.Hour))
	assert.ErrorIs(t, err, redisstore.ErrMalformed)
	_, _, err = s.Consume(ctx, "jti", now, now.Add(time.Hour))
	assert.ErrorIs(t, err, redisstore.ErrMalformed)
}

// countingHook counts the commands and pipelines a client sends.
type countingHook struct{ cmds, pipelines atomic.Int32 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.cmds.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines.Add(1)
		return next(ctx, cmds)
	}
}

// TestRoundTrips counts what each operation sends: one command, or one
// pipeline on a Ring.
func TestRoundTrips(t *testing.T) {
	base, prefix := testenv.Redis(t)
	client := testenv.RedisClient(t)
	hook := &countingHook{}
	client.AddHook(hook)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	now := time.Now()
	ref := jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: now}

	// Load the scripts, so that the counts below are the steady state.
	require.NoError(t, s.RevokeFamily(ctx, "warm", now.Add(time.Hour)))
	require.NoError(t, s.RevokeSubject(ctx, "warm", now, now.Add(time.Hour)))

	for _, op := range []struct {
		name string
		f    func() error
	}{
		{"Revoked", func() error { _, err := s.Revoked(ctx, ref); return err }},
		{"Consume", func() error { _, _, err := s.Consume(ctx, "jti", now, now.Add(time.Hour)); return err }},
		{"Consume again", func() error { _, _, err := s.Consume(ctx, "jti", now, now.Add(time.Hour)); return err }},
		{"RevokeFamily", func() error { return s.RevokeFamily(ctx, "f", now.Add(time.Hour)) }},
		{"RevokeSubject", func() error { return s.RevokeSubject(ctx, "alice", now, now.Add(time.Hour)) }},
		{"Revoked after revocations", func() error { _, err := s.Revoked(ctx, ref); return err }},
	} {
		hook.cmds.Store(0)
		hook.pipelines.Store(0)
		require.NoError(t, op.f(), op.name)
		assert.EqualValues(t, 1, hook.cmds.Load()+hook.pipelines.Load(), "%s: round trips", op.name)
	}

	ring := testenv.RedisRing(t, base)
	ringHook := &countingHook{}
	ring.AddHook(ringHook)
	rs := newStore(t, ring, redisstore.Options{Prefix: prefix})
	_, err := rs.Revoked(ctx, ref)
	require.NoError(t, err)
	assert.EqualValues(t, 1, ringHook.pipelines.Load(), "Ring Revoked: one pipeline")
	assert.Zero(t, ringHook.cmds.Load(), "Ring Revoked: no separate commands")
}

// retryHook sends every SET twice, as go-redis does when a reply is lost
// after the server applied the command, and returns the second reply.
type retryHook struct{}

func (retryHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (retryHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "set" {
			_ = next(ctx, cmd)
		}
		return next(ctx, cmd)
	}
}

func (retryHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestConsumeRetried checks that a Consume whose SET reached the server
// twice still reports first == true, and that another call does not.
func TestConsumeRetried(t *testing.T) {
	_, prefix := testenv.Redis(t)
	client := testenv.RedisClient(t)
	client.AddHook(retryHook{})
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	now := time.Now()

	first, usedAt, err := s.Consume(t.Context(), "jti", now, now.Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, first, "a retried SET of our own is still the first use")
	assert.Equal(t, now, usedAt)

	first, usedAt, err = s.Consume(t.Context(), "jti", now.Add(time.Second), now.Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, first)
	assert.Equal(t, now.UnixMicro(), usedAt.UnixMicro())
}
