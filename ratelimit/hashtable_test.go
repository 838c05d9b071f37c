package ratelimit

import (
	"encoding/binary"
	"testing"
	"unsafe"
)

// checkTable verifies t against the model m: the same entries, the count,
// the load bound, and every key reachable from its home slot without
// crossing an empty one.
func checkTable(t *testing.T, tb *tatTable, m map[uint64]int64) {
	t.Helper()
	if tb.n != len(m) {
		t.Fatalf("n = %d, model has %d", tb.n, len(m))
	}
	if tb.n*4 > len(tb.slots)*3 {
		t.Fatalf("%d entries in %d slots: over 3/4 full", tb.n, len(tb.slots))
	}
	occupied := 0
	mask := len(tb.slots) - 1
	for i, s := range tb.slots {
		if s.k == 0 {
			continue
		}
		occupied++
		if v, ok := m[s.k]; !ok || v != s.v {
			t.Fatalf("slot %d holds %#x=%d, model %d (present %v)", i, s.k, s.v, v, ok)
		}
		for j := int(s.k>>tb.shift) & mask; j != i; j = (j + 1) & mask {
			if tb.slots[j].k == 0 {
				t.Fatalf("key %#x in slot %d is cut off from its home by empty slot %d", s.k, i, j)
			}
		}
	}
	if occupied != len(m) {
		t.Fatalf("%d occupied slots, model has %d", occupied, len(m))
	}
	for k, v := range m {
		if got, ok := tb.get(k); !ok || got != v {
			t.Fatalf("get(%#x) = %d, %v; want %d", k, got, ok, v)
		}
	}
}

func TestTATTable(t *testing.T) {
	type op struct {
		kind byte // 'p'ut, 'd'elete, 's'weep, 'e'vict
		k    uint64
		v    int64
	}
	// Keys whose top bits are equal share a home slot in any table size,
	// so runs wrap and collide.
	const hi = 0xF000_0000_0000_0000
	tests := []struct {
		name string
		ops  []op
	}{
		{"empty", nil},
		{"put and overwrite", []op{{'p', 5, 1}, {'p', 5, 2}, {'p', 6, 3}}},
		{"delete absent", []op{{'p', 5, 1}, {'d', 7, 0}}},
		{"delete head of run", []op{{'p', hi | 1, 1}, {'p', hi | 2, 2}, {'p', hi | 3, 3}, {'d', hi | 1, 0}}},
		{"delete middle of run", []op{{'p', hi | 1, 1}, {'p', hi | 2, 2}, {'p', hi | 3, 3}, {'d', hi | 2, 0}}},
		{"wrapping run", []op{{'p', hi | 1, 1}, {'p', hi | 2, 2}, {'p', hi | 3, 3}, {'p', 1, 4}, {'d', hi | 1, 0}, {'d', hi | 3, 0}}},
		{"grow", []op{{'p', 1, 1}, {'p', 2, 2}, {'p', 3, 3}, {'p', 4, 4}, {'p', 5, 5}, {'p', 6, 6}, {'p', 7, 7}, {'p', 8, 8}, {'p', 9, 9}}},
		{"sweep", []op{{'p', hi | 1, 1}, {'p', hi | 2, 9}, {'p', hi | 3, 2}, {'p', 4, 9}, {'s', 0, 5}}},
		{"sweep everything", []op{{'p', hi | 1, 1}, {'p', hi | 2, 1}, {'p', 1, 1}, {'s', 0, 5}}},
		{"evict", []op{{'p', 1, 3}, {'p', 2, 1}, {'p', 3, 2}, {'e', 0, 0}}},
		{"hash zero", []op{{'p', tatKey(0), 1}, {'p', tatKey(1), 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTATTable(minTableSlots)
			m := map[uint64]int64{}
			for _, o := range tt.ops {
				switch o.kind {
				case 'p':
					tb.put(o.k, o.v)
					m[o.k] = o.v
				case 'd':
					_, want := m[o.k]
					if got := tb.delete(o.k); got != want {
						t.Fatalf("delete(%#x) = %v, want %v", o.k, got, want)
					}
					delete(m, o.k)
				case 's':
					want := 0
					for k, v := range m {
						if v <= o.v {
							delete(m, k)
							want++
						}
					}
					if got := tb.sweep(o.v); got != want {
						t.Fatalf("sweep(%d) = %d, want %d", o.v, got, want)
					}
				case 'e':
					// Fewer than 16 entries: the sample sees them all, so
					// the smallest value goes.
					var victim uint64
					for k, v := range m {
						if victim == 0 || v < m[victim] {
							victim = k
						}
					}
					tb.evictSample(o.v)
					delete(m, victim)
				}
				checkTable(t, &tb, m)
			}
		})
	}
}

// FuzzTATTable runs a random sequence of operations on a table and on a
// map model and checks them against each other after every step. Keys are
// drawn from a small set with few distinct home slots so that runs are long
// and wrap.
func FuzzTATTable(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{0, 1, 0, 2, 0, 3, 1, 1, 2, 2, 3, 3, 0, 9, 0, 10})
	f.Fuzz(func(t *testing.T, data []byte) {
		tb := newTATTable(minTableSlots)
		m := map[uint64]int64{}
		for len(data) >= 2 {
			op, arg := data[0], data[1]
			data = data[2:]
			// Top 3 bits pick a home region, low bits tell keys apart.
			k := uint64(arg&7)<<61 | uint64(arg>>3) + 1
			switch op % 5 {
			case 0, 1:
				v := int64(op)
				tb.put(k, v)
				m[k] = v
			case 2:
				_, want := m[k]
				if tb.delete(k) != want {
					t.Fatalf("delete(%#x) disagrees with the model", k)
				}
				delete(m, k)
			case 3:
				now := int64(arg)
				want := 0
				for mk, v := range m {
					if v <= now {
						delete(m, mk)
						want++
					}
				}
				if got := tb.sweep(now); got != want {
					t.Fatalf("sweep(%d) = %d, want %d", now, got, want)
				}
			case 4:
				if tb.n == 0 {
					continue
				}
				before := map[uint64]int64{}
				tb.all(func(k uint64, v int64) { before[k] = v })
				tb.evictSample(int64(arg))
				removed := 0
				for bk := range before {
					if _, ok := tb.get(bk); !ok {
						removed++
						delete(m, bk)
					}
				}
				if removed != 1 {
					t.Fatalf("evictSample removed %d entries", removed)
				}
			}
			checkTable(t, &tb, m)
		}
	})
}

// TestTATTableRandom is FuzzTATTable over longer pseudo-random sequences,
// with tables growing to hundreds of slots.
func TestTATTableRandom(t *testing.T) {
	tb := newTATTable(minTableSlots)
	m := map[uint64]int64{}
	var x uint64 = 0x9e3779b97f4a7c15
	next := func() uint64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return x
	}
	var buf [8]byte
	for step := range 20000 {
		r := next()
		binary.LittleEndian.PutUint64(buf[:], r)
		k := (r>>8)&0xE000_0000_0000_0000 | uint64(buf[0]) | uint64(buf[1]&3)<<8
		k = tatKey(k)
		switch r % 7 {
		case 0, 1, 2, 3:
			tb.put(k, int64(step))
			m[k] = int64(step)
		case 4, 5:
			if _, want := m[k]; tb.delete(k) != want {
				t.Fatalf("step %d: delete(%#x) disagrees with the model", step, k)
			}
			delete(m, k)
		case 6:
			if step%50 == 0 {
				now := int64(step) - 300
				for mk, v := range m {
					if v <= now {
						delete(m, mk)
					}
				}
				tb.sweep(now)
			}
		}
		if step%97 == 0 {
			checkTable(t, &tb, m)
		}
	}
	checkTable(t, &tb, m)
}

func TestMemShardSize(t *testing.T) {
	if n := unsafe.Sizeof(memShard{}); n%64 != 0 {
		t.Errorf("memShard is %d bytes, not a multiple of a cache line", n)
	}
}
