package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// algorithm identifies how a stored hash was computed.
type algorithm uint8

const (
	algArgon2id     algorithm = iota + 1 // PHC $argon2id$, ours
	algArgon2i                           // PHC $argon2i$ (old Django argon2 hashes)
	algBcrypt                            // $2a$, $2b$, $2y$
	algBcryptSHA256                      // Django bcrypt_sha256: bcrypt of hex(SHA-256(password))
	algPBKDF2SHA256                      // Django pbkdf2_sha256
)

// String returns the algorithm's name, for test messages.
func (a algorithm) String() string {
	switch a {
	case algArgon2id:
		return "argon2id"
	case algArgon2i:
		return "argon2i"
	case algBcrypt:
		return "bcrypt"
	case algBcryptSHA256:
		return "bcrypt_sha256"
	case algPBKDF2SHA256:
		return "pbkdf2_sha256"
	}
	return "unknown"
}

// Structural bounds of the accepted formats. Hashes outside them are
// malformed: no implementation in use produces them.
const (
	maxEncodedLen  = 512 // longest hash string parsed at all
	argon2Version  = 19  // 0x13, the only version x/crypto/argon2 implements
	minSaltBytes   = 8   // RFC 9106 minimum
	maxSaltBytes   = 64
	minKeyBytes    = 16 // shorter tags make false matches too likely
	maxKeyBytes    = 64
	bcryptLen      = 60 // $2b$ + cost + $ + 22 salt + 31 hash characters
	bcryptMinCost  = 4
	bcryptMaxCost  = 31
	pbkdf2KeyBytes = 32 // Django's pbkdf2_sha256 stores the full SHA-256 output
	maxDjangoSalt  = 128
)

// phcBase64 returns the PHC string format's base64: standard alphabet, no
// padding, canonical (strict) so that a hash has exactly one spelling.
func phcBase64() *base64.Encoding { return base64.RawStdEncoding.Strict() }

// errUnusable marks Django's unusable passwords ("!" followed by random
// characters, set by set_unusable_password).
var errUnusable = errors.New("password: unusable password")

// parsedHash is a stored hash taken apart. Only the fields of its
// algorithm are set.
type parsedHash struct {
	alg    algorithm
	django bool // written in one of Django's formats ("argon2$...", "bcrypt$...", ...)

	// argon2
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte

	// pbkdf2_sha256 (salt and key above)
	iterations int

	// bcrypt and bcrypt_sha256: the $2x$ string and its cost
	bcrypt string
	cost   int
}

// parseHash takes a stored hash string apart, checking its structure but
// not the Hasher's cost limits (see limits.check). It never panics and
// never does expensive work.
func parseHash(s string) (parsedHash, error) {
	if len(s) > maxEncodedLen {
		return parsedHash{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLen)
	}
	switch {
	case strings.HasPrefix(s, "$argon2"):
		return parsePHC(s)
	case strings.HasPrefix(s, "$2"):
		return parseBcrypt(s, algBcrypt)
	case strings.HasPrefix(s, "!"):
		return parsedHash{}, errUnusable
	}
	return parseDjango(s)
}

// parsePHC parses an argon2 hash in the PHC string format of the reference
// implementation: $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<tag>.
// Only that field order is accepted, as every implementation writes it.
func parsePHC(s string) (parsedHash, error) {
	f := strings.Split(s, "$")
	if len(f) == 5 && f[0] == "" && strings.HasPrefix(f[2], "m=") {
		// No version field: Argon2 1.0 (0x10), which x/crypto lacks.
		return parsedHash{}, fmt.Errorf("%w: argon2 version 16", ErrUnsupportedHash)
	}
	if len(f) != 6 || f[0] != "" {
		return parsedHash{}, fmt.Errorf("%w: argon2: want 5 fields", ErrMalformedHash)
	}
	var ph parsedHash
	switch f[1] {
	case "argon2id":
		ph.alg = algArgon2id
	case "argon2i":
		ph.alg = algArgon2i
	case "argon2d":
		return parsedHash{}, fmt.Errorf("%w: argon2d", ErrUnsupportedHash)
	default:
		return parsedHash{}, fmt.Errorf("%w: argon2: unknown variant", ErrMalformedHash)
	}

	v, ok := strings.CutPrefix(f[2], "v=")
	if !ok {
		return parsedHash{}, fmt.Errorf("%w: argon2: no version", ErrMalformedHash)
	}
	ver, ok := parseDecimal(v, 1<<32-1)
	if !ok {
		return parsedHash{}, fmt.Errorf("%w: argon2: bad version", ErrMalformedHash)
	}
	if ver != argon2Version {
		return parsedHash{}, fmt.Errorf("%w: argon2 version %d", ErrUnsupportedHash, ver)
	}

	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return parsedHash{}, fmt.Errorf("%w: argon2: want m, t and p", ErrMalformedHash)
	}
	var vals [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		d, ok := strings.CutPrefix(params[i], name)
		if !ok {
			return parsedHash{}, fmt.Errorf("%w: argon2: want m, t and p in that order", ErrMalformedHash)
		}
		if vals[i], ok = parseDecimal(d, 1<<32-1); !ok {
			return parsedHash{}, fmt.Errorf("%w: argon2: bad %s", ErrMalformedHash, strings.TrimSuffix(name, "="))
		}
	}
	m, t, p := vals[0], vals[1], vals[2]
	if t < 1 || p < 1 || p > 255 || m < 8*p {
		return parsedHash{}, fmt.Errorf("%w: argon2: m=%d, t=%d, p=%d out of range", ErrMalformedHash, m, t, p)
	}
	ph.memory, ph.time, ph.threads = uint32(m), uint32(t), uint8(p)

	var err error
	if ph.salt, err = decodeBounded(f[4], minSaltBytes, maxSaltBytes); err != nil {
		return parsedHash{}, fmt.Errorf("%w: argon2 salt: %v", ErrMalformedHash, err)
	}
	if ph.key, err = decodeBounded(f[5], minKeyBytes, maxKeyBytes); err != nil {
		return parsedHash{}, fmt.Errorf("%w: argon2 hash: %v", ErrMalformedHash, err)
	}
	return ph, nil
}

// encodePHC writes an argon2id hash in the PHC string format.
func encodePHC(memory, time uint32, threads uint8, salt, key []byte) string {
	b64 := phcBase64()
	var b strings.Builder
	b.Grow(48 + b64.EncodedLen(len(salt)) + b64.EncodedLen(len(key)))
	b.WriteString("$argon2id$v=19$m=")
	b.WriteString(strconv.FormatUint(uint64(memory), 10))
	b.WriteString(",t=")
	b.WriteString(strconv.FormatUint(uint64(time), 10))
	b.WriteString(",p=")
	b.WriteString(strconv.FormatUint(uint64(threads), 10))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(salt))
	b.WriteByte('$')
	b.WriteString(b64.EncodeToString(key))
	return b.String()
}

// decodeBounded decodes PHC base64 of min to max bytes.
func decodeBounded(s string, minLen, maxLen int) ([]byte, error) {
	if !isBase64Text(s) {
		return nil, errors.New("bad base64")
	}
	b64 := phcBase64()
	if n := b64.DecodedLen(len(s)); n < minLen || n > maxLen {
		return nil, fmt.Errorf("length %d not in [%d, %d]", n, minLen, maxLen)
	}
	out, err := b64.DecodeString(s)
	if err != nil {
		return nil, errors.New("bad base64")
	}
	if len(out) < minLen || len(out) > maxLen {
		return nil, fmt.Errorf("length %d not in [%d, %d]", len(out), minLen, maxLen)
	}
	return out, nil
}

// isBase64Text reports whether s uses only the standard base64 alphabet
// and '='. Go's decoders skip '\r' and '\n' even in strict mode, which
// would give one hash several spellings.
func isBase64Text(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z') && !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') && c != '+' && c != '/' && c != '=' {
			return false
		}
	}
	return true
}

// parseBcrypt checks the modular crypt format of bcrypt,
// $2b$<cost>$<22 salt characters><31 hash characters>, for the minor
// versions a, b and y (which x/crypto/bcrypt computes identically).
func parseBcrypt(s string, alg algorithm) (parsedHash, error) {
	if len(s) != bcryptLen {
		return parsedHash{}, fmt.Errorf("%w: bcrypt: want %d characters", ErrMalformedHash, bcryptLen)
	}
	if s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return parsedHash{}, fmt.Errorf("%w: bcrypt: bad layout", ErrMalformedHash)
	}
	switch s[2] {
	case 'a', 'b', 'y':
	default:
		return parsedHash{}, fmt.Errorf("%w: bcrypt minor version %q", ErrUnsupportedHash, s[2])
	}
	cost, ok := parseDecimal2(s[4:6])
	if !ok || cost < bcryptMinCost || cost > bcryptMaxCost {
		return parsedHash{}, fmt.Errorf("%w: bcrypt: bad cost", ErrMalformedHash)
	}
	for i := 7; i < len(s); i++ {
		if !isBcryptBase64(s[i]) {
			return parsedHash{}, fmt.Errorf("%w: bcrypt: bad character", ErrMalformedHash)
		}
	}
	return parsedHash{alg: alg, bcrypt: s, cost: cost}, nil
}

// isBcryptBase64 reports whether c is in bcrypt's base64 alphabet.
func isBcryptBase64(c byte) bool {
	return c == '.' || c == '/' || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}

// parseDecimal2 parses exactly two ASCII digits.
func parseDecimal2(s string) (int, bool) {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// parseDecimal parses a canonical unsigned decimal number (digits only, no
// sign, no leading zero, no spaces) not above maxVal.
func parseDecimal(s string, maxVal uint64) (uint64, bool) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxVal {
		return 0, false
	}
	return n, true
}
