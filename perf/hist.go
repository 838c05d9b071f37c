package perf

import (
	"math"
	"math/bits"
	"time"
)

// Latency histograms are log-linear: durations are counted in whole
// microseconds; below 16 µs every microsecond has its own bucket, and from
// 16 µs up every power of two is split into 16 buckets of equal width. A
// bucket is therefore never wider than 1/16 of its lower bound, and a
// quantile reported as the middle of its bucket is within 1/32 (3.125 %)
// of the true value, or within 0.5 µs below 16 µs. Durations of 2^32 µs
// (about 71.6 minutes) and more share the last bucket; Max stays exact.
const (
	subBits       = 4
	subBuckets    = 1 << subBits // buckets per power of two
	maxExponent   = 32           // values of 2^maxExponent µs and more share the last bucket
	numBuckets    = subBuckets + (maxExponent-subBits)*subBuckets
	lastBucket    = numBuckets - 1
	bucketCountMx = 1<<48 - 1 // largest count a packed sparse entry holds
)

// RelativeError is the largest relative error of a reported quantile for
// durations of 16 µs and more: half the width of a bucket over its lower
// bound. Shorter durations are reported within 0.5 µs.
const RelativeError = 1.0 / (2 * subBuckets)

// bucketOf returns the bucket index of a duration.
func bucketOf(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	u := uint64(d) / 1000
	if u < subBuckets {
		return int(u)
	}
	e := bits.Len64(u) - 1 // u in [2^e, 2^(e+1))
	if e >= maxExponent {
		return lastBucket
	}
	m := int(u>>(e-subBits)) & (subBuckets - 1)
	return subBuckets + (e-subBits)*subBuckets + m
}

// bucketBounds returns the bucket's range [low, high) in microseconds.
func bucketBounds(i int) (low, high uint64) {
	if i < subBuckets {
		return uint64(i), uint64(i) + 1
	}
	e := (i-subBuckets)/subBuckets + subBits
	m := uint64((i - subBuckets) % subBuckets)
	width := uint64(1) << (e - subBits)
	low = (subBuckets + m) * width
	return low, low + width
}

// bucketMid returns the middle of a bucket as a duration.
func bucketMid(i int) time.Duration {
	low, high := bucketBounds(i)
	return time.Duration((low + high) * 500) // (low+high)/2 µs in ns
}

// counts are the figures kept beside the buckets of a histogram.
type counts struct {
	// classes counts responses by status class: index 1–5 for 1xx–5xx, 0
	// for any other status.
	classes [6]uint64
	bytes   uint64 // response body bytes
	sum     uint64 // nanoseconds
	slow    uint64
	min     int64 // nanoseconds; math.MaxInt64 when empty
	max     int64
}

func (c *counts) count() uint64 {
	var n uint64
	for _, v := range c.classes {
		n += v
	}
	return n
}

func (c *counts) add(o *counts) {
	for i, v := range o.classes {
		c.classes[i] += v
	}
	c.bytes += o.bytes
	c.sum += o.sum
	c.slow += o.slow
	if o.min < c.min {
		c.min = o.min
	}
	if o.max > c.max {
		c.max = o.max
	}
}

// hist is a dense histogram with its counts. It is not safe for concurrent
// use; liveHist is the concurrent version requests are recorded into.
type hist struct {
	counts
	buckets [numBuckets]uint64
}

func newHist() *hist {
	h := new(hist)
	h.min = math.MaxInt64
	return h
}

func (h *hist) reset() {
	*h = hist{}
	h.min = math.MaxInt64
}

func (h *hist) empty() bool { return h.count() == 0 }

func (h *hist) addHist(o *hist) {
	h.counts.add(&o.counts)
	for i, v := range o.buckets {
		h.buckets[i] += v
	}
}

func (h *hist) addSlot(s *slot) {
	if s == nil {
		return
	}
	h.counts.add(&s.counts)
	for _, p := range s.buckets {
		h.buckets[p>>48] += p & bucketCountMx
	}
}

// quantile returns the q-quantile (0 < q ≤ 1) by the nearest-rank
// definition: the middle of the bucket holding the ⌈q·n⌉-th smallest
// duration, clamped to [min, max]. It is 0 for an empty histogram.
func (h *hist) quantile(q float64) time.Duration {
	i, ok := rankBucket(h.buckets[:], q)
	if !ok {
		return 0
	}
	return min(max(bucketMid(i), time.Duration(h.min)), time.Duration(h.max))
}

// rankBucket returns the index of the bucket holding the ⌈q·n⌉-th
// smallest of the n values counted, and false when counts are all zero.
func rankBucket(counts []uint64, q float64) (int, bool) {
	var n uint64
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return 0, false
	}
	rank := min(max(uint64(math.Ceil(q*float64(n))), 1), n)
	var seen uint64
	for i, c := range counts {
		if seen += c; seen >= rank {
			return i, true
		}
	}
	return len(counts) - 1, true // not reached: seen ends at n ≥ rank
}

// compact returns h as an immutable sparse slot, or nil when h is empty.
func (h *hist) compact(epoch int64) *slot {
	if h.empty() {
		return nil
	}
	n := 0
	for _, v := range h.buckets {
		if v != 0 {
			n++
		}
	}
	s := &slot{epoch: epoch, counts: h.counts, buckets: make([]uint64, 0, n)}
	for i, v := range h.buckets {
		if v != 0 {
			s.buckets = append(s.buckets, uint64(i)<<48|min(v, bucketCountMx))
		}
	}
	return s
}

// slot is an immutable sparse histogram of one time interval: its epoch
// (the interval's index since the Unix epoch), its counts and its
// non-empty buckets, each packed as index<<48 | count.
type slot struct {
	epoch   int64
	counts  counts
	buckets []uint64
}

// below returns, for each of the ascending bounds, the number of durations
// in buckets that end at or before it. The last bucket, which holds every
// duration from 2^32 µs up, is below no bound.
func (h *hist) below(bounds []time.Duration) []uint64 {
	out := make([]uint64, len(bounds))
	var n uint64
	i := 0
	for j, b := range bounds {
		ub := uint64(max(b, 0)) / 1000
		for ; i < lastBucket; i++ {
			if _, high := bucketBounds(i); high > ub {
				break
			}
			n += h.buckets[i]
		}
		out[j] = n
	}
	return out
}
