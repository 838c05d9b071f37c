// Package storetest is a conformance suite for implementations of
// [jwtauth.Store], in the style of testing/slogtest: a store that passes [Run]
// can back a jwtauth.Authenticator.
//
// Every backend in this module runs it (jwtauth.MemoryStore, jwtauth/sqlstore
// on SQLite and PostgreSQL, jwtauth/redisstore), and a third-party store
// should too:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) jwtauth.Store {
//			return mystore.New(...)
//		})
//	}
//
// The suite checks what the Store contract requires, and nothing it merely
// allows:
//
//   - Revoked is false for unknown tokens, and true for every token of a
//     revoked family and for every token of a subject issued at or before its
//     revocation time, to the microsecond (a token issued 1 µs after it is
//     not revoked, and a revocation time between two microseconds falls
//     between them);
//   - a later RevokeSubject with an earlier time never moves the mark back,
//     and a later call with a shorter (even past) expiry never shortens what an
//     earlier call promised;
//   - Consume reports usedAt to the microsecond: the first call's now,
//     truncated to the microsecond;
//   - Consume is atomic: of 50 concurrent calls with one jti exactly one is
//     first, and every other one reports the winner's usedAt;
//   - IDs are opaque strings: SQL-injection-looking text, Persian, emoji,
//     1 KiB IDs, wildcard characters and IDs that differ only in case,
//     trailing space or Unicode normalization never collide, and families,
//     subjects and used token IDs live in separate namespaces;
//   - a call with an already cancelled context returns an error or a correct
//     answer, and never blocks.
//
// Forgetting entries after their expiry is allowed but not required, so the
// suite never checks that an entry is gone: every expiry it writes is an hour
// ahead of the wall clock, except where it checks that a later, shorter expiry
// does not shorten a live entry. It never sleeps, so it also works with
// stores whose expiry follows real time. IDs are valid UTF-8 without NUL
// bytes, as JWT claims decoded from JSON are.
//
// Times have microsecond precision, as a token's IssuedAt does, and lie
// inside one millisecond where it matters, so that a store that keeps only
// milliseconds fails every time rather than by chance.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/jwtauth"
)

// Run runs the conformance suite as subtests of t. newStore is called once
// per subtest, with the subtest's t, and must return a new, empty store (it
// may register cleanups with t.Cleanup). The subtests run one after another,
// so newStore need not be safe for concurrent use; the stores it returns must
// be. The suite works with times around time.Now(), so a store with an
// injectable clock must run it on the real clock.
func Run(t *testing.T, newStore func(t *testing.T) jwtauth.Store) {
	t.Helper()
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, newStore(t))
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, s jwtauth.Store)
}

func cases() []testCase {
	return []testCase{
		{"RevokedUnknown", testRevokedUnknown},
		{"RevokeFamily", testRevokeFamily},
		{"RevokeFamilyShorterExpiry", testRevokeFamilyShorterExpiry},
		{"RevokeSubject", testRevokeSubject},
		{"RevokeSubjectSubMicrosecond", testRevokeSubjectSubMicrosecond},
		{"RevokeSubjectNeverMovesBack", testRevokeSubjectNeverMovesBack},
		{"RevokeSubjectShorterExpiry", testRevokeSubjectShorterExpiry},
		{"RevokeSubjectConcurrent", testRevokeSubjectConcurrent},
		{"SeparateNamespaces", testSeparateNamespaces},
		{"Consume", testConsume},
		{"ConsumeShorterExpiry", testConsumeShorterExpiry},
		{"ConsumeConcurrentSameID", testConsumeConcurrentSameID},
		{"ConsumeConcurrentDistinctIDs", testConsumeConcurrentDistinctIDs},
		{"IDs", testIDs},
		{"CancelledContext", testCancelledContext},
	}
}

// hour is how far ahead of the wall clock the suite's expiries lie.
const hour = time.Hour

// blockLimit is how long a call with a cancelled context may take before the
// suite declares it blocked.
const blockLimit = 10 * time.Second

// base returns the current time at microsecond precision, as a token's
// IssuedAt is. Its microseconds within the millisecond are moved into
// [100, 900), so that the times the suite derives from it a few microseconds
// either side share its millisecond: a store that keeps only milliseconds
// then confuses them every time, not once in a while.
func base() time.Time {
	us := time.Now().UnixMicro()
	return time.UnixMicro(us - us%1000 + 100 + us%800)
}

func revoked(t *testing.T, s jwtauth.Store, ref jwtauth.TokenRef) bool {
	t.Helper()
	got, err := s.Revoked(t.Context(), ref)
	if err != nil {
		t.Fatalf("Revoked(%s) error: %v", fmtRef(ref), err)
	}
	return got
}

func wantRevoked(t *testing.T, s jwtauth.Store, ref jwtauth.TokenRef, want bool) {
	t.Helper()
	if got := revoked(t, s, ref); got != want {
		t.Errorf("Revoked(%s) = %v, want %v", fmtRef(ref), got, want)
	}
}

func revokeFamily(t *testing.T, s jwtauth.Store, fid string, expires time.Time) {
	t.Helper()
	if err := s.RevokeFamily(t.Context(), fid, expires); err != nil {
		t.Fatalf("RevokeFamily(%s) error: %v", short(fid), err)
	}
}

func revokeSubject(t *testing.T, s jwtauth.Store, sub string, before, expires time.Time) {
	t.Helper()
	if err := s.RevokeSubject(t.Context(), sub, before, expires); err != nil {
		t.Fatalf("RevokeSubject(%s, %s) error: %v", short(sub), fmtTime(before), err)
	}
}

func consume(t *testing.T, s jwtauth.Store, jti string, now, expires time.Time) (bool, time.Time) {
	t.Helper()
	first, usedAt, err := s.Consume(t.Context(), jti, now, expires)
	if err != nil {
		t.Fatalf("Consume(%s) error: %v", short(jti), err)
	}
	return first, usedAt
}

func wantConsume(t *testing.T, s jwtauth.Store, jti string, now, expires time.Time, wantFirst bool, wantUsedAt time.Time) {
	t.Helper()
	first, usedAt := consume(t, s, jti, now, expires)
	if first != wantFirst || !sameMicro(usedAt, wantUsedAt) {
		t.Errorf("Consume(%s, now=%s) = (%v, %s), want (%v, %s)",
			short(jti), fmtTime(now), first, fmtTime(usedAt), wantFirst, fmtTime(wantUsedAt))
	}
}

// sameMicro reports whether a and b fall in the same microsecond: a usedAt
// is now truncated to the microsecond.
func sameMicro(a, b time.Time) bool { return a.UnixMicro() == b.UnixMicro() }

func fmtTime(t time.Time) string { return t.UTC().Format("15:04:05.000000") }

func fmtRef(r jwtauth.TokenRef) string {
	return fmt.Sprintf("{Subject:%s Family:%s IssuedAt:%s}", short(r.Subject), short(r.Family), fmtTime(r.IssuedAt))
}

// short quotes an ID for a message, shortening long ones.
func short(id string) string {
	if len(id) > 40 {
		return fmt.Sprintf("%.40q…(%d bytes)", id, len(id))
	}
	return fmt.Sprintf("%q", id)
}

func testRevokedUnknown(t *testing.T, s jwtauth.Store) {
	now := base()
	for _, ref := range []jwtauth.TokenRef{
		{},
		{Subject: "alice", Family: "fam-1", IssuedAt: now},
		{Subject: "alice", Family: "fam-1", IssuedAt: time.Time{}},
		{Subject: "alice", Family: "fam-1", IssuedAt: now.Add(-24 * time.Hour)},
	} {
		wantRevoked(t, s, ref, false)
	}
}

func testRevokeFamily(t *testing.T, s jwtauth.Store) {
	now := base()
	revokeFamily(t, s, "fam-1", now.Add(hour))
	for _, ref := range []jwtauth.TokenRef{
		{Subject: "alice", Family: "fam-1", IssuedAt: now},
		{Subject: "alice", Family: "fam-1", IssuedAt: now.Add(-time.Minute)},
		{Subject: "alice", Family: "fam-1", IssuedAt: now.Add(time.Minute)},
		{Subject: "bob", Family: "fam-1", IssuedAt: now},
	} {
		wantRevoked(t, s, ref, true)
	}
	for _, ref := range []jwtauth.TokenRef{
		{Subject: "alice", Family: "fam-2", IssuedAt: now},
		{Subject: "alice", Family: "fam-10", IssuedAt: now},
		{Subject: "alice", Family: "fam-", IssuedAt: now},
		{Subject: "alice", Family: "", IssuedAt: now},
		{Subject: "fam-1", Family: "fam-2", IssuedAt: now},
	} {
		wantRevoked(t, s, ref, false)
	}
	// Revoking again is harmless.
	revokeFamily(t, s, "fam-1", now.Add(2*hour))
	wantRevoked(t, s, jwtauth.TokenRef{Subject: "alice", Family: "fam-1", IssuedAt: now}, true)
}

// testRevokeFamilyShorterExpiry checks that a second RevokeFamily with an
// earlier expiry, even one already past, does not cut short the first one's
// promise to keep the family revoked until its expiry.
func testRevokeFamilyShorterExpiry(t *testing.T, s jwtauth.Store) {
	now := base()
	ref := jwtauth.TokenRef{Subject: "alice", Family: "fam-1", IssuedAt: now}
	revokeFamily(t, s, "fam-1", now.Add(hour))
	revokeFamily(t, s, "fam-1", now.Add(time.Minute))
	wantRevoked(t, s, ref, true)
	revokeFamily(t, s, "fam-1", now.Add(-hour))
	wantRevoked(t, s, ref, true)
}

func testRevokeSubject(t *testing.T, s jwtauth.Store) {
	before := base()
	revokeSubject(t, s, "alice", before, before.Add(hour))
	for _, iat := range []time.Time{
		before,
		before.Add(-time.Microsecond),
		before.Add(-time.Millisecond),
		before.Add(-time.Minute),
		{},
	} {
		wantRevoked(t, s, jwtauth.TokenRef{Subject: "alice", Family: "fam-1", IssuedAt: iat}, true)
	}
	for _, iat := range []time.Time{
		before.Add(time.Microsecond),
		before.Add(time.Millisecond),
		before.Add(time.Minute),
	} {
		wantRevoked(t, s, jwtauth.TokenRef{Subject: "alice", Family: "fam-1", IssuedAt: iat}, false)
	}
	// Other subjects, including prefixes and extensions of the name, are
	// untouched.
	for _, sub := range []string{"bob", "alic", "alice2", "Alice", ""} {
		wantRevoked(t, s, jwtauth.TokenRef{Subject: sub, Family: "fam-1", IssuedAt: before}, false)
	}
}

// testRevokeSubjectSubMicrosecond revokes at a time between two
// microseconds: a token issued at the microsecond below is issued before it,
// one issued at the microsecond above is not (a store must truncate such a
// time, not round it).
func testRevokeSubjectSubMicrosecond(t *testing.T, s jwtauth.Store) {
	us := base()
	before := us.Add(500 * time.Nanosecond)
	revokeSubject(t, s, "alice", before, before.Add(hour))
	wantRevoked(t, s, jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: us}, true)
	wantRevoked(t, s, jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: us.Add(time.Microsecond)}, false)
}

func testRevokeSubjectNeverMovesBack(t *testing.T, s jwtauth.Store) {
	t2 := base()
	t1 := t2.Add(-time.Minute)
	t3 := t2.Add(time.Minute)
	ref := func(iat time.Time) jwtauth.TokenRef {
		return jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: iat}
	}

	revokeSubject(t, s, "alice", t2, t2.Add(hour))
	revokeSubject(t, s, "alice", t1, t1.Add(hour))
	wantRevoked(t, s, ref(t2), true)
	wantRevoked(t, s, ref(t1.Add(time.Microsecond)), true)
	wantRevoked(t, s, ref(t2.Add(time.Microsecond)), false)

	revokeSubject(t, s, "alice", t3, t3.Add(hour))
	wantRevoked(t, s, ref(t2.Add(time.Microsecond)), true)
	wantRevoked(t, s, ref(t3), true)
	wantRevoked(t, s, ref(t3.Add(time.Microsecond)), false)
}

// testRevokeSubjectShorterExpiry checks that later calls with shorter or past
// expiries keep the earlier mark alive until its own expiry.
func testRevokeSubjectShorterExpiry(t *testing.T, s jwtauth.Store) {
	now := base()
	ref := jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: now}
	revokeSubject(t, s, "alice", now, now.Add(hour))
	revokeSubject(t, s, "alice", now, now.Add(-hour))
	wantRevoked(t, s, ref, true)
	revokeSubject(t, s, "alice", now.Add(-time.Minute), now.Add(-hour))
	wantRevoked(t, s, ref, true)
	// A later time with a past expiry must not lose the earlier live mark
	// either (the later one may be forgotten at once).
	revokeSubject(t, s, "alice", now.Add(time.Minute), now.Add(-hour))
	wantRevoked(t, s, ref, true)
}

// testRevokeSubjectConcurrent races RevokeSubject calls with times a
// microsecond apart: the mark must end at the latest of them, whatever order
// they landed in.
func testRevokeSubjectConcurrent(t *testing.T, s jwtauth.Store) {
	const n = 20
	now := base()
	ctx := t.Context()
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.RevokeSubject(ctx, "alice", now.Add(time.Duration(i)*time.Microsecond), now.Add(hour))
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent RevokeSubject: %v", err)
	}
	last := now.Add((n - 1) * time.Microsecond)
	wantRevoked(t, s, jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: last}, true)
	wantRevoked(t, s, jwtauth.TokenRef{Subject: "alice", Family: "f", IssuedAt: last.Add(time.Microsecond)}, false)
}

// testSeparateNamespaces uses one string as a family, a subject and a jti:
// each kind of entry affects only its own kind.
func testSeparateNamespaces(t *testing.T, s jwtauth.Store) {
	now := base()
	exp := now.Add(hour)

	revokeFamily(t, s, "x", exp)
	wantRevoked(t, s, jwtauth.TokenRef{Subject: "x", Family: "other", IssuedAt: now}, false)
	wantConsume(t, s, "x", now, exp, true, now)

	revokeSubject(t, s, "y", now, exp)
	wantRevoked(t, s, jwtauth.TokenRef{Subject: "other", Family: "y", IssuedAt: now}, false)
	wantConsume(t, s, "y", now, exp, true, now)

	wantConsume(t, s, "z", now, exp, true, now)
	wantRevoked(t, s, jwtauth.TokenRef{Subject: "z", Family: "z", IssuedAt: now}, false)
	wantRevoked(t, s, jwtauth.TokenRef{Subject: "x", Family: "y", IssuedAt: now}, false)
}

func testConsume(t *testing.T, s jwtauth.Store) {
	// now has sub-millisecond and sub-microsecond digits on purpose: usedAt
	// must be now truncated to the microsecond.
	now := base().Add(789 * time.Nanosecond)
	exp := now.Add(hour)
	wantConsume(t, s, "jti-1", now, exp, true, now)
	wantConsume(t, s, "jti-1", now.Add(time.Second), exp, false, now)
	wantConsume(t, s, "jti-1", now.Add(2*time.Second), exp.Add(time.Minute), false, now)
	wantConsume(t, s, "jti-2", now.Add(3*time.Second), exp, true, now.Add(3*time.Second))
	wantConsume(t, s, "jti-2", now.Add(4*time.Second), exp, false, now.Add(3*time.Second))
	wantConsume(t, s, "jti-1", now.Add(5*time.Second), exp, false, now)
}

// testConsumeShorterExpiry checks that a second Consume with a shorter or
// past expiry still sees the first, live mark.
func testConsumeShorterExpiry(t *testing.T, s jwtauth.Store) {
	now := base()
	wantConsume(t, s, "jti-1", now, now.Add(hour), true, now)
	wantConsume(t, s, "jti-1", now.Add(time.Second), now.Add(time.Minute), false, now)
	wantConsume(t, s, "jti-1", now.Add(2*time.Second), now.Add(-hour), false, now)
	// The calls above must not have shortened the mark either.
	wantConsume(t, s, "jti-1", now.Add(3*time.Second), now.Add(hour), false, now)
}

type consumeResult struct {
	first  bool
	usedAt time.Time
	err    error
}

// testConsumeConcurrentSameID starts 50 Consume calls with one jti at once,
// each with its own now, a microsecond apart: exactly one is first, and all
// others report its now as usedAt.
func testConsumeConcurrentSameID(t *testing.T, s jwtauth.Store) {
	const n = 50
	now := base()
	ctx := t.Context()
	start := make(chan struct{})
	res := make([]consumeResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			r := &res[i]
			r.first, r.usedAt, r.err = s.Consume(ctx, "jti-race", now.Add(time.Duration(i)*time.Microsecond), now.Add(hour))
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("goroutine %d: Consume error: %v", i, r.err)
		}
		if r.first {
			if winner >= 0 {
				t.Fatalf("goroutines %d and %d both got first == true", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d concurrent Consume calls got first == true", n)
	}
	want := now.Add(time.Duration(winner) * time.Microsecond)
	for i, r := range res {
		if !sameMicro(r.usedAt, want) {
			t.Errorf("goroutine %d: usedAt = %s, want the winner's (goroutine %d) now %s",
				i, fmtTime(r.usedAt), winner, fmtTime(want))
		}
	}
}

// testConsumeConcurrentDistinctIDs consumes many distinct IDs concurrently:
// every call is first.
func testConsumeConcurrentDistinctIDs(t *testing.T, s jwtauth.Store) {
	const goroutines, perGoroutine = 50, 4
	now := base()
	ctx := t.Context()
	start := make(chan struct{})
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			<-start
			for j := range perGoroutine {
				jti := fmt.Sprintf("jti-%d-%d", g, j)
				first, _, err := s.Consume(ctx, jti, now, now.Add(hour))
				if err != nil {
					errs[g] = fmt.Errorf("Consume(%q): %w", jti, err)
					return
				}
				if !first {
					errs[g] = fmt.Errorf("Consume(%q) = first false on its first use", jti)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// awkwardIDs are distinct IDs that a store which builds queries or keys from
// strings, pattern-matches, folds case, trims or normalizes would confuse.
func awkwardIDs() []string {
	return []string{
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
		"fam:x",
		"sub:x",
		"used:x",
		"a",
		"A",
		"a ",
		" a",
		"a\n",
		"\t",
		"é",       // U+00E9, precomposed
		"e\u0301", // e + combining acute: the same text in NFD
		"ﬁ",       // U+FB01, NFKC "fi"
		"fi",
		"توکن خانواده",
		"سنفی:کاربر:۱۲۳",
		"😀👍🏽",
		strings.Repeat("x", 1024),
		strings.Repeat("x", 1023) + "y",
		strings.Repeat("ی", 512), // 1 KiB of two-byte runes
	}
}

// testIDs revokes every other awkward ID as a family, the rest as subjects,
// consumes each as a jti, and checks that no two of them collide.
func testIDs(t *testing.T, s jwtauth.Store) {
	now := base()
	exp := now.Add(hour)
	ids := awkwardIDs()
	for i, id := range ids {
		if i%2 == 0 {
			revokeFamily(t, s, id, exp)
		} else {
			revokeSubject(t, s, id, now, exp)
		}
	}
	for i, id := range ids {
		wantRevoked(t, s, jwtauth.TokenRef{Subject: "nobody", Family: id, IssuedAt: now}, i%2 == 0)
		wantRevoked(t, s, jwtauth.TokenRef{Subject: id, Family: "none", IssuedAt: now}, i%2 == 1)
	}
	// Each jti is consumed at its own time, so a collision shows as a wrong
	// usedAt.
	at := func(i int) time.Time { return now.Add(time.Duration(i) * time.Second) }
	for i, id := range ids {
		wantConsume(t, s, id, at(i), exp, true, at(i))
	}
	for i, id := range ids {
		wantConsume(t, s, id, now.Add(hour/2), exp, false, at(i))
	}
}

// testCancelledContext calls every method with an already cancelled context:
// each must return promptly, with an error or a correct answer.
func testCancelledContext(t *testing.T, s jwtauth.Store) {
	now := base()
	exp := now.Add(hour)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	// bounded runs f and fails the test if it does not return in time.
	bounded := func(name string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() {
			defer close(done)
			f()
		}()
		timer := time.NewTimer(blockLimit)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			t.Fatalf("%s with a cancelled context did not return within %v", name, blockLimit)
		}
	}

	revokeFamily(t, s, "fam-known", exp)
	known := jwtauth.TokenRef{Subject: "alice", Family: "fam-known", IssuedAt: now}
	unknown := jwtauth.TokenRef{Subject: "alice", Family: "fam-unknown", IssuedAt: now}
	for _, c := range []struct {
		ref  jwtauth.TokenRef
		want bool
	}{{known, true}, {unknown, false}} {
		var got bool
		var err error
		bounded("Revoked", func() { got, err = s.Revoked(cancelled, c.ref) })
		if err == nil && got != c.want {
			t.Errorf("Revoked(cancelled ctx, %s) = %v without an error, want %v", fmtRef(c.ref), got, c.want)
		}
	}

	var first bool
	var usedAt time.Time
	var err error
	bounded("Consume", func() { first, usedAt, err = s.Consume(cancelled, "jti-1", now, exp) })
	if err == nil {
		if !first || !sameMicro(usedAt, now) {
			t.Errorf("Consume(cancelled ctx) of a new jti = (%v, %s) without an error, want (true, %s)",
				first, fmtTime(usedAt), fmtTime(now))
		}
		wantConsume(t, s, "jti-1", now.Add(time.Second), exp, false, now)
	}

	bounded("RevokeFamily", func() { err = s.RevokeFamily(cancelled, "fam-2", exp) })
	if err == nil {
		wantRevoked(t, s, jwtauth.TokenRef{Subject: "alice", Family: "fam-2", IssuedAt: now}, true)
	}

	bounded("RevokeSubject", func() { err = s.RevokeSubject(cancelled, "bob", now, exp) })
	if err == nil {
		wantRevoked(t, s, jwtauth.TokenRef{Subject: "bob", Family: "f", IssuedAt: now}, true)
	}
}
