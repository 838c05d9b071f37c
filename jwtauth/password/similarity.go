package password

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Attribute is a piece of personal information a password must not
// resemble, such as the user's e-mail address or name. Name identifies it
// in the resulting [Violation] (and so in the message shown to the user);
// Value is compared with the password. Attributes with an empty Value are
// ignored.
type Attribute struct {
	Name  string
	Value string
}

// MinSimilarPart is the shortest attribute part, in characters, that the
// containment test of the similarity rule looks for in a password (and the
// shortest password it looks for in a part). See [Policy] for the rule.
const MinSimilarPart = 3

// MaxAttributeBytes bounds how much of an [Attribute] value the similarity
// check reads: only the first 256 bytes, cut at a character boundary, are
// compared. Real values are shorter (an e-mail address has at most 254
// bytes), and the bound keeps the check's work small even when an
// application passes a value taken straight from a request.
const MaxAttributeBytes = 256

// DefaultMaxSimilarity is the similarity ratio at or above which a password
// is too similar to an attribute part: Django's default for
// UserAttributeSimilarityValidator.
const DefaultMaxSimilarity = 0.7

// tooSimilar reports whether the password resembles the attribute value v.
// pw holds the runes of pwLower, the lower-cased password. See the Policy
// documentation for the rule.
func tooSimilar(pw []rune, pwLower string, v string, maxSim float64) bool {
	if len(v) > MaxAttributeBytes {
		cut := MaxAttributeBytes
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut]
	}
	v = strings.ToLower(v)
	if v == "" {
		return false
	}
	local := v // the part that identifies the person
	if i := strings.LastIndexByte(v, '@'); i >= 0 {
		local = v[:i]
	}
	packed := compact(local)

	// Rule 1, Django's: the quick ratio of the password and each part.
	similar := func(part string) bool {
		return part != "" && ratioAtLeast(pw, part, maxSim)
	}
	if similar(v) || similar(local) || similar(packed) {
		return true
	}
	for _, underscore := range []bool{true, false} {
		for part := range pieces(v, underscore) {
			if similar(part) {
				return true
			}
		}
	}

	// Rule 2: containment, either way, of parts of at least MinSimilarPart
	// characters. The domain of an e-mail address is left out: every user
	// of the site shares it.
	pwLen := len(pw)
	contains := func(part string) bool {
		if utf8.RuneCountInString(part) >= MinSimilarPart && strings.Contains(pwLower, part) {
			return true
		}
		return pwLen >= MinSimilarPart && strings.Contains(part, pwLower)
	}
	if contains(local) || contains(packed) {
		return true
	}
	for part := range pieces(local, false) {
		if contains(part) {
			return true
		}
	}
	return false
}

// isWordRune reports whether r belongs to a part: a letter or a number,
// and, when underscore is set (Python's \w, which Django splits on), '_'.
// Everything else (punctuation, white space, marks, ZWNJ) separates parts.
func isWordRune(r rune, underscore bool) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || (underscore && r == '_')
}

// pieces yields the maximal runs of word runes of s.
func pieces(s string, underscore bool) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start := -1
		for i, r := range s {
			if isWordRune(r, underscore) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				if !yield(s[start:i]) {
					return
				}
				start = -1
			}
		}
		if start >= 0 {
			yield(s[start:])
		}
	}
}

// compact returns s without the characters that separate parts
// ("ali_rezaei.1380" → "alirezaei1380"); s itself when it has none.
func compact(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !isWordRune(r, false) }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isWordRune(r, false) {
			return r
		}
		return -1
	}, s)
}

// ratioAtLeast reports whether Python's difflib.SequenceMatcher(a=pw,
// b=part).quick_ratio() is at least maxSim, skipping (as Django's
// exceeds_maximum_length_ratio does) parts so much shorter than the
// password that the ratio cannot reach the threshold.
//
// quick_ratio is 2*M/T, where T is the total length of both strings and M
// the number of characters they have in common counted with multiplicity
// (the size of the multiset intersection), order ignored.
func ratioAtLeast(pw []rune, part string, maxSim float64) bool {
	pwLen := len(pw)
	partLen := utf8.RuneCountInString(part)
	if pwLen >= 10*partLen && float64(partLen) < maxSim/2*float64(pwLen) {
		return false
	}
	total := pwLen + partLen
	if total == 0 {
		return true
	}
	var ascii [utf8.RuneSelf]int32
	var other map[rune]int32
	for _, r := range part {
		if r < utf8.RuneSelf {
			ascii[r]++
			continue
		}
		if other == nil {
			other = make(map[rune]int32)
		}
		other[r]++
	}
	matches := 0
	for _, r := range pw {
		if r < utf8.RuneSelf {
			if ascii[r] > 0 {
				ascii[r]--
				matches++
			}
			continue
		}
		if other[r] > 0 {
			other[r]--
			matches++
		}
	}
	return 2*float64(matches)/float64(total) >= maxSim
}
