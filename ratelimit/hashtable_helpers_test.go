package ratelimit

// Map-like operations on tatTable that only the model tests use; the store
// runs find, insert and deleteAt directly.

// get returns the value of k.
func (t *tatTable) get(k uint64) (int64, bool) {
	i, ok := t.find(k)
	if !ok {
		return 0, false
	}
	return t.slots[i].v, true
}

// put sets the value of k, growing the table when needed.
func (t *tatTable) put(k uint64, v int64) {
	i, ok := t.find(k)
	if ok {
		t.slots[i].v = v
		return
	}
	t.insert(i, k, v)
}

// delete removes k, reporting whether it was present.
func (t *tatTable) delete(k uint64) bool {
	i, ok := t.find(k)
	if ok {
		t.deleteAt(i)
	}
	return ok
}

// all calls f for every entry, in slot order.
func (t *tatTable) all(f func(k uint64, v int64)) {
	for _, s := range t.slots {
		if s.k != 0 {
			f(s.k, s.v)
		}
	}
}
