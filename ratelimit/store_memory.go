package ratelimit

import (
	"context"
	"hash/maphash"
	"runtime"
	"sync"
	"time"
)

// DefaultMaxKeys is the MemoryStore capacity when MaxKeys is zero.
const DefaultMaxKeys = 1 << 20

// MemoryStore is an in-process [Store] and [LockoutStore]: fast,
// allocation-free, and private to one process (use ratelimit/redisstore for
// replicas). Lockout entries are bounded separately, by the same MaxKeys.
//
// Memory is bounded. A key is kept as a 64-bit seeded hash of its text next
// to one 64-bit timestamp, in an open-addressing table of 16-byte slots that
// is at most three quarters full, so a tracked key costs 16 bytes of
// payload, about 21 to 43 bytes with the table's free slots whatever the
// key's length. At most MaxKeys keys are tracked: a key whose budget is
// full again carries no information and is dropped first; only when every
// tracked key is still limited is the one closest to its full budget
// forgotten (it then starts again with a full budget). Deleting a key
// leaves no tombstone, so churn (a key evicted for every key inserted)
// neither grows the table nor allocates. The hash is seeded per store, so a
// client cannot choose a key that collides with another's; an accidental
// collision (about one in 10^19 per pair) would make two keys share one
// budget.
//
// The store is sharded for concurrency and starts no goroutine. It is safe
// for concurrent use; use [NewMemoryStore].
type MemoryStore struct {
	seed     maphash.Seed
	shards   []memShard
	mask     uint64
	perShard int
}

type memShard struct {
	mu         sync.Mutex
	t          tatTable             // key hash -> TAT (Unix ns)
	sinceSweep int                  // evictions since the last full sweep
	locks      map[uint64]lockEntry // lockout state (LockoutStore)
	lockDels   int                  // entries deleted from locks since it was made
	_          [56]byte             // keep shards on separate cache lines
}

// MemoryStoreOptions configures a MemoryStore.
type MemoryStoreOptions struct {
	// MaxKeys bounds the number of tracked keys. Zero value: DefaultMaxKeys
	// (about 20–40 MiB when full).
	MaxKeys int
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	max := opts.MaxKeys
	if max <= 0 {
		max = DefaultMaxKeys
	}
	n := 1
	for n < 4*runtime.GOMAXPROCS(0) && n < 256 && n*64 < max {
		n *= 2
	}
	s := &MemoryStore{seed: maphash.MakeSeed(), shards: make([]memShard, n), mask: uint64(n - 1), perShard: max / n}
	for i := range s.shards {
		s.shards[i].t = newTATTable(minTableSlots)
		s.shards[i].locks = make(map[uint64]lockEntry)
	}
	return s
}

var _ Store = (*MemoryStore)(nil)

// Take implements [Store]. It fails only for an invalid policy.
func (s *MemoryStore) Take(_ context.Context, key string, p Policy, now time.Time) (Decision, error) {
	if err := p.Validate(); err != nil {
		return Decision{}, err
	}
	return s.take(maphash.String(s.seed, key), gcraOf(p), now.UnixNano()), nil
}

// takeBytes is Take for a key held in a byte slice, without allocating.
func (s *MemoryStore) takeBytes(key []byte, g gcra, now int64) Decision {
	return s.take(maphash.Bytes(s.seed, key), g, now)
}

func (s *MemoryStore) take(h uint64, g gcra, now int64) Decision {
	k := tatKey(h)
	sh := &s.shards[k&s.mask]
	sh.mu.Lock()
	t := &sh.t
	i, ok := t.find(k) // one probe sequence for the read and the write
	var tat int64
	if ok {
		tat = t.slots[i].v
	}
	newTAT, d := g.decide(tat, now)
	if d.Allowed {
		switch {
		case ok:
			t.slots[i].v = newTAT
		default:
			if t.n >= s.perShard {
				sh.makeRoomLocked(now, s.perShard)
				i, _ = t.find(k)
			}
			t.insert(i, k, newTAT)
		}
	}
	sh.mu.Unlock()
	return d
}

// makeRoomLocked frees one slot in a full shard. Every perShard/4
// evictions it sweeps the whole shard, dropping every key whose budget is
// full again (amortized O(1) per insert, even when an attacker keeps the
// store full of limited keys); otherwise it samples 16 keys from a random
// slot on and drops an idle one, or else the one closest to its full
// budget. sh.mu must be held.
func (sh *memShard) makeRoomLocked(now int64, perShard int) {
	if sh.sinceSweep >= perShard/4 {
		sh.sinceSweep = 0
		if sh.t.sweep(now) > 0 {
			return
		}
	}
	sh.sinceSweep++
	sh.t.evictSample(now)
}

// Len returns the number of tracked keys.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		s.shards[i].mu.Lock()
		n += s.shards[i].t.n
		s.shards[i].mu.Unlock()
	}
	return n
}
