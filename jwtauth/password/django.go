package password

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Django's password hash formats (django.contrib.auth.hashers), as stored in
// the password column of auth_user:
//
//	pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte PBKDF2-HMAC-SHA256 key>
//	argon2$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<tag>   (and argon2i)
//	bcrypt$$2b$<cost>$<salt+hash>
//	bcrypt_sha256$$2b$<cost>$<salt+hash>   bcrypt of hex(SHA-256(password))
//	!<random>                                an unusable password
//
// The Senfi original stored pbkdf2_sha256 with 1,000,000 iterations.

// parseDjango parses the hash formats of Django's hashers.
func parseDjango(s string) (parsedHash, error) {
	name, rest, ok := strings.Cut(s, "$")
	if !ok || !isHasherName(name) {
		return parsedHash{}, fmt.Errorf("%w: unknown format", ErrMalformedHash)
	}
	var (
		ph  parsedHash
		err error
	)
	switch name {
	case "pbkdf2_sha256":
		ph, err = parsePBKDF2(rest)
	case "argon2":
		if !strings.HasPrefix(rest, "argon2") {
			return parsedHash{}, fmt.Errorf("%w: django argon2: bad layout", ErrMalformedHash)
		}
		ph, err = parsePHC("$" + rest)
	case "bcrypt":
		ph, err = parseBcrypt(rest, algBcrypt)
	case "bcrypt_sha256":
		ph, err = parseBcrypt(rest, algBcryptSHA256)
	default:
		// pbkdf2_sha1, scrypt, sha1, md5, unsalted_md5, crypt, ... and
		// hashers of third-party packages.
		return parsedHash{}, fmt.Errorf("%w: %s", ErrUnsupportedHash, name)
	}
	ph.django = true
	return ph, err
}

// isHasherName reports whether s looks like a Django hasher's algorithm
// name: 1 to 32 characters of a-z, 0-9 and '_'.
func isHasherName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

// parsePBKDF2 parses the part of a pbkdf2_sha256 hash after the first '$':
// <iterations>$<salt>$<hash>.
func parsePBKDF2(s string) (parsedHash, error) {
	f := strings.Split(s, "$")
	if len(f) != 3 {
		return parsedHash{}, fmt.Errorf("%w: pbkdf2_sha256: want 4 fields", ErrMalformedHash)
	}
	iter, ok := parseDecimal(f[0], 1<<62)
	if !ok || iter < 1 {
		return parsedHash{}, fmt.Errorf("%w: pbkdf2_sha256: bad iteration count", ErrMalformedHash)
	}
	salt := f[1]
	if salt == "" || len(salt) > maxDjangoSalt {
		return parsedHash{}, fmt.Errorf("%w: pbkdf2_sha256: salt length", ErrMalformedHash)
	}
	for i := 0; i < len(salt); i++ {
		if salt[i] <= ' ' || salt[i] > '~' {
			return parsedHash{}, fmt.Errorf("%w: pbkdf2_sha256: bad salt character", ErrMalformedHash)
		}
	}
	if len(f[2]) != base64.StdEncoding.EncodedLen(pbkdf2KeyBytes) {
		return parsedHash{}, fmt.Errorf("%w: pbkdf2_sha256: hash length", ErrMalformedHash)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(f[2])
	if err != nil || len(key) != pbkdf2KeyBytes || !isBase64Text(f[2]) {
		return parsedHash{}, fmt.Errorf("%w: pbkdf2_sha256: bad base64", ErrMalformedHash)
	}
	return parsedHash{alg: algPBKDF2SHA256, iterations: int(iter), salt: []byte(salt), key: key}, nil
}

// pbkdf2SHA256 computes Django's pbkdf2_sha256 key.
func pbkdf2SHA256(pw string, salt []byte, iterations int) ([]byte, error) {
	return pbkdf2.Key(sha256.New, pw, salt, iterations, pbkdf2KeyBytes)
}

// bcryptSHA256Input is the password Django's BCryptSHA256PasswordHasher
// gives to bcrypt: the hex digits of SHA-256(password), 64 bytes, so that
// bcrypt's 72-byte limit never truncates it.
func bcryptSHA256Input(pw string) []byte {
	sum := sha256.Sum256([]byte(pw))
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum[:])
	return out
}
