package jwtauth

import (
	"errors"
	"net/http"
)

// Sentinel errors. Verification failures wrap one of these (match them with
// errors.Is); several may be joined when a token fails several checks.
var (
	// ErrNoToken: the request carries no credentials (401 where they are required).
	ErrNoToken = errors.New("jwtauth: no token")
	// ErrMalformedHeader: the Authorization header is "Bearer" without exactly one token (401).
	ErrMalformedHeader = errors.New("jwtauth: malformed Authorization header")
	// ErrInvalidToken: the token is not a well-formed, correctly signed JWT of ours (401).
	ErrInvalidToken = errors.New("jwtauth: invalid token")
	// ErrUnknownKey: the token names a key ID this Authenticator does not have (401).
	ErrUnknownKey = errors.New("jwtauth: unknown signing key")
	// ErrAlgorithm: the token's algorithm is not the one pinned for its key,
	// or is "none" (401).
	ErrAlgorithm = errors.New("jwtauth: algorithm not allowed for this key")
	// ErrForbiddenHeader: the token header carries jku, x5u, jwk, x5c or crit,
	// which would let the token choose its own verification key (401).
	ErrForbiddenHeader = errors.New("jwtauth: forbidden JOSE header parameter")
	// ErrTokenExpired: exp is in the past, beyond the leeway (401).
	ErrTokenExpired = errors.New("jwtauth: token expired")
	// ErrTokenNotYetValid: nbf or iat is in the future, beyond the leeway (401).
	ErrTokenNotYetValid = errors.New("jwtauth: token not valid yet")
	// ErrWrongIssuer / ErrWrongAudience: iss or aud is not ours (401).
	ErrWrongIssuer   = errors.New("jwtauth: wrong issuer")
	ErrWrongAudience = errors.New("jwtauth: wrong audience")
	// ErrWrongTokenType: a refresh token was used as an access token or the
	// reverse (401).
	ErrWrongTokenType = errors.New("jwtauth: wrong token type")
	// ErrTokenRevoked: the token's family or subject was revoked (401).
	ErrTokenRevoked = errors.New("jwtauth: token revoked")
	// ErrTokenReused: a refresh token was presented after it had been
	// consumed; its whole family is now revoked (401).
	ErrTokenReused = errors.New("jwtauth: refresh token reused")
	// ErrSessionExpired: the family has reached its absolute lifetime (401).
	ErrSessionExpired = errors.New("jwtauth: session lifetime exceeded")
	// ErrStoreUnavailable: the revocation store failed, so the token's state
	// is unknown (503: clients log users out on 401, so this is not one).
	ErrStoreUnavailable = errors.New("jwtauth: revocation store unavailable")
	// ErrForbidden: authenticated, but the role is not allowed (403).
	ErrForbidden = errors.New("jwtauth: role not allowed")
)

// StatusCode maps an error of this package to its HTTP status: 401 for
// credential problems, 403 for ErrForbidden, 503 for ErrStoreUnavailable, 500
// otherwise.
func StatusCode(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrStoreUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, ErrNoToken), errors.Is(err, ErrMalformedHeader),
		errors.Is(err, ErrInvalidToken), errors.Is(err, ErrUnknownKey),
		errors.Is(err, ErrAlgorithm), errors.Is(err, ErrForbiddenHeader),
		errors.Is(err, ErrTokenExpired), errors.Is(err, ErrTokenNotYetValid),
		errors.Is(err, ErrWrongIssuer), errors.Is(err, ErrWrongAudience),
		errors.Is(err, ErrWrongTokenType), errors.Is(err, ErrTokenRevoked),
		errors.Is(err, ErrTokenReused), errors.Is(err, ErrSessionExpired):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}
