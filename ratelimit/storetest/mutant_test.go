package storetest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/internal/mutanttest"
	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/ratelimit/storetest"
)

// TestSuiteCatchesBugs runs the suite against stores with one planted bug
// each (in a child process, since the suite must fail there) and checks
// that the subtests meant to catch the bug fail.
func TestSuiteCatchesBugs(t *testing.T) {
	mutanttest.Check(t, "TestMutant", []mutanttest.Case{
		{Bug: "racy", CaughtBy: []string{"Concurrent"}},
		{Bug: "micro-now", CaughtBy: []string{"Burst", "RetryAfterIsExact", "PartialRefill"}},
		{Bug: "micro-tat", CaughtBy: []string{"Burst", "RandomSequence"}},
		{Bug: "limit-as-burst", CaughtBy: []string{"FirstTake", "Burst", "Concurrent"}},
		{Bug: "strict-boundary", CaughtBy: []string{"RetryAfterIsExact", "PartialRefill"}},
		{Bug: "round-retry-after", CaughtBy: []string{"Burst", "RetryAfterIsExact"}},
		{Bug: "fold-case", CaughtBy: []string{"AwkwardKeys"}},
		{Bug: "trim-space", CaughtBy: []string{"AwkwardKeys"}},
		{Bug: "sanitize-utf8", CaughtBy: []string{"AwkwardKeys"}},
		{Bug: "truncate-key", CaughtBy: []string{"AwkwardKeys"}},
		{Bug: "split-colon", CaughtBy: []string{"AwkwardKeys"}},
		{Bug: "per-policy", CaughtBy: []string{"PolicyChange"}},
		{Bug: "backwards-resets", CaughtBy: []string{"Backwards"}},
		{Bug: "cancelled-allows", CaughtBy: []string{"CancelledContext"}},
		{Bug: "forget-early", CaughtBy: []string{"Refill", "SteadyRate"}},
	})
}

// TestMutant runs the suite against a store with the bug mutanttest
// plants; only TestSuiteCatchesBugs runs it.
func TestMutant(t *testing.T) {
	bug := mutanttest.Bug("TestMutant")
	if bug == "" {
		t.Skip("run by TestSuiteCatchesBugs")
	}
	storetest.Run(t, func(t *testing.T) ratelimit.Store {
		return &mutant{bug: bug, tat: map[string]int64{}, last: map[string]int64{}}
	})
}

// mutant is a map store over ratelimit.GCRA that behaves correctly unless
// bug names a planted bug.
type mutant struct {
	bug string

	race mutanttest.Race // makes the "racy" bug bite every run
	mu   sync.Mutex
	tat  map[string]int64
	last map[string]int64 // latest now per key, for backwards-resets
}

func (m *mutant) Take(ctx context.Context, key string, p ratelimit.Policy, now time.Time) (ratelimit.Decision, error) {
	if m.bug == "cancelled-allows" && ctx.Err() != nil {
		return ratelimit.Decision{Allowed: true, Remaining: 1}, nil
	}
	switch m.bug {
	case "fold-case":
		key = strings.ToLower(key)
	case "trim-space":
		key = strings.TrimSpace(key)
	case "sanitize-utf8":
		key = strings.ToValidUTF8(key, "\uFFFD")
	case "truncate-key":
		key = key[:min(len(key), 1024)]
	case "split-colon":
		key = strings.ReplaceAll(key, ":", "")
	case "per-policy":
		key = p.String() + "\x00" + key
	case "limit-as-burst":
		p.Burst = 0
	}
	ns := now.UnixNano()
	if m.bug == "micro-now" {
		ns = now.Truncate(time.Microsecond).UnixNano()
	}

	m.mu.Lock()
	tat := m.tat[key]
	if m.bug == "backwards-resets" {
		if last, ok := m.last[key]; ok && ns < last {
			tat = 0
		}
		m.last[key] = max(m.last[key], ns)
	}
	if m.bug == "forget-early" && tat-ns < int64(time.Second) {
		tat = 0 // as a store expiring keys a second early would
	}
	if m.bug == "racy" {
		// Read, then write in a second critical section.
		m.mu.Unlock()
		m.race.Gap()
		m.mu.Lock()
	}
	defer m.mu.Unlock()
	newTAT, d := ratelimit.GCRA(tat, ns, p)
	if m.bug == "strict-boundary" && d.Allowed {
		// Refuse a request that arrives exactly when it is allowed.
		if _, d2 := ratelimit.GCRA(tat, ns-1, p); !d2.Allowed {
			return ratelimit.Decision{RetryAfter: 1, ResetAfter: time.Duration(max(tat, ns) - ns)}, nil
		}
	}
	if m.bug == "round-retry-after" && !d.Allowed {
		d.RetryAfter = d.RetryAfter.Round(time.Second)
	}
	if d.Allowed {
		if m.bug == "micro-tat" {
			newTAT = newTAT / 1000 * 1000
		}
		m.tat[key] = newTAT
	}
	return d, nil
}
