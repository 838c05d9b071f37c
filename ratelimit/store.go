package ratelimit

import (
	"context"
	"time"
)

// Store decides, for one key, whether a request fits its Policy, and records
// it if it does. It must be atomic per key: of concurrent calls, exactly as
// many are allowed as the policy allows. Implementations must be safe for
// concurrent use; a Store shared by several processes (ratelimit/redisstore)
// makes their limits one.
//
// Every Store gives the same Decision for the same sequence of (key, policy,
// now): the conformance suite in ratelimit/storetest checks it.
type Store interface {
	Take(ctx context.Context, key string, p Policy, now time.Time) (Decision, error)
}

// StoreFunc adapts a function to the Store interface.
type StoreFunc func(ctx context.Context, key string, p Policy, now time.Time) (Decision, error)

// Take calls f.
func (f StoreFunc) Take(ctx context.Context, key string, p Policy, now time.Time) (Decision, error) {
	return f(ctx, key, p, now)
}

// Decision is the outcome of one Take.
type Decision struct {
	// Allowed reports whether the request fits the policy. An allowed
	// request has been counted.
	Allowed bool
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is, for a refused request, how long until one request is
	// allowed again. Zero when allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the full burst is available again.
	ResetAfter time.Duration
}

// GCRA computes a decision from the key's stored state, for Store
// implementations. tat is the key's theoretical arrival time in Unix
// nanoseconds (0 for a key never seen); newTAT is the value to store when the
// request is allowed (unchanged when it is not). A key whose tat is not after
// now is in its initial state and may be forgotten.
func GCRA(tat, now int64, p Policy) (newTAT int64, d Decision) {
	return gcraOf(p).decide(tat, now)
}

// gcra is a Policy in the two numbers GCRA works with, computed once per
// limiter rather than per request (one of them takes a division).
type gcra struct {
	t, tolerance int64 // emission interval and burst tolerance, in ns
}

func gcraOf(p Policy) gcra {
	t := int64(p.interval())
	return gcra{t: t, tolerance: t * int64(p.burst())}
}

func (g gcra) decide(tat, now int64) (newTAT int64, d Decision) {
	t, tolerance := g.t, g.tolerance
	if tat < now {
		tat = now
	}
	next := tat + t
	allowAt := next - tolerance
	if now < allowAt {
		return tat, Decision{
			RetryAfter: time.Duration(allowAt - now),
			ResetAfter: time.Duration(tat - now),
		}
	}
	return next, Decision{
		Allowed:    true,
		Remaining:  int((now - allowAt) / t),
		ResetAfter: time.Duration(next - now),
	}
}
