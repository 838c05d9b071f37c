package jwtauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/jwtauth"
)

// whoami answers with the subject of the request, or "anonymous".
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if c, ok := jwtauth.FromContext(r.Context()); ok {
		_, _ = w.Write([]byte(c.Subject + "/" + c.Role))
		return
	}
	_, _ = w.Write([]byte("anonymous"))
})

func call(h http.Handler, headers map[string][]string, cookie *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for k, v := range headers {
		r.Header[k] = v
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t, nil)
	p := f.login(t, "42", "head")
	refresh := p.RefreshToken
	h := f.auth.Authenticate(whoami)
	tests := []struct {
		name      string
		header    []string
		code      int
		body      string
		challenge string
	}{
		{"no header", nil, 200, "anonymous", ""},
		{"empty header", []string{""}, 200, "anonymous", ""},
		{"other scheme", []string{"Basic dXNlcjpwYXNz"}, 200, "anonymous", ""},
		{"bearer", []string{"Bearer " + p.AccessToken}, 200, "42/head", ""},
		{"bearer lower case", []string{"bearer " + p.AccessToken}, 200, "42/head", ""},
		{"bearer alone", []string{"Bearer"}, 401, "", `Bearer realm="api", error="invalid_token"`},
		{"bearer two tokens", []string{"Bearer a b"}, 401, "", `error="invalid_token", error_description="the Authorization header must be 'Bearer' followed by one token"`},
		{"two headers", []string{"Bearer " + p.AccessToken, "Bearer " + p.AccessToken}, 401, "", `error="invalid_token"`},
		{"garbage token on a public route", []string{"Bearer abc"}, 401, "", `error="invalid_token"`},
		{"refresh token as bearer", []string{"Bearer " + refresh}, 401, "", `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr map[string][]string
			if tt.header != nil {
				hdr = map[string][]string{"Authorization": tt.header}
			}
			rec := call(h, hdr, nil)
			assert.Equal(t, tt.code, rec.Code)
			if tt.code == 200 {
				assert.Equal(t, tt.body, rec.Body.String())
				return
			}
			assert.Contains(t, rec.Header().Get("WWW-Authenticate"), tt.challenge)
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			var body map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.EqualValues(t, 401, body["status"])
			assert.NotContains(t, rec.Body.String(), p.AccessToken, "tokens are never echoed")
		})
	}
}

func TestAuthenticateRevokedAndStoreDown(t *testing.T) {
	f := newFixture(t, nil)
	p := f.login(t, "42", "")
	require.NoError(t, f.auth.Revoke(t.Context(), p.Family))
	rec := call(f.auth.Authenticate(whoami), map[string][]string{"Authorization": {"Bearer " + p.AccessToken}}, nil)
	assert.Equal(t, 401, rec.Code)
	assert.Contains(t, rec.Body.String(), "revoked")

	down := newFixture(t, func(o *jwtauth.Options) { o.Store = failingStore{} })
	p = down.login(t, "42", "")
	rec = call(down.auth.Authenticate(whoami), map[string][]string{"Authorization": {"Bearer " + p.AccessToken}}, nil)
	assert.Equal(t, 503, rec.Code, "not 401: the client must not log the user out")
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
}

func TestRequireAndRoles(t *testing.T) {
	f := newFixture(t, nil)
	head := f.login(t, "1", "head")
	user := f.login(t, "2", "simple_user")
	protected := f.auth.Authenticate(f.auth.Require(whoami))
	admin := f.auth.Authenticate(f.auth.RequireRole("superadmin", "head")(whoami))
	bearer := func(tok string) map[string][]string { return map[string][]string{"Authorization": {"Bearer " + tok}} }

	rec := call(protected, nil, nil)
	assert.Equal(t, 401, rec.Code)
	assert.Equal(t, `Bearer realm="api"`, rec.Header().Get("WWW-Authenticate"), "no error code when no token was sent (RFC 6750 §3.1)")
	assert.Equal(t, 200, call(protected, bearer(user.AccessToken), nil).Code)

	assert.Equal(t, 401, call(admin, nil, nil).Code)
	rec = call(admin, bearer(user.AccessToken), nil)
	assert.Equal(t, 403, rec.Code)
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
	rec = call(admin, bearer(head.AccessToken), nil)
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "1/head", rec.Body.String())
}

func TestCookieSource(t *testing.T) {
	f := newFixture(t, func(o *jwtauth.Options) { o.Cookie = "session" })
	p := f.login(t, "42", "")
	h := f.auth.Authenticate(whoami)
	assert.Equal(t, "42/", call(h, nil, &http.Cookie{Name: "session", Value: p.AccessToken}).Body.String())
	assert.Equal(t, "anonymous", call(h, nil, &http.Cookie{Name: "other", Value: p.AccessToken}).Body.String())
	assert.Equal(t, 401, call(h, nil, &http.Cookie{Name: "session", Value: "forged"}).Code)

	noCookie := newFixture(t, nil)
	p = noCookie.login(t, "42", "")
	assert.Equal(t, "anonymous", call(noCookie.auth.Authenticate(whoami), nil, &http.Cookie{Name: "session", Value: p.AccessToken}).Body.String(), "cookies are ignored unless configured")
}

func TestNoTokenFromQueryString(t *testing.T) {
	f := newFixture(t, nil)
	p := f.login(t, "42", "")
	r := httptest.NewRequest(http.MethodGet, "/?access_token="+p.AccessToken+"&token="+p.AccessToken, nil)
	rec := httptest.NewRecorder()
	f.auth.Authenticate(whoami).ServeHTTP(rec, r)
	assert.Equal(t, "anonymous", rec.Body.String())
}

func TestCustomErrorHandler(t *testing.T) {
	var got error
	f := newFixture(t, func(o *jwtauth.Options) {
		o.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(jwtauth.StatusCode(err))
		}
	})
	rec := call(f.auth.Authenticate(whoami), map[string][]string{"Authorization": {"Bearer x.y.z"}}, nil)
	assert.Equal(t, 401, rec.Code)
	require.ErrorIs(t, got, jwtauth.ErrInvalidToken)
}
