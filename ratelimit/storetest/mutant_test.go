package storetest_test

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/ratelimit/storetest"
)

// envMutant names the bug TestMutant plants in its store.
const envMutant = "STORETEST_MUTANT"

// TestSuiteCatchesBugs runs the suite against stores with one planted bug
// each (in a child process, since the suite must fail there) and checks
// that the subtests meant to catch the bug fail.
func TestSuiteCatchesBugs(t *testing.T) {
	if os.Getenv(envMutant) != "" {
		t.Skip("child process")
	}
	if testing.Short() {
		t.Skip("starts a child process per planted bug")
	}
	for _, m := range []struct {
		bug      string
		caughtBy []string
	}{
		{"racy", []string{"Concurrent"}},
		{"micro-now", []string{"Burst", "RetryAfterIsExact", "PartialRefill"}},
		{"micro-tat", []string{"Burst", "RandomSequence"}},
		{"limit-as-burst", []string{"FirstTake", "Burst", "Concurrent"}},
		{"strict-boundary", []string{"RetryAfterIsExact", "PartialRefill"}},
		{"round-retry-after", []string{"Burst", "RetryAfterIsExact"}},
		{"fold-case", []string{"AwkwardKeys"}},
		{"trim-space", []string{"AwkwardKeys"}},
		{"sanitize-utf8", []string{"AwkwardKeys"}},
		{"truncate-key", []string{"AwkwardKeys"}},
		{"split-colon", []string{"AwkwardKeys"}},
		{"per-policy", []string{"PolicyChange"}},
		{"backwards-resets", []string{"Backwards"}},
		{"cancelled-allows", []string{"CancelledContext"}},
		{"forget-early", []string{"Refill", "SteadyRate"}},
	} {
		t.Run(m.bug, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutant$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envMutant+"="+m.bug)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store with bug %q", m.bug)
			}
			for _, name := range m.caughtBy {
				if want := "--- FAIL: TestMutant/" + name + " "; !strings.Contains(string(out), want) {
					t.Errorf("bug %q: output lacks %q:\n%s", m.bug, want, out)
				}
			}
		})
	}
}

// TestMutant runs the suite against a store with the bug named by
// STORETEST_MUTANT; only TestSuiteCatchesBugs runs it.
func TestMutant(t *testing.T) {
	bug := os.Getenv(envMutant)
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
		for range 20 {
			runtime.Gosched()
		}
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
