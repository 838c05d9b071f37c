package password_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/jwtauth/password"
)

// cheapOptions are argon2id parameters far below the OWASP floors, so that
// tests run fast under the race detector. Only NewWeakForTest accepts them.
func cheapOptions() password.Options {
	return password.Options{MemoryKiB: 64, Iterations: 1, Parallelism: 1}
}

func newCheap(t *testing.T) *password.Hasher {
	t.Helper()
	h, err := password.NewWeakForTest(cheapOptions())
	require.NoError(t, err)
	return h
}

func newDefault(t *testing.T) *password.Hasher {
	t.Helper()
	h, err := password.New(password.Options{})
	require.NoError(t, err)
	return h
}

func TestVerifyForeignVectors(t *testing.T) {
	h := newDefault(t)
	ctx := t.Context()
	for _, v := range foreignVectors() {
		if v.benchOnly {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			rehash, err := h.Verify(ctx, v.hash, v.password)
			require.NoError(t, err)
			// Only the reference argon2id hash has exactly the default
			// parameters; everything else is upgraded on login.
			wantRehash := v.name != "argon2id reference"
			assert.Equal(t, wantRehash, rehash)
			assert.Equal(t, wantRehash, h.NeedsRehash(v.hash))

			_, err = h.Verify(ctx, v.hash, "!"+v.password)
			assert.ErrorIs(t, err, password.ErrMismatch)
		})
	}
}

func TestVerifyWhitespaceIsPartOfThePassword(t *testing.T) {
	ctx := t.Context()
	h := newCheap(t)
	django := findVector("django pbkdf2_sha256 spaces") // "  spaced out  "
	_, err := h.Verify(ctx, django.hash, "  spaced out  ")
	require.NoError(t, err)
	for _, pw := range []string{"spaced out", " spaced out ", "  spaced out", "spaced out  "} {
		_, err := h.Verify(ctx, django.hash, pw)
		assert.ErrorIs(t, err, password.ErrMismatch, "%q", pw)
	}

	hash, err := h.Hash(ctx, " padded ")
	require.NoError(t, err)
	_, err = h.Verify(ctx, hash, " padded ")
	require.NoError(t, err)
	_, err = h.Verify(ctx, hash, "padded")
	assert.ErrorIs(t, err, password.ErrMismatch)
}

func TestVerifyBcryptUses72Bytes(t *testing.T) {
	// Existing bcrypt hashes are verified as every bcrypt does: on the
	// first 72 bytes. No pre-hash is applied to them.
	v := findVector("bcrypt over 72 bytes")
	h := newCheap(t)
	for _, pw := range []string{v.password, v.password[:72], v.password[:72] + "anything else"} {
		rehash, err := h.Verify(t.Context(), v.hash, pw)
		require.NoError(t, err, "%q", pw)
		assert.True(t, rehash, "bcrypt hashes are upgraded to argon2id")
	}
	_, err := h.Verify(t.Context(), v.hash, v.password[:71])
	assert.ErrorIs(t, err, password.ErrMismatch)

	// Django's bcrypt_sha256 pre-hashes, so the whole password counts.
	d := findVector("django bcrypt_sha256")
	_, err = h.Verify(t.Context(), d.hash, d.password[:72])
	assert.ErrorIs(t, err, password.ErrMismatch)
}

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashRoundTrip(t *testing.T) {
	ctx := t.Context()
	h := newCheap(t)
	for _, pw := range []string{
		"correct horse battery staple",
		"رمز عبور خیلی امن من",
		"🔐 کلید e\u0301",
		"  leading and trailing  ",
		strings.Repeat("x", 4096),
	} {
		t.Run(pw[:min(len(pw), 20)], func(t *testing.T) {
			hash, err := h.Hash(ctx, pw)
			require.NoError(t, err)
			assert.Regexp(t, phcPattern, hash)
			assert.NotContains(t, hash, pw)

			rehash, err := h.Verify(ctx, hash, pw)
			require.NoError(t, err)
			assert.False(t, rehash)
			assert.False(t, h.NeedsRehash(hash))

			_, err = h.Verify(ctx, hash, pw[:len(pw)-1])
			assert.ErrorIs(t, err, password.ErrMismatch)
			_, err = h.Verify(ctx, hash, strings.ToUpper(pw))
			if strings.ToUpper(pw) != pw {
				assert.ErrorIs(t, err, password.ErrMismatch)
			}

			again, err := h.Hash(ctx, pw)
			require.NoError(t, err)
			assert.NotEqual(t, hash, again, "every hash has its own salt")
		})
	}
}

func TestHashDefaultParameters(t *testing.T) {
	h := newDefault(t)
	hash, err := h.Hash(t.Context(), "correct horse battery staple")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$"), hash)
	rehash, err := h.Verify(t.Context(), hash, "correct horse battery staple")
	require.NoError(t, err)
	assert.False(t, rehash)
}

func TestVerifyTamperedHash(t *testing.T) {
	ctx := t.Context()
	h := newCheap(t)
	const pw = "correct horse battery staple"
	hash, err := h.Hash(ctx, pw)
	require.NoError(t, err)
	// Change every character in turn: the result is never a match.
	for i := range len(hash) {
		for _, c := range []byte{'A', 'z', '0', '9', '/', '$', ','} {
			if hash[i] == c {
				continue
			}
			tampered := hash[:i] + string(c) + hash[i+1:]
			_, err := h.Verify(ctx, tampered, pw)
			require.Error(t, err, "tampered at %d: %s", i, tampered)
			if !errors.Is(err, password.ErrMismatch) && !errors.Is(err, password.ErrMalformedHash) &&
				!errors.Is(err, password.ErrUnsupportedHash) && !errors.Is(err, password.ErrCostLimit) {
				t.Fatalf("tampered at %d: unexpected error %v", i, err)
			}
		}
	}
	// Truncated and extended.
	for _, s := range []string{hash[:len(hash)-1], hash + "A", hash + "$", strings.TrimPrefix(hash, "$")} {
		_, err := h.Verify(ctx, s, pw)
		assert.Error(t, err, s)
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := newCheap(t)
	argon := "$argon2id$v=19$m=64,t=1,p=1$c2l4dGVlbiBieXRlIHNsdA$k81ovk8fkH1PorA/36zCkEKia28tQyMQYijfaS5RQy4"
	cases := []struct {
		name, hash string
		want       error
	}{
		{"empty", "", password.ErrMalformedHash},
		{"garbage", "not a hash", password.ErrMalformedHash},
		{"dollar only", "$", password.ErrMalformedHash},
		{"argon2 too few fields", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ", password.ErrMalformedHash},
		{"argon2 too many fields", argon + "$x", password.ErrMalformedHash},
		{"argon2 params out of order", strings.Replace(argon, "m=64,t=1,p=1", "t=1,m=64,p=1", 1), password.ErrMalformedHash},
		{"argon2 leading zero", strings.Replace(argon, "m=64", "m=064", 1), password.ErrMalformedHash},
		{"argon2 sign", strings.Replace(argon, "m=64", "m=+64", 1), password.ErrMalformedHash},
		{"argon2 t=0", strings.Replace(argon, "t=1", "t=0", 1), password.ErrMalformedHash},
		{"argon2 p=0", strings.Replace(argon, "p=1", "p=0", 1), password.ErrMalformedHash},
		{"argon2 p=256", strings.Replace(argon, "p=1", "p=256", 1), password.ErrMalformedHash},
		{"argon2 m below 8p", strings.Replace(argon, "p=1", "p=9", 1), password.ErrMalformedHash},
		{"argon2 m over 32 bits", strings.Replace(argon, "m=64", "m=4294967296", 1), password.ErrMalformedHash},
		{"argon2 padded base64", strings.Replace(argon, "NsdA$", "NsdA==$", 1), password.ErrMalformedHash},
		{"argon2 line break in salt", strings.Replace(argon, "$c2l4", "$\r\nc2l4", 1), password.ErrMalformedHash},
		{"argon2 short salt", strings.Replace(argon, "c2l4dGVlbiBieXRlIHNsdA", "c2FsdA", 1), password.ErrMalformedHash},
		{"argon2 short hash", argon[:strings.LastIndexByte(argon, '$')+1] + "c2FsdA", password.ErrMalformedHash},
		{"argon2 bad version", strings.Replace(argon, "v=19", "v=x", 1), password.ErrMalformedHash},
		{"argon2 version 16", strings.Replace(argon, "v=19", "v=16", 1), password.ErrUnsupportedHash},
		{"argon2 without version", strings.Replace(argon, "v=19$", "", 1), password.ErrUnsupportedHash},
		{"argon2d", strings.Replace(argon, "argon2id", "argon2d", 1), password.ErrUnsupportedHash},
		{"bcrypt short", "$2b$05$abc", password.ErrMalformedHash},
		{"bcrypt cost 03", "$2b$03$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS", password.ErrMalformedHash},
		{"bcrypt cost 32", "$2b$32$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS", password.ErrMalformedHash},
		{"bcrypt bad char", "$2b$05$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/Zsu!", password.ErrMalformedHash},
		{"bcrypt 2x", "$2x$05$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS", password.ErrUnsupportedHash},
		{"pbkdf2 missing field", "pbkdf2_sha256$1000$salt", password.ErrMalformedHash},
		{"pbkdf2 zero iterations", "pbkdf2_sha256$0$salt$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk=", password.ErrMalformedHash},
		{"pbkdf2 negative iterations", "pbkdf2_sha256$-5$salt$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk=", password.ErrMalformedHash},
		{"pbkdf2 empty salt", "pbkdf2_sha256$1000$$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk=", password.ErrMalformedHash},
		{"pbkdf2 short hash", "pbkdf2_sha256$1000$salt$c2FsdA==", password.ErrMalformedHash},
		{"pbkdf2 bad base64", "pbkdf2_sha256$1000$salt$!ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk=", password.ErrMalformedHash},
		{"django argon2 bad layout", "argon2$$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$c2FsdHNhbHQ", password.ErrMalformedHash},
		{"django pbkdf2_sha1", "pbkdf2_sha1$260000$salt$aGFzaA==", password.ErrUnsupportedHash},
		{"django md5", "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99", password.ErrUnsupportedHash},
		{"django scrypt", "scrypt$salt$16384$8$1$aGFzaA==", password.ErrUnsupportedHash},
		{"overlong", strings.Repeat("a", 10_000), password.ErrMalformedHash},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.Verify(t.Context(), c.hash, "pw")
			require.ErrorIs(t, err, c.want)
			assert.True(t, h.NeedsRehash(c.hash))
			assert.NotContains(t, err.Error(), "c2l4dGVlbiBieXRlIHNsdA", "the salt is not in the error")
		})
	}
}

func TestVerifyRefusesAbsurdParameters(t *testing.T) {
	// Each of these would take minutes, hours or gigabytes; they must be
	// refused at once. If one were computed, the test would time out.
	h := newDefault(t)
	const salt = "c2l4dGVlbiBieXRlIHNsdA"
	const key = "k81ovk8fkH1PorA/36zCkEKia28tQyMQYijfaS5RQy4"
	cases := []struct{ name, hash string }{
		{"argon2 m=4000000000", "$argon2id$v=19$m=4000000000,t=2,p=1$" + salt + "$" + key},
		{"argon2 t=4294967295", "$argon2id$v=19$m=19456,t=4294967295,p=1$" + salt + "$" + key},
		{"argon2 p=255", "$argon2id$v=19$m=19456,t=2,p=255$" + salt + "$" + key},
		{"django argon2 m=2^31", "argon2$argon2i$v=19$m=2147483648,t=2,p=8$" + salt + "$" + key},
		{"pbkdf2 10^12 iterations", "pbkdf2_sha256$1000000000000$salt$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk="},
		{"pbkdf2 just over the limit", "pbkdf2_sha256$2000001$salt$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk="},
		{"bcrypt cost 31", "$2b$31$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS"},
		{"bcrypt cost 15", "$2b$15$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS"},
		{"django bcrypt cost 20", "bcrypt$$2b$20$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.Verify(t.Context(), c.hash, "pw")
			require.ErrorIs(t, err, password.ErrCostLimit)
		})
	}
	t.Run("limits are configurable", func(t *testing.T) {
		strict, err := password.New(password.Options{MaxPBKDF2Iterations: 500, MaxBcryptCost: 4})
		require.NoError(t, err)
		_, err = strict.Verify(t.Context(), findVector("django pbkdf2_sha256 ascii").hash, "Secret-Pass-1!")
		assert.ErrorIs(t, err, password.ErrCostLimit)
		_, err = strict.Verify(t.Context(), findVector("bcrypt 2b").hash, "correct horse battery staple")
		assert.ErrorIs(t, err, password.ErrCostLimit)
	})
}

func TestPasswordLength(t *testing.T) {
	ctx := t.Context()
	h := newCheap(t)
	hash, err := h.Hash(ctx, strings.Repeat("x", password.DefaultMaxPasswordBytes))
	require.NoError(t, err, "4096 bytes are accepted")

	tooLong := strings.Repeat("x", password.DefaultMaxPasswordBytes+1)
	_, err = h.Hash(ctx, tooLong)
	assert.ErrorIs(t, err, password.ErrPasswordTooLong)
	_, err = h.Verify(ctx, hash, tooLong)
	assert.ErrorIs(t, err, password.ErrPasswordTooLong)
	_, err = h.Verify(ctx, findVector("django pbkdf2_sha256 ascii").hash, tooLong)
	assert.ErrorIs(t, err, password.ErrPasswordTooLong, "refused before PBKDF2 runs")
	assert.ErrorIs(t, h.DummyVerify(ctx, tooLong), password.ErrPasswordTooLong)

	_, err = h.Hash(ctx, "")
	assert.ErrorIs(t, err, password.ErrEmptyPassword)
	_, err = h.Verify(ctx, hash, "")
	assert.ErrorIs(t, err, password.ErrEmptyPassword)

	small, err := password.NewWeakForTest(password.Options{MemoryKiB: 64, Iterations: 1, MaxPasswordBytes: 64})
	require.NoError(t, err)
	_, err = small.Hash(ctx, strings.Repeat("é", 33)) // 66 bytes
	assert.ErrorIs(t, err, password.ErrPasswordTooLong, "the limit is in bytes")
}

func TestNeedsRehash(t *testing.T) {
	h := newDefault(t)
	const tail = "$c2l4dGVlbiBieXRlIHNsdA$k81ovk8fkH1PorA/36zCkEKia28tQyMQYijfaS5RQy4"
	cases := []struct {
		name string
		hash string
		want bool
	}{
		{"current parameters", "$argon2id$v=19$m=19456,t=2,p=1" + tail, false},
		{"more memory", "$argon2id$v=19$m=65536,t=2,p=1" + tail, false},
		{"more passes and lanes", "$argon2id$v=19$m=19456,t=3,p=4" + tail, false},
		{"less memory", "$argon2id$v=19$m=12288,t=3,p=1" + tail, true},
		{"fewer passes", "$argon2id$v=19$m=46080,t=1,p=1" + tail, true},
		{"shorter salt", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$k81ovk8fkH1PorA/36zCkEKia28tQyMQYijfaS5RQy4", true},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1" + tail, true},
		{"django argon2id with current parameters", "argon2$argon2id$v=19$m=19456,t=2,p=1" + tail, true},
		{"django pbkdf2", findVector("django pbkdf2_sha256 ascii").hash, true},
		{"bcrypt", findVector("bcrypt 2b").hash, true},
		{"malformed", "nope", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, h.NeedsRehash(c.hash))
		})
	}
	t.Run("after raising the parameters", func(t *testing.T) {
		old := newCheap(t)
		hash, err := old.Hash(t.Context(), "correct horse battery staple")
		require.NoError(t, err)
		assert.True(t, h.NeedsRehash(hash))
		rehash, err := h.Verify(t.Context(), hash, "correct horse battery staple")
		require.NoError(t, err, "old hashes keep verifying")
		assert.True(t, rehash)
	})
}

func TestDjangoUnusablePassword(t *testing.T) {
	h := newCheap(t)
	_, err := h.Verify(t.Context(), "!Rl3B3JmNIeCg0yAcEDSZ3RNyzB8cHVWHSN6B2eUw", "anything")
	assert.ErrorIs(t, err, password.ErrMismatch)
}

func TestDummyVerify(t *testing.T) {
	h := newCheap(t)
	assert.ErrorIs(t, h.DummyVerify(t.Context(), "any password"), password.ErrMismatch)
	assert.ErrorIs(t, h.DummyVerify(t.Context(), ""), password.ErrEmptyPassword)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := h.DummyVerify(ctx, "any password")
	assert.ErrorIs(t, err, password.ErrBusy)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNewOptions(t *testing.T) {
	_, err := password.New(password.Options{})
	require.NoError(t, err, "the zero Options are valid")
	for _, ok := range []password.Options{
		{MemoryKiB: 46 * 1024, Iterations: 1}, // OWASP's five configurations
		{MemoryKiB: 19 * 1024, Iterations: 2},
		{MemoryKiB: 12 * 1024, Iterations: 3},
		{MemoryKiB: 9 * 1024, Iterations: 4},
		{MemoryKiB: 7 * 1024, Iterations: 5},
	} {
		_, err := password.New(ok)
		assert.NoError(t, err, "%+v", ok)
	}

	cases := []struct {
		name string
		opts password.Options
	}{
		{"memory below 7 MiB", password.Options{MemoryKiB: 6 * 1024, Iterations: 10}},
		{"weaker than OWASP", password.Options{MemoryKiB: 19 * 1024, Iterations: 1}},
		{"salt too short", password.Options{SaltLength: 8}},
		{"salt too long", password.Options{SaltLength: 65}},
		{"key too short", password.Options{KeyLength: 8}},
		{"key too long", password.Options{KeyLength: 65}},
		{"MaxPasswordBytes too small", password.Options{MaxPasswordBytes: 32}},
		{"MaxMemoryKiB below MemoryKiB", password.Options{MaxMemoryKiB: 1024}},
		{"MaxIterations below Iterations", password.Options{Iterations: 3, MaxIterations: 2}},
		{"MaxParallelism below Parallelism", password.Options{Parallelism: 4, MaxParallelism: 2}},
		{"negative MaxPBKDF2Iterations", password.Options{MaxPBKDF2Iterations: -1}},
		{"MaxBcryptCost too high", password.Options{MaxBcryptCost: 32}},
		{"MaxBcryptCost too low", password.Options{MaxBcryptCost: 3}},
		{"negative MaxConcurrent", password.Options{MaxConcurrent: -1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := password.New(c.opts)
			require.ErrorIs(t, err, password.ErrInvalidOptions)
			assert.Nil(t, h)
		})
	}
	t.Run("every problem is named", func(t *testing.T) {
		_, err := password.New(password.Options{SaltLength: 1, KeyLength: 1})
		require.ErrorIs(t, err, password.ErrInvalidOptions)
		assert.Contains(t, err.Error(), "SaltLength")
		assert.Contains(t, err.Error(), "KeyLength")
	})
}
