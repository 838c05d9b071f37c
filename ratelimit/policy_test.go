package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/ratelimit"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ratelimit.Policy
	}{
		{"per minute", "5/m", ratelimit.Policy{Limit: 5, Period: time.Minute}},
		{"per hour", "100/h", ratelimit.Policy{Limit: 100, Period: time.Hour}},
		{"per second", "10/s", ratelimit.Policy{Limit: 10, Period: time.Second}},
		{"per day", "1000/d", ratelimit.Policy{Limit: 1000, Period: 24 * time.Hour}},
		{"multiplier", "3/10m", ratelimit.Policy{Limit: 3, Period: 10 * time.Minute}},
		{"largest multiplier", "1/1000d", ratelimit.Policy{Limit: 1, Period: 1000 * 24 * time.Hour}},
		{"burst", "10/s burst 20", ratelimit.Policy{Limit: 10, Period: time.Second, Burst: 20}},
		{"burst below limit", "10/s burst 1", ratelimit.Policy{Limit: 10, Period: time.Second, Burst: 1}},
		{"spaces", "  5 / m  ", ratelimit.Policy{Limit: 5, Period: time.Minute}},
		{"spaces around burst", " 5/m burst  7 ", ratelimit.Policy{Limit: 5, Period: time.Minute, Burst: 7}},
		{"one per microsecond", "1000000/s", ratelimit.Policy{Limit: 1000000, Period: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ratelimit.ParsePolicy(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.NoError(t, got.Validate())
		})
	}
}

func TestParsePolicyInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"blank", "   "},
		{"no slash", "5m"},
		{"zero", "0/m"},
		{"negative", "-1/m"},
		{"no count", "/m"},
		{"count not a number", "five/m"},
		{"fractional count", "1.5/m"},
		{"no unit", "5/"},
		{"unknown unit", "5/w"},
		{"unit word", "5/minute"},
		{"upper-case unit", "5/M"},
		{"zero multiplier", "5/0m"},
		{"negative multiplier", "5/-1m"},
		{"multiplier too large", "5/1001m"},
		{"two slashes", "5/m/s"},
		{"zero burst", "5/m burst 0"},
		{"negative burst", "5/m burst -1"},
		{"burst not a number", "5/m burst many"},
		{"empty burst", "5/m burst "},
		{"burst twice", "5/m burst 3 burst 4"},
		{"trailing text", "5/m please"},
		{"more than one per microsecond", "1000001/s"},
		{"limit above MaxLimit", "1073741825/d"},
		{"burst above MaxLimit", "5/m burst 1073741825"},
		{"overflowing count", "99999999999999999999/s"},
		// A burst that takes centuries to earn back would overflow the
		// nanosecond arithmetic of GCRA.
		{"burst window of millennia", "1/1000d burst 1000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ratelimit.ParsePolicy(tt.in)
			require.ErrorIs(t, err, ratelimit.ErrInvalidPolicy)
			assert.Zero(t, p)
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    ratelimit.Policy
		ok   bool
	}{
		{"zero value", ratelimit.Policy{}, false},
		{"zero limit", ratelimit.Policy{Period: time.Minute}, false},
		{"negative limit", ratelimit.Policy{Limit: -1, Period: time.Minute}, false},
		{"zero period", ratelimit.Policy{Limit: 5}, false},
		{"period below 1ms", ratelimit.Policy{Limit: 1, Period: time.Millisecond - 1}, false},
		{"period of 1ms", ratelimit.Policy{Limit: 1, Period: time.Millisecond}, true},
		{"negative burst", ratelimit.Policy{Limit: 5, Period: time.Minute, Burst: -1}, false},
		{"interval below 1µs", ratelimit.Policy{Limit: 1001, Period: time.Millisecond}, false},
		{"limit above MaxLimit", ratelimit.Policy{Limit: ratelimit.MaxLimit + 1, Period: 1000 * time.Hour}, false},
		{"burst above MaxLimit", ratelimit.Policy{Limit: 1, Period: time.Second, Burst: ratelimit.MaxLimit + 1}, false},
		{"MaxLimit per day", ratelimit.Policy{Limit: ratelimit.MaxLimit, Period: 24 * time.Hour, Burst: ratelimit.MaxLimit}, true},
		{"sub-second period", ratelimit.Policy{Limit: 3, Period: 1500 * time.Millisecond}, true},
		{"burst window of 100 years", ratelimit.Policy{Limit: 1, Period: 24 * time.Hour, Burst: 36000}, true},
		{"burst window of millennia", ratelimit.Policy{Limit: 1, Period: 24 * time.Hour, Burst: 1000000}, false},
		{"period of 250 years", ratelimit.Policy{Limit: 1, Period: 250 * 365 * 24 * time.Hour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ratelimit.ErrInvalidPolicy)
		})
	}
}

func TestPolicyString(t *testing.T) {
	tests := []struct {
		name string
		p    ratelimit.Policy
		want string
	}{
		{"per second", ratelimit.Policy{Limit: 10, Period: time.Second}, "10/s"},
		{"per minute", ratelimit.Policy{Limit: 5, Period: time.Minute}, "5/m"},
		{"per hour", ratelimit.Policy{Limit: 100, Period: time.Hour}, "100/h"},
		{"per day", ratelimit.Policy{Limit: 1000, Period: 24 * time.Hour}, "1000/d"},
		{"multiplier", ratelimit.Policy{Limit: 3, Period: 10 * time.Minute}, "3/10m"},
		{"largest unit that divides", ratelimit.Policy{Limit: 3, Period: 90 * time.Second}, "3/90s"},
		{"minutes as hours", ratelimit.Policy{Limit: 3, Period: 120 * time.Minute}, "3/2h"},
		{"burst", ratelimit.Policy{Limit: 10, Period: time.Second, Burst: 20}, "10/s burst 20"},
		{"burst equal to limit", ratelimit.Policy{Limit: 10, Period: time.Second, Burst: 10}, "10/s"},
		{"sub-second period", ratelimit.Policy{Limit: 3, Period: 1500 * time.Millisecond}, "3 per 1.5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.p.String())
		})
	}
}

// TestPolicyStringRoundTrip checks that String writes what ParsePolicy
// reads: parsing, formatting and parsing again gives the same policy.
func TestPolicyStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"5/m", "100/h", "10/s", "1000/d", "3/10m", "7/60s", "7/120m", "1/1000d", "1/1000h", "1/1000s",
		"10/s burst 20", "10/s burst 10", "10/s burst 1", "1000000/s", "1073741824/d",
	} {
		t.Run(in, func(t *testing.T) {
			p, err := ratelimit.ParsePolicy(in)
			require.NoError(t, err)
			again, err := ratelimit.ParsePolicy(p.String())
			require.NoError(t, err, "ParsePolicy(%q)", p.String())
			assert.Equal(t, p.Limit, again.Limit)
			assert.Equal(t, p.Period, again.Period)
			assert.Equal(t, effectiveBurst(p), effectiveBurst(again))
			assert.Equal(t, p.String(), again.String())
		})
	}
}

// effectiveBurst is the burst a policy enforces: Burst, or Limit when zero.
func effectiveBurst(p ratelimit.Policy) int {
	if p.Burst == 0 {
		return p.Limit
	}
	return p.Burst
}
