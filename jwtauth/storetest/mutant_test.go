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

	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/storetest"
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
	for _, m := range []struct {
		bug      string
		caughtBy []string
	}{
		{"strict-before", []string{"RevokeSubject"}},
		{"overwrite-before", []string{"RevokeSubjectNeverMovesBack"}},
		{"second-precision", []string{"RevokeSubjectSubMicrosecond"}},
		{"milli-before", []string{"RevokeSubject", "RevokeSubjectSubMicrosecond", "RevokeSubjectConcurrent"}},
		{"round-micro-before", []string{"RevokeSubjectSubMicrosecond"}},
		{"milli-usedAt", []string{"Consume", "ConsumeConcurrentSameID"}},
		{"overwrite-family-expiry", []string{"RevokeFamilyShorterExpiry"}},
		{"overwrite-used", []string{"ConsumeShorterExpiry"}},
		{"racy-consume", []string{"ConsumeConcurrentSameID"}},
		{"caller-usedAt", []string{"Consume"}},
		{"fold-case", []string{"IDs"}},
		{"trim-space", []string{"IDs"}},
		{"one-namespace", []string{"SeparateNamespaces"}},
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
	storetest.Run(t, func(t *testing.T) jwtauth.Store { return newMutant(bug) })
}

// mutant is a simple map store that behaves correctly unless bug names a
// planted bug.
type mutant struct {
	bug string

	mu       sync.Mutex
	families map[string]time.Time // fid -> expires
	subjects map[string][2]time.Time
	used     map[string][2]time.Time // jti -> usedAt, expires
}

func newMutant(bug string) *mutant {
	m := &mutant{
		bug:      bug,
		families: map[string]time.Time{},
		subjects: map[string][2]time.Time{},
		used:     map[string][2]time.Time{},
	}
	if bug == "one-namespace" {
		m.subjects = nil // see key
	}
	return m
}

func (m *mutant) key(kind, id string) string {
	switch m.bug {
	case "fold-case":
		id = strings.ToLower(id)
	case "trim-space":
		id = strings.TrimSpace(id)
	case "one-namespace":
		return id
	}
	return kind + ":" + id
}

// round returns before as the store keeps it.
func (m *mutant) round(t time.Time) time.Time {
	switch m.bug {
	case "second-precision":
		return t.Round(time.Second)
	case "milli-before":
		return t.Truncate(time.Millisecond) // as a store of Unix milliseconds would
	case "round-micro-before":
		return t.Round(time.Microsecond)
	}
	return t
}

func (m *mutant) Revoked(_ context.Context, t jwtauth.TokenRef) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if exp, ok := m.families[m.key("fam", t.Family)]; ok && now.Before(exp) {
		return true, nil
	}
	subjects := m.subjects
	if subjects == nil {
		subjects = map[string][2]time.Time{}
		if exp, ok := m.families[m.key("sub", t.Subject)]; ok && now.Before(exp) {
			return true, nil
		}
	}
	if r, ok := subjects[m.key("sub", t.Subject)]; ok && now.Before(r[1]) {
		iat := t.IssuedAt
		switch m.bug {
		case "strict-before":
			return iat.Before(r[0]), nil
		case "milli-before": // compares in Unix milliseconds
			iat = iat.Truncate(time.Millisecond)
		}
		return !iat.After(r[0]), nil
	}
	return false, nil
}

func (m *mutant) Consume(_ context.Context, jti string, now, expires time.Time) (bool, time.Time, error) {
	k := m.key("used", jti)
	m.mu.Lock()
	e, ok := m.used[k]
	if m.bug == "racy-consume" {
		// Check, then act in a second critical section.
		m.mu.Unlock()
		for range 20 {
			runtime.Gosched()
		}
		m.mu.Lock()
	}
	defer m.mu.Unlock()
	if ok && time.Now().Before(e[1]) {
		if m.bug == "overwrite-used" {
			m.used[k] = [2]time.Time{e[0], expires}
		}
		if m.bug == "caller-usedAt" {
			return false, now, nil
		}
		return false, e[0], nil
	}
	usedAt := now
	if m.bug == "milli-usedAt" { // keeps Unix milliseconds
		usedAt = now.Truncate(time.Millisecond)
	}
	m.used[k] = [2]time.Time{usedAt, expires}
	return true, now, nil
}

func (m *mutant) RevokeFamily(_ context.Context, fid string, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.key("fam", fid)
	if old, ok := m.families[k]; ok && old.After(expires) && m.bug != "overwrite-family-expiry" {
		return nil
	}
	m.families[k] = expires
	return nil
}

func (m *mutant) RevokeSubject(_ context.Context, sub string, before, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := m.key("sub", sub)
	before = m.round(before)
	if m.subjects == nil { // one-namespace: subjects revoke like families
		m.families[k] = expires
		return nil
	}
	if old, ok := m.subjects[k]; ok && time.Now().Before(old[1]) && m.bug != "overwrite-before" {
		before = maxTime(before, old[0])
		expires = maxTime(expires, old[1])
	}
	m.subjects[k] = [2]time.Time{before, expires}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
