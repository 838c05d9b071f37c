package perf

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBucketsCoverEveryDuration(t *testing.T) {
	// Every bucket starts where the previous one ended, from 0 µs to the
	// clamp, and is at most 1/16 of its lower bound wide above 16 µs.
	var prevHigh uint64
	for i := range numBuckets {
		low, high := bucketBounds(i)
		require.Equal(t, prevHigh, low, "bucket %d", i)
		require.Greater(t, high, low)
		if i >= subBuckets {
			require.LessOrEqual(t, float64(high-low)/float64(low), 2*RelativeError, "bucket %d", i)
		}
		prevHigh = high
	}
	require.Equal(t, uint64(1)<<maxExponent, prevHigh)

	rng := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		d := time.Duration(rng.Int64N(int64(2 * time.Hour)))
		i := bucketOf(d)
		low, high := bucketBounds(i)
		u := uint64(d) / 1000
		if i == lastBucket && u >= high {
			continue // clamped
		}
		require.True(t, low <= u && u < high, "%v in bucket %d [%d, %d) µs", d, i, low, high)
	}
	for _, d := range []time.Duration{-1, 0, 999, time.Microsecond, 16 * time.Microsecond, time.Duration(math.MaxInt64)} {
		i := bucketOf(d)
		require.True(t, i >= 0 && i < numBuckets, "%v: bucket %d", d, i)
	}
}

// exactQuantile is the nearest-rank quantile of sorted.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func TestQuantilesWithinDocumentedError(t *testing.T) {
	const n = 100_000
	rng := rand.New(rand.NewPCG(3, 4))
	dists := []struct {
		name string
		gen  func() time.Duration
	}{
		{"uniform 0–2s", func() time.Duration { return time.Duration(rng.Int64N(int64(2 * time.Second))) }},
		{"exponential mean 20ms", func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond)) }},
		{"lognormal median 5ms", func() time.Duration {
			return time.Duration(math.Exp(rng.NormFloat64()*1.2) * float64(5*time.Millisecond))
		}},
		{"bimodal cache hit/miss", func() time.Duration {
			if rng.IntN(10) < 9 {
				return time.Duration(200+rng.IntN(100)) * time.Microsecond
			}
			return time.Duration(80+rng.IntN(40)) * time.Millisecond
		}},
		{"sub-16µs", func() time.Duration { return time.Duration(rng.Int64N(int64(16 * time.Microsecond))) }},
		{"constant 1.5s", func() time.Duration { return 1500 * time.Millisecond }},
	}
	for _, dist := range dists {
		t.Run(dist.name, func(t *testing.T) {
			h := newHist()
			var l liveHist
			l.min.Store(math.MaxInt64)
			values := make([]time.Duration, n)
			for i := range values {
				values[i] = dist.gen()
				l.record(values[i], 2, 0, false)
			}
			l.drain(h)
			slices.Sort(values)
			for _, q := range []float64{0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
				want := exactQuantile(values, q)
				got := h.quantile(q)
				tolerance := max(RelativeError*float64(want), 500) // 0.5 µs below 16 µs
				assert.InDelta(t, float64(want), float64(got), tolerance, "q%v: got %v, want %v", q, got, want)
			}
			s := statsOf(h, time.Minute)
			assert.Equal(t, uint64(n), s.Count)
			assert.Equal(t, values[0], s.Min)
			assert.Equal(t, values[n-1], s.Max)
			var sum time.Duration
			for _, v := range values {
				sum += v
			}
			assert.Equal(t, sum, s.Total)
			assert.Equal(t, sum/n, s.Mean)
		})
	}
}

func TestCompactRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	h := newHist()
	var l liveHist
	l.min.Store(math.MaxInt64)
	for range 10_000 {
		l.record(time.Duration(rng.Int64N(int64(time.Second))), 1+rng.IntN(5), rng.Int64N(1000), rng.IntN(2) == 0)
	}
	l.drain(h)
	s := h.compact(42)
	require.NotNil(t, s)
	assert.Equal(t, int64(42), s.epoch)
	back := newHist()
	back.addSlot(s)
	assert.Equal(t, h, back)
	assert.Nil(t, newHist().compact(1), "an empty histogram compacts to nothing")
	assert.True(t, newHist().empty())
	assert.Zero(t, newHist().quantile(0.5))
}

func TestFloorDivAndMod(t *testing.T) {
	for _, tt := range []struct{ a, b, q int64 }{{7, 2, 3}, {-7, 2, -4}, {-8, 2, -4}, {0, 5, 0}, {-1, 60, -1}} {
		assert.Equal(t, tt.q, floorDiv(tt.a, tt.b), "%d/%d", tt.a, tt.b)
	}
	assert.Equal(t, 59, mod(-1, 60))
	assert.Equal(t, 0, mod(120, 60))
}

func TestBelow(t *testing.T) {
	h := newHist()
	var l liveHist
	l.min.Store(math.MaxInt64)
	us := time.Microsecond
	for _, d := range []time.Duration{100 * us, 200 * us, 300 * us, 999 * us, 5 * time.Second, 2 * time.Hour} {
		l.record(d, 2, 0, false)
	}
	l.drain(h)
	bounds := []time.Duration{128 * us, 256 * us, 512 * us, 1000 * us, 1024 * us, (1 << 23) * us, 3 * time.Hour}
	assert.Equal(t, []uint64{1, 2, 3, 3, 4, 5, 5}, h.below(bounds),
		"exact at powers of two; 1000 µs is inside the bucket [992, 1024) µs, whose requests it leaves out; 2 h is clamped")
	assert.Equal(t, []uint64{0}, h.below([]time.Duration{-time.Second}))
}
