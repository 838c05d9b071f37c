package ratelimit_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/ratelimit"
)

// memTake calls s.Take and fails the test on an error (MemoryStore never
// returns one).
func memTake(t testing.TB, s *ratelimit.MemoryStore, key string, p ratelimit.Policy, now time.Time) ratelimit.Decision {
	t.Helper()
	d, err := s.Take(context.Background(), key, p, now)
	require.NoError(t, err)
	return d
}

// TestMemoryStoreMaxKeys inserts many more distinct keys than MaxKeys, all
// still limited (a fixed clock) or some idle (a moving one), and checks the
// bound after every insert.
func TestMemoryStoreMaxKeys(t *testing.T) {
	p := ratelimit.Policy{Limit: 5, Period: time.Minute}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, maxKeys := range []int{1, 2, 8, 63, 64, 100, 999, 1000, 4097} {
		for _, step := range []time.Duration{0, time.Millisecond, time.Second} {
			t.Run(fmt.Sprintf("MaxKeys=%d/step=%v", maxKeys, step), func(t *testing.T) {
				s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{MaxKeys: maxKeys})
				now := start
				for i := range 10*maxKeys + 100 {
					require.True(t, memTake(t, s, "k"+strconv.Itoa(i), p, now).Allowed, "a new key has its full budget")
					if i%7 == 0 || i < 2*maxKeys {
						require.LessOrEqual(t, s.Len(), maxKeys, "after %d keys", i+1)
					}
					now = now.Add(step)
				}
				assert.LessOrEqual(t, s.Len(), maxKeys)
				if step == 0 {
					// Nothing is idle, so the store is full (to within
					// the rounding of MaxKeys over its shards).
					assert.GreaterOrEqual(t, s.Len(), maxKeys*3/4)
				}
			})
		}
	}
}

func TestMemoryStoreDefaultMaxKeys(t *testing.T) {
	s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
	assert.Zero(t, s.Len())
	p := ratelimit.Policy{Limit: 1, Period: time.Hour}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		memTake(t, s, strconv.Itoa(i), p, now)
	}
	assert.Equal(t, 10_000, s.Len(), "far below DefaultMaxKeys nothing is evicted")
}

// TestMemoryStoreEviction checks which key makes room in a full store. With
// MaxKeys of at most 16 the store has one shard and its eviction sample
// covers every key, so the choice is deterministic.
func TestMemoryStoreEviction(t *testing.T) {
	p := ratelimit.Policy{Limit: 3, Period: time.Minute} // one every 20 s
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const maxKeys = 8

	t.Run("idle keys are dropped first", func(t *testing.T) {
		s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{MaxKeys: maxKeys})
		// Four keys that will be busy (two of three requests spent, for a
		// minute), four that will be idle (one request, 20 s before now).
		for i := range 4 {
			memTake(t, s, "busy"+strconv.Itoa(i), p, t0)
			memTake(t, s, "busy"+strconv.Itoa(i), p, t0)
			memTake(t, s, "idle"+strconv.Itoa(i), p, t0)
		}
		require.Equal(t, maxKeys, s.Len())
		now := t0.Add(30 * time.Second)
		for i := range 4 {
			memTake(t, s, "new"+strconv.Itoa(i), p, now)
		}
		assert.Equal(t, maxKeys, s.Len())
		// Every busy key is remembered: it has earned back 1.5 of its two
		// spent requests, so one more leaves 1 (a forgotten key would have
		// 2 left).
		for i := range 4 {
			d := memTake(t, s, "busy"+strconv.Itoa(i), p, now)
			require.True(t, d.Allowed)
			assert.Equal(t, 1, d.Remaining, "busy%d was forgotten", i)
		}
	})

	t.Run("a limited key outlives a flood of new keys", func(t *testing.T) {
		s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{MaxKeys: maxKeys})
		for i := range 7 { // idle from t0 - 10 s on
			memTake(t, s, "idle"+strconv.Itoa(i), p, t0.Add(-30*time.Second))
		}
		for range 3 {
			require.True(t, memTake(t, s, "attacker", p, t0).Allowed)
		}
		require.False(t, memTake(t, s, "attacker", p, t0).Allowed)
		// 10 s later a thousand new keys arrive.
		now := t0.Add(10 * time.Second)
		for i := range 1000 {
			memTake(t, s, "flood"+strconv.Itoa(i), p, now)
			require.LessOrEqual(t, s.Len(), maxKeys)
		}
		d := memTake(t, s, "attacker", p, now)
		assert.False(t, d.Allowed, "the limited key was forgotten")
		assert.Equal(t, 10*time.Second, d.RetryAfter)
	})

	t.Run("when all keys are limited the one closest to full goes", func(t *testing.T) {
		s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{MaxKeys: maxKeys})
		// key i has spent 3 requests at t0 + i s: key 0 refills first.
		for i := range maxKeys {
			for range 3 {
				memTake(t, s, "k"+strconv.Itoa(i), p, t0.Add(time.Duration(i)*time.Second))
			}
		}
		now := t0.Add(maxKeys * time.Second)
		memTake(t, s, "new", p, now)
		assert.Equal(t, maxKeys, s.Len())
		d := memTake(t, s, "k0", p, now)
		assert.True(t, d.Allowed, "k0 was the one to go, and starts afresh")
		assert.Equal(t, 2, d.Remaining)
		for i := 2; i < maxKeys; i++ {
			assert.False(t, memTake(t, s, "k"+strconv.Itoa(i), p, now).Allowed, "k%d was forgotten", i)
		}
	})
}

// TestMemoryStoreConcurrent hammers one key from many goroutines at a fixed
// instant: exactly the burst is allowed.
func TestMemoryStoreConcurrent(t *testing.T) {
	p := ratelimit.Policy{Limit: 500, Period: time.Hour}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
	const goroutines, each = 64, 40
	var allowed, remainingZero atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				d, err := s.Take(context.Background(), "hot", p, now)
				if err != nil {
					panic(err)
				}
				if d.Allowed {
					allowed.Add(1)
					if d.Remaining == 0 {
						remainingZero.Add(1)
					}
				}
				// Other keys in the same store at the same time.
				_, _ = s.Take(context.Background(), "cold"+strconv.Itoa(int(allowed.Load())), p, now)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(p.Limit), allowed.Load())
	assert.Equal(t, int64(1), remainingZero.Load(), "exactly one request saw the last unit")
}

// TestMemoryStoreBytesPerKey tracks 1,000,000 distinct keys and reports the
// heap they cost (goal: at most 40 B per key); then it feeds 2,000,000 keys
// to a store bounded at 100,000 and checks that memory follows the bound,
// not the number of keys seen.
func TestMemoryStoreBytesPerKey(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocates tens of megabytes; skipped with -short and -race")
	}
	p := ratelimit.Policy{Limit: 5, Period: time.Minute}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	fill := func(maxKeys, keys int) (*ratelimit.MemoryStore, float64) {
		t.Helper()
		before := heapInUse()
		s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{MaxKeys: maxKeys})
		buf := make([]byte, 0, 32)
		for i := range keys {
			buf = strconv.AppendInt(append(buf[:0], "ip:198.18."...), int64(i), 10)
			// A 20-odd byte key: what KeyByIP makes of an IPv4 address.
			if _, err := s.Take(context.Background(), string(buf), p, now); err != nil {
				t.Fatal(err)
			}
		}
		after := heapInUse()
		runtime.KeepAlive(s)
		return s, float64(after-before) / float64(s.Len())
	}

	s, perKey := fill(ratelimit.DefaultMaxKeys, 1_000_000)
	require.Equal(t, 1_000_000, s.Len())
	t.Logf("MaxKeys=%d: %d keys tracked, %.1f B per key", ratelimit.DefaultMaxKeys, s.Len(), perKey)
	assert.LessOrEqual(t, perKey, 40.0, "bytes per tracked key")

	// Under churn (a key evicted for every key inserted) memory must stay
	// proportional to MaxKeys: the shard tables delete without tombstones,
	// so they neither grow nor fill with dead slots (a Go map in their
	// place reached 47 B per key after 1,000,000 keys, 96 after 64,000,000).
	const bound = 100_000
	s, perKey = fill(bound, 2_000_000)
	assert.LessOrEqual(t, s.Len(), bound)
	t.Logf("MaxKeys=%d: %d keys tracked after 2000000 distinct keys, %.1f B per key", bound, s.Len(), perKey)
	assert.LessOrEqual(t, perKey, 44.0, "bytes per tracked key")
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
