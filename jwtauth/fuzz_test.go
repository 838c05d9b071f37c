package jwtauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/senfi-sharif/senfi/jwtauth"
)

// FuzzVerify feeds arbitrary strings, and mutations of a valid token, to
// Verify. Invariants: no panic; every error is a 401-class sentinel; and a
// token is accepted only if it is byte-for-byte one we issued (a fuzzer cannot
// forge a signature, so any other acceptance is a verification bug).
func FuzzVerify(f *testing.F) {
	fx := newFixture(f, nil)
	p := fx.login(f, "42", "head")
	issued := map[string]bool{p.AccessToken: true, p.RefreshToken: true}
	f.Add(p.AccessToken)
	f.Add(p.RefreshToken)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.")
	f.Add(strings.Replace(p.AccessToken, ".", "..", 1))
	f.Add(p.AccessToken + "x")
	f.Add(forge(f, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "hs1", "jku": "x"}, fx.validClaims("access")))
	f.Fuzz(func(t *testing.T, token string) {
		for _, typ := range []jwtauth.TokenType{jwtauth.Access, jwtauth.Refresh} {
			c, err := fx.auth.Verify(context.Background(), token, typ)
			if err == nil {
				if !issued[token] {
					forged := forge(t, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "hs1"}, fx.validClaims(string(typ)))
					if token != forged {
						t.Fatalf("accepted a token we did not issue: %q (%+v)", token, c)
					}
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
