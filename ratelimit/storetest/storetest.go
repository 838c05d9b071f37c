// Package storetest is a conformance suite for implementations of
// [ratelimit.Store], in the style of testing/slogtest: a store that passes
// [Run] can back a ratelimit.Limiter, and gives the same decisions as every
// other store that passes it. [RunLockout] is the suite for
// [ratelimit.LockoutStore], which backs a ratelimit.Lockout.
//
// Every backend in this module runs it (ratelimit.MemoryStore,
// ratelimit/redisstore), and a third-party store should too:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ratelimit.Store {
//			return mystore.New(...)
//		})
//	}
//
// The Store contract is that every store gives the same [ratelimit.Decision]
// for the same sequence of (key, policy, now): the one [ratelimit.GCRA]
// computes from a theoretical arrival time kept per key. The suite keeps such
// a reference model next to the store under test and compares every field of
// every Decision with it, for the policies "5/m", "10/s burst 20", "1/h",
// "3/10m", "1000/d" and "3/s". It checks in addition, independently of GCRA,
// what the policy promises (Burst requests at once, one more every
// Period/Limit):
//
//   - exact allowance at the boundary: Burst requests at one instant are
//     allowed, with Remaining counting down to 0, and the next is refused
//     with RetryAfter equal to the emission interval; a request one
//     nanosecond before a RetryAfter runs out is refused, one at it is
//     allowed;
//   - refill: after ResetAfter the whole burst is back, after k intervals
//     exactly k requests are, and after a long idle time the key is new;
//   - keys are opaque byte strings: many keys are independent of each
//     other, and keys with awkward bytes (Unicode, spaces, '|', ':', glob
//     and SQL metacharacters, invalid UTF-8, 1 KiB keys, keys differing
//     only in case or a trailing space) never share a budget;
//   - Take is atomic per key: of 64 concurrent calls for one key at one
//     instant exactly min(64, Burst) are allowed, each with a distinct
//     Remaining (run the suite with -race);
//   - time going backwards (a now earlier than a previous call's, as clocks
//     of several replicas disagree) neither panics nor fails, and never
//     allows a request the model refuses; once time passes the latest state
//     again, decisions are exact again;
//   - a call with an already cancelled context returns promptly, with an
//     error or the correct decision.
//
// Times are nanoseconds, as in GCRA: the suite uses the policy "3/s", whose
// emission interval (333,333,333 ns) is not a whole microsecond, and
// instants with sub-microsecond digits, so a store that keeps its state at a
// coarser resolution fails every time rather than by chance. Keys contain no
// NUL bytes.
//
// The suite never sleeps. It drives the store with explicit instants: a
// synthetic clock that starts at the current time and moves by fixed
// offsets, forwards by up to a year and backwards by up to a few seconds.
// A store may forget a key once its state is back to new (GCRA's tat is not
// after now) by its own clock, as Redis expiry does: the suite's calls on a
// key follow each other without delay, and the shortest time a key is kept
// for is 100 ms of real time.
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/ratelimit"
)

// Run runs the conformance suite as subtests of t. newStore is called once
// per subtest, with the subtest's t, and must return a new, empty store (it
// may register cleanups with t.Cleanup). The subtests run one after another,
// so newStore need not be safe for concurrent use; the stores it returns
// must be.
func Run(t *testing.T, newStore func(t *testing.T) ratelimit.Store) {
	t.Helper()
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			c.run(newChecker(t, newStore(t)))
		})
	}
}

type testCase struct {
	name string
	run  func(c *checker)
}

func cases() []testCase {
	return []testCase{
		{"FirstTake", testFirstTake},
		{"Burst", testBurst},
		{"RetryAfterIsExact", testRetryAfterIsExact},
		{"Refill", testRefill},
		{"PartialRefill", testPartialRefill},
		{"SteadyRate", testSteadyRate},
		{"IdleKeyIsNew", testIdleKeyIsNew},
		{"RandomSequence", testRandomSequence},
		{"PolicyChange", testPolicyChange},
		{"ManyKeys", testManyKeys},
		{"AwkwardKeys", testAwkwardKeys},
		{"Concurrent", testConcurrent},
		{"ConcurrentDistinctKeys", testConcurrentDistinctKeys},
		{"Backwards", testBackwards},
		{"CancelledContext", testCancelledContext},
	}
}

// blockLimit is how long a call with a cancelled context may take before the
// suite declares it blocked.
const blockLimit = 10 * time.Second

// policy is a Policy with the two numbers it promises, computed from its
// documented meaning rather than by GCRA.
type policy struct {
	ratelimit.Policy
	spec     string
	interval time.Duration // one request is earned back every interval
	burst    int           // requests allowed at once
}

// policies returns the policies the checks run with. "3/s"
// has an emission interval that is not a whole number of microseconds.
func policies(t *testing.T) []policy {
	t.Helper()
	var ps []policy
	for _, spec := range []string{"5/m", "10/s burst 20", "1/h", "3/10m", "1000/d", "3/s"} {
		p, err := ratelimit.ParsePolicy(spec)
		if err != nil {
			t.Fatalf("ParsePolicy(%q): %v", spec, err)
		}
		burst := p.Burst
		if burst == 0 {
			burst = p.Limit
		}
		ps = append(ps, policy{Policy: p, spec: spec, interval: p.Period / time.Duration(p.Limit), burst: burst})
	}
	return ps
}

// checker drives a store and the reference model side by side.
type checker struct {
	t    *testing.T
	s    ratelimit.Store
	base time.Time // the synthetic clock's origin
	mu   sync.Mutex
	tat  map[string]int64 // the model: key -> theoretical arrival time, Unix ns
	ps   []policy
}

func newChecker(t *testing.T, s ratelimit.Store) *checker {
	return &checker{t: t, s: s, base: base(), tat: map[string]int64{}, ps: policies(t)}
}

// base returns the origin of the synthetic clock: the current time truncated
// to the millisecond, plus 456,789 ns, so that instants derived from it have
// sub-microsecond digits.
func base() time.Time {
	return time.Now().Truncate(time.Millisecond).Add(456*time.Microsecond + 789*time.Nanosecond)
}

// policy returns the suite's policy with the given spec.
func (c *checker) policy(spec string) policy {
	c.t.Helper()
	for _, p := range c.ps {
		if p.spec == spec {
			return p
		}
	}
	c.t.Fatalf("storetest: no policy %q", spec)
	return policy{}
}

// at returns the instant d after the clock's origin.
func (c *checker) at(d time.Duration) time.Time { return c.base.Add(d) }

// model returns what GCRA decides for key at now, and records an allowed
// request.
func (c *checker) model(key string, p ratelimit.Policy, now time.Time) ratelimit.Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	newTAT, d := ratelimit.GCRA(c.tat[key], now.UnixNano(), p)
	if d.Allowed {
		c.tat[key] = newTAT
	}
	return d
}

// forget drops key from the model, after a call whose effect is unknown.
func (c *checker) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tat, key)
}

// take calls the store and fails the test on an error; it checks the
// decision against the model and returns it.
func (c *checker) take(key string, p policy, now time.Time) ratelimit.Decision {
	c.t.Helper()
	got, err := c.s.Take(c.t.Context(), key, p.Policy, now)
	if err != nil {
		c.t.Fatalf("Take(%s, %q, %s) error: %v", short(key), p.spec, c.fmtTime(now), err)
	}
	if want := c.model(key, p.Policy, now); got != want {
		c.t.Errorf("Take(%s, %q, %s) = %s, want (GCRA) %s", short(key), p.spec, c.fmtTime(now), fmtDecision(got), fmtDecision(want))
	}
	return got
}

// want checks a decision against what the policy promises.
func (c *checker) want(got, want ratelimit.Decision, format string, args ...any) {
	c.t.Helper()
	if got != want {
		c.t.Errorf("%s: got %s, want %s", fmt.Sprintf(format, args...), fmtDecision(got), fmtDecision(want))
	}
}

// allowed is the decision for an allowed request after which remaining
// more are allowed at once, and the whole burst after reset.
func allowed(remaining int, reset time.Duration) ratelimit.Decision {
	return ratelimit.Decision{Allowed: true, Remaining: remaining, ResetAfter: reset}
}

// refused is the decision for a refused request.
func refused(retry, reset time.Duration) ratelimit.Decision {
	return ratelimit.Decision{RetryAfter: retry, ResetAfter: reset}
}

// exhaust spends a new key's whole burst at now, checking each decision
// against the policy, and then checks that one more is refused.
func (c *checker) exhaust(key string, p policy, now time.Time) {
	c.t.Helper()
	for i := 1; i <= p.burst; i++ {
		c.want(c.take(key, p, now), allowed(p.burst-i, time.Duration(i)*p.interval), "%q: request %d of a burst of %d", p.spec, i, p.burst)
	}
	full := time.Duration(p.burst) * p.interval
	c.want(c.take(key, p, now), refused(p.interval, full), "%q: request %d of a burst of %d", p.spec, p.burst+1, p.burst)
}

func (c *checker) fmtTime(now time.Time) string {
	return "base" + fmtOffset(now.Sub(c.base))
}

func fmtOffset(d time.Duration) string {
	if d >= 0 {
		return "+" + d.String()
	}
	return d.String()
}

func fmtDecision(d ratelimit.Decision) string {
	return fmt.Sprintf("{Allowed:%v Remaining:%d RetryAfter:%v ResetAfter:%v}", d.Allowed, d.Remaining, d.RetryAfter, d.ResetAfter)
}

// short quotes a key for a message, shortening long ones.
func short(key string) string {
	if len(key) > 40 {
		return fmt.Sprintf("%.40q…(%d bytes)", key, len(key))
	}
	return fmt.Sprintf("%q", key)
}

// testFirstTake checks the decision for a key never seen.
func testFirstTake(c *checker) {
	for _, p := range c.ps {
		c.want(c.take("first:"+p.spec, p, c.at(0)), allowed(p.burst-1, p.interval), "%q: first request", p.spec)
	}
}

// testBurst spends each policy's burst at one instant: exactly Burst
// requests are allowed, and the ones after are refused with RetryAfter equal
// to the emission interval.
func testBurst(c *checker) {
	for _, p := range c.ps {
		key := "burst:" + p.spec
		now := c.at(0)
		c.exhaust(key, p, now)
		full := time.Duration(p.burst) * p.interval
		for range 3 {
			c.want(c.take(key, p, now), refused(p.interval, full), "%q: after the burst", p.spec)
		}
		// A little later, the wait is shorter by as much.
		c.want(c.take(key, p, now.Add(time.Nanosecond)), refused(p.interval-time.Nanosecond, full-time.Nanosecond), "%q: 1ns later", p.spec)
		c.want(c.take(key, p, now.Add(p.interval/2)), refused(p.interval-p.interval/2, full-p.interval/2), "%q: half an interval later", p.spec)
	}
}

// testRetryAfterIsExact checks that a refused request's RetryAfter is
// exact: 1 ns before it runs out the next request is still refused, at it
// allowed.
func testRetryAfterIsExact(c *checker) {
	for _, p := range c.ps {
		key := "retry:" + p.spec
		now := c.at(0)
		c.exhaust(key, p, now)
		now = now.Add(p.interval / 3)
		d := c.take(key, p, now)
		if d.Allowed || d.RetryAfter <= 0 {
			c.t.Fatalf("%q: request after the burst: %s, want refused with a RetryAfter", p.spec, fmtDecision(d))
		}
		early := c.take(key, p, now.Add(d.RetryAfter-time.Nanosecond))
		c.want(early, refused(time.Nanosecond, d.ResetAfter-d.RetryAfter+time.Nanosecond), "%q: 1ns before RetryAfter", p.spec)
		c.want(c.take(key, p, now.Add(d.RetryAfter)), allowed(0, d.ResetAfter-d.RetryAfter+p.interval), "%q: at RetryAfter", p.spec)
	}
}

// testRefill checks that the budget refills: after ResetAfter the whole
// burst is back, and after one Period min(Burst, Period/interval) requests
// are.
func testRefill(c *checker) {
	for _, p := range c.ps {
		key := "refill:" + p.spec
		now := c.at(0)
		c.exhaust(key, p, now)
		full := time.Duration(p.burst) * p.interval

		// After ResetAfter: the whole burst again.
		now = now.Add(full)
		c.exhaust(key, p, now)

		// After one Period: what was left of the burst's reset time, if
		// anything, is still to wait.
		now = now.Add(p.Period)
		n := min(p.burst, int(p.Period/p.interval))
		left := max(full-p.Period, 0)
		for i := 1; i <= n; i++ {
			c.want(c.take(key, p, now), allowed(n-i, left+time.Duration(i)*p.interval),
				"%q: request %d of %d after one period", p.spec, i, n)
		}
		if d := c.take(key, p, now); d.Allowed {
			c.t.Errorf("%q: request %d after one period allowed, want only %d", p.spec, n+1, n)
		}
	}
}

// testPartialRefill checks that after k emission intervals exactly k
// requests are allowed, and 1 ns earlier k-1.
func testPartialRefill(c *checker) {
	for _, p := range c.ps {
		for _, k := range []int{1, 2, 3} {
			if k > p.burst {
				continue
			}
			key := fmt.Sprintf("partial:%s:%d", p.spec, k)
			now := c.at(0)
			c.exhaust(key, p, now)
			full := time.Duration(p.burst) * p.interval
			kt := time.Duration(k) * p.interval

			early := now.Add(kt - time.Nanosecond)
			for i := 1; i < k; i++ {
				c.want(c.take(key, p, early), allowed(k-1-i, full-kt+time.Nanosecond+time.Duration(i)*p.interval),
					"%q: request %d, 1ns before %d intervals", p.spec, i, k)
			}
			c.want(c.take(key, p, early), refused(time.Nanosecond, full-p.interval+time.Nanosecond),
				"%q: request %d, 1ns before %d intervals", p.spec, k, k)
			c.want(c.take(key, p, now.Add(kt)), allowed(0, full), "%q: request %d after %d intervals", p.spec, k, k)
			c.want(c.take(key, p, now.Add(kt)), refused(p.interval, full), "%q: request %d after %d intervals", p.spec, k+1, k)
		}
	}
}

// testSteadyRate sends requests every half interval, then every interval,
// after the burst is spent: every other one is allowed, then every one.
func testSteadyRate(c *checker) {
	for _, p := range c.ps {
		key := "steady:" + p.spec
		now := c.at(0)
		c.exhaust(key, p, now)
		half := p.interval / 2
		for i := 1; i <= 20; i++ {
			now = now.Add(half)
			d := c.take(key, p, now)
			// With an even interval, every second step completes one.
			if 2*half == p.interval && d.Allowed != (i%2 == 0) {
				c.t.Errorf("%q: step %d at half intervals: allowed = %v, want %v", p.spec, i, d.Allowed, i%2 == 0)
			}
		}
		for i := 1; i <= 20; i++ {
			now = now.Add(p.interval)
			c.take(key, p, now)
		}
	}
}

// testIdleKeyIsNew checks that a key idle for long has its whole budget and
// is indistinguishable from a new key.
func testIdleKeyIsNew(c *checker) {
	for _, p := range c.ps {
		key := "idle:" + p.spec
		c.exhaust(key, p, c.at(0))
		for _, idle := range []time.Duration{24 * time.Hour, 365 * 24 * time.Hour} {
			c.want(c.take(key, p, c.at(idle)), allowed(p.burst-1, p.interval), "%q: after %v idle", p.spec, idle)
		}
	}
}

// testRandomSequence drives three keys per policy with a pseudo-random
// (fixed seed) sequence of requests, from several at one instant to gaps of
// two intervals, at nanosecond offsets, comparing every decision with GCRA.
func testRandomSequence(c *checker) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range c.ps {
		nows := make([]time.Time, 3)
		for i := range nows {
			nows[i] = c.at(0)
		}
		steps := 300
		if p.burst > 100 {
			steps = 3 * p.burst
		}
		for range steps {
			k := rng.IntN(len(nows))
			switch rng.IntN(4) {
			case 0: // same instant
			case 1:
				nows[k] = nows[k].Add(time.Duration(rng.Int64N(int64(p.interval))))
			case 2:
				nows[k] = nows[k].Add(time.Duration(rng.Int64N(2 * int64(p.interval))))
			case 3:
				nows[k] = nows[k].Add(time.Duration(rng.Int64N(1000)))
			}
			c.take(fmt.Sprintf("random:%s:%d", p.spec, k), p, nows[k])
		}
	}
}

// testPolicyChange sends requests for one key under changing policies, as
// after a configuration change: the state carries over as GCRA defines.
func testPolicyChange(c *checker) {
	ps := c.ps
	now := c.at(0)
	for i := range 40 {
		p := ps[i%len(ps)]
		if i%7 == 3 {
			now = now.Add(p.interval / 2)
		}
		c.take("policy-change", p, now)
	}
}

// testManyKeys spends different amounts of many keys' budgets, interleaved:
// each key's decisions depend on its own requests only.
func testManyKeys(c *checker) {
	p := c.policy("5/m")
	const keys = 200
	now := c.at(0)
	for round := range p.burst + 2 {
		for k := range keys {
			if round <= k%(p.burst+2) {
				c.take(fmt.Sprintf("many:%d", k), p, now)
			}
		}
	}
	// Half an interval later nothing has refilled; a whole one later, one
	// request per key has.
	for _, d := range []time.Duration{p.interval / 2, p.interval} {
		for k := range keys {
			c.take(fmt.Sprintf("many:%d", k), p, now.Add(d))
		}
	}
}

// awkwardKeys are distinct keys that a store which builds queries or keys
// from strings, pattern-matches, splits on separators, folds case, trims or
// normalizes would confuse.
func awkwardKeys() []string {
	return []string{
		"",
		" ",
		"a",
		"A",
		"a ",
		" a",
		"a\n",
		"a\r\n",
		"\t",
		"a:b",
		"a:b:",
		"a::b",
		":",
		"a|b",
		"a||b",
		"|",
		"a b",
		"a  b",
		"ratelimit:a",
		"'; DROP TABLE x; --",
		`"; DROP TABLE x; --`,
		"' OR '1'='1",
		"\\",
		"\\'",
		"%",
		"_",
		"*",
		"?",
		"[a-z]",
		"{a}",
		"a\r\nSET x 1\r\n",
		"*1\r\n$4\r\nPING\r\n",
		"]]; redis.call('FLUSHALL') --",
		"é",       // U+00E9, precomposed
		"e\u0301", // e + combining acute: the same text in NFD
		"ﬁ",       // U+FB01, NFKC "fi"
		"fi",
		"سنفی:کاربر:۱۲۳",
		"😀👍🏽",
		"\xff",     // invalid UTF-8, as a header value may carry
		"\xff\xfe", // invalid UTF-8
		"\uFFFD",   // what a store decoding "\xff" as UTF-8 would turn it into
		strings.Repeat("x", 1024),
		strings.Repeat("x", 1023) + "y",
		strings.Repeat("x", 1025),
		strings.Repeat("ی", 512), // 1 KiB of two-byte runes
	}
}

// testAwkwardKeys takes key i i+1 times under "1000/d", so any two keys that
// shared a budget would show a wrong Remaining, and checks each decision.
func testAwkwardKeys(c *checker) {
	p := c.policy("1000/d")
	keys := awkwardKeys()
	now := c.at(0)
	for i, key := range keys {
		for j := 1; j <= i+1; j++ {
			c.want(c.take(key, p, now), allowed(p.burst-j, time.Duration(j)*p.interval), "key %d %s: request %d", i, short(key), j)
		}
	}
	for i, key := range keys {
		c.want(c.take(key, p, now), allowed(p.burst-i-2, time.Duration(i+2)*p.interval), "key %d %s: second pass", i, short(key))
	}
}

// testConcurrent starts 64 Take calls for one key at one instant, per
// policy: exactly min(64, Burst) are allowed, each with a distinct Remaining,
// and the others are refused with RetryAfter equal to the interval.
func testConcurrent(c *checker) {
	const n = 64
	ctx := c.t.Context()
	for _, p := range c.ps {
		key := "concurrent:" + p.spec
		now := c.at(0)
		start := make(chan struct{})
		got := make([]ratelimit.Decision, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				got[i], errs[i] = c.s.Take(ctx, key, p.Policy, now)
			})
		}
		close(start)
		wg.Wait()

		var remaining []int
		full := time.Duration(p.burst) * p.interval
		for i, d := range got {
			if errs[i] != nil {
				c.t.Fatalf("%q: goroutine %d: Take error: %v", p.spec, i, errs[i])
			}
			switch {
			case d.Allowed:
				remaining = append(remaining, d.Remaining)
				c.want(d, allowed(d.Remaining, time.Duration(p.burst-d.Remaining)*p.interval), "%q: goroutine %d", p.spec, i)
			default:
				c.want(d, refused(p.interval, full), "%q: goroutine %d", p.spec, i)
			}
		}
		wantAllowed := min(n, p.burst)
		if len(remaining) != wantAllowed {
			c.t.Errorf("%q: %d of %d concurrent requests allowed, want %d", p.spec, len(remaining), n, wantAllowed)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(remaining)))
		for i, r := range remaining {
			if want := p.burst - 1 - i; r != want {
				c.t.Errorf("%q: the allowed requests' Remaining values are %v, want each of %d down to %d once",
					p.spec, remaining, p.burst-1, p.burst-wantAllowed)
				break
			}
		}
		// Bring the model to the same state, then compare once more.
		for range wantAllowed {
			c.model(key, p.Policy, now)
		}
		c.take(key, p, now)
	}
}

// testConcurrentDistinctKeys spends 32 keys' budgets from 32 goroutines at
// once: each key sees only its own requests.
func testConcurrentDistinctKeys(c *checker) {
	const n = 32
	p := c.policy("10/s burst 20")
	ctx := c.t.Context()
	now := c.at(0)
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			<-start
			key := fmt.Sprintf("distinct:%d", g)
			for j := 1; j <= p.burst+1; j++ {
				d, err := c.s.Take(ctx, key, p.Policy, now)
				if err != nil {
					errs[g] = fmt.Errorf("Take(%q) error: %w", key, err)
					return
				}
				if want := j <= p.burst; d.Allowed != want || d.Allowed && d.Remaining != p.burst-j {
					errs[g] = fmt.Errorf("Take(%q) request %d = %s, want allowed %v with Remaining %d", key, j, fmtDecision(d), want, max(p.burst-j, 0))
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			c.t.Error(err)
		}
	}
}

// testBackwards sends requests with instants earlier than previous ones (as
// when replicas' clocks disagree): the store must not fail or panic, must
// give a well-formed decision, and must never allow a request the model
// refuses nor allow more in total. Once time passes every earlier instant by
// a whole burst, the key must be new again, exactly.
func testBackwards(c *checker) {
	for _, p := range c.ps {
		key := "backwards:" + p.spec
		now := c.at(0)
		c.exhaust(key, p, now)
		var storeAllowed, modelAllowed int
		latest := now
		for i, off := range []time.Duration{
			-time.Millisecond, -time.Second, -time.Nanosecond,
			p.interval - time.Nanosecond, p.interval, p.interval - time.Millisecond,
			-p.interval, 2 * p.interval, 2*p.interval - 5*time.Second, 3*p.interval + time.Nanosecond,
			3*p.interval - 1, 3 * p.interval, 3*p.interval - 2*time.Second,
		} {
			at := now.Add(off)
			if at.After(latest) {
				latest = at
			}
			got, err := c.s.Take(c.t.Context(), key, p.Policy, at)
			if err != nil {
				c.t.Fatalf("%q: step %d: Take(%s) error: %v", p.spec, i, c.fmtTime(at), err)
			}
			want := c.model(key, p.Policy, at)
			if got.Allowed {
				storeAllowed++
			}
			if want.Allowed {
				modelAllowed++
			}
			switch {
			case got.Allowed && !want.Allowed:
				c.t.Errorf("%q: step %d: Take(%s) = %s, but GCRA refuses it: %s", p.spec, i, c.fmtTime(at), fmtDecision(got), fmtDecision(want))
			case storeAllowed > modelAllowed:
				c.t.Errorf("%q: step %d: %d requests allowed so far, GCRA allows %d", p.spec, i, storeAllowed, modelAllowed)
			case !wellFormed(got, p):
				c.t.Errorf("%q: step %d: Take(%s) = %s is not well-formed", p.spec, i, c.fmtTime(at), fmtDecision(got))
			case got != want:
				c.t.Logf("%q: step %d: Take(%s) = %s, stricter than GCRA's %s", p.spec, i, c.fmtTime(at), fmtDecision(got), fmtDecision(want))
			}
		}
		// A whole burst after the latest instant, store and model are both
		// in the initial state.
		after := latest.Add(time.Duration(p.burst+1) * p.interval)
		c.forget(key)
		c.want(c.take(key, p, after), allowed(p.burst-1, p.interval), "%q: after time caught up", p.spec)
	}
}

// wellFormed reports whether d is a decision GCRA could give under p: it
// holds GCRA's identities between the fields.
func wellFormed(d ratelimit.Decision, p policy) bool {
	full := time.Duration(p.burst) * p.interval
	if d.Allowed {
		return d.RetryAfter == 0 && d.ResetAfter > 0 && d.ResetAfter <= full &&
			d.Remaining == int((full-d.ResetAfter)/p.interval)
	}
	return d.Remaining == 0 && d.RetryAfter > 0 && d.ResetAfter == full-p.interval+d.RetryAfter
}

// testCancelledContext calls Take with an already cancelled context, and
// with one whose deadline has passed, on a new key and on a key with state:
// each call must return promptly, with an error or the correct decision.
func testCancelledContext(c *checker) {
	p := c.policy("5/m")
	now := c.at(0)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	c.take("cancel:known", p, now)
	c.take("expired:known", p, now)
	for _, k := range []struct {
		ctx context.Context
		key string
	}{
		{cancelled, "cancel:new"}, {cancelled, "cancel:known"},
		{expired, "expired:new"}, {expired, "expired:known"},
	} {
		var d ratelimit.Decision
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			d, err = c.s.Take(k.ctx, k.key, p.Policy, now)
		}()
		timer := time.NewTimer(blockLimit)
		select {
		case <-done:
			timer.Stop()
		case <-timer.C:
			c.t.Fatalf("Take(%q) with a cancelled context did not return within %v", k.key, blockLimit)
		}
		if err != nil {
			// Whether the request was counted is unknown.
			c.forget(k.key)
			continue
		}
		if want := c.model(k.key, p.Policy, now); d != want {
			c.t.Errorf("Take(%q) with a cancelled context = %s without an error, want %s", k.key, fmtDecision(d), fmtDecision(want))
		}
	}
}
