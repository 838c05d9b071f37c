// Package jwtauth issues and checks JSON Web Tokens for an HTTP API: short
// access tokens and rotating refresh tokens, with reuse detection,
// revocation, key rotation and state shared by several replicas.
//
// It follows RFC 8725 (JWT best current practices) and the OAuth 2.0
// security BCP's refresh-token rotation:
//
//   - Every key has an ID (kid) and one pinned algorithm (HS256, EdDSA or
//     ES256). A token naming another algorithm, "none", an unknown kid, or
//     carrying jku, x5u, jwk, x5c or crit is refused, so a token can never
//     choose how it is verified. HS256 secrets under 32 bytes are refused by
//     [New].
//   - Access and refresh tokens carry sub, role, typ, jti, fid (the session
//     family), iat, nbf, exp, iss, aud and auth_time, and refresh tokens of a
//     session with its own lifetime rttl (IssueOptions.RefreshTTL); one is
//     never accepted in place of the other. iss and aud are always checked.
//   - [Authenticator.Refresh] consumes the refresh token atomically and
//     returns a new pair of the same family; of two concurrent refreshes with
//     one token exactly one wins. A consumed token presented again revokes
//     the whole family (access tokens included) and calls Options.OnReuse.
//     No family outlives its absolute SessionLifetime.
//   - [Authenticator.Revoke] ends a session (logout);
//     [Authenticator.RevokeSubject] ends every session of a user issued up
//     to now (log out everywhere, password change, role change).
//   - Revocation is checked on every request, access tokens included, in one
//     round trip to the [Store]. When the store fails the request gets 503,
//     not 401 (clients log users out on 401) and never silent acceptance,
//     unless Options.AcceptOnStoreError says otherwise.
//
// What SimpleJWT (the Django original's library) did not do, this package
// does: revocation of access tokens, reuse detection, key rotation, an
// absolute session lifetime, and state in Redis or SQL for many replicas.
//
// # Use
//
//	auth, err := jwtauth.New(jwtauth.Options{
//		Keys:     []jwtauth.Key{{ID: "2026-12", Algorithm: jwtauth.EdDSA, PrivateKey: priv}},
//		Issuer:   "https://api.example.com",
//		Audience: "api.example.com",
//		Store:    jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{}),
//	})
//	...
//	mux.Handle("GET /admin/users", auth.RequireRole("admin")(listUsers))
//	handler := alice.New(guard.ClientIP, guard.Handler, auth.Authenticate).Then(mux)
//
// On login call [Authenticator.Issue]; on refresh [Authenticator.Refresh];
// on logout [Authenticator.Revoke] with the family of the caller's claims
// ([FromContext]).
//
// # Key rotation
//
// Add the new key to Options.Keys and make it the SigningKeyID; keep the old
// one in the set until the longest-lived token it signed (RefreshTTL, or the
// longest IssueOptions.RefreshTTL in use) has expired, then drop it.
//
// # Performance
//
// Verifying a signature costs microseconds; a session presents the same
// access token many times. The Authenticator therefore keeps a bounded cache
// of verified access tokens (Options.CacheSize), keyed by a seeded hash of
// the token and compared in full on a hit. Expiry and revocation are checked
// on every request all the same.
package jwtauth
