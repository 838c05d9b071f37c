package password

import (
	"fmt"
	"strings"
)

// Rule identifies the rule a password broke. Its value is a stable,
// machine-readable code that applications send to clients and use as the
// key of their translations. Where Django has a validator for the same rule,
// the code is Django's (password_too_short, password_too_common,
// password_too_similar, password_entirely_numeric), so clients of the Django
// original keep working.
type Rule string

// The rules of a [Policy], and [RuleBreached] of [Breached].
const (
	// RuleTooShort: fewer characters (Unicode code points) than
	// Policy.MinLength. Parameters: Min, Length.
	RuleTooShort Rule = "password_too_short"
	// RuleTooLong: more characters than Policy.MaxLength. Parameters: Max,
	// Length.
	RuleTooLong Rule = "password_too_long"
	// RuleMissingUpper: Policy.RequireUpper is set and there is no
	// upper-case letter.
	RuleMissingUpper Rule = "password_missing_upper"
	// RuleMissingLower: Policy.RequireLower is set and there is no
	// lower-case letter.
	RuleMissingLower Rule = "password_missing_lower"
	// RuleMissingDigit: Policy.RequireDigit is set and there is no digit.
	RuleMissingDigit Rule = "password_missing_digit"
	// RuleMissingSymbol: Policy.RequireSymbol is set and there is no
	// symbol. Parameter: Symbols, the accepted set (empty means any
	// punctuation or symbol character).
	RuleMissingSymbol Rule = "password_missing_symbol"
	// RuleNumeric: Policy.RejectNumeric is set and the password consists
	// of digits only.
	RuleNumeric Rule = "password_entirely_numeric"
	// RuleCommon: the password is on the policy's [Blocklist].
	RuleCommon Rule = "password_too_common"
	// RuleSimilar: the password is too similar to a user attribute.
	// Parameter: Attribute, the [Attribute.Name].
	RuleSimilar Rule = "password_too_similar"
	// RuleBreached: the password appears in a breach corpus; reported by
	// [Breached]. Parameter: Count, how often it was seen.
	RuleBreached Rule = "password_breached"
)

// Violation is one broken rule, with the parameters a translation needs.
// Only the fields listed for its Rule are set; the others are zero. The
// zero Violation is not a meaningful value. Violations are plain values,
// safe to copy and to share between goroutines.
//
// Error and String give an English message; applications that speak
// another language switch on Rule and format the parameters themselves.
type Violation struct {
	// Rule is the broken rule.
	Rule Rule
	// Min is the minimum length in characters, for RuleTooShort.
	Min int
	// Max is the maximum length in characters, for RuleTooLong.
	Max int
	// Length is the password's length in characters (Unicode code
	// points), for RuleTooShort and RuleTooLong.
	Length int
	// Symbols lists the characters that count as symbols, for
	// RuleMissingSymbol; empty means any punctuation or symbol character.
	Symbols string
	// Attribute is the name of the user attribute the password resembles,
	// for RuleSimilar.
	Attribute string
	// Count is the number of times the password was seen in breaches, for
	// RuleBreached.
	Count int64
}

// String returns the violation in English, such as "password must be at
// least 15 characters long (it has 9)". It is the same as Error.
func (v Violation) String() string { return "password " + v.detail() }

// Error implements error, so that a single Violation can be returned,
// wrapped or logged on its own. It is the same as String.
func (v Violation) Error() string { return v.String() }

// detail is the message without its subject: "must be at least ...".
func (v Violation) detail() string {
	switch v.Rule {
	case RuleTooShort:
		return fmt.Sprintf("must be at least %d characters long (it has %d)", v.Min, v.Length)
	case RuleTooLong:
		return fmt.Sprintf("must be at most %d characters long (it has %d)", v.Max, v.Length)
	case RuleMissingUpper:
		return "must contain an upper-case letter"
	case RuleMissingLower:
		return "must contain a lower-case letter"
	case RuleMissingDigit:
		return "must contain a digit"
	case RuleMissingSymbol:
		if v.Symbols == "" {
			return "must contain a punctuation mark or symbol"
		}
		return fmt.Sprintf("must contain one of the characters %s", v.Symbols)
	case RuleNumeric:
		return "must not consist of digits only"
	case RuleCommon:
		return "is too common"
	case RuleSimilar:
		return fmt.Sprintf("is too similar to the %s", v.Attribute)
	case RuleBreached:
		return fmt.Sprintf("has appeared in a data breach (%d times)", v.Count)
	}
	return fmt.Sprintf("breaks rule %q", string(v.Rule))
}

// ValidationError is the error [Policy.Validate] and [Breached] return when
// a password is refused. It lists every broken rule, in a fixed order:
// length, composition, numeric, common, similarity (one per attribute),
// breach. It wraps [ErrRejected]. A ValidationError is not modified after
// it is returned and is safe to share.
type ValidationError struct {
	// Violations holds at least one entry.
	Violations []Violation
}

// Error joins the English messages: "password: must be at least 15
// characters long (it has 9); is too common".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("password: ")
	for i, v := range e.Violations {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.detail())
	}
	return b.String()
}

// Unwrap returns [ErrRejected].
func (e *ValidationError) Unwrap() error { return ErrRejected }

// Has reports whether one of the violations is of rule r.
func (e *ValidationError) Has(r Rule) bool {
	for _, v := range e.Violations {
		if v.Rule == r {
			return true
		}
	}
	return false
}
