package jwtauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/senfi-sharif/senfi/jwtauth"
)

// FuzzVerify feeds arbitrary strings, and mutations of valid tokens, to
// Verify. Invariants: no panic; every error is a 401-class sentinel; and a
// token is accepted only if an independent check (golang-jwt, HS256 only,
// our secret, kid hs1, no key-bearing headers) agrees that it is signed by
// us: a fuzzer cannot forge a signature, so any other acceptance is a bug.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, nil)
	p := fx.login(f, "42", "head")
	f.Add(p.AccessToken)
	f.Add(p.RefreshToken)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")
	f.Add(strings.Replace(p.AccessToken, ".", "..", 1))
	f.Add(p.AccessToken + "x")
	f.Add(forge(f, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "hs1", "jku": "x"}, fx.validClaims("access")))
	independent := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())
	f.Fuzz(func(t *testing.T, token string) {
		for _, typ := range []jwtauth.TokenType{jwtauth.Access, jwtauth.Refresh} {
			c, err := fx.auth.Verify(context.Background(), token, typ)
			if err == nil {
				tok, perr := independent.Parse(token, func(tok *jwt.Token) (any, error) {
					if tok.Header["kid"] != "hs1" {
						return nil, errors.New("kid")
					}
					for _, h := range []string{"jku", "x5u", "jwk", "x5c", "crit"} {
						if _, ok := tok.Header[h]; ok {
							return nil, errors.New(h)
						}
					}
					return hsSecret, nil
				})
				if perr != nil || !tok.Valid {
					t.Fatalf("accepted a token that is not signed by us: %q (%+v): %v", token, c, perr)
				}
				continue
			}
			if jwtauth.StatusCode(err) != 401 {
				t.Fatalf("status %d for %v", jwtauth.StatusCode(err), err)
			}
			if errors.Is(err, jwtauth.ErrStoreUnavailable) {
				t.Fatalf("store error from the memory store: %v", err)
			}
		}
	})
}
