package password_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/jwtauth/password"
)

// violations returns the violations of a Validate or Breached result; it
// fails the test if err is neither nil nor a *ValidationError.
func violations(t *testing.T, err error) []password.Violation {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *password.ValidationError
	require.ErrorAs(t, err, &ve, "want a *ValidationError, got %v", err)
	require.ErrorIs(t, err, password.ErrRejected)
	require.NotEmpty(t, ve.Violations)
	return ve.Violations
}

// rules returns the rules of the violations in err, in order.
func rules(t *testing.T, err error) []password.Rule {
	t.Helper()
	var out []password.Rule
	for _, v := range violations(t, err) {
		out = append(out, v.Rule)
	}
	return out
}

// Shorthands for the rules.
const (
	short   = password.RuleTooShort
	long    = password.RuleTooLong
	upper   = password.RuleMissingUpper
	lower   = password.RuleMissingLower
	digit   = password.RuleMissingDigit
	symbol  = password.RuleMissingSymbol
	numeric = password.RuleNumeric
	common  = password.RuleCommon
	similar = password.RuleSimilar
)

func email(v string) password.Attribute { return password.Attribute{Name: "email", Value: v} }

type policyCase struct {
	name  string
	pw    string
	attrs []password.Attribute
	want  []password.Rule
}

func runPolicyCases(t *testing.T, p password.Policy, cases []policyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := rules(t, p.Validate(c.pw, c.attrs...))
			assert.Equal(t, c.want, got)
		})
	}
}

func TestNIST(t *testing.T) {
	runPolicyCases(t, password.NIST(), []policyCase{
		{name: "passphrase accepted", pw: "correct horse battery staple"},
		{name: "exactly 15 characters", pw: "quiet-river-oak"},
		{name: "14 characters", pw: "quiet-river-oa", want: []password.Rule{short}},
		{name: "empty", pw: "", want: []password.Rule{short}},
		{name: "128 characters", pw: strings.Repeat("ab3$", 32)},
		{name: "129 characters", pw: strings.Repeat("ab3$", 32) + "x", want: []password.Rule{long}},
		{name: "no composition rules: lower-case only", pw: "lowercaseletters"},
		{name: "no composition rules: digits only", pw: "839201746503918"},
		{name: "common", pw: "passwordstandard", want: []password.Rule{common}},
		{name: "common and short", pw: "password", want: []password.Rule{short, common}},
		{name: "common ignores case", pw: "PasswordStandard", want: []password.Rule{common}},
		{name: "common ignores surrounding space", pw: "  1234567890qwerty  ", want: []password.Rule{common}},
		{name: "common only as a whole", pw: "passwordstandard!"},
		{name: "Persian passphrase", pw: "رمز عبور خیلی امن من"},
		{name: "Persian too short", pw: "گذرواژه", want: []password.Rule{short}},
		{name: "15 emoji", pw: strings.Repeat("🔐", 15)},
		{name: "14 emoji are 56 bytes but 14 characters", pw: strings.Repeat("🔐", 14), want: []password.Rule{short}},
		{name: "combining accents count as code points", pw: strings.Repeat("e\u0301", 8)},
		{name: "7 accented letters are 14 code points", pw: strings.Repeat("e\u0301", 7), want: []password.Rule{short}},
		{name: "leading and trailing spaces count", pw: " abcdefghijklm "},
		{name: "without the spaces it is short", pw: "abcdefghijklm", want: []password.Rule{short}},
		{name: "contains the email local part", pw: "alirezaei is my name", attrs: []password.Attribute{email("ali.rezaei@sharif.edu")}, want: []password.Rule{similar}},
		{name: "1 MiB input is only too long", pw: strings.Repeat("x", 1<<20), attrs: []password.Attribute{email("x@x.x")}, want: []password.Rule{long}},
	})
}

func TestSenfiLegacy(t *testing.T) {
	runPolicyCases(t, password.SenfiLegacy(), []policyCase{
		{name: "meets every rule", pw: "Secret-Pass-1!"},
		{name: "8 characters", pw: "Ab1!wxyz"},
		{name: "7 characters", pw: "Ab1!wxy", want: []password.Rule{short}},
		{name: "reports every rule, not the first", pw: "ab", want: []password.Rule{short, upper, digit, symbol}},
		{name: "no upper", pw: "secret-pass-1!", want: []password.Rule{upper}},
		{name: "no lower", pw: "SECRET-PASS-1!", want: []password.Rule{lower}},
		{name: "no digit", pw: "Secret-Pass-!", want: []password.Rule{digit}},
		{name: "no symbol", pw: "SecretPass12", want: []password.Rule{symbol}},
		{name: "symbols outside the original set do not count", pw: "Secret_Pass-1+=[];'/\\~`", want: []password.Rule{symbol}},
		{name: "every symbol of the original set counts", pw: "SecretPass1" + `"`},
		{name: "non-ASCII upper-case does not count", pw: "Éécole1!xyz", want: []password.Rule{upper}},
		{name: "Persian digit counts", pw: "Abcdefg۱!"},
		{name: "numeric only", pw: "83920174", want: []password.Rule{upper, lower, symbol, numeric}},
		{name: "Persian numeric only", pw: "۱۲۳۴۵۶۷۸۹", want: []password.Rule{upper, lower, symbol, numeric}},
		{name: "common", pw: "12345678", want: []password.Rule{upper, lower, symbol, numeric, common}},
		{name: "common but complex", pw: "P@ssw0rd", want: []password.Rule{common}},
		{name: "similar to email", pw: "Rezaei.Ali1380!", attrs: []password.Attribute{email("ali.rezaei@sharif.edu")}, want: []password.Rule{similar}},
		{name: "has a maximum length", pw: "Aa1!" + strings.Repeat("x", 125), want: []password.Rule{long}},
		{name: "spaces are kept, not trimmed", pw: "  Ab1!wx  "},
	})
}

func TestViolationParameters(t *testing.T) {
	vs := violations(t, password.SenfiLegacy().Validate("ab", email("ab@x.org")))
	require.Len(t, vs, 5)
	assert.Equal(t, password.Violation{Rule: short, Min: 8, Length: 2}, vs[0])
	assert.Equal(t, password.Violation{Rule: symbol, Symbols: password.LegacySymbols}, vs[3])
	assert.Equal(t, password.Violation{Rule: similar, Attribute: "email"}, vs[4])

	vs = violations(t, password.NIST().Validate(strings.Repeat("é", 200)))
	assert.Equal(t, []password.Violation{{Rule: long, Max: 128, Length: 200}}, vs)

	err := password.SenfiLegacy().Validate("ab", email("ab@x.org"))
	assert.Equal(t, "password: must be at least 8 characters long (it has 2); must contain an upper-case letter; "+
		"must contain a digit; must contain one of the characters "+password.LegacySymbols+"; is too similar to the email", err.Error())
	var ve *password.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, ve.Has(password.RuleSimilar))
	assert.False(t, ve.Has(password.RuleCommon))
}

func TestViolationMessages(t *testing.T) {
	cases := []struct {
		v    password.Violation
		want string
	}{
		{password.Violation{Rule: short, Min: 15, Length: 9}, "must be at least 15 characters long (it has 9)"},
		{password.Violation{Rule: long, Max: 128, Length: 130}, "must be at most 128 characters long (it has 130)"},
		{password.Violation{Rule: upper}, "must contain an upper-case letter"},
		{password.Violation{Rule: lower}, "must contain a lower-case letter"},
		{password.Violation{Rule: digit}, "must contain a digit"},
		{password.Violation{Rule: symbol}, "must contain a punctuation mark or symbol"},
		{password.Violation{Rule: symbol, Symbols: "!?"}, "must contain one of the characters !?"},
		{password.Violation{Rule: numeric}, "must not consist of digits only"},
		{password.Violation{Rule: common}, "is too common"},
		{password.Violation{Rule: similar, Attribute: "first name"}, "is too similar to the first name"},
		{password.Violation{Rule: password.RuleBreached, Count: 42}, "has appeared in a data breach (42 times)"},
		{password.Violation{Rule: "custom"}, `breaks rule "custom"`},
	}
	for _, c := range cases {
		t.Run(string(c.v.Rule), func(t *testing.T) {
			assert.Equal(t, "password "+c.want, c.v.String())
			assert.Equal(t, "password "+c.want, c.v.Error())
		})
	}
}

func TestComposition(t *testing.T) {
	unicodeClasses := password.Policy{
		MinLength: 1, DisableBlocklist: true,
		RequireUpper: true, RequireLower: true, RequireDigit: true, RequireSymbol: true,
	}
	runPolicyCases(t, unicodeClasses, []policyCase{
		{name: "Greek and accented letters count", pw: "Ωé٣—"},
		{name: "emoji is a symbol", pw: "Aa1🔐"},
		{name: "space is not a symbol", pw: "Aa1 ", want: []password.Rule{symbol}},
		{name: "Persian letters are neither upper nor lower", pw: "سلام۱!", want: []password.Rule{upper, lower}},
	})
	asciiDigits := password.Policy{MinLength: 1, DisableBlocklist: true, RequireDigit: true, ASCIIDigits: true}
	runPolicyCases(t, asciiDigits, []policyCase{
		{name: "ASCII digit", pw: "x1"},
		{name: "Persian digit refused", pw: "x۱", want: []password.Rule{digit}},
	})
	customSymbols := password.Policy{MinLength: 1, DisableBlocklist: true, RequireSymbol: true, Symbols: "-_"}
	runPolicyCases(t, customSymbols, []policyCase{
		{name: "listed symbol", pw: "a_b"},
		{name: "unlisted symbol", pw: "a!b", want: []password.Rule{symbol}},
	})
}

func TestSimilarity(t *testing.T) {
	p := password.Policy{MinLength: 1, DisableBlocklist: true}
	ali := email("ali.rezaei@sharif.edu")
	runPolicyCases(t, p, []policyCase{
		{name: "no attributes", pw: "alirezaei"},
		{name: "local part, separators removed", pw: "xx-alirezaei-xx", attrs: []password.Attribute{ali}, want: []password.Rule{similar}},
		{name: "one piece of the local part", pw: "horse rezaei battery", attrs: []password.Attribute{ali}, want: []password.Rule{similar}},
		{name: "case ignored", pw: "Rezaei.Ali1380", attrs: []password.Attribute{ali}, want: []password.Rule{similar}},
		{name: "anagram caught by Django's ratio", pw: "ieazerila", attrs: []password.Attribute{ali}, want: []password.Rule{similar}},
		{name: "domain alone by ratio, as Django", pw: "sharif.edu", attrs: []password.Attribute{ali}, want: []password.Rule{similar}},
		{name: "domain inside a passphrase is fine", pw: "i study at sharif university", attrs: []password.Attribute{ali}},
		{name: "unrelated", pw: "correct horse battery staple", attrs: []password.Attribute{ali}},
		{name: "password inside the attribute", pw: "rezaei1380", attrs: []password.Attribute{email("s.rezaei1380x@sharif.edu")}, want: []password.Rule{similar}},
		{name: "underscore in the local part", pw: "alirezaei", attrs: []password.Attribute{email("ali_rezaei@example.com")}, want: []password.Rule{similar}},
		{name: "parts shorter than 3 are not searched", pw: "totally alright horse", attrs: []password.Attribute{{Name: "first_name", Value: "Al"}}},
		{name: "Persian name", pw: "محمد حسینی ۱۳۸۰ بهار", attrs: []password.Attribute{{Name: "last_name", Value: "حسینی"}}, want: []password.Rule{similar}},
		{name: "Persian name with digits", pw: "حسینی۱۳۸۰", attrs: []password.Attribute{{Name: "last_name", Value: "حسینی"}}, want: []password.Rule{similar}},
		{name: "empty value skipped", pw: "anything", attrs: []password.Attribute{{Name: "first_name"}}},
		{name: "only the first 256 bytes of a value are read", pw: "zebra-crossing",
			attrs: []password.Attribute{{Name: "bio", Value: strings.Repeat("ب.", 1<<16) + "zebra-crossing"}}},
		{name: "a long value is cut at a character boundary", pw: "بببببب",
			attrs: []password.Attribute{{Name: "bio", Value: "x" + strings.Repeat("ب", 1<<10)}}, want: []password.Rule{similar}},
	})

	t.Run("one violation per attribute, in order", func(t *testing.T) {
		vs := violations(t, p.Validate("ali rezaei", ali,
			password.Attribute{Name: "first_name", Value: "Ali"},
			password.Attribute{Name: "nickname", Value: "zebra"},
			password.Attribute{Name: "last_name", Value: "Rezaei"},
			password.Attribute{Name: "last_name", Value: "Rezaei"}))
		var names []string
		for _, v := range vs {
			names = append(names, v.Attribute)
		}
		assert.Equal(t, []string{"email", "first_name", "last_name"}, names)
	})
	t.Run("DisableSimilarity", func(t *testing.T) {
		q := p
		q.DisableSimilarity = true
		assert.NoError(t, q.Validate("alirezaei", ali))
	})
	t.Run("MaxSimilarity 1 refuses only anagrams", func(t *testing.T) {
		q := password.Policy{MinLength: 1, DisableBlocklist: true, MaxSimilarity: 1}
		assert.Equal(t, []password.Rule{similar}, rules(t, q.Validate("zebra", password.Attribute{Name: "nick", Value: "arbez"})))
		assert.NoError(t, q.Validate("zebras", password.Attribute{Name: "nick", Value: "arbex"}))
	})
}

func TestZeroPolicyIsNIST(t *testing.T) {
	inputs := []string{"", "password", "passwordstandard", "quiet-river-oak", strings.Repeat("x", 129), "alirezaei is my name"}
	for _, pw := range inputs {
		attrs := []password.Attribute{email("ali.rezaei@sharif.edu")}
		assert.Equal(t, password.NIST().Validate(pw, attrs...), password.Policy{}.Validate(pw, attrs...), "password %q", pw)
	}
	var zero password.Policy
	assert.NoError(t, zero.Check())
}

func TestPolicyCheck(t *testing.T) {
	cases := []struct {
		name string
		p    password.Policy
	}{
		{"negative MinLength", password.Policy{MinLength: -1}},
		{"negative MaxLength", password.Policy{MaxLength: -1}},
		{"MaxLength over the limit", password.Policy{MaxLength: password.MaxLengthLimit + 1}},
		{"MinLength over MaxLength", password.Policy{MinLength: 20, MaxLength: 16}},
		{"MinLength over the default MaxLength", password.Policy{MinLength: 200}},
		{"MaxSimilarity too low", password.Policy{MaxSimilarity: 0.05}},
		{"MaxSimilarity over 1", password.Policy{MaxSimilarity: 1.5}},
		{"MaxSimilarity negative", password.Policy{MaxSimilarity: -0.5}},
		{"MaxSimilarity with DisableSimilarity", password.Policy{MaxSimilarity: 0.7, DisableSimilarity: true}},
		{"Blocklist with DisableBlocklist", password.Policy{Blocklist: password.NewList(nil), DisableBlocklist: true}},
		{"Symbols without RequireSymbol", password.Policy{Symbols: "!"}},
		{"Symbols with a letter", password.Policy{RequireSymbol: true, Symbols: "!a"}},
		{"Symbols with a space", password.Policy{RequireSymbol: true, Symbols: "! "}},
		{"Symbols not UTF-8", password.Policy{RequireSymbol: true, Symbols: "\xff"}},
		{"ASCIILetters alone", password.Policy{ASCIILetters: true}},
		{"ASCIIDigits alone", password.Policy{ASCIIDigits: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Check()
			require.ErrorIs(t, err, password.ErrInvalidPolicy)
			// Validate refuses every password while the policy is invalid,
			// and the error is not a list of violations.
			verr := c.p.Validate("a perfectly fine passphrase")
			require.ErrorIs(t, verr, password.ErrInvalidPolicy)
			var ve *password.ValidationError
			assert.False(t, errors.As(verr, &ve))
		})
	}
	t.Run("every problem is named", func(t *testing.T) {
		err := password.Policy{MinLength: -1, Symbols: "a"}.Check()
		msg := err.Error()
		assert.Contains(t, msg, "MinLength")
		assert.Contains(t, msg, "Symbols has no effect")
		assert.Contains(t, msg, "Symbols contains a letter")
	})
	for name, p := range map[string]password.Policy{"NIST": password.NIST(), "SenfiLegacy": password.SenfiLegacy()} {
		assert.NoError(t, p.Check(), name)
	}
}

func TestCommonPasswords(t *testing.T) {
	l := password.CommonPasswords()
	assert.GreaterOrEqual(t, l.Len(), 20_000, "at least the size of Django's list")
	assert.Same(t, l, password.CommonPasswords(), "built once and shared")
	for _, w := range []string{"password", "123456", "qwerty", "12345678", "iloveyou", "p@ssw0rd",
		"aaaaaa", "abcdef", "987654321", // from Django's list; zxcvbn's leaves them out
	} {
		assert.True(t, l.Contains(w), w)
	}
	assert.True(t, l.Contains(" QWERTY\t"), "case-insensitive on the trimmed password")
	assert.False(t, l.Contains("correct horse battery staple"))
	assert.False(t, l.Contains(""))

	words := slices.Collect(l.All)
	assert.Len(t, words, l.Len())
	assert.True(t, slices.IsSorted(words))
	for _, w := range words {
		if w != strings.ToLower(strings.TrimSpace(w)) || w == "" {
			t.Fatalf("entry %q is not normalised", w)
		}
	}
}

func TestBlocklistReplaceable(t *testing.T) {
	custom := password.NewList([]string{"Sharif-University-2024 ", "", "sharif-university-2024"})
	assert.Equal(t, 1, custom.Len())
	assert.True(t, custom.Contains("SHARIF-UNIVERSITY-2024"))

	p := password.NIST()
	p.Blocklist = custom
	assert.Equal(t, []password.Rule{common}, rules(t, p.Validate("Sharif-University-2024")))
	assert.NoError(t, p.Validate("passwordstandard"), "the default list is replaced, not extended")

	var seen string
	p.Blocklist = password.BlocklistFunc(func(pw string) bool { seen = pw; return false })
	assert.NoError(t, p.Validate("  Mixed Case Passphrase  "))
	assert.Equal(t, "mixed case passphrase", seen, "the blocklist gets the lower-cased, trimmed password")

	p = password.NIST()
	p.DisableBlocklist = true
	assert.NoError(t, p.Validate("passwordstandard"))

	var empty *password.List
	assert.False(t, empty.Contains("password"))
	assert.Zero(t, empty.Len())
}
