package storetest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/internal/mutanttest"
	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/storetest"
)

// TestSuiteCatchesBugs runs the suite against stores with one planted bug
// each (in a child process, since the suite must fail there) and checks
// that the subtests meant to catch the bug fail.
func TestSuiteCatchesBugs(t *testing.T) {
	mutanttest.Check(t, "TestMutant", []mutanttest.Case{
		{Bug: "strict-before", CaughtBy: []string{"RevokeSubject"}},
		{Bug: "overwrite-before", CaughtBy: []string{"RevokeSubjectNeverMovesBack"}},
		{Bug: "second-precision", CaughtBy: []string{"RevokeSubjectSubMicrosecond"}},
		{Bug: "milli-before", CaughtBy: []string{"RevokeSubject", "RevokeSubjectSubMicrosecond", "RevokeSubjectConcurrent"}},
		{Bug: "round-micro-before", CaughtBy: []string{"RevokeSubjectSubMicrosecond"}},
		{Bug: "milli-usedAt", CaughtBy: []string{"Consume", "ConsumeConcurrentSameID"}},
		{Bug: "overwrite-family-expiry", CaughtBy: []string{"RevokeFamilyShorterExpiry"}},
		{Bug: "overwrite-used", CaughtBy: []string{"ConsumeShorterExpiry"}},
		{Bug: "racy-consume", CaughtBy: []string{"ConsumeConcurrentSameID"}},
		{Bug: "caller-usedAt", CaughtBy: []string{"Consume"}},
		{Bug: "fold-case", CaughtBy: []string{"IDs"}},
		{Bug: "trim-space", CaughtBy: []string{"IDs"}},
		{Bug: "one-namespace", CaughtBy: []string{"SeparateNamespaces"}},
	})
}

// TestMutant runs the suite against a store with the bug mutanttest
// plants; only TestSuiteCatchesBugs runs it.
func TestMutant(t *testing.T) {
	bug := mutanttest.Bug("TestMutant")
	if bug == "" {
		t.Skip("run by TestSuiteCatchesBugs")
	}
	storetest.Run(t, func(t *testing.T) jwtauth.Store { return newMutant(bug) })
}

// mutant is a simple map store that behaves correctly unless bug names a
// planted bug.
type mutant struct {
	bug string

	race     mutanttest.Race // makes the "racy" bug bite every run
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
		m.race.Gap()
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
