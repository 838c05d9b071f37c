package ratelimit

import "math/rand/v2"

// tatTable is an open-addressing hash table from a key hash to its TAT,
// used by each MemoryStore shard: linear probing over one flat slice of
// 16-byte slots, so a lookup and the update that follows it touch the same
// slot (one probe sequence, usually one cache line), and backward-shift
// deletion, which leaves no tombstones, so a table under churn never grows
// past what its live keys need. Its memory is at most 16 B × 2 × the most
// keys it ever held (load factor between 3/8 and 3/4 after growth).
//
// Key 0 marks an empty slot: callers remap the hash 0 (see tatKey). It is
// not safe for concurrent use; the shard's mutex guards it.
type tatTable struct {
	slots []tatSlot
	n     int   // occupied slots
	shift uint8 // 64 - log2(len(slots)): a key's home slot is k >> shift
}

type tatSlot struct {
	k uint64 // key hash, 0 when the slot is empty
	v int64  // TAT (Unix ns)
}

// minTableSlots is the size of a new table.
const minTableSlots = 8

// tatKey maps a key hash to a table key: 0 marks an empty slot, so the
// hash 0 shares the key 1 (one more colliding pair in 2^64).
func tatKey(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

func newTATTable(size int) tatTable {
	n := minTableSlots
	for n < size {
		n *= 2
	}
	shift := uint8(64)
	for s := n; s > 1; s >>= 1 {
		shift--
	}
	return tatTable{slots: make([]tatSlot, n), shift: shift}
}

// find returns the slot of k and true, or the empty slot where k would go
// and false. k must not be 0. The table always has an empty slot.
func (t *tatTable) find(k uint64) (int, bool) {
	mask := len(t.slots) - 1
	i := int(k>>t.shift) & mask
	for {
		s := &t.slots[i]
		if s.k == k {
			return i, true
		}
		if s.k == 0 {
			return i, false
		}
		i = (i + 1) & mask
	}
}

// insertAt stores (k, v) in the empty slot i that find returned for k, and
// reports whether it did; it does not when the table is too full, and the
// caller must then grow it and find the slot again.
func (t *tatTable) insertAt(i int, k uint64, v int64) bool {
	if (t.n+1)*4 > len(t.slots)*3 {
		return false
	}
	t.slots[i&(len(t.slots)-1)] = tatSlot{k, v}
	t.n++
	return true
}

// insert stores (k, v) in the empty slot i that find returned for k,
// growing the table first when it is too full.
func (t *tatTable) insert(i int, k uint64, v int64) {
	if !t.insertAt(i, k, v) {
		t.grow()
		i, _ = t.find(k)
		t.insertAt(i, k, v)
	}
}

// grow doubles the table.
func (t *tatTable) grow() {
	old := t.slots
	*t = newTATTable(2 * len(old))
	mask := len(t.slots) - 1
	for _, s := range old {
		if s.k == 0 {
			continue
		}
		i := int(s.k>>t.shift) & mask
		for t.slots[i].k != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
		t.n++
	}
}

// deleteAt empties slot i, which must be occupied, moving later entries of
// its probe run back so that every key stays reachable from its home slot.
// Only entries after i in the run move, each to an earlier slot of it.
func (t *tatTable) deleteAt(i int) {
	mask := len(t.slots) - 1
	i &= mask
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		k := t.slots[j].k
		if k == 0 {
			break
		}
		home := int(k>>t.shift) & mask
		// The entry at j may fill the hole at i when i lies on its probe
		// path, that is cyclically in [home, j).
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = tatSlot{}
	t.n--
}

// sweep deletes every entry whose value is at most now and returns how
// many it deleted.
func (t *tatTable) sweep(now int64) int {
	deleted := 0
	for i := 0; i < len(t.slots); {
		if s := t.slots[i]; s.k != 0 && s.v <= now {
			// deleteAt may move an entry not yet visited into slot i
			// (never one before it), so slot i is examined again.
			t.deleteAt(i)
			deleted++
			continue
		}
		i++
	}
	return deleted
}

// evictSample deletes one entry: starting at a random slot, it looks at up
// to 16 entries and deletes the first whose value is at most now, or else
// the one with the smallest value. The table must not be empty.
func (t *tatTable) evictSample(now int64) {
	mask := len(t.slots) - 1
	start := int(rand.Uint64()) & mask
	victim, best, seen := -1, int64(0), 0
	for off := 0; off <= mask; off++ {
		i := (start + off) & mask
		s := t.slots[i]
		if s.k == 0 {
			continue
		}
		if victim < 0 || s.v < best {
			victim, best = i, s.v
		}
		if seen++; seen == 16 || best <= now {
			break
		}
	}
	if victim >= 0 {
		t.deleteAt(victim)
	}
}
