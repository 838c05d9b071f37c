package password

import (
	"bufio"
	"compress/gzip"
	"slices"
	"strings"
	"sync"

	"github.com/senfi-sharif/senfi/jwtauth/password/internal/commonlist"
)

// Blocklist is a set of passwords a [Policy] refuses (rule [RuleCommon]).
//
// Contains is called with the password lower-cased ([strings.ToLower]) and
// with leading and trailing white space removed ([strings.TrimSpace]), as
// Django's CommonPasswordValidator compares. It must be safe for concurrent
// use. Implementations that query a remote service should not be used here,
// because [Policy.Validate] takes no context; do such checks with
// [Breached] instead.
type Blocklist interface {
	Contains(password string) bool
}

// BlocklistFunc adapts a function to [Blocklist].
type BlocklistFunc func(password string) bool

// Contains calls f(password).
func (f BlocklistFunc) Contains(password string) bool { return f(password) }

var _ Blocklist = (*List)(nil)

// List is an immutable, sorted set of passwords; it implements [Blocklist].
// A List is safe for concurrent use. The zero List is empty. Build one with
// [NewList], or use the shared [CommonPasswords].
type List struct {
	words []string // lower-cased, trimmed, sorted by byte value, no duplicates
	// broken is set when the embedded list could not be decoded; the List
	// then contains every password, so that a damaged build fails closed.
	broken bool
}

// NewList returns a List of the given passwords, lower-cased and trimmed of
// surrounding white space, with duplicates and empty entries dropped. The
// words slice is not retained.
func NewList(words []string) *List {
	out := make([]string, 0, len(words))
	for _, w := range words {
		if w = normalizeCommon(w); w != "" {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return &List{words: slices.Compact(out)}
}

// Contains reports whether password, lower-cased and trimmed of
// surrounding white space, is in the list. The lookup is a binary search and
// does not allocate for passwords without upper-case letters or
// surrounding space.
func (l *List) Contains(password string) bool {
	if l == nil {
		return false
	}
	if l.broken {
		return true
	}
	_, found := slices.BinarySearch(l.words, normalizeCommon(password))
	return found
}

// Len returns the number of passwords in the list.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.words)
}

// All calls yield for each password of the list, in byte order, until yield
// returns false. It lets an application inspect or extend the list:
// NewList(append(slices.Collect(password.CommonPasswords().All), more...)).
func (l *List) All(yield func(string) bool) {
	if l == nil {
		return
	}
	for _, w := range l.words {
		if !yield(w) {
			return
		}
	}
}

// CommonPasswords returns the shared list of common passwords embedded in
// the package: 53,961 passwords, the union of zxcvbn's list (Mark
// Burnett's ten million passwords, MIT licence) and Django's
// CommonPasswordValidator list (BSD-3-Clause), described in
// internal/commonlist/NOTICE.md. It is the default [Policy.Blocklist].
//
// The list is decompressed on the first call (about 10 ms and 1.3 MiB of
// memory) and shared by every later call; this lazily built value,
// held by a package-level [sync.OnceValue], is the package's only state.
// The returned List is immutable and safe for concurrent use. If the
// embedded data were damaged (it is checked by the package's tests), the
// List would contain every password, so that validation fails closed.
func CommonPasswords() *List { return commonPasswords() }

var commonPasswords = sync.OnceValue(loadCommonPasswords)

func loadCommonPasswords() *List {
	zr, err := gzip.NewReader(commonlist.Open())
	if err != nil {
		return &List{broken: true}
	}
	var b strings.Builder
	b.Grow(450 << 10)
	sc := bufio.NewScanner(zr)
	var n int
	for sc.Scan() {
		b.Write(sc.Bytes())
		b.WriteByte('\n')
		n++
	}
	if sc.Err() != nil || n == 0 {
		return &List{broken: true}
	}
	// One string holds the whole list; the words are substrings of it.
	all := b.String()
	words := make([]string, 0, n)
	for w := range strings.SplitSeq(strings.TrimSuffix(all, "\n"), "\n") {
		words = append(words, w)
	}
	if !slices.IsSorted(words) {
		return NewList(words)
	}
	return &List{words: words}
}

// normalizeCommon is Django's CommonPasswordValidator normalisation:
// password.lower().strip().
func normalizeCommon(s string) string {
	return strings.TrimSpace(strings.ToLower(s))
}
