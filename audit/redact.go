package audit

import (
	"strings"
	"unicode/utf8"
)

// Redacted replaces the value of every attribute whose key is on the
// deny-list, and every string value that looks like a credential.
const Redacted = "[REDACTED]"

// DefaultRedactKeys returns the deny-list every Logger applies: keys naming
// passwords, tokens, secrets, cookies, authorization headers, one-time codes
// and session identifiers. Options.RedactKeys adds to it and
// Options.AllowKeys exempts exact keys from it.
//
// A key matches when, after normalization (lower case; '-', '.', ' ' and
// camelCase boundaries become '_'), it equals an entry, or one of its
// '_'-separated words or two adjacent words does: "password",
// "new_password", "X-Auth-Token", "refreshToken" and "api_key" all match;
// "email", "status" and "tokenizer" do not. So does "status_code", because
// "code" is on the list (one-time codes are secrets): exempt it with
// Options.AllowKeys if you log one.
func DefaultRedactKeys() []string {
	return []string{
		"password", "passwd", "pwd", "passphrase", "pass",
		"secret", "token", "jwt", "bearer", "authorization", "auth_header",
		"cookie", "cookies", "set_cookie", "csrf", "xsrf", "csrftoken",
		"session", "sessionid", "code", "otp", "pin",
		"api_key", "apikey", "private_key", "privatekey", "credential", "credentials",
		"signing_key", "dsn",
	}
}

// redactor decides which keys and values are secret. It is immutable after
// newRedactor.
type redactor struct {
	deny  map[string]struct{}
	allow map[string]struct{}
}

func newRedactor(extra, allow []string) *redactor {
	r := &redactor{deny: map[string]struct{}{}, allow: map[string]struct{}{}}
	for _, k := range append(DefaultRedactKeys(), extra...) {
		if n := normalizeKey(nil, k); len(n) > 0 {
			r.deny[string(n)] = struct{}{}
		}
	}
	for _, k := range allow {
		r.allow[string(normalizeKey(nil, k))] = struct{}{}
	}
	return r
}

// denied reports whether an attribute named key must be redacted. It does
// not allocate for keys of up to 64 bytes.
func (r *redactor) denied(key string) bool {
	var arr [64]byte
	n := normalizeKey(arr[:0], key)
	if _, ok := r.allow[string(n)]; ok {
		return false
	}
	if _, ok := r.deny[string(n)]; ok {
		return true
	}
	start, prev := 0, -1
	for i := 0; i <= len(n); i++ {
		if i < len(n) && n[i] != '_' {
			continue
		}
		if i > start {
			if _, ok := r.deny[string(n[start:i])]; ok {
				return true
			}
			if prev >= 0 {
				if _, ok := r.deny[string(n[prev:i])]; ok {
					return true
				}
			}
			prev = start
		}
		start = i + 1
	}
	return false
}

// normalizeKey appends the normalized form of key to dst: ASCII lower case,
// '-', '.', ' ' and camelCase boundaries turned into '_'. Other bytes are
// kept.
func normalizeKey(dst []byte, key string) []byte {
	if isNormal(key) {
		return append(dst, key...)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '-' || c == '.' || c == ' ':
			dst = append(dst, '_')
		case 'A' <= c && c <= 'Z':
			if i > 0 && len(dst) > 0 && dst[len(dst)-1] != '_' {
				p := key[i-1]
				lowerBefore := 'a' <= p && p <= 'z' || '0' <= p && p <= '9'
				acronymEnd := 'A' <= p && p <= 'Z' && i+1 < len(key) && 'a' <= key[i+1] && key[i+1] <= 'z'
				if lowerBefore || acronymEnd {
					dst = append(dst, '_')
				}
			}
			dst = append(dst, c+'a'-'A')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// looksSecret reports whether a string value is a credential whatever its
// key: a JSON Web Token (three base64url segments, the first a JSON header
// starting "eyJ") or an HTTP Authorization value ("Bearer ...", "Basic ...").
func looksSecret(s string) bool {
	if len(s) < 16 {
		return false
	}
	if hasPrefixFold(s, "bearer ") || hasPrefixFold(s, "basic ") {
		return true
	}
	return looksLikeJWT(s)
}

// looksLikeJWT reports whether s contains a JWS compact serialization with a
// JSON header: "eyJ" followed by base64url characters with exactly two dots
// among them.
func looksLikeJWT(s string) bool {
	for {
		i := strings.Index(s, "eyJ")
		if i < 0 {
			return false
		}
		s = s[i:]
		dots, n := 0, 0
		for n < len(s) && isBase64URL(s[n], &dots) {
			n++
		}
		if dots == 2 && n >= 16 {
			return true
		}
		s = s[3:]
	}
}

func isBase64URL(c byte, dots *int) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		return true
	case c == '.' && *dots < 2:
		*dots++
		return true
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isNormal reports whether key is already normalized: lower-case ASCII
// letters, digits and '_', as most keys are.
func isNormal(key string) bool {
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
