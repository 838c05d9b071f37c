package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
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

func newStore(t testing.TB, client redis.UniversalClient, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(client, opts)
	require.NoError(t, err)
	return s
}

func policy(t testing.TB, spec string) ratelimit.Policy {
	t.Helper()
	p, err := ratelimit.ParsePolicy(spec)
	require.NoError(t, err)
	return p
}

func TestConformance(t *testing.T) {
	client, prefix := testenv.Redis(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) ratelimit.Store {
		return newStore(t, client, redisstore.Options{Prefix: fmt.Sprintf("%s%d:", prefix, n.Add(1))})
	})
}

// TestConformanceRing runs the suite over a one-shard Ring client, as a
// sharded deployment would use.
func TestConformanceRing(t *testing.T) {
	client, prefix := testenv.Redis(t)
	ring := testenv.RedisRing(t, client)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) ratelimit.Store {
		return newStore(t, ring, redisstore.Options{Prefix: fmt.Sprintf("%s%d:", prefix, n.Add(1))})
	})
}

func TestNew(t *testing.T) {
	_, err := redisstore.New(nil, redisstore.Options{})
	require.ErrorIs(t, err, redisstore.ErrNilClient)

	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { client.Close() })
	for _, prefix := range []string{"", "ratelimit:", "app:rl:", "senfi-test:0123abcd:", "سنفی:", "a"} {
		_, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
		assert.NoError(t, err, "prefix %q", prefix)
	}
	for _, prefix := range []string{
		"rl*", "rl?", "rl[1]", `rl\`, "{rl}:", "rl}", "rl :", "rl\t", "rl\n", "rl\x00", "rl\x7f",
		"rl\u00a0", "\xff", string(make([]byte, redisstore.MaxPrefixLen+1)),
	} {
		_, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
		assert.ErrorIs(t, err, redisstore.ErrInvalidOptions, "prefix %q", prefix)
	}
}

// TestDefaultPrefix checks the documented key layout with the default
// prefix: the value is the tat in decimal Unix nanoseconds.
func TestDefaultPrefix(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s := newStore(t, client, redisstore.Options{})
	key := prefix + "default" // unique, though outside testenv's prefix
	full := redisstore.DefaultPrefix + key
	t.Cleanup(func() { client.Del(context.Background(), full) })

	p := policy(t, "5/m")
	now := time.Now()
	_, err := s.Take(t.Context(), key, p, now)
	require.NoError(t, err)
	v, err := client.Get(t.Context(), full).Result()
	require.NoError(t, err)
	assert.Equal(t, strconv.FormatInt(now.Add(12*time.Second).UnixNano(), 10), v)
}

// TestReplicas gives two Stores two clients (two replicas of the app) on one
// Redis: together they allow the budget once.
func TestReplicas(t *testing.T) {
	c1, prefix := testenv.Redis(t)
	c2 := testenv.RedisClient(t)
	a := newStore(t, c1, redisstore.Options{Prefix: prefix})
	b := newStore(t, c2, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	p := policy(t, "5/m")
	now := time.Now()

	// 10 requests within a second, alternating between the replicas.
	var allowed int
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		d, err := s.Take(ctx, "login:ip:203.0.113.7", p, now.Add(time.Duration(i)*100*time.Millisecond))
		require.NoError(t, err)
		if d.Allowed {
			allowed++
			assert.Equal(t, 5-allowed, d.Remaining, "request %d", i)
		}
	}
	assert.Equal(t, 5, allowed, "allowed across both replicas")

	// 50 concurrent requests for another key, spread over both.
	const n = 50
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			d, err := s.Take(ctx, "login:ip:203.0.113.8", p, now)
			assert.NoError(t, err)
			if d.Allowed {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 5, wins.Load(), "concurrent requests allowed across both replicas")
}

// TestMatchesMemoryStore drives a redisstore.Store and a MemoryStore with
// the same pseudo-random sequences, with policies whose intervals are not
// whole microseconds and at instants from 1970 to 2200 (Unix nanoseconds
// well beyond 2^53): every decision is identical. The intervals are long
// enough (over 100 ms) that no key expires by real time during the test.
func TestMatchesMemoryStore(t *testing.T) {
	client, prefix := testenv.Redis(t)
	rs := newStore(t, client, redisstore.Options{Prefix: prefix})
	ms := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(3, 4))
	policies := []ratelimit.Policy{
		policy(t, "7/s"), policy(t, "999/7s burst 3"), policy(t, "3/m burst 1"),
		policy(t, "1/1000d burst 3"), policy(t, "1000/h burst 5000"),
		policy(t, "3/7s"), // 2,333,333,333 ns
	}
	for _, start := range []time.Time{
		time.Unix(0, 1),
		time.Unix(1, 999_999_999),
		time.Now(),
		time.Date(2200, 1, 1, 0, 0, 0, 999_999_999, time.UTC),
	} {
		for pi, p := range policies {
			t.Run(fmt.Sprintf("%d/%s", start.Year(), p), func(t *testing.T) {
				// Steps of up to three intervals, but at most 30 days, so
				// that 2200 plus 200 steps stays within Unix nanoseconds.
				interval := int64(p.Period / time.Duration(p.Limit))
				step := min(3*interval, int64(30*24*time.Hour))
				now := start
				key := fmt.Sprintf("match:%d:%d", start.UnixNano(), pi)
				for i := range 200 {
					switch rng.IntN(3) {
					case 1:
						now = now.Add(time.Duration(rng.Int64N(min(interval, step))))
					case 2:
						now = now.Add(time.Duration(rng.Int64N(step + 1)))
					}
					want, err := ms.Take(ctx, key, p, now)
					require.NoError(t, err)
					got, err := rs.Take(ctx, key, p, now)
					require.NoError(t, err)
					require.Equal(t, want, got, "request %d at %s", i, now.UTC().Format(time.RFC3339Nano))
				}
			})
		}
	}
}

// TestKeyAndTTL checks the stored value (the tat, in Unix nanoseconds) and
// that the key's time to live is the time until it is back in its initial
// state, tat − now rounded up to the millisecond, so an idle key vanishes.
func TestKeyAndTTL(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	now := time.Now().Truncate(time.Second).Add(123_456_789)

	stored := func(key string) (tat time.Time, pttl time.Duration) {
		t.Helper()
		v, err := client.Get(ctx, prefix+key).Result()
		require.NoError(t, err)
		ns, err := strconv.ParseInt(v, 10, 64)
		require.NoError(t, err, "value %q", v)
		pttl, err = client.PTTL(ctx, prefix+key).Result()
		require.NoError(t, err)
		return time.Unix(0, ns), pttl
	}
	// ttlNear asserts that a PTTL read just now is want, minus the little
	// real time that has passed since the write.
	ttlNear := func(want, got time.Duration, msg string) {
		t.Helper()
		assert.True(t, got <= want && got > want-time.Second, "%s: PTTL %v, want about %v", msg, got, want)
	}
	take := func(key string, p ratelimit.Policy, at time.Time) ratelimit.Decision {
		t.Helper()
		d, err := s.Take(ctx, key, p, at)
		require.NoError(t, err)
		return d
	}

	p := policy(t, "5/m")
	d := take("k", p, now)
	require.True(t, d.Allowed)
	tat, pttl := stored("k")
	assert.Equal(t, now.Add(12*time.Second), tat)
	ttlNear(12*time.Second, pttl, "after one request")
	assert.Equal(t, d.ResetAfter, tat.Sub(now), "ResetAfter is tat − now")

	for range 4 {
		take("k", p, now)
	}
	tat, pttl = stored("k")
	assert.Equal(t, now.Add(time.Minute), tat)
	ttlNear(time.Minute, pttl, "after the burst")

	// A refused request writes nothing.
	d = take("k", p, now.Add(time.Second))
	require.False(t, d.Allowed)
	tat2, _ := stored("k")
	assert.Equal(t, tat, tat2, "refused request changed the tat")

	// 30 s later: tat moves to now+72s, 42 s after the request.
	d = take("k", p, now.Add(30*time.Second))
	require.True(t, d.Allowed)
	tat, pttl = stored("k")
	assert.Equal(t, now.Add(72*time.Second), tat)
	ttlNear(42*time.Second, pttl, "after a request 30 s later")

	// Sub-millisecond times to live round up: 3/s stores now + 333,333,333 ns
	// and keeps it 334 ms.
	take("odd", policy(t, "3/s"), now)
	tat, pttl = stored("odd")
	assert.Equal(t, now.Add(333_333_333), tat)
	ttlNear(334*time.Millisecond, pttl, "3/s")

	// A key whose tat has passed is gone or in its initial state: a request
	// a whole burst after the last one is a first request again.
	d = take("k", p, now.Add(72*time.Second))
	assert.Equal(t, ratelimit.Decision{Allowed: true, Remaining: 4, ResetAfter: 12 * time.Second}, d)
}

// TestMalformed plants values the store did not write: Take reports an
// error instead of guessing, and leaves them alone.
func TestMalformed(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	p := policy(t, "5/m")
	now := time.Now()
	for i, v := range []string{"garbage", "", "123", "-1764770412123456789", "1764770412.123", "99999999999999999999", "9999999999999999999"} {
		key := fmt.Sprintf("bad:%d", i)
		require.NoError(t, client.Set(ctx, prefix+key, v, time.Hour).Err())
		_, err := s.Take(ctx, key, p, now)
		assert.ErrorIs(t, err, redisstore.ErrMalformed, "value %q", v)
		got, err := client.Get(ctx, prefix+key).Result()
		require.NoError(t, err)
		assert.Equal(t, v, got, "value overwritten")
	}
	require.NoError(t, client.RPush(ctx, prefix+"list", "x").Err())
	_, err := s.Take(ctx, "list", p, now)
	assert.Error(t, err, "a key of another type")
}

// TestBadInput checks that an invalid policy or a time before 1970 gives an
// error, not a panic or a decision.
func TestBadInput(t *testing.T) {
	client, prefix := testenv.Redis(t)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	for _, p := range []ratelimit.Policy{{}, {Limit: 1}, {Limit: -1, Period: time.Second}, {Limit: 1, Period: time.Second, Burst: -1}} {
		_, err := s.Take(ctx, "k", p, time.Now())
		assert.ErrorIs(t, err, ratelimit.ErrInvalidPolicy, "policy %+v", p)
	}
	_, err := s.Take(ctx, "k", policy(t, "5/m"), time.Unix(-1, 0))
	assert.ErrorIs(t, err, redisstore.ErrTimeRange)
	n, err := client.Exists(ctx, prefix+"k").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "a failed Take wrote the key")
}

// countingHook counts the commands a client sends.
type countingHook struct{ cmds atomic.Int32 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.cmds.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.cmds.Add(int32(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestOneRoundTrip checks that Take sends one command (EVALSHA) once the
// server has the script.
func TestOneRoundTrip(t *testing.T) {
	_, prefix := testenv.Redis(t)
	client := testenv.RedisClient(t)
	hook := &countingHook{}
	client.AddHook(hook)
	s := newStore(t, client, redisstore.Options{Prefix: prefix})
	p := policy(t, "5/m")
	now := time.Now()
	_, err := s.Take(t.Context(), "warm", p, now) // loads the script if needed
	require.NoError(t, err)
	for i := range 7 {
		hook.cmds.Store(0)
		_, err := s.Take(t.Context(), "k", p, now)
		require.NoError(t, err)
		assert.EqualValues(t, 1, hook.cmds.Load(), "request %d: commands sent", i)
	}
}

// TestRedisDown puts a Limiter on a store whose Redis is down (connection
// refused) or never answers: with FailOpen the request goes through, without
// it gets 503, and either way it returns, bounded by StoreTimeout, and the
// failure is reported to OnStoreError.
func TestRedisDown(t *testing.T) {
	refused := redis.NewClient(&redis.Options{
		Addr:          "127.0.0.1:1",
		DialTimeout:   50 * time.Millisecond,
		MaxRetries:    -1,
		DialerRetries: 1,
	})
	t.Cleanup(func() { refused.Close() })

	// A server that accepts connections and never answers: only the
	// context's deadline (StoreTimeout) ends the wait.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns sync.WaitGroup
	conns.Go(func() {
		var accepted []net.Conn
		defer func() {
			for _, c := range accepted {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted = append(accepted, c)
		}
	})
	t.Cleanup(func() {
		ln.Close()
		conns.Wait()
	})
	silent := redis.NewClient(&redis.Options{
		Addr:                  ln.Addr().String(),
		ContextTimeoutEnabled: true, // as the package documentation asks
		Protocol:              2,    // no HELLO handshake, so the dial itself succeeds
	})
	t.Cleanup(func() { silent.Close() })

	for name, client := range map[string]*redis.Client{"refused": refused, "silent": silent} {
		for _, failOpen := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/FailOpen=%v", name, failOpen), func(t *testing.T) {
				store := newStore(t, client, redisstore.Options{})
				var storeErrs atomic.Int32
				lim, err := ratelimit.New(ratelimit.Options{
					Name:         "login",
					Policy:       policy(t, "5/m"),
					Store:        store,
					StoreTimeout: 50 * time.Millisecond,
					FailOpen:     failOpen,
					OnStoreError: func(r *http.Request, err error) { storeErrs.Add(1) },
				})
				require.NoError(t, err)
				reached := false
				h := lim.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					reached = true
					w.WriteHeader(http.StatusNoContent)
				}))

				w := httptest.NewRecorder()
				returned := make(chan struct{})
				go func() {
					defer close(returned)
					h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/login", nil))
				}()
				guard := time.NewTimer(30 * time.Second) // only so that a hang fails clearly
				defer guard.Stop()
				select {
				case <-returned:
				case <-guard.C:
					t.Fatal("the request did not return")
				}

				assert.EqualValues(t, 1, storeErrs.Load(), "OnStoreError calls")
				if failOpen {
					assert.True(t, reached, "FailOpen: the handler must run")
					assert.Equal(t, http.StatusNoContent, w.Code)
				} else {
					assert.False(t, reached, "fail closed: the handler must not run")
					assert.Equal(t, http.StatusServiceUnavailable, w.Code)
				}
			})
		}
	}
}
