package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestUserPseudonym checks the pooled computation against HMAC-SHA256
// computed directly, for several IDs in turn (a reused state must not leak
// one ID into the next).
func TestUserPseudonym(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	if _, err := UserPseudonym(key[:31]); err == nil {
		t.Fatal("a 31-byte key was accepted")
	}
	f, err := UserPseudonym(key)
	if err != nil {
		t.Fatal(err)
	}
	if got := f(""); got != "" {
		t.Errorf(`f("") = %q, want ""`, got)
	}
	for _, id := range []string{"42", "7", "123456789012345678", "42"} {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("user:" + id))
		want := "u_" + hex.EncodeToString(m.Sum(nil)[:16])
		if got := f(id); got != want {
			t.Errorf("f(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestUserPseudonymAllocs: the pseudonym runs on every authenticated
// request; it allocates only its result.
func TestUserPseudonymAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items, which then allocates")
	}
	f, err := UserPseudonym([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(100, func() { _ = f("42") }); a > 1 {
		t.Errorf("f allocates %.1f times per call, want at most 1 (the result)", a)
	}
}
