package redisstore

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "ratelimit:"

// MaxPrefixLen bounds the length of Options.Prefix, in bytes.
const MaxPrefixLen = 256

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// Prefix starts every key the store writes, so that several stores or
	// applications can share one Redis database. It must be valid UTF-8 of
	// at most MaxPrefixLen bytes, without spaces, control characters, glob
	// metacharacters (* ? [ ] \), so that SCAN MATCH and ACL key patterns
	// "<prefix>*" select exactly the store's keys, and without braces, which
	// would make a Redis Cluster hash tag that puts every key in one slot.
	// Zero value: DefaultPrefix, "ratelimit:".
	Prefix string
}

// validate checks o and returns its prefix, defaulted.
func (o Options) validate() (prefix string, err error) {
	prefix = o.Prefix
	if prefix == "" {
		return DefaultPrefix, nil
	}
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: Options.Prefix %q %s", ErrInvalidOptions, prefix, why)
	}
	switch {
	case len(prefix) > MaxPrefixLen:
		return bad(fmt.Sprintf("is longer than %d bytes", MaxPrefixLen))
	case !utf8.ValidString(prefix):
		return bad("is not valid UTF-8")
	case strings.ContainsAny(prefix, `*?[]\`):
		return bad(`contains a glob metacharacter (* ? [ ] \)`)
	case strings.ContainsAny(prefix, "{}"):
		return bad("contains a brace (a Redis Cluster hash tag would put every key in one slot)")
	case strings.ContainsFunc(prefix, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return bad("contains a space or control character")
	}
	return prefix, nil
}
