package jwtauth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/senfi-sharif/senfi/jwtauth"
)

func newExampleAuthenticator() *jwtauth.Authenticator {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	auth, err := jwtauth.New(jwtauth.Options{
		Keys:     []jwtauth.Key{{ID: "2026-12", Algorithm: jwtauth.EdDSA, PrivateKey: priv}},
		Issuer:   "https://api.example.com",
		Audience: "api.example.com",
		Store:    jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{}),
	})
	if err != nil {
		panic(err)
	}
	return auth
}

// Issue a pair at login, rotate it, and see reuse detection end the session.
func ExampleAuthenticator_Refresh() {
	auth := newExampleAuthenticator()
	ctx := context.Background()

	login, _ := auth.Issue(ctx, jwtauth.IssueOptions{Subject: "42", Role: "head"})
	next, err := auth.Refresh(ctx, login.RefreshToken)
	fmt.Println("rotated:", err == nil, next.Family == login.Family)

	// The old refresh token again: a thief or a confused client. The family dies.
	_, err = auth.Refresh(ctx, login.RefreshToken)
	fmt.Println("reuse:", errors.Is(err, jwtauth.ErrTokenReused))
	_, err = auth.Verify(ctx, next.AccessToken, jwtauth.Access)
	fmt.Println("new access token:", err)
	// Output:
	// rotated: true true
	// reuse: true
	// new access token: jwtauth: token revoked
}

// Logout revokes the session; "log out everywhere" every session of the user.
func ExampleAuthenticator_Revoke() {
	auth := newExampleAuthenticator()
	ctx := context.Background()
	phone, _ := auth.Issue(ctx, jwtauth.IssueOptions{Subject: "42"})
	laptop, _ := auth.Issue(ctx, jwtauth.IssueOptions{Subject: "42"})

	_ = auth.Revoke(ctx, phone.Family)
	_, errPhone := auth.Verify(ctx, phone.AccessToken, jwtauth.Access)
	_, errLaptop := auth.Verify(ctx, laptop.AccessToken, jwtauth.Access)
	fmt.Println(errPhone, errLaptop)

	_ = auth.RevokeSubject(ctx, "42")
	_, errLaptop = auth.Verify(ctx, laptop.AccessToken, jwtauth.Access)
	fmt.Println(errLaptop)
	// Output:
	// jwtauth: token revoked <nil>
	// jwtauth: token revoked
}

// Protect a mux: Authenticate for every route, RequireRole where it matters.
func ExampleAuthenticator_RequireRole() {
	auth := newExampleAuthenticator()
	mux := http.NewServeMux()
	mux.Handle("GET /api/auth/users", auth.RequireRole("superadmin", "head")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			c, _ := jwtauth.FromContext(r.Context())
			fmt.Fprintf(w, "users, for %s", c.Subject)
		})))
	h := auth.Authenticate(mux)

	head, _ := auth.Issue(context.Background(), jwtauth.IssueOptions{Subject: "1", Role: "head"})
	user, _ := auth.Issue(context.Background(), jwtauth.IssueOptions{Subject: "2", Role: "simple_user"})
	for _, token := range []string{"", user.AccessToken, head.AccessToken} {
		r := httptest.NewRequest(http.MethodGet, "/api/auth/users", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code)
	}
	// Output:
	// 401
	// 403
	// 200
}
