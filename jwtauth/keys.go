package jwtauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"fmt"
	"regexp"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithm is a JWS algorithm name. Each [Key] is pinned to one.
type Algorithm string

// The supported algorithms.
const (
	// HS256 is HMAC-SHA-256 with a shared secret of at least 32 bytes.
	HS256 Algorithm = "HS256"
	// EdDSA is Ed25519 (RFC 8037): small keys, fast, deterministic.
	EdDSA Algorithm = "EdDSA"
	// ES256 is ECDSA on P-256 with SHA-256.
	ES256 Algorithm = "ES256"
)

// MinSecretBytes is the shortest HS256 secret New accepts (RFC 7518 §3.2:
// a key of the same size as the hash output).
const MinSecretBytes = 32

// Key is one signing or verification key. A key set holds the current
// signing key and older keys kept for verification while tokens signed with
// them are still alive (key rotation).
type Key struct {
	// ID is the key ID (the kid header), unique in the set: 1–64 characters of
	// [A-Za-z0-9._-].
	ID string
	// Algorithm is the one algorithm tokens under this key may use.
	Algorithm Algorithm
	// Secret is the HS256 shared secret (at least 32 bytes of key material).
	Secret []byte
	// PrivateKey signs EdDSA (ed25519.PrivateKey) or ES256 (*ecdsa.PrivateKey)
	// tokens. Nil for a verification-only key.
	PrivateKey crypto.Signer
	// PublicKey verifies EdDSA (ed25519.PublicKey) or ES256
	// (*ecdsa.PublicKey) tokens. Zero value: derived from PrivateKey.
	PublicKey crypto.PublicKey
}

var kidPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// compiledKey is a validated Key.
type compiledKey struct {
	id     string
	alg    Algorithm
	method jwt.SigningMethod
	sign   any // secret []byte, ed25519.PrivateKey or *ecdsa.PrivateKey; nil if verification-only
	verify any // secret []byte, ed25519.PublicKey or *ecdsa.PublicKey
}

func compileKey(k Key) (*compiledKey, error) {
	if !kidPattern.MatchString(k.ID) {
		return nil, fmt.Errorf("key ID %q must be 1–64 characters of A-Z a-z 0-9 . _ -", k.ID)
	}
	ck := &compiledKey{id: k.ID, alg: k.Algorithm}
	switch k.Algorithm {
	case HS256:
		if len(k.Secret) < MinSecretBytes {
			return nil, fmt.Errorf("key %q: an HS256 secret needs at least %d bytes, got %d; generate one with crypto/rand (for example `openssl rand -base64 48`)", k.ID, MinSecretBytes, len(k.Secret))
		}
		if k.PrivateKey != nil || k.PublicKey != nil {
			return nil, fmt.Errorf("key %q: HS256 uses Secret only", k.ID)
		}
		secret := append([]byte(nil), k.Secret...)
		ck.method, ck.sign, ck.verify = jwt.SigningMethodHS256, secret, secret
	case EdDSA:
		if len(k.Secret) > 0 {
			return nil, fmt.Errorf("key %q: EdDSA takes PrivateKey/PublicKey, not Secret", k.ID)
		}
		ck.method = jwt.SigningMethodEdDSA
		if k.PrivateKey != nil {
			priv, ok := k.PrivateKey.(ed25519.PrivateKey)
			if !ok || len(priv) != ed25519.PrivateKeySize {
				return nil, fmt.Errorf("key %q: EdDSA needs an ed25519.PrivateKey, got %T", k.ID, k.PrivateKey)
			}
			ck.sign = priv
			ck.verify = priv.Public().(ed25519.PublicKey)
		}
		if k.PublicKey != nil {
			pub, ok := k.PublicKey.(ed25519.PublicKey)
			if !ok || len(pub) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("key %q: EdDSA needs an ed25519.PublicKey, got %T", k.ID, k.PublicKey)
			}
			if ck.verify != nil && !pub.Equal(ck.verify) {
				return nil, fmt.Errorf("key %q: PublicKey does not match PrivateKey", k.ID)
			}
			ck.verify = pub
		}
	case ES256:
		if len(k.Secret) > 0 {
			return nil, fmt.Errorf("key %q: ES256 takes PrivateKey/PublicKey, not Secret", k.ID)
		}
		ck.method = jwt.SigningMethodES256
		if k.PrivateKey != nil {
			priv, ok := k.PrivateKey.(*ecdsa.PrivateKey)
			if !ok || priv.Curve != elliptic.P256() {
				return nil, fmt.Errorf("key %q: ES256 needs a P-256 *ecdsa.PrivateKey, got %T", k.ID, k.PrivateKey)
			}
			ck.sign, ck.verify = priv, &priv.PublicKey
		}
		if k.PublicKey != nil {
			pub, ok := k.PublicKey.(*ecdsa.PublicKey)
			if !ok || pub.Curve != elliptic.P256() {
				return nil, fmt.Errorf("key %q: ES256 needs a P-256 *ecdsa.PublicKey, got %T", k.ID, k.PublicKey)
			}
			if ck.verify != nil && !pub.Equal(ck.verify) {
				return nil, fmt.Errorf("key %q: PublicKey does not match PrivateKey", k.ID)
			}
			ck.verify = pub
		}
	case "":
		return nil, fmt.Errorf("key %q: Algorithm is empty; pin one of HS256, EdDSA, ES256", k.ID)
	default:
		return nil, fmt.Errorf("key %q: algorithm %q is not supported; use HS256, EdDSA or ES256", k.ID, k.Algorithm)
	}
	if ck.verify == nil {
		return nil, fmt.Errorf("key %q: neither PrivateKey nor PublicKey is set", k.ID)
	}
	return ck, nil
}
