package jwtauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// Authenticate is the middleware that reads the access token and puts its
// claims in the request context, where [FromContext] finds them.
//
//   - No credentials (no Authorization header, a scheme other than Bearer, no
//     cookie): the request goes on anonymously; protect routes with
//     [Authenticator.Require] or [Authenticator.RequireRole].
//   - "Bearer" without exactly one token, or a token that fails
//     verification, expired or revoked: 401 with a WWW-Authenticate
//     challenge, even on public routes, so a client learns at once that its
//     session is gone.
//   - The revocation store failing: 503 (see Options.AcceptOnStoreError).
//
// Tokens are never read from the query string (they would end up in access
// logs).
func (a *Authenticator) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := a.extract(r)
		if err != nil {
			a.onError(w, r, err)
			return
		}
		if token == "" {
			next.ServeHTTP(w, r)
			return
		}
		c, err := a.Verify(r.Context(), token, Access)
		if err != nil {
			a.onError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
	})
}

// extract returns the bearer token of r, "" when there is none.
func (a *Authenticator) extract(r *http.Request) (string, error) {
	h := r.Header["Authorization"]
	if len(h) == 0 || h[0] == "" {
		if a.opts.Cookie != "" {
			if ck, err := r.Cookie(a.opts.Cookie); err == nil && ck.Value != "" {
				return ck.Value, nil
			}
		}
		return "", nil
	}
	if len(h) > 1 {
		return "", ErrMalformedHeader
	}
	v := h[0]
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", nil // another scheme: not ours, the request is anonymous
	}
	token := strings.Trim(rest, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", ErrMalformedHeader
	}
	return token, nil
}

// Require is the middleware that refuses anonymous requests with 401. Put it
// after Authenticate.
func (a *Authenticator) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := FromContext(r.Context()); !ok {
			a.onError(w, r, ErrNoToken)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireRole returns a middleware that refuses anonymous requests with 401
// and requests whose role is not one of roles with 403. Put it after
// Authenticate. The role is the one in the token: revoke the user's tokens
// (RevokeSubject) when it changes.
func (a *Authenticator) RequireRole(roles ...string) func(http.Handler) http.Handler {
	allowed := append([]string(nil), roles...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := FromContext(r.Context())
			if !ok {
				a.onError(w, r, ErrNoToken)
				return
			}
			for _, role := range allowed {
				if c.Role == role {
					next.ServeHTTP(w, r)
					return
				}
			}
			a.onError(w, r, ErrForbidden)
		})
	}
}

// writeError is the default ErrorHandler: problem+json, with an RFC 6750
// challenge on 401.
func (a *Authenticator) writeError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err, a.opts.Realm)
}

// WriteError writes err as an RFC 9457 problem+json response with the
// status of [StatusCode]. On 401 it adds a WWW-Authenticate challenge for
// realm (RFC 6750: error="invalid_token" when a token was presented). The
// detail names the problem (expired, revoked, ...) without internals.
func WriteError(w http.ResponseWriter, r *http.Request, err error, realm string) {
	status := StatusCode(err)
	detail := "authentication failed"
	for _, d := range details {
		if errors.Is(err, d.err) {
			detail = d.detail
			break
		}
	}
	if status == http.StatusUnauthorized {
		challenge := `Bearer realm="` + realm + `"`
		if !errors.Is(err, ErrNoToken) {
			// RFC 6750 §3: no '"' or '\' in error_description.
			challenge += `, error="invalid_token", error_description="` + strings.NewReplacer(`"`, "'", `\`, "/").Replace(detail) + `"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	problem.Write(w, r, problem.New(status, detail))
}

var details = []struct {
	err    error
	detail string
}{
	{ErrNoToken, "authentication credentials were not provided"},
	{ErrMalformedHeader, "the Authorization header must be 'Bearer' followed by one token"},
	{ErrTokenExpired, "the token has expired"},
	{ErrTokenNotYetValid, "the token is not valid yet"},
	{ErrWrongTokenType, "the token has the wrong type"},
	{ErrTokenReused, "the refresh token was already used; the session has been ended"},
	{ErrTokenRevoked, "the token has been revoked"},
	{ErrSessionExpired, "the session has reached its maximum lifetime; log in again"},
	{ErrStoreUnavailable, "the token could not be checked right now; retry shortly"},
	{ErrForbidden, "you do not have permission to perform this action"},
	{ErrWrongIssuer, "the token is invalid"},
	{ErrWrongAudience, "the token is invalid"},
	{ErrUnknownKey, "the token is invalid"},
	{ErrAlgorithm, "the token is invalid"},
	{ErrForbiddenHeader, "the token is invalid"},
	{ErrInvalidToken, "the token is invalid"},
}
