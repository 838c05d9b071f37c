package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/ratelimit"
)

func TestGCRA(t *testing.T) {
	perMinute := ratelimit.Policy{Limit: 5, Period: time.Minute} // one every 12 s, burst 5
	noBurst := ratelimit.Policy{Limit: 10, Period: time.Second, Burst: 1}
	bigBurst := ratelimit.Policy{Limit: 10, Period: time.Second, Burst: 20}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	at := func(d time.Duration) int64 { return now + int64(d) }

	tests := []struct {
		name    string
		tat     int64
		now     int64
		p       ratelimit.Policy
		wantTAT int64
		want    ratelimit.Decision
	}{
		{
			name: "unknown key", tat: 0, now: now, p: perMinute, wantTAT: at(12 * time.Second),
			want: ratelimit.Decision{Allowed: true, Remaining: 4, ResetAfter: 12 * time.Second},
		},
		{
			name: "idle key", tat: at(-time.Hour), now: now, p: perMinute, wantTAT: at(12 * time.Second),
			want: ratelimit.Decision{Allowed: true, Remaining: 4, ResetAfter: 12 * time.Second},
		},
		{
			name: "full again exactly now", tat: now, now: now, p: perMinute, wantTAT: at(12 * time.Second),
			want: ratelimit.Decision{Allowed: true, Remaining: 4, ResetAfter: 12 * time.Second},
		},
		{
			name: "second request", tat: at(12 * time.Second), now: now, p: perMinute, wantTAT: at(24 * time.Second),
			want: ratelimit.Decision{Allowed: true, Remaining: 3, ResetAfter: 24 * time.Second},
		},
		{
			name: "last of the burst", tat: at(48 * time.Second), now: now, p: perMinute, wantTAT: at(60 * time.Second),
			want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: time.Minute},
		},
		{
			name: "burst spent", tat: at(60 * time.Second), now: now, p: perMinute, wantTAT: at(60 * time.Second),
			want: ratelimit.Decision{RetryAfter: 12 * time.Second, ResetAfter: time.Minute},
		},
		{
			name: "one nanosecond short", tat: at(48*time.Second + 1), now: now, p: perMinute, wantTAT: at(48*time.Second + 1),
			want: ratelimit.Decision{RetryAfter: 1, ResetAfter: 48*time.Second + 1},
		},
		{
			name: "one request earned back", tat: at(48 * time.Second), now: now, p: perMinute, wantTAT: at(60 * time.Second),
			want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: time.Minute},
		},
		{
			name: "partly earned back", tat: at(30 * time.Second), now: now, p: perMinute, wantTAT: at(42 * time.Second),
			want: ratelimit.Decision{Allowed: true, Remaining: 1, ResetAfter: 42 * time.Second},
		},
		{
			name: "no burst, first", tat: 0, now: now, p: noBurst, wantTAT: at(100 * time.Millisecond),
			want: ratelimit.Decision{Allowed: true, Remaining: 0, ResetAfter: 100 * time.Millisecond},
		},
		{
			name: "no burst, too soon", tat: at(100 * time.Millisecond), now: now, p: noBurst, wantTAT: at(100 * time.Millisecond),
			want: ratelimit.Decision{RetryAfter: 100 * time.Millisecond, ResetAfter: 100 * time.Millisecond},
		},
		{
			name: "burst above limit, first", tat: 0, now: now, p: bigBurst, wantTAT: at(100 * time.Millisecond),
			want: ratelimit.Decision{Allowed: true, Remaining: 19, ResetAfter: 100 * time.Millisecond},
		},
		{
			name: "burst above limit, spent", tat: at(2 * time.Second), now: now, p: bigBurst, wantTAT: at(2 * time.Second),
			want: ratelimit.Decision{RetryAfter: 100 * time.Millisecond, ResetAfter: 2 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotTAT, got := ratelimit.GCRA(tt.tat, tt.now, tt.p)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantTAT, gotTAT, "new TAT off by %v", time.Duration(gotTAT-tt.wantTAT))
		})
	}
}

// TestGCRAExtremePolicies checks that the largest policies Validate accepts
// neither overflow nor refuse a fresh key.
func TestGCRAExtremePolicies(t *testing.T) {
	now := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	tests := []struct {
		name string
		p    ratelimit.Policy
	}{
		{"MaxLimit per day", ratelimit.Policy{Limit: ratelimit.MaxLimit, Period: 24 * time.Hour}},
		{"1/1000d", ratelimit.Policy{Limit: 1, Period: 1000 * 24 * time.Hour}},
		{"1/d burst 36000", ratelimit.Policy{Limit: 1, Period: 24 * time.Hour, Burst: 36000}},
		{"one per microsecond, burst MaxLimit", ratelimit.Policy{Limit: 1000, Period: time.Millisecond, Burst: ratelimit.MaxLimit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.p.Validate())
			tat, d := ratelimit.GCRA(0, now, tt.p)
			require.True(t, d.Allowed)
			assert.Equal(t, effectiveBurst(tt.p)-1, d.Remaining)
			assert.Greater(t, tat, now)
			assert.Positive(t, d.ResetAfter)
		})
	}
}

// TestMemoryStoreBoundary spends a budget through the Store interface: N
// allowed at once, N+1 refused, one more after Period/Limit, all of them
// after Period.
func TestMemoryStoreBoundary(t *testing.T) {
	tests := []struct {
		name string
		p    ratelimit.Policy
	}{
		{"5/m", ratelimit.Policy{Limit: 5, Period: time.Minute}},
		{"100/h", ratelimit.Policy{Limit: 100, Period: time.Hour}},
		{"10/s", ratelimit.Policy{Limit: 10, Period: time.Second}},
		{"1000/d", ratelimit.Policy{Limit: 1000, Period: 24 * time.Hour}},
		{"3/10m burst 1", ratelimit.Policy{Limit: 3, Period: 10 * time.Minute, Burst: 1}},
		{"10/s burst 20", ratelimit.Policy{Limit: 10, Period: time.Second, Burst: 20}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
			start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			burst := effectiveBurst(tt.p)
			interval := tt.p.Period / time.Duration(tt.p.Limit)
			take := func(now time.Time) ratelimit.Decision {
				t.Helper()
				d, err := s.Take(ctx, "k", tt.p, now)
				require.NoError(t, err)
				return d
			}

			for i := range burst {
				d := take(start)
				require.True(t, d.Allowed, "request %d of %d", i+1, burst)
				assert.Equal(t, burst-1-i, d.Remaining)
			}
			d := take(start)
			require.False(t, d.Allowed, "request %d", burst+1)
			assert.Equal(t, interval, d.RetryAfter)
			assert.Equal(t, time.Duration(burst)*interval, d.ResetAfter)

			assert.False(t, take(start.Add(interval-1)).Allowed, "a nanosecond before Period/Limit")
			d = take(start.Add(interval))
			assert.True(t, d.Allowed, "after Period/Limit")
			assert.Zero(t, d.Remaining)
			assert.False(t, take(start.Add(interval)).Allowed, "only one request earned back")

			full := start.Add(interval + time.Duration(burst)*interval)
			for i := range burst {
				require.True(t, take(full).Allowed, "request %d after a full refill", i+1)
			}
			assert.False(t, take(full).Allowed)
		})
	}
}

func TestMemoryStoreKeysAndPoliciesAreSeparate(t *testing.T) {
	s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := ratelimit.Policy{Limit: 1, Period: time.Minute}

	d, err := s.Take(ctx, "a", p, now)
	require.NoError(t, err)
	require.True(t, d.Allowed)
	d, _ = s.Take(ctx, "a", p, now)
	assert.False(t, d.Allowed, "a is spent")
	d, _ = s.Take(ctx, "b", p, now)
	assert.True(t, d.Allowed, "b has its own budget")
	d, _ = s.Take(ctx, "a\x00", p, now)
	assert.True(t, d.Allowed, "keys differing in one byte are distinct")
	assert.Equal(t, 3, s.Len())

	// A refused request is not stored: it neither creates a key nor
	// pushes the spent one further back.
	for range 10 {
		d, _ = s.Take(ctx, "a", p, now)
	}
	assert.Equal(t, time.Minute, d.RetryAfter)
	assert.Equal(t, 3, s.Len())
}

func TestStoreFunc(t *testing.T) {
	boom := errors.New("boom")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := ratelimit.Policy{Limit: 1, Period: time.Second}
	var got struct {
		key string
		p   ratelimit.Policy
		now time.Time
	}
	f := ratelimit.StoreFunc(func(_ context.Context, key string, p ratelimit.Policy, now time.Time) (ratelimit.Decision, error) {
		got.key, got.p, got.now = key, p, now
		return ratelimit.Decision{Remaining: 7}, boom
	})
	var s ratelimit.Store = f
	d, err := s.Take(context.Background(), "k", p, now)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 7, d.Remaining)
	assert.Equal(t, "k", got.key)
	assert.Equal(t, p, got.p)
	assert.Equal(t, now, got.now)
}
