package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/senfi-sharif/senfi/jwtauth"
)

var hsSecret = []byte("0123456789abcdef0123456789abcdef-bench-secret")

// bearer returns the token of an Authorization header, "" when absent.
func bearer(r *http.Request) string {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return tok
}

// golangJWT is the baseline: golang-jwt's bare Parse of an HS256 token into
// MapClaims, algorithm pinned, on every request.
func golangJWT(next http.Handler) http.Handler {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
	key := func(*jwt.Token) (any, error) { return hsSecret, nil }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := parser.Parse(bearer(r), key); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jwxJWT verifies and parses with lestrrat-go/jwx v3, as go-chi/jwtauth does.
func jwxJWT(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := jwxjwt.ParseString(bearer(r), jwxjwt.WithKey(jwa.HS256(), hsSecret)); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func newAuthenticator(b *testing.B, k jwtauth.Key) *jwtauth.Authenticator {
	b.Helper()
	a, err := jwtauth.New(jwtauth.Options{
		Keys:     []jwtauth.Key{k},
		Issuer:   "https://api.example.com",
		Audience: "api.example.com",
		Store:    jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{}),
	})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkAuthenticate measures authenticating a request whose session
// presents the same access token again, as a browser session does: senfi
// checks expiry and revocation (memory store) on every request and verifies
// the signature the first time; the peers parse and verify every time.
func BenchmarkAuthenticate(b *testing.B) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	hs := newAuthenticator(b, jwtauth.Key{ID: "hs", Algorithm: jwtauth.HS256, Secret: hsSecret})
	ed := newAuthenticator(b, jwtauth.Key{ID: "ed", Algorithm: jwtauth.EdDSA, PrivateKey: edKey})
	hsPair, err := hs.Issue(context.Background(), jwtauth.IssueOptions{Subject: "42", Role: "head"})
	if err != nil {
		b.Fatal(err)
	}
	edPair, err := ed.Issue(context.Background(), jwtauth.IssueOptions{Subject: "42", Role: "head"})
	if err != nil {
		b.Fatal(err)
	}

	impls := []struct {
		name  string
		h     http.Handler
		token string
	}{
		{"bare", final, hsPair.AccessToken},
		{"senfi-hs256", hs.Authenticate(final), hsPair.AccessToken},
		{"senfi-eddsa", ed.Authenticate(final), edPair.AccessToken},
		{"senfi-hs256-nocache", newUncached(b, hsSecret).Authenticate(final), ""},
		{"golangjwt-hs256", golangJWT(final), hsPair.AccessToken},
		{"jwx-hs256", jwxJWT(final), hsPair.AccessToken},
	}
	for i := range impls {
		if impls[i].token == "" {
			impls[i].token = uncachedToken
		}
	}
	for _, impl := range impls {
		r := httptest.NewRequest(http.MethodGet, benchURL, nil)
		r.Header.Set("Authorization", "Bearer "+impl.token)
		// Check before measuring that each implementation accepts the token.
		rec := httptest.NewRecorder()
		impl.h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: status %d", impl.name, rec.Code)
		}
		b.Run(impl.name, func(b *testing.B) {
			serve(b, impl.h, []*http.Request{r})
		})
	}
}

var uncachedToken string

// newUncached returns an HS256 Authenticator without the verified-token
// cache, and sets uncachedToken to one of its tokens: the cost of a token
// seen for the first time.
func newUncached(b *testing.B, secret []byte) *jwtauth.Authenticator {
	a, err := jwtauth.New(jwtauth.Options{
		Keys:         []jwtauth.Key{{ID: "hs", Algorithm: jwtauth.HS256, Secret: secret}},
		Issuer:       "https://api.example.com",
		Audience:     "api.example.com",
		Store:        jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{}),
		DisableCache: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	p, err := a.Issue(context.Background(), jwtauth.IssueOptions{Subject: "42", Role: "head"})
	if err != nil {
		b.Fatal(err)
	}
	uncachedToken = p.AccessToken
	return a
}
