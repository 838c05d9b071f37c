// Package password decides which passwords an application accepts and
// stores them safely: a [Policy] validates new passwords and reports every
// broken rule as a typed [Violation]; a [Hasher] hashes them with argon2id
// and verifies stored hashes, including the bcrypt and Django hashes of a
// database being migrated; [Breached] optionally asks a k-anonymity range
// service such as Have I Been Pwned whether a password has leaked.
//
// # Use
//
// At start-up:
//
//	policy := password.NIST() // or password.SenfiLegacy(), or your own Policy
//	if err := policy.Check(); err != nil {
//		log.Fatal(err)
//	}
//	hasher, err := password.New(password.Options{}) // OWASP argon2id parameters
//	if err != nil {
//		log.Fatal(err)
//	}
//
// On registration or password change:
//
//	err := policy.Validate(pw,
//		password.Attribute{Name: "email", Value: email},
//		password.Attribute{Name: "first_name", Value: firstName})
//	var ve *password.ValidationError
//	if errors.As(err, &ve) {
//		for _, v := range ve.Violations {
//			// translate v.Rule with v.Min, v.Max, v.Attribute, ... → 400
//		}
//	}
//	hash, err := hasher.Hash(ctx, pw) // store hash
//
// On login:
//
//	user, found := users.ByEmail(ctx, email)
//	if !found {
//		_ = hasher.DummyVerify(ctx, pw) // same time as a real check
//		return errLoginFailed
//	}
//	rehash, err := hasher.Verify(ctx, user.PasswordHash, pw)
//	if err != nil {
//		return errLoginFailed // ErrMismatch; log ErrMalformedHash and friends
//	}
//	if rehash { // e.g. a Django pbkdf2_sha256 hash: upgrade it now
//		if h, err := hasher.Hash(ctx, pw); err == nil {
//			users.SetPasswordHash(ctx, user.ID, h)
//		}
//	}
//
// # Defaults
//
// The zero [Policy] is [NIST]: 15 to 128 characters counted as Unicode code
// points, no composition rules, a list of 53,961 common passwords
// ([CommonPasswords]) and a check against the user's own data. The zero
// [Options] hash with argon2id at m=19 MiB, t=2, p=1 (OWASP), allow
// GOMAXPROCS hash computations at once and refuse stored hashes that ask
// for absurd work. Passwords are never trimmed or truncated.
//
// # When not to use it
//
// This package does not rate-limit or lock out guessing (use ratelimit and
// its Lockout), does not decide whether an account exists, and does not
// replace a second factor. It does not normalise Unicode (NFKC): passwords
// are hashed byte for byte, as Django did, so migrated hashes keep
// verifying. Hash formats other than those listed on [Hasher] (Django's
// pbkdf2_sha1, scrypt, unsalted MD5, ...) are reported as
// [ErrUnsupportedHash]; those users need a password reset.
//
// # Trust model
//
// Passwords, attribute values and HIBP answers are untrusted input; stored
// hashes are trusted less than code. Lengths are checked before any work
// (Policy.MaxLength, Options.MaxPasswordBytes), and a stored hash whose
// parameters exceed the Hasher's limits (argon2 memory, iterations and
// lanes, PBKDF2 iterations, bcrypt cost) is refused with [ErrCostLimit]
// rather than computed, so a corrupted or tampered row cannot stall the
// server. Parsers never panic (they are fuzzed). Hash comparisons take
// constant time. Concurrent hashing is bounded by a semaphore whose wait
// honours the caller's context, so a login flood queues and times out
// instead of exhausting memory. Errors never contain the password, salt or
// hash.
//
// The breached-password check sends only the first 5 hexadecimal digits
// of the password's SHA-1, with padding requested; a lookup failure is an
// error ([ErrBreachUnavailable]), never a silent "not breached", and the
// application chooses to fail open or closed.
//
// # State
//
// The package has no init function and no mutable global state. The
// embedded common-password list is decompressed once, on the first call
// of [CommonPasswords], and shared read-only afterwards.
package password
