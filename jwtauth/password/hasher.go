package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2id parameters of new hashes: the first configuration of the OWASP
// Password Storage Cheat Sheet (m=19 MiB, t=2, p=1), about 30 ms and 19 MiB
// per hash on one server core, with a 16-byte salt and a 32-byte hash as
// RFC 9106 recommends. All are configurable through [Options]; RFC 9106's
// second recommendation (m=64 MiB, t=3, p=4) is stronger and suits servers
// with memory to spare.
const (
	// DefaultMemoryKiB is the default argon2id memory, in KiB: 19 MiB.
	DefaultMemoryKiB = 19 * 1024
	// DefaultIterations is the default number of argon2id passes.
	DefaultIterations = 2
	// DefaultParallelism is the default number of argon2id lanes.
	DefaultParallelism = 1
	// DefaultSaltLength is the default salt size in bytes.
	DefaultSaltLength = 16
	// DefaultKeyLength is the default hash size in bytes.
	DefaultKeyLength = 32
)

// Floors below which [New] refuses the argon2id parameters. OWASP lists
// equivalent configurations m=46 MiB t=1, 19 MiB t=2, 12 MiB t=3, 9 MiB t=4
// and 7 MiB t=5; every one of them passes, anything weaker does not.
const (
	// MinMemoryKiB is the least argon2id memory New accepts: 7 MiB.
	MinMemoryKiB = 7 * 1024
	// MinMemoryIterations is the least product of memory (KiB) and passes
	// New accepts: 35 MiB·passes (7 MiB × 5).
	MinMemoryIterations = 35 * 1024
)

// Defaults for the limits on stored hashes. A stored hash asking for more is
// refused with [ErrCostLimit] instead of being computed, so a corrupted or
// tampered row cannot make one login burn gigabytes or minutes.
const (
	// DefaultMaxMemoryKiB is the default largest argon2 memory of a stored
	// hash, 128 MiB: it covers Django's Argon2PasswordHasher (100 MiB) and
	// OWASP's 46 MiB configuration.
	DefaultMaxMemoryKiB = 128 * 1024
	// DefaultMaxIterations is the default largest number of argon2 passes
	// of a stored hash.
	DefaultMaxIterations = 16
	// DefaultMaxParallelism is the default largest number of argon2 lanes
	// of a stored hash (Django uses 8).
	DefaultMaxParallelism = 16
	// DefaultMaxPBKDF2Iterations is the default largest iteration count of
	// a stored pbkdf2_sha256 hash: twice the Senfi original's 1,000,000 and
	// above Django 6.0's 1,200,000.
	DefaultMaxPBKDF2Iterations = 2_000_000
	// DefaultMaxBcryptCost is the default largest cost of a stored bcrypt
	// hash; cost 14 takes about a second, Django's default is 12.
	DefaultMaxBcryptCost = 14
	// DefaultMaxPasswordBytes is the default longest password, in bytes,
	// that is hashed or verified.
	DefaultMaxPasswordBytes = 4096
)

// Options configures a [Hasher]. Every zero field means the documented
// default, so the zero Options gives OWASP's argon2id parameters and safe
// limits.
type Options struct {
	// MemoryKiB is the argon2id memory of new hashes, in KiB. At least
	// MinMemoryKiB, and MemoryKiB·Iterations at least MinMemoryIterations.
	// Zero value: DefaultMemoryKiB (19 MiB).
	MemoryKiB uint32
	// Iterations is the argon2id number of passes of new hashes.
	// Zero value: DefaultIterations (2).
	Iterations uint32
	// Parallelism is the argon2id number of lanes of new hashes.
	// Zero value: DefaultParallelism (1).
	Parallelism uint8
	// SaltLength is the salt size of new hashes in bytes, 16 to 64.
	// Zero value: DefaultSaltLength (16).
	SaltLength int
	// KeyLength is the hash size of new hashes in bytes, 16 to 64.
	// Zero value: DefaultKeyLength (32).
	KeyLength int

	// MaxConcurrent is the number of hash computations (Hash, Verify,
	// DummyVerify) that may run at once; further calls wait for a slot
	// until their context ends. Peak memory for new hashes is about
	// MaxConcurrent·MemoryKiB. Zero value: runtime.GOMAXPROCS(0) at New.
	MaxConcurrent int
	// MaxPasswordBytes is the longest password, in bytes, that is hashed
	// or verified; longer ones get ErrPasswordTooLong before any work.
	// At least 64. Zero value: DefaultMaxPasswordBytes (4096).
	MaxPasswordBytes int

	// MaxMemoryKiB is the largest argon2 memory a stored hash may ask for.
	// Not below MemoryKiB. Zero value: DefaultMaxMemoryKiB (128 MiB), or
	// MemoryKiB if larger.
	MaxMemoryKiB uint32
	// MaxIterations is the largest number of argon2 passes a stored hash
	// may ask for. Not below Iterations. Zero value: DefaultMaxIterations
	// (16), or Iterations if larger.
	MaxIterations uint32
	// MaxParallelism is the largest number of argon2 lanes a stored hash
	// may ask for. Not below Parallelism. Zero value:
	// DefaultMaxParallelism (16), or Parallelism if larger.
	MaxParallelism uint8
	// MaxPBKDF2Iterations is the largest iteration count a stored Django
	// pbkdf2_sha256 hash may ask for. Zero value:
	// DefaultMaxPBKDF2Iterations (2,000,000).
	MaxPBKDF2Iterations int
	// MaxBcryptCost is the largest cost a stored bcrypt hash may ask for,
	// 4 to 31. Zero value: DefaultMaxBcryptCost (14).
	MaxBcryptCost int
}

// limits bounds the work a stored hash may ask for.
type limits struct {
	memory     uint32
	time       uint32
	threads    uint8
	pbkdf2Iter int
	bcryptCost int
}

// check returns ErrCostLimit if ph asks for more work than l allows.
func (l limits) check(ph parsedHash) error {
	switch ph.alg {
	case algArgon2id, algArgon2i:
		if ph.memory > l.memory || ph.time > l.time || ph.threads > l.threads {
			return fmt.Errorf("%w: argon2 m=%d, t=%d, p=%d (limits %d, %d, %d)",
				ErrCostLimit, ph.memory, ph.time, ph.threads, l.memory, l.time, l.threads)
		}
	case algPBKDF2SHA256:
		if ph.iterations > l.pbkdf2Iter {
			return fmt.Errorf("%w: pbkdf2 iterations %d (limit %d)", ErrCostLimit, ph.iterations, l.pbkdf2Iter)
		}
	case algBcrypt, algBcryptSHA256:
		if ph.cost > l.bcryptCost {
			return fmt.Errorf("%w: bcrypt cost %d (limit %d)", ErrCostLimit, ph.cost, l.bcryptCost)
		}
	}
	return nil
}

// Hasher hashes new passwords with argon2id and verifies stored hashes:
// argon2id and argon2i in PHC format, bcrypt ($2a$, $2b$, $2y$), and
// Django's pbkdf2_sha256, argon2, bcrypt and bcrypt_sha256 formats, so that
// users of a Django database log in without a password reset and are
// upgraded on their next login (see [Hasher.Verify]).
//
// A Hasher is safe for concurrent use; at most Options.MaxConcurrent hash
// computations run at once. It holds no goroutines and needs no Close. The
// zero Hasher is not usable: build one with [New].
type Hasher struct {
	memory      uint32
	iterations  uint32
	parallelism uint8
	saltLen     int
	keyLen      int
	maxPwBytes  int
	lim         limits

	// sem holds one token per running hash computation.
	sem chan struct{}
	// dummy is an argon2id hash with the current parameters whose tag
	// matches no password; DummyVerify verifies against it.
	dummy string

	// onCompute, if set (only by tests), is called inside the concurrency
	// slot before each hash computation.
	onCompute func(ph parsedHash)
}

// New validates opts and returns a Hasher. The error wraps
// [ErrInvalidOptions] and names every bad field.
func New(opts Options) (*Hasher, error) { return newHasher(opts, false) }

// newHasher is New; allowWeak lets tests use argon2 parameters below the
// OWASP floors, which would make them needlessly slow.
func newHasher(opts Options, allowWeak bool) (*Hasher, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...))
	}
	h := &Hasher{
		memory:      or(opts.MemoryKiB, DefaultMemoryKiB),
		iterations:  or(opts.Iterations, DefaultIterations),
		parallelism: or(opts.Parallelism, DefaultParallelism),
		saltLen:     or(opts.SaltLength, DefaultSaltLength),
		keyLen:      or(opts.KeyLength, DefaultKeyLength),
		maxPwBytes:  or(opts.MaxPasswordBytes, DefaultMaxPasswordBytes),
	}
	h.lim = limits{
		memory:     or(opts.MaxMemoryKiB, max(DefaultMaxMemoryKiB, h.memory)),
		time:       or(opts.MaxIterations, max(DefaultMaxIterations, h.iterations)),
		threads:    or(opts.MaxParallelism, max(DefaultMaxParallelism, h.parallelism)),
		pbkdf2Iter: or(opts.MaxPBKDF2Iterations, DefaultMaxPBKDF2Iterations),
		bcryptCost: or(opts.MaxBcryptCost, DefaultMaxBcryptCost),
	}
	if !allowWeak {
		if h.memory < MinMemoryKiB {
			bad("MemoryKiB %d is below %d (OWASP's smallest argon2id memory)", h.memory, MinMemoryKiB)
		}
		if uint64(h.memory)*uint64(h.iterations) < MinMemoryIterations {
			bad("MemoryKiB·Iterations %d·%d is below %d (weaker than every OWASP argon2id configuration)",
				h.memory, h.iterations, MinMemoryIterations)
		}
	}
	if h.memory < 8*uint32(h.parallelism) {
		bad("MemoryKiB %d is below 8·Parallelism", h.memory)
	}
	if h.saltLen < DefaultSaltLength || h.saltLen > maxSaltBytes {
		bad("SaltLength %d is not in [%d, %d]", h.saltLen, DefaultSaltLength, maxSaltBytes)
	}
	if h.keyLen < minKeyBytes || h.keyLen > maxKeyBytes {
		bad("KeyLength %d is not in [%d, %d]", h.keyLen, minKeyBytes, maxKeyBytes)
	}
	if h.maxPwBytes < 64 {
		bad("MaxPasswordBytes %d is below 64 (NIST asks to accept at least 64 characters)", h.maxPwBytes)
	}
	if h.lim.memory < h.memory {
		bad("MaxMemoryKiB %d is below MemoryKiB %d", h.lim.memory, h.memory)
	}
	if h.lim.time < h.iterations {
		bad("MaxIterations %d is below Iterations %d", h.lim.time, h.iterations)
	}
	if h.lim.threads < h.parallelism {
		bad("MaxParallelism %d is below Parallelism %d", h.lim.threads, h.parallelism)
	}
	if h.lim.pbkdf2Iter < 0 {
		bad("MaxPBKDF2Iterations %d is negative", h.lim.pbkdf2Iter)
	}
	if h.lim.bcryptCost < bcryptMinCost || h.lim.bcryptCost > bcryptMaxCost {
		bad("MaxBcryptCost %d is not in [%d, %d]", h.lim.bcryptCost, bcryptMinCost, bcryptMaxCost)
	}
	n := opts.MaxConcurrent
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if n < 0 {
		bad("MaxConcurrent %d is negative", n)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	h.sem = make(chan struct{}, n)
	h.dummy = encodePHC(h.memory, h.iterations, h.parallelism, randomBytes(h.saltLen), randomBytes(h.keyLen))
	return h, nil
}

// or returns v, or def if v is zero.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// randomBytes returns n bytes from crypto/rand, which never fails.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// checkPassword refuses passwords that are never hashed.
func (h *Hasher) checkPassword(pw string) error {
	if pw == "" {
		return ErrEmptyPassword
	}
	if len(pw) > h.maxPwBytes {
		return fmt.Errorf("%w: %d bytes (limit %d)", ErrPasswordTooLong, len(pw), h.maxPwBytes)
	}
	return nil
}

// acquire takes a computation slot, waiting until ctx ends.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrBusy, err)
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// release gives a slot back.
func (h *Hasher) release() { <-h.sem }

// Hash returns the argon2id hash of pw in PHC string format,
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> with standard base64 without
// padding, using a fresh random salt. The password is hashed exactly as
// given: no trimming, no normalisation. It waits for a computation slot
// until ctx ends ([ErrBusy]); the computation itself (about 30 ms on one
// core with the default parameters) is not interrupted. The empty password
// and passwords over Options.MaxPasswordBytes are refused.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.checkPassword(pw); err != nil {
		return "", err
	}
	salt := randomBytes(h.saltLen)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	ph := parsedHash{alg: algArgon2id, memory: h.memory, time: h.iterations, threads: h.parallelism, salt: salt}
	if h.onCompute != nil {
		h.onCompute(ph)
	}
	key := argon2.IDKey([]byte(pw), salt, h.iterations, h.memory, h.parallelism, uint32(h.keyLen))
	return encodePHC(h.memory, h.iterations, h.parallelism, salt, key), nil
}

// Verify reports whether pw matches the stored hash encoded. It returns nil
// when it does, and then needsRehash tells whether encoded should be
// replaced by Hash(ctx, pw) (see [Hasher.NeedsRehash]); the caller stores
// the new hash, which is how users migrated from Django move to argon2id.
//
// Any non-nil error means "do not log in":
//   - [ErrMismatch]: wrong password (also for Django's unusable "!"
//     passwords, after the same work as a real verification);
//   - [ErrMalformedHash] or [ErrUnsupportedHash]: the stored hash cannot
//     be used; log it, it is a data problem;
//   - [ErrCostLimit]: the stored hash asks for more work than the limits
//     allow, and was not computed;
//   - [ErrEmptyPassword], [ErrPasswordTooLong]: refused before any work;
//   - [ErrBusy]: no computation slot became free before ctx ended.
//
// Hashes are compared in constant time. The password is used exactly as
// given. Bcrypt hashes are verified as every bcrypt implementation does,
// on the first 72 bytes of the password; no pre-hash is applied to them
// (Django's bcrypt_sha256 format, which has one, is recognised by its
// prefix). New hashes are always argon2id, which has no such limit.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (needsRehash bool, err error) {
	if err := h.checkPassword(pw); err != nil {
		return false, err
	}
	ph, err := parseHash(encoded)
	if errors.Is(err, errUnusable) {
		// Spend the same time as for a usable hash, then refuse.
		if ph, err = parseHash(h.dummy); err == nil {
			_, err = h.compute(ctx, ph, pw)
		}
		if err != nil {
			return false, err
		}
		return false, ErrMismatch
	}
	if err != nil {
		return false, err
	}
	if err := h.lim.check(ph); err != nil {
		return false, err
	}
	ok, err := h.compute(ctx, ph, pw)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, ErrMismatch
	}
	return h.needsRehash(ph), nil
}

// DummyVerify does the work of verifying pw against a hash made with the
// current parameters, and returns [ErrMismatch] (or the errors Verify
// returns before or instead of that work: [ErrBusy], [ErrEmptyPassword],
// [ErrPasswordTooLong]). Call it when the account does not exist, so that
// the response takes as long as for an existing account with a current
// hash and does not reveal which accounts exist:
//
//	user, found := users.ByEmail(ctx, email)
//	if !found {
//		_ = hasher.DummyVerify(ctx, pw)
//		return errLoginFailed
//	}
//
// Accounts still holding a legacy hash (Django's pbkdf2 with a million
// iterations) take a different time until their first login rehashes them.
func (h *Hasher) DummyVerify(ctx context.Context, pw string) error {
	_, err := h.Verify(ctx, h.dummy, pw)
	if err == nil {
		err = ErrMismatch // the dummy's tag matches no password
	}
	return err
}

// NeedsRehash reports whether encoded should be replaced by a new hash: it
// returns false only for an argon2id hash in PHC format whose memory,
// iterations, salt length and hash length are all at least the Hasher's.
// Parallelism is not compared: it changes how the work is split, not how
// much there is. Every other hash (bcrypt, Django's formats, argon2i,
// weaker parameters, unparseable strings) needs a rehash.
func (h *Hasher) NeedsRehash(encoded string) bool {
	ph, err := parseHash(encoded)
	return err != nil || h.needsRehash(ph)
}

func (h *Hasher) needsRehash(ph parsedHash) bool {
	return ph.alg != algArgon2id || ph.django ||
		ph.memory < h.memory || ph.time < h.iterations ||
		len(ph.salt) < h.saltLen || len(ph.key) < h.keyLen
}

// compute runs the hash function of ph on pw inside a concurrency slot and
// reports whether the result matches, in constant time.
func (h *Hasher) compute(ctx context.Context, ph parsedHash, pw string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if h.onCompute != nil {
		h.onCompute(ph)
	}
	switch ph.alg {
	case algArgon2id:
		got := argon2.IDKey([]byte(pw), ph.salt, ph.time, ph.memory, ph.threads, uint32(len(ph.key)))
		return subtle.ConstantTimeCompare(got, ph.key) == 1, nil
	case algArgon2i:
		got := argon2.Key([]byte(pw), ph.salt, ph.time, ph.memory, ph.threads, uint32(len(ph.key)))
		return subtle.ConstantTimeCompare(got, ph.key) == 1, nil
	case algPBKDF2SHA256:
		got, err := pbkdf2SHA256(pw, ph.salt, ph.iterations)
		if err != nil {
			return false, fmt.Errorf("%w: pbkdf2_sha256: %v", ErrUnsupportedHash, err)
		}
		return subtle.ConstantTimeCompare(got, ph.key) == 1, nil
	case algBcrypt, algBcryptSHA256:
		in := []byte(pw)
		if ph.alg == algBcryptSHA256 {
			in = bcryptSHA256Input(pw)
		}
		// CompareHashAndPassword compares in constant time.
		switch err := bcrypt.CompareHashAndPassword([]byte(ph.bcrypt), in); {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		default:
			return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
		}
	}
	return false, fmt.Errorf("%w: unknown algorithm", ErrMalformedHash)
}
