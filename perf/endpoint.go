package perf

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Time is cut into slots: minutes for the last hour, hours for the last
// day. A window is made of the current, partly elapsed slot and the
// complete slots before it that started less than the window's length ago.
const (
	minuteSlots = 60
	hourSlots   = 24
	minuteNanos = int64(time.Minute)
)

// liveHist is the histogram of the current minute, which requests update
// concurrently with atomic operations.
type liveHist struct {
	classes [6]atomic.Uint64
	bytes   atomic.Uint64
	sum     atomic.Uint64
	slow    atomic.Uint64
	min     atomic.Int64
	max     atomic.Int64
	buckets [numBuckets]atomic.Uint64
}

func (l *liveHist) record(d time.Duration, class int, bytes int64, slow bool) {
	l.classes[class].Add(1)
	if bytes > 0 {
		l.bytes.Add(uint64(bytes))
	}
	if d < 0 {
		d = 0
	}
	l.sum.Add(uint64(d))
	if slow {
		l.slow.Add(1)
	}
	l.buckets[bucketOf(d)].Add(1)
	for v := int64(d); ; {
		cur := l.min.Load()
		if v >= cur || l.min.CompareAndSwap(cur, v) {
			break
		}
	}
	for v := int64(d); ; {
		cur := l.max.Load()
		if v <= cur || l.max.CompareAndSwap(cur, v) {
			break
		}
	}
}

// drain moves l's contents into h (which it adds to) and zeroes l. Each
// update a concurrent request makes is either moved now or left for the
// next drain: none is lost.
func (l *liveHist) drain(h *hist) {
	for i := range l.classes {
		h.classes[i] += l.classes[i].Swap(0)
	}
	h.bytes += l.bytes.Swap(0)
	h.sum += l.sum.Swap(0)
	h.slow += l.slow.Swap(0)
	h.min = min(h.min, l.min.Swap(math.MaxInt64))
	h.max = max(h.max, l.max.Swap(0))
	for i := range l.buckets {
		h.buckets[i] += l.buckets[i].Swap(0)
	}
}

// load adds l's contents into h without changing l.
func (l *liveHist) load(h *hist) {
	for i := range l.classes {
		h.classes[i] += l.classes[i].Load()
	}
	h.bytes += l.bytes.Load()
	h.sum += l.sum.Load()
	h.slow += l.slow.Load()
	h.min = min(h.min, l.min.Load())
	h.max = max(h.max, l.max.Load())
	for i := range l.buckets {
		h.buckets[i] += l.buckets[i].Load()
	}
}

// endpoint holds the statistics of one method and route.
//
// Requests update live, the current minute, without locks. The first
// request (or read) of a new minute rotates: under mu, live is drained into
// a sparse minute slot, which also goes into the open hour and the total.
// Slots are immutable once made.
type endpoint struct {
	method string // request method, or "" for the unmatched and overflow buckets
	route  string // route pattern without its method
	key    string // method + " " + route, the name clients use

	liveMinute atomic.Int64 // the minute live belongs to
	live       liveHist

	mu       sync.Mutex
	minutes  [minuteSlots]*slot // by minute % minuteSlots
	hours    [hourSlots]*slot   // by hour % hourSlots, complete hours
	openHour int64              // the hour open accumulates
	open     *hist              // the minutes of openHour drained so far
	total    *hist              // every drained minute
}

func newEndpoint(method, route, key string, nowNanos int64) *endpoint {
	e := &endpoint{method: method, route: route, key: key, open: newHist(), total: newHist()}
	m := floorDiv(nowNanos, minuteNanos)
	e.liveMinute.Store(m)
	e.openHour = floorDiv(m, 60)
	e.live.min.Store(math.MaxInt64)
	return e
}

// record adds one request that ended at nowNanos.
func (e *endpoint) record(nowNanos int64, d time.Duration, class int, bytes int64, slow bool) {
	if m := floorDiv(nowNanos, minuteNanos); m > e.liveMinute.Load() {
		e.mu.Lock()
		e.rotate(m)
		e.mu.Unlock()
	}
	e.live.record(d, class, bytes, slow)
}

// rotate makes minute m current, filing what live holds under the minute it
// belonged to. Callers hold mu.
func (e *endpoint) rotate(m int64) {
	old := e.liveMinute.Load()
	if m <= old {
		return
	}
	var drained hist // on the stack: rotation allocates only the sparse slot
	s := &drained
	s.reset()
	e.live.drain(s)
	if !s.empty() {
		e.minutes[mod(old, minuteSlots)] = s.compact(old)
		e.total.addHist(s)
		if h := floorDiv(old, 60); h != e.openHour {
			e.closeHour()
			e.openHour = h
		}
		e.open.addHist(s)
	}
	e.liveMinute.Store(m)
}

// closeHour files the open hour as a complete one. Callers hold mu.
func (e *endpoint) closeHour() {
	if !e.open.empty() {
		e.hours[mod(e.openHour, hourSlots)] = e.open.compact(e.openHour)
	}
	e.open.reset()
}

// hasData reports whether e ever recorded a request.
func (e *endpoint) hasData() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.total.empty() {
		return true
	}
	for i := range e.live.classes {
		if e.live.classes[i].Load() != 0 {
			return true
		}
	}
	return false
}

// addWindow adds e's requests of window w, as of minute now, into acc.
func (e *endpoint) addWindow(acc *hist, w Window, now int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rotate(now)
	e.live.load(acc)
	switch w {
	case SinceStart:
		acc.addHist(e.total)
	case LastDay:
		hour := floorDiv(now, 60)
		if e.openHour > hour-hourSlots {
			acc.addHist(e.open)
		}
		for _, s := range e.hours {
			if s != nil && s.epoch > hour-hourSlots && s.epoch != e.openHour {
				acc.addSlot(s)
			}
		}
	default:
		n := w.minutes()
		for _, s := range e.minutes {
			if s != nil && s.epoch > now-int64(n) && s.epoch < now {
				acc.addSlot(s)
			}
		}
	}
}

// addSeries adds e's requests slot by slot into acc, which covers the
// len(acc) slots ending with the current one: minutes, or hours if hourly.
func (e *endpoint) addSeries(acc []*hist, hourly bool, now int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rotate(now)
	last := len(acc) - 1
	if !hourly {
		e.live.load(acc[last])
		for _, s := range e.minutes {
			if s != nil {
				if i := int64(last) - (now - s.epoch); i >= 0 && i < int64(last) {
					acc[i].addSlot(s)
				}
			}
		}
		return
	}
	hour := floorDiv(now, 60)
	e.live.load(acc[last])
	if i := int64(last) - (hour - e.openHour); i >= 0 && i <= int64(last) {
		acc[i].addHist(e.open)
	}
	for _, s := range e.hours {
		if s != nil && s.epoch != e.openHour {
			if i := int64(last) - (hour - s.epoch); i >= 0 && i <= int64(last) {
				acc[i].addSlot(s)
			}
		}
	}
}

// floorDiv is a/b rounded towards minus infinity, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// mod is a mod b in [0, b), for b > 0.
func mod(a int64, b int) int {
	r := int(a % int64(b))
	if r < 0 {
		r += b
	}
	return r
}
