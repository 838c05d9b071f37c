package password_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/senfi-sharif/senfi/jwtauth/password"
)

// The default policy follows NIST SP 800-63B-4: long passwords, no
// composition rules, no common passwords, nothing resembling the user.
func ExamplePolicy_Validate() {
	policy := password.NIST()
	user := []password.Attribute{{Name: "email", Value: "ali.rezaei@sharif.edu"}}

	for _, pw := range []string{
		"correct horse battery staple",
		"password",
		"alirezaei-1380-sharif",
	} {
		err := policy.Validate(pw, user...)
		var ve *password.ValidationError
		switch {
		case err == nil:
			fmt.Printf("%q: accepted\n", pw)
		case errors.As(err, &ve):
			for _, v := range ve.Violations {
				fmt.Printf("%q: %s: %s\n", pw, v.Rule, v)
			}
		default:
			fmt.Println("policy error:", err)
		}
	}
	// Output:
	// "correct horse battery staple": accepted
	// "password": password_too_short: password must be at least 15 characters long (it has 8)
	// "password": password_too_common: password is too common
	// "alirezaei-1380-sharif": password_too_similar: password is too similar to the email
}

// The Senfi original's rules, with every violation reported and translated
// by the application (here to Persian, with the original's messages).
func ExamplePolicy_Validate_senfiLegacy() {
	persian := func(v password.Violation) string {
		switch v.Rule {
		case password.RuleTooShort:
			return fmt.Sprintf("رمز عبور باید حداقل %d کاراکتر باشد.", v.Min)
		case password.RuleMissingUpper:
			return "رمز عبور باید حداقل یک حرف بزرگ داشته باشد."
		case password.RuleMissingLower:
			return "رمز عبور باید حداقل یک حرف کوچک داشته باشد."
		case password.RuleMissingDigit:
			return "رمز عبور باید حداقل یک عدد داشته باشد."
		case password.RuleMissingSymbol:
			return fmt.Sprintf("رمز عبور باید حداقل یک کاراکتر خاص (%s) داشته باشد.", v.Symbols)
		case password.RuleCommon:
			return "این رمز عبور خیلی ساده است. لطفاً رمز عبور قوی‌تری انتخاب کنید."
		}
		return v.String()
	}

	err := password.SenfiLegacy().Validate("abc")
	var ve *password.ValidationError
	if errors.As(err, &ve) {
		for _, v := range ve.Violations {
			fmt.Println(persian(v))
		}
	}
	fmt.Println(password.SenfiLegacy().Validate("Sharif-1403!") == nil)
	// Output:
	// رمز عبور باید حداقل 8 کاراکتر باشد.
	// رمز عبور باید حداقل یک حرف بزرگ داشته باشد.
	// رمز عبور باید حداقل یک عدد داشته باشد.
	// رمز عبور باید حداقل یک کاراکتر خاص (!@#$%^&*(),.?":{}|<>) داشته باشد.
	// این رمز عبور خیلی ساده است. لطفاً رمز عبور قوی‌تری انتخاب کنید.
	// true
}

// Hash a new password, verify it, and see whether it needs a rehash. The
// salt, and so the hash, differ on every call; only the parameters are
// printed.
func ExampleHasher() {
	ctx := context.Background()
	hasher, err := password.New(password.Options{}) // argon2id, m=19 MiB, t=2, p=1
	if err != nil {
		fmt.Println(err)
		return
	}

	hash, err := hasher.Hash(ctx, "correct horse battery staple")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Join(strings.Split(hash, "$")[:4], "$")) // algorithm and parameters

	rehash, err := hasher.Verify(ctx, hash, "correct horse battery staple")
	fmt.Println("right password:", err, rehash)
	_, err = hasher.Verify(ctx, hash, "Correct horse battery staple")
	fmt.Println("wrong password:", errors.Is(err, password.ErrMismatch))
	fmt.Println("needs rehash:", hasher.NeedsRehash(hash))
	// Output:
	// $argon2id$v=19$m=19456,t=2,p=1
	// right password: <nil> false
	// wrong password: true
	// needs rehash: false
}

// A user migrated from the Django database logs in with a pbkdf2_sha256
// hash; Verify accepts it and asks for a rehash, which moves the user to
// argon2id.
func ExampleHasher_Verify_django() {
	ctx := context.Background()
	hasher, _ := password.New(password.Options{})
	stored := "pbkdf2_sha256$1000$seasalt2025abcdEFGHijkl$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk="

	rehash, err := hasher.Verify(ctx, stored, "Secret-Pass-1!")
	fmt.Println(err, rehash)
	if err == nil && rehash {
		stored, _ = hasher.Hash(ctx, "Secret-Pass-1!")
	}
	fmt.Println(strings.HasPrefix(stored, "$argon2id$"), hasher.NeedsRehash(stored))
	// Output:
	// <nil> true
	// true false
}

// For an e-mail address with no account, DummyVerify spends the time a real
// verification would, so the response does not reveal which accounts exist.
func ExampleHasher_DummyVerify() {
	hasher, _ := password.New(password.Options{})
	err := hasher.DummyVerify(context.Background(), "whatever was typed")
	fmt.Println(errors.Is(err, password.ErrMismatch))
	// Output:
	// true
}

// Check a password against Have I Been Pwned. Here a local server answers
// in the API's format; in production leave BaseURL empty.
func ExampleBreached() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// SHA-1("password") = 5BAA6 1E4C9B93F3F0682250B6CF8331B7EE68FD8
		if r.URL.Path == "/range/5BAA6" {
			fmt.Fprint(w, "1E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824\r\n0018A45C4D1DEF81644B54AB7F969B88D65:0")
		}
	}))
	defer api.Close()
	hibp, err := password.NewHIBP(password.HIBPOptions{BaseURL: api.URL})
	if err != nil {
		fmt.Println(err)
		return
	}

	err = password.Breached(context.Background(), hibp, "password")
	switch {
	case errors.Is(err, password.ErrBreachUnavailable):
		fmt.Println("check failed; fail open or closed:", err)
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println("not found")
	}
	// Output:
	// password: has appeared in a data breach (9545824 times)
}
