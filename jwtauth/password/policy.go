package password

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length bounds, in characters (Unicode code points).
const (
	// DefaultMinLength is the minimum length of [NIST] and of a Policy
	// whose MinLength is zero: NIST SP 800-63B-4 requires at least 15
	// characters for passwords that are the only authentication factor.
	DefaultMinLength = 15
	// DefaultMaxLength is the maximum length of both presets and of a
	// Policy whose MaxLength is zero. SP 800-63B-4 asks verifiers to accept
	// at least 64 characters; 128 leaves room for long passphrases while
	// keeping the work of hashing and of the similarity check bounded.
	DefaultMaxLength = 128
	// MaxLengthLimit is the largest MaxLength a Policy may set: 1024
	// characters are at most 4096 bytes of UTF-8, the default
	// Options.MaxPasswordBytes of the [Hasher], so every password a valid
	// Policy accepts can be hashed with the default options.
	MaxLengthLimit = 1024
)

// LegacySymbols is the set of special characters the Senfi original's
// PasswordComplexityValidator accepted, exactly: characters such as
// - _ + = [ ] ; ' / \ ~ and ` did not count. [SenfiLegacy] uses it.
const LegacySymbols = `!@#$%^&*(),.?":{}|<>`

// Policy is a set of password rules. It is a plain value: build it with
// [NIST] or [SenfiLegacy], or as a struct literal, and change fields as
// needed. A Policy is not modified by its methods and is safe for
// concurrent use, provided its Blocklist is.
//
// # Zero value
//
// The zero Policy is the [NIST] policy: 15 to 128 characters, no
// composition rules, the embedded common-password list and the similarity
// check. Every field's zero value means the safe default, and any rule that
// is on by default is switched off by its own Disable field. This is the
// fail-safe choice: a Policy left empty by mistake, or a configuration
// struct missing a field, still refuses "123456" and one-letter passwords,
// instead of accepting everything as a "no rules" zero value would.
//
// # Length
//
// Length is counted in Unicode code points ([utf8.RuneCountInString]): a
// Persian letter, an emoji or a combining accent counts as one character
// each, so "é" written as e + U+0301 counts as two. Passwords are never
// trimmed, truncated or normalised: leading and trailing spaces count and
// are part of the password, and the bytes that are validated are the bytes
// that are hashed. (Normalising would also break the verification of
// hashes migrated from Django, which hashed the exact string.) Invalid
// UTF-8 bytes count as one character each.
//
// # Similarity to user attributes
//
// Validate compares the password with each [Attribute] given to it,
// following Django's UserAttributeSimilarityValidator and the Senfi
// original's PersianUserAttributeSimilarityValidator. The password and the
// value (its first [MaxAttributeBytes] bytes) are lower-cased
// ([strings.ToLower]). The value's parts are:
//
//   - the whole value;
//   - for a value with an '@' (an e-mail address), the local part before
//     the last '@';
//   - the pieces left after splitting the value at every run of characters
//     that are neither letters nor numbers ('.', '-', '_', '+', spaces,
//     '@', ZWNJ, ...), and, as Django does, the pieces when '_' does not
//     split: "ali_rezaei.1380@sharif.edu" gives ali, rezaei, 1380, sharif,
//     edu and ali_rezaei;
//   - the local part (or value) with those separators removed
//     ("alirezaei1380").
//
// The password is too similar to the attribute, and a [RuleSimilar]
// violation names the attribute, if either test holds:
//
//  1. Ratio (Django's test): for some part, Python's
//     difflib.SequenceMatcher quick_ratio of password and part, that is
//     2·M/(len(password)+len(part)) where M counts the characters the two
//     have in common with multiplicity, regardless of order, is at least
//     MaxSimilarity (0.7 by default). As in Django, a part is skipped when
//     the password is at least ten times longer and the ratio cannot reach
//     the threshold.
//  2. Containment (the original's test, made symmetric): some part of at
//     least [MinSimilarPart] (3) characters occurs in the password, or the
//     password (at least 3 characters) occurs in a part. For an e-mail
//     address only the local part, its pieces and its compact form are
//     used here, not the domain, which every user of the site shares.
//
// Containment is strict on purpose: with a first name "Ali", any password
// containing "ali" is refused ("quality" included), which is what the
// original did. Pass only attributes that identify the person.
type Policy struct {
	// MinLength is the minimum length in characters.
	// Zero value: DefaultMinLength (15).
	MinLength int
	// MaxLength is the maximum length in characters, at most
	// MaxLengthLimit. A password over it is not compared with the
	// blocklist or the attributes (it is refused anyway), which bounds the
	// work a hostile input can cause. Zero value: DefaultMaxLength (128).
	MaxLength int

	// RequireUpper requires an upper-case letter: unicode.IsUpper, or
	// A-Z only with ASCIILetters. Zero value: false (NIST forbids
	// composition rules).
	RequireUpper bool
	// RequireLower requires a lower-case letter: unicode.IsLower, or a-z
	// only with ASCIILetters. Zero value: false.
	RequireLower bool
	// RequireDigit requires a digit: any Unicode decimal digit
	// (unicode.IsDigit, the same set as Python's \d, so the Persian ۱
	// counts), or 0-9 only with ASCIIDigits. Zero value: false.
	RequireDigit bool
	// RequireSymbol requires one character of Symbols. Zero value: false.
	RequireSymbol bool
	// ASCIILetters makes RequireUpper and RequireLower accept only A-Z
	// and a-z, as the original's [A-Z] and [a-z] did. Zero value: false,
	// any upper- or lower-case letter counts (É, Ω).
	ASCIILetters bool
	// ASCIIDigits makes RequireDigit accept only 0-9. Zero value: false,
	// any decimal digit counts.
	ASCIIDigits bool
	// Symbols lists the characters that satisfy RequireSymbol; letters,
	// digits and white space are not allowed in it. Zero value: any
	// punctuation or symbol character (unicode.IsPunct or
	// unicode.IsSymbol, which includes every printable ASCII character
	// that is not a letter, digit or space, and emoji).
	Symbols string

	// RejectNumeric refuses passwords made of digits only (any Unicode
	// decimal digit), as Django's NumericPasswordValidator does.
	// Zero value: false.
	RejectNumeric bool

	// Blocklist is the list of refused passwords; see [Blocklist] for how
	// passwords are compared. Zero value: [CommonPasswords].
	Blocklist Blocklist
	// DisableBlocklist switches the blocklist check off. Zero value: false.
	DisableBlocklist bool

	// MaxSimilarity is the ratio threshold of the similarity test,
	// between 0.1 and 1 (Django's bounds; 1 refuses only parts made of
	// exactly the password's characters). Zero value: DefaultMaxSimilarity
	// (0.7).
	MaxSimilarity float64
	// DisableSimilarity switches the similarity check off; attributes
	// passed to Validate are then ignored. Zero value: false.
	DisableSimilarity bool
}

// NIST returns the default policy, following NIST SP 800-63B-4 (section
// 3.1.1.2) and the OWASP Authentication Cheat Sheet: at least 15
// characters (the minimum for a password that is the only factor), at most
// 128, every character allowed, no composition rules, no numeric-only rule,
// a blocklist of common passwords ([CommonPasswords]) and the similarity
// check. It equals the zero Policy, with the defaults written out.
//
// For a password that is only one factor of multi-factor authentication,
// SP 800-63B-4 allows a minimum of 8: set MinLength to 8. A breached-password
// check ([Breached]) completes the NIST recommendations.
func NIST() Policy {
	return Policy{
		MinLength:     DefaultMinLength,
		MaxLength:     DefaultMaxLength,
		MaxSimilarity: DefaultMaxSimilarity,
	}
}

// SenfiLegacy returns the Senfi original's rules, for deployments that must
// keep them: at least 8 characters; an ASCII upper-case letter A-Z; an
// ASCII lower-case letter a-z; a digit, where any Unicode decimal digit
// such as ۱ counts (Python's \d); one of [LegacySymbols]; plus what
// Django's validators in the original's settings checked: not a common
// password, not entirely numeric, not similar to the user's attributes.
//
// Unlike the original it reports every broken rule, not only the first;
// it has a maximum length (128 characters; the original had none, which
// made its million-round PBKDF2 a CPU denial of service); and it never
// trims the password.
func SenfiLegacy() Policy {
	return Policy{
		MinLength:     8,
		MaxLength:     DefaultMaxLength,
		RequireUpper:  true,
		RequireLower:  true,
		RequireDigit:  true,
		RequireSymbol: true,
		ASCIILetters:  true,
		Symbols:       LegacySymbols,
		RejectNumeric: true,
		MaxSimilarity: DefaultMaxSimilarity,
	}
}

// Check reports whether the policy's fields are consistent, returning an
// error that wraps [ErrInvalidPolicy] and names every problem, or nil.
// Applications call it once at start-up; Validate calls it too and refuses
// every password while the policy is invalid.
func (p Policy) Check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidPolicy}, args...)...))
	}
	if p.MinLength < 0 {
		bad("MinLength %d is negative", p.MinLength)
	}
	if p.MaxLength < 0 {
		bad("MaxLength %d is negative", p.MaxLength)
	}
	if p.MaxLength > MaxLengthLimit {
		bad("MaxLength %d is over %d; longer passwords only cost hashing time", p.MaxLength, MaxLengthLimit)
	}
	q := p.withDefaults()
	if p.MinLength >= 0 && p.MaxLength >= 0 && q.MinLength > q.MaxLength {
		bad("MinLength %d is greater than MaxLength %d", q.MinLength, q.MaxLength)
	}
	if s := p.MaxSimilarity; math.IsNaN(s) || s < 0 || (s != 0 && s < 0.1) || s > 1 {
		bad("MaxSimilarity %v is outside [0.1, 1]", s)
	}
	if p.MaxSimilarity != 0 && p.DisableSimilarity {
		bad("MaxSimilarity is set but DisableSimilarity switches the check off")
	}
	if p.Blocklist != nil && p.DisableBlocklist {
		bad("Blocklist is set but DisableBlocklist switches the check off")
	}
	if p.Symbols != "" {
		if !p.RequireSymbol {
			bad("Symbols has no effect without RequireSymbol")
		}
		if !utf8.ValidString(p.Symbols) {
			bad("Symbols is not valid UTF-8")
		} else if strings.ContainsFunc(p.Symbols, func(r rune) bool {
			return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r)
		}) {
			bad("Symbols contains a letter, digit or space")
		}
	}
	if p.ASCIILetters && !p.RequireUpper && !p.RequireLower {
		bad("ASCIILetters has no effect without RequireUpper or RequireLower")
	}
	if p.ASCIIDigits && !p.RequireDigit {
		bad("ASCIIDigits has no effect without RequireDigit")
	}
	return errors.Join(errs...)
}

// withDefaults returns p with zero length and similarity fields replaced by
// their defaults. (A nil Blocklist is resolved by blocklist, only when a
// password is checked, so that Check never loads the list.)
func (p Policy) withDefaults() Policy {
	if p.MinLength == 0 {
		p.MinLength = DefaultMinLength
	}
	if p.MaxLength == 0 {
		p.MaxLength = DefaultMaxLength
	}
	if p.MaxSimilarity == 0 {
		p.MaxSimilarity = DefaultMaxSimilarity
	}
	return p
}

// blocklist returns the policy's Blocklist, or the embedded list.
func (p Policy) blocklist() Blocklist {
	if p.Blocklist != nil {
		return p.Blocklist
	}
	return CommonPasswords()
}

// Validate checks pw against every rule of the policy and returns nil if
// it passes. Otherwise it returns a [*ValidationError] (which wraps
// [ErrRejected]) listing every violation, in this order: [RuleTooShort] or
// [RuleTooLong]; [RuleMissingUpper], [RuleMissingLower], [RuleMissingDigit],
// [RuleMissingSymbol]; [RuleNumeric]; [RuleCommon]; [RuleSimilar], once per
// attribute name, in the order given. If the policy itself is invalid (see
// [Policy.Check]) it returns that error instead, which wraps
// [ErrInvalidPolicy] and is not a ValidationError, so no password is ever
// accepted by a broken policy.
//
// attrs are the user's personal data (e-mail, names, username); those
// with an empty Value are skipped. The password and attributes are never
// included in the error.
func (p Policy) Validate(pw string, attrs ...Attribute) error {
	if err := p.Check(); err != nil {
		return err
	}
	p = p.withDefaults()

	var vs []Violation
	n := utf8.RuneCountInString(pw)
	if n < p.MinLength {
		vs = append(vs, Violation{Rule: RuleTooShort, Min: p.MinLength, Length: n})
	}
	tooLong := n > p.MaxLength
	if tooLong {
		vs = append(vs, Violation{Rule: RuleTooLong, Max: p.MaxLength, Length: n})
	}

	vs = p.composition(pw, vs)

	if p.RejectNumeric && n > 0 && !strings.ContainsFunc(pw, func(r rune) bool { return !unicode.IsDigit(r) }) {
		vs = append(vs, Violation{Rule: RuleNumeric})
	}

	if !tooLong {
		if !p.DisableBlocklist && p.blocklist().Contains(normalizeCommon(pw)) {
			vs = append(vs, Violation{Rule: RuleCommon})
		}
		if !p.DisableSimilarity && len(attrs) > 0 {
			vs = similarity(pw, attrs, p.MaxSimilarity, vs)
		}
	}

	if len(vs) == 0 {
		return nil
	}
	return &ValidationError{Violations: vs}
}

// composition appends the character-class violations of pw to vs.
func (p Policy) composition(pw string, vs []Violation) []Violation {
	if !p.RequireUpper && !p.RequireLower && !p.RequireDigit && !p.RequireSymbol {
		return vs
	}
	var upper, lower, digit, symbol bool
	for _, r := range pw {
		switch {
		case p.ASCIILetters && 'A' <= r && r <= 'Z', !p.ASCIILetters && unicode.IsUpper(r):
			upper = true
		case p.ASCIILetters && 'a' <= r && r <= 'z', !p.ASCIILetters && unicode.IsLower(r):
			lower = true
		case p.ASCIIDigits && '0' <= r && r <= '9', !p.ASCIIDigits && unicode.IsDigit(r):
			digit = true
		}
		if p.Symbols != "" {
			if strings.ContainsRune(p.Symbols, r) {
				symbol = true
			}
		} else if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			symbol = true
		}
	}
	if p.RequireUpper && !upper {
		vs = append(vs, Violation{Rule: RuleMissingUpper})
	}
	if p.RequireLower && !lower {
		vs = append(vs, Violation{Rule: RuleMissingLower})
	}
	if p.RequireDigit && !digit {
		vs = append(vs, Violation{Rule: RuleMissingDigit})
	}
	if p.RequireSymbol && !symbol {
		vs = append(vs, Violation{Rule: RuleMissingSymbol, Symbols: p.Symbols})
	}
	return vs
}

// similarity appends a RuleSimilar violation for each attribute name whose
// value pw resembles.
func similarity(pw string, attrs []Attribute, maxSim float64, vs []Violation) []Violation {
	lower := strings.ToLower(pw)
	runes := []rune(lower)
	for _, a := range attrs {
		if a.Value == "" || reported(vs, a.Name) {
			continue
		}
		if tooSimilar(runes, lower, a.Value, maxSim) {
			vs = append(vs, Violation{Rule: RuleSimilar, Attribute: a.Name})
		}
	}
	return vs
}

// reported reports whether vs already has a RuleSimilar violation for name.
func reported(vs []Violation, name string) bool {
	for _, v := range vs {
		if v.Rule == RuleSimilar && v.Attribute == name {
			return true
		}
	}
	return false
}
