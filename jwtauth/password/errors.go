package password

import "errors"

// Sentinel errors. Match them with [errors.Is]; the errors returned by this
// package wrap them with details (never the password, salt or hash).
var (
	// ErrRejected is wrapped by every [*ValidationError]: the password
	// breaks one or more rules of a [Policy], or appears in a breach corpus.
	ErrRejected = errors.New("password: rejected by the password policy")
	// ErrInvalidPolicy: a [Policy] has inconsistent fields; [Policy.Check]
	// names them. [Policy.Validate] refuses every password until it is fixed.
	ErrInvalidPolicy = errors.New("password: invalid policy")

	// ErrMismatch: the password does not match the stored hash.
	ErrMismatch = errors.New("password: password does not match")
	// ErrMalformedHash: a stored hash string could not be parsed, or has
	// parameters no implementation would produce (zero iterations, a salt
	// of the wrong size, ...).
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrUnsupportedHash: a stored hash is well formed but uses an
	// algorithm this package does not verify (for example Django's
	// pbkdf2_sha1 or an argon2 version other than 19).
	ErrUnsupportedHash = errors.New("password: unsupported hash algorithm")
	// ErrCostLimit: a stored hash asks for more work than the [Hasher]'s
	// limits allow (memory, iterations, bcrypt cost); it is refused rather
	// than executed.
	ErrCostLimit = errors.New("password: hash parameters exceed the configured limits")
	// ErrPasswordTooLong: the password is longer than
	// Options.MaxPasswordBytes; it is refused before any hashing work.
	ErrPasswordTooLong = errors.New("password: password too long to hash")
	// ErrEmptyPassword: the empty password is never hashed or verified.
	ErrEmptyPassword = errors.New("password: empty password")
	// ErrBusy: no hashing slot became free before the context ended. The
	// error also wraps the context's error.
	ErrBusy = errors.New("password: too many concurrent hash operations")
	// ErrInvalidOptions: [New] or [NewHIBP] was given inconsistent options.
	ErrInvalidOptions = errors.New("password: invalid options")

	// ErrBreachUnavailable: the breached-password check could not be
	// carried out (network error, bad response, no lookup configured). It
	// never means "not breached"; the caller decides whether to fail open
	// or closed.
	ErrBreachUnavailable = errors.New("password: breached-password check unavailable")
)
