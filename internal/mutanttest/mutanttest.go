// Package mutanttest checks that a conformance suite catches bugs: it runs
// the suite, in a child process each, against stores with one planted bug
// and requires the named subtests to fail (and, for the bug "none", the
// suite to pass). The storetest packages of jwtauth and ratelimit use it.
package mutanttest

import (
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Case is one planted bug and the subtests that must catch it. A Case
// whose CaughtBy is nil is a control: the suite must pass.
type Case struct {
	Bug      string
	CaughtBy []string
}

// Bug returns the bug the current process must plant for the test named
// test, or "" in the parent process.
func Bug(test string) string {
	return os.Getenv(envName(test))
}

func envName(test string) string {
	return "MUTANTTEST_" + strings.ToUpper(test)
}

// Check runs the test function named test (which calls the suite on a store
// built with Bug(test)) once per case in a child process, and checks each
// outcome. It skips in child processes and under -short.
func Check(t *testing.T, test string, cases []Case) {
	t.Helper()
	if Bug(test) != "" {
		t.Skip("child process")
	}
	if testing.Short() {
		t.Skip("starts a child process per planted bug")
	}
	for _, c := range cases {
		t.Run(c.Bug, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envName(test)+"="+c.Bug)
			out, err := cmd.CombinedOutput()
			if c.CaughtBy == nil {
				if err != nil {
					t.Fatalf("the suite failed the store without a planted bug:\n%s", out)
				}
				return
			}
			if err == nil {
				t.Fatalf("the suite passed a store with bug %q", c.Bug)
			}
			for _, name := range c.CaughtBy {
				if want := "--- FAIL: " + test + "/" + name + " "; !strings.Contains(string(out), want) {
					t.Errorf("bug %q: output lacks %q:\n%s", c.Bug, want, out)
				}
			}
		})
	}
}

// Race makes a planted check-then-act race happen every run rather than once
// in a while. A mutant calls Gap between its check and its act, with no lock
// held: the first two callers wait for each other (up to Patience), so both
// act on what they read before either wrote; later callers pass straight
// through. The zero value is ready; use one per store. It relies on the
// suite's concurrent burst making the store's first two calls: a check that
// called a fresh store once before its burst would wait Patience alone and
// leave the burst unraced.
type Race struct {
	n atomic.Int32
}

// Patience is how long the first caller of Gap waits for a second one; a
// suite's sequential checks each pay it once per store.
const Patience = 200 * time.Millisecond

// Gap waits, for the first two callers, until both are in the gap.
func (r *Race) Gap() {
	if r.n.Add(1) > 2 {
		return
	}
	deadline := time.Now().Add(Patience)
	for r.n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Microsecond)
	}
}
