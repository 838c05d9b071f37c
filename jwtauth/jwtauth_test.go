package jwtauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/jwtauth"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var hsSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

type fixture struct {
	auth  *jwtauth.Authenticator
	clock *clock
	store *jwtauth.MemoryStore
	edPub ed25519.PublicKey
	edKey ed25519.PrivateKey
}

func newFixture(t testing.TB, mod func(*jwtauth.Options)) *fixture {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	f := &fixture{clock: newClock(), edPub: pub, edKey: priv}
	f.store = jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{Now: f.clock.Now})
	opts := jwtauth.Options{
		Keys: []jwtauth.Key{
			{ID: "hs1", Algorithm: jwtauth.HS256, Secret: hsSecret},
			{ID: "ed1", Algorithm: jwtauth.EdDSA, PublicKey: pub},
		},
		Issuer:   "https://senfi.example",
		Audience: "senfi-api",
		Store:    f.store,
		Now:      f.clock.Now,
	}
	if mod != nil {
		mod(&opts)
	}
	f.auth, err = jwtauth.New(opts)
	require.NoError(t, err)
	return f
}

func (f *fixture) login(t testing.TB, sub, role string) jwtauth.Pair {
	t.Helper()
	p, err := f.auth.Issue(context.Background(), jwtauth.IssueOptions{Subject: sub, Role: role})
	require.NoError(t, err)
	return p
}

// forge signs arbitrary claims and header fields with the given method and key.
func forge(t testing.TB, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// validClaims returns claims our Authenticator would accept, at the fixture's time.
func (f *fixture) validClaims(typ string) jwt.MapClaims {
	now := f.clock.Now()
	return jwt.MapClaims{
		"sub": "42", "role": "simple_user", "typ": typ, "jti": "j1", "fid": "f1",
		"iss": "https://senfi.example", "aud": "senfi-api",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(), "auth_time": now.Unix(),
	}
}

func TestIssueAndVerify(t *testing.T) {
	f := newFixture(t, nil)
	p := f.login(t, "42", "head")
	c, err := f.auth.Verify(context.Background(), p.AccessToken, jwtauth.Access)
	require.NoError(t, err)
	assert.Equal(t, "42", c.Subject)
	assert.Equal(t, "head", c.Role)
	assert.Equal(t, jwtauth.Access, c.Type)
	assert.Equal(t, p.Family, c.Family)
	assert.Equal(t, []string{"senfi-api"}, c.Audience)
	assert.Equal(t, f.clock.Now().Add(jwtauth.DefaultAccessTTL), c.ExpiresAt)
	assert.Equal(t, f.clock.Now().Add(jwtauth.DefaultAccessTTL), p.AccessExpiresAt)
	assert.Equal(t, f.clock.Now().Add(jwtauth.DefaultRefreshTTL), p.RefreshExpiresAt)

	rc, err := f.auth.Verify(context.Background(), p.RefreshToken, jwtauth.Refresh)
	require.NoError(t, err)
	assert.NotEqual(t, c.ID, rc.ID)
	assert.Equal(t, c.Family, rc.Family)

	// The forged-token helper produces tokens we accept, so the attack cases
	// below fail for the reason they name and no other.
	ok := forge(t, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "hs1"}, f.validClaims("access"))
	_, err = f.auth.Verify(context.Background(), ok, jwtauth.Access)
	require.NoError(t, err)
}

func TestAttacks(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	valid := f.validClaims("access")
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range valid {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hs := func(claims jwt.MapClaims) string {
		return forge(t, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "hs1"}, claims)
	}
	now := f.clock.Now()

	// alg "none": header and empty signature, built by hand.
	none := func() string {
		head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"hs1"}`))
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, valid)
		s, _ := tok.SignedString(hsSecret)
		parts := strings.Split(s, ".")
		return head + "." + parts[1] + "."
	}()
	// HS256 token whose HMAC secret is the EdDSA public key, naming the EdDSA key.
	confusion := forge(t, jwt.SigningMethodHS256, []byte(f.edPub), map[string]any{"kid": "ed1"}, valid)
	// An EdDSA token naming the HS256 key.
	edUnderHS := forge(t, jwt.SigningMethodEdDSA, f.edKey, map[string]any{"kid": "hs1"}, valid)
	// A correctly signed token under a key that is not in the set.
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	foreign := forge(t, jwt.SigningMethodEdDSA, otherKey, map[string]any{"kid": "ed1"}, valid)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	es := forge(t, jwt.SigningMethodES256, ecKey, map[string]any{"kid": "hs1"}, valid)

	tampered := func() string {
		s := hs(valid)
		parts := strings.Split(s, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		payload = []byte(strings.Replace(string(payload), `"simple_user"`, `"superadmin"`, 1))
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		return strings.Join(parts, ".")
	}()

	tests := []struct {
		name  string
		token string
		typ   jwtauth.TokenType
		want  error
	}{
		{"alg none", none, jwtauth.Access, jwtauth.ErrAlgorithm},
		{"hs256 signed with the EdDSA public key", confusion, jwtauth.Access, jwtauth.ErrAlgorithm},
		{"EdDSA token under the HS256 key", edUnderHS, jwtauth.Access, jwtauth.ErrAlgorithm},
		{"ES256 token (algorithm of no key)", es, jwtauth.Access, jwtauth.ErrAlgorithm},
		{"signed by a foreign key", foreign, jwtauth.Access, jwtauth.ErrInvalidToken},
		{"unknown kid", forge(t, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "nope"}, valid), jwtauth.Access, jwtauth.ErrUnknownKey},
		{"no kid", forge(t, jwt.SigningMethodHS256, hsSecret, nil, valid), jwtauth.Access, jwtauth.ErrUnknownKey},
		{"jku header", forge(t, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "hs1", "jku": "https://evil.example/jwks"}, valid), jwtauth.Access, jwtauth.ErrForbiddenHeader},
		{"x5u header", forge(t, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "hs1", "x5u": "https://evil.example/cert"}, valid), jwtauth.Access, jwtauth.ErrForbiddenHeader},
		{"embedded jwk", forge(t, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "hs1", "jwk": map[string]any{"kty": "oct", "k": "AAAA"}}, valid), jwtauth.Access, jwtauth.ErrForbiddenHeader},
		{"crit header", forge(t, jwt.SigningMethodHS256, hsSecret, map[string]any{"kid": "hs1", "crit": []string{"exp"}}, valid), jwtauth.Access, jwtauth.ErrForbiddenHeader},
		{"expired", hs(with("exp", now.Add(-time.Minute).Unix())), jwtauth.Access, jwtauth.ErrTokenExpired},
		{"no exp", hs(with("exp", nil)), jwtauth.Access, jwtauth.ErrInvalidToken},
		{"nbf in the future", hs(with("nbf", now.Add(time.Hour).Unix())), jwtauth.Access, jwtauth.ErrTokenNotYetValid},
		{"iat in the future", hs(with("iat", now.Add(time.Hour).Unix())), jwtauth.Access, jwtauth.ErrTokenNotYetValid},
		{"wrong issuer", hs(with("iss", "https://evil.example")), jwtauth.Access, jwtauth.ErrWrongIssuer},
		{"no issuer", hs(with("iss", nil)), jwtauth.Access, jwtauth.ErrInvalidToken},
		{"wrong audience", hs(with("aud", "other-api")), jwtauth.Access, jwtauth.ErrWrongAudience},
		{"refresh used as access", hs(with("typ", "refresh")), jwtauth.Access, jwtauth.ErrWrongTokenType},
		{"access used as refresh", hs(valid), jwtauth.Refresh, jwtauth.ErrWrongTokenType},
		{"unknown type", hs(with("typ", "id")), jwtauth.Access, jwtauth.ErrWrongTokenType},
		{"no subject", hs(with("sub", nil)), jwtauth.Access, jwtauth.ErrInvalidToken},
		{"no family", hs(with("fid", nil)), jwtauth.Access, jwtauth.ErrInvalidToken},
		{"tampered payload", tampered, jwtauth.Access, jwtauth.ErrInvalidToken},
		{"garbage", "not.a.jwt", jwtauth.Access, jwtauth.ErrInvalidToken},
		{"empty", "", jwtauth.Access, jwtauth.ErrInvalidToken},
		{"huge", strings.Repeat("a", 10000), jwtauth.Access, jwtauth.ErrInvalidToken},
		{"injection in claims", hs(with("exp", "1; DROP TABLE users")), jwtauth.Access, jwtauth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.auth.Verify(ctx, tt.token, tt.typ)
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, c)
			assert.Equal(t, 401, jwtauth.StatusCode(err))
		})
	}
}

func TestLeeway(t *testing.T) {
	f := newFixture(t, nil)
	p := f.login(t, "42", "")
	f.clock.Advance(jwtauth.DefaultAccessTTL + 20*time.Second) // inside the 30 s leeway
	_, err := f.auth.Verify(context.Background(), p.AccessToken, jwtauth.Access)
	require.NoError(t, err)
	f.clock.Advance(20 * time.Second)
	_, err = f.auth.Verify(context.Background(), p.AccessToken, jwtauth.Access)
	require.ErrorIs(t, err, jwtauth.ErrTokenExpired, "the cache honours exp too")
}

func TestRefreshRotation(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	p1 := f.login(t, "42", "head")
	f.clock.Advance(time.Minute)
	p2, err := f.auth.Refresh(ctx, p1.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, p1.Family, p2.Family)
	assert.NotEqual(t, p1.RefreshToken, p2.RefreshToken)
	c, err := f.auth.Verify(ctx, p2.AccessToken, jwtauth.Access)
	require.NoError(t, err)
	assert.Equal(t, "head", c.Role)

	// The old access token still works until it expires: rotation is not logout.
	_, err = f.auth.Verify(ctx, p1.AccessToken, jwtauth.Access)
	require.NoError(t, err)

	// An access token cannot refresh.
	_, err = f.auth.Refresh(ctx, p2.AccessToken)
	require.ErrorIs(t, err, jwtauth.ErrWrongTokenType)
}

func TestRefreshReuseKillsFamily(t *testing.T) {
	var reused atomic.Int32
	f := newFixture(t, func(o *jwtauth.Options) {
		o.OnReuse = func(ctx context.Context, c *jwtauth.Claims) { reused.Add(1) }
	})
	ctx := context.Background()
	p1 := f.login(t, "42", "")
	other := f.login(t, "42", "") // another session of the same user
	p2, err := f.auth.Refresh(ctx, p1.RefreshToken)
	require.NoError(t, err)

	// The thief (or the victim) presents p1's refresh token again.
	_, err = f.auth.Refresh(ctx, p1.RefreshToken)
	require.ErrorIs(t, err, jwtauth.ErrTokenReused)
	assert.Equal(t, int32(1), reused.Load())

	for name, tok := range map[string]string{"old access": p1.AccessToken, "new access": p2.AccessToken} {
		_, err = f.auth.Verify(ctx, tok, jwtauth.Access)
		require.ErrorIs(t, err, jwtauth.ErrTokenRevoked, name)
	}
	_, err = f.auth.Refresh(ctx, p2.RefreshToken)
	require.ErrorIs(t, err, jwtauth.ErrTokenRevoked, "the new refresh token dies with the family")

	_, err = f.auth.Verify(ctx, other.AccessToken, jwtauth.Access)
	require.NoError(t, err, "other sessions are untouched")
}

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	f := newFixture(t, nil)
	p := f.login(t, "42", "")
	const n = 64
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.auth.Refresh(context.Background(), p.RefreshToken)
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, jwtauth.ErrTokenReused) && !errors.Is(err, jwtauth.ErrTokenRevoked) {
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

func TestReuseGrace(t *testing.T) {
	f := newFixture(t, func(o *jwtauth.Options) { o.ReuseGrace = 10 * time.Second })
	ctx := context.Background()
	p := f.login(t, "42", "")
	_, err := f.auth.Refresh(ctx, p.RefreshToken)
	require.NoError(t, err)
	f.clock.Advance(5 * time.Second)
	_, err = f.auth.Refresh(ctx, p.RefreshToken)
	require.NoError(t, err, "a parallel client's retry inside the grace window")
	f.clock.Advance(10 * time.Second)
	_, err = f.auth.Refresh(ctx, p.RefreshToken)
	require.ErrorIs(t, err, jwtauth.ErrTokenReused)
}

func TestSessionLifetime(t *testing.T) {
	f := newFixture(t, func(o *jwtauth.Options) {
		o.RefreshTTL = 24 * time.Hour
		o.SessionLifetime = 48 * time.Hour
	})
	ctx := context.Background()
	p := f.login(t, "42", "")
	var err error
	f.clock.Advance(20 * time.Hour)
	p, err = f.auth.Refresh(ctx, p.RefreshToken)
	require.NoError(t, err)
	f.clock.Advance(20 * time.Hour)
	p, err = f.auth.Refresh(ctx, p.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, newClock().Now().Add(48*time.Hour), p.RefreshExpiresAt, "capped by the session lifetime")
	f.clock.Advance(8*time.Hour + time.Second)
	_, err = f.auth.Refresh(ctx, p.RefreshToken)
	require.Error(t, err)
	assert.Equal(t, 401, jwtauth.StatusCode(err))
}

// TestIssueRefreshTTL: a session issued with its own RefreshTTL ("remember
// me") keeps it through every rotation, within SessionLifetime; others keep
// Options.RefreshTTL; out-of-range values are refused.
func TestIssueRefreshTTL(t *testing.T) {
	f := newFixture(t, func(o *jwtauth.Options) {
		o.AccessTTL = 5 * time.Minute
		o.RefreshTTL = time.Hour
		o.SessionLifetime = 10 * time.Hour
	})
	ctx := context.Background()
	start := f.clock.Now()
	long, err := f.auth.Issue(ctx, jwtauth.IssueOptions{Subject: "42", RefreshTTL: 3 * time.Hour})
	require.NoError(t, err)
	short := f.login(t, "43", "")
	assert.Equal(t, start.Add(3*time.Hour), long.RefreshExpiresAt)
	assert.Equal(t, start.Add(time.Hour), short.RefreshExpiresAt)
	c, err := f.auth.Verify(ctx, long.RefreshToken, jwtauth.Refresh)
	require.NoError(t, err)
	assert.Equal(t, 3*time.Hour, c.RefreshTTL)
	c, err = f.auth.Verify(ctx, short.RefreshToken, jwtauth.Refresh)
	require.NoError(t, err)
	assert.Zero(t, c.RefreshTTL)

	// Two hours idle: the short session is over, the long one rotates and
	// keeps its lifetime.
	f.clock.Advance(2 * time.Hour)
	_, err = f.auth.Refresh(ctx, short.RefreshToken)
	require.Error(t, err)
	for range 3 {
		long, err = f.auth.Refresh(ctx, long.RefreshToken)
		require.NoError(t, err)
		assert.Equal(t, f.clock.Now().Add(3*time.Hour), long.RefreshExpiresAt)
		f.clock.Advance(2*time.Hour + 30*time.Minute)
	}
	// 7.5 h in: the next pair is capped by the 10 h session.
	long, err = f.auth.Refresh(ctx, long.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, start.Add(10*time.Hour), long.RefreshExpiresAt)

	for _, ttl := range []time.Duration{-time.Hour, time.Minute, 11 * time.Hour, 90*time.Minute + time.Millisecond} {
		_, err := f.auth.Issue(ctx, jwtauth.IssueOptions{Subject: "42", RefreshTTL: ttl})
		assert.ErrorContains(t, err, "IssueOptions.RefreshTTL", "RefreshTTL %v", ttl)
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	a := f.login(t, "42", "")
	b := f.login(t, "42", "")
	_, err := f.auth.Verify(ctx, a.AccessToken, jwtauth.Access) // cached now
	require.NoError(t, err)
	require.NoError(t, f.auth.Revoke(ctx, a.Family))
	_, err = f.auth.Verify(ctx, a.AccessToken, jwtauth.Access)
	require.ErrorIs(t, err, jwtauth.ErrTokenRevoked, "revocation is checked even for cached tokens")
	_, err = f.auth.Refresh(ctx, a.RefreshToken)
	require.ErrorIs(t, err, jwtauth.ErrTokenRevoked)
	_, err = f.auth.Verify(ctx, b.AccessToken, jwtauth.Access)
	require.NoError(t, err)
}

func TestRevokeSubject(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	a := f.login(t, "42", "")
	other := f.login(t, "43", "")
	require.NoError(t, f.auth.RevokeSubject(ctx, "42"))
	_, err := f.auth.Verify(ctx, a.AccessToken, jwtauth.Access)
	require.ErrorIs(t, err, jwtauth.ErrTokenRevoked)
	_, err = f.auth.Refresh(ctx, a.RefreshToken)
	require.ErrorIs(t, err, jwtauth.ErrTokenRevoked)
	_, err = f.auth.Verify(ctx, other.AccessToken, jwtauth.Access)
	require.NoError(t, err)

	// A login right after, a microsecond later, works.
	f.clock.Advance(time.Microsecond)
	b := f.login(t, "42", "")
	_, err = f.auth.Verify(ctx, b.AccessToken, jwtauth.Access)
	require.NoError(t, err)
}

// failingStore fails every call.
type failingStore struct{ jwtauth.Store }

var errDown = errors.New("store down")

func (failingStore) Revoked(context.Context, jwtauth.TokenRef) (bool, error) { return false, errDown }
func (failingStore) Consume(context.Context, string, time.Time, time.Time) (bool, time.Time, error) {
	return false, time.Time{}, errDown
}
func (failingStore) RevokeFamily(context.Context, string, time.Time) error { return errDown }
func (failingStore) RevokeSubject(context.Context, string, time.Time, time.Time) error {
	return errDown
}

func TestStoreFailure(t *testing.T) {
	var reported atomic.Int32
	hook := func(ctx context.Context, err error) {
		if errors.Is(err, errDown) {
			reported.Add(1)
		}
	}
	f := newFixture(t, func(o *jwtauth.Options) { o.Store = failingStore{}; o.OnStoreError = hook })
	ctx := context.Background()
	p := f.login(t, "42", "")
	_, err := f.auth.Verify(ctx, p.AccessToken, jwtauth.Access)
	require.ErrorIs(t, err, jwtauth.ErrStoreUnavailable)
	assert.Equal(t, 503, jwtauth.StatusCode(err))
	_, err = f.auth.Refresh(ctx, p.RefreshToken)
	require.ErrorIs(t, err, jwtauth.ErrStoreUnavailable)
	require.ErrorIs(t, f.auth.Revoke(ctx, p.Family), jwtauth.ErrStoreUnavailable)
	require.ErrorIs(t, f.auth.RevokeSubject(ctx, "42"), jwtauth.ErrStoreUnavailable)
	assert.Equal(t, int32(4), reported.Load())

	lax := newFixture(t, func(o *jwtauth.Options) {
		o.Store = failingStore{}
		o.AcceptOnStoreError = true
		o.OnStoreError = hook
	})
	p = lax.login(t, "42", "")
	_, err = lax.auth.Verify(ctx, p.AccessToken, jwtauth.Access)
	require.NoError(t, err, "accepted, and reported")
	assert.Equal(t, int32(5), reported.Load())
	_, err = lax.auth.Refresh(ctx, p.RefreshToken)
	require.ErrorIs(t, err, jwtauth.ErrStoreUnavailable, "rotation never proceeds without the store")
}

func TestKeyRotation(t *testing.T) {
	clk := newClock()
	store := jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{Now: clk.Now})
	newSecret := []byte("fedcba9876543210fedcba9876543210-new-secret")
	base := jwtauth.Options{Issuer: "i", Audience: "a", Store: store, Now: clk.Now}

	oldOpts := base
	oldOpts.Keys = []jwtauth.Key{{ID: "k1", Algorithm: jwtauth.HS256, Secret: hsSecret}}
	old, err := jwtauth.New(oldOpts)
	require.NoError(t, err)
	p, err := old.Issue(context.Background(), jwtauth.IssueOptions{Subject: "1"})
	require.NoError(t, err)

	rotOpts := base
	rotOpts.Keys = []jwtauth.Key{
		{ID: "k1", Algorithm: jwtauth.HS256, Secret: hsSecret},
		{ID: "k2", Algorithm: jwtauth.HS256, Secret: newSecret},
	}
	rotOpts.SigningKeyID = "k2"
	rotated, err := jwtauth.New(rotOpts)
	require.NoError(t, err)
	_, err = rotated.Verify(context.Background(), p.AccessToken, jwtauth.Access)
	require.NoError(t, err, "tokens of the old key verify during rotation")
	p2, err := rotated.Refresh(context.Background(), p.RefreshToken)
	require.NoError(t, err)
	tok, _, err := jwt.NewParser().ParseUnverified(p2.AccessToken, jwt.MapClaims{})
	require.NoError(t, err)
	assert.Equal(t, "k2", tok.Header["kid"], "new tokens are signed with the new key")

	_, err = old.Verify(context.Background(), p2.AccessToken, jwtauth.Access)
	require.ErrorIs(t, err, jwtauth.ErrUnknownKey)
}

func TestAlgorithms(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, k := range []jwtauth.Key{
		{ID: "hs", Algorithm: jwtauth.HS256, Secret: hsSecret},
		{ID: "ed", Algorithm: jwtauth.EdDSA, PrivateKey: edPriv},
		{ID: "es", Algorithm: jwtauth.ES256, PrivateKey: ecPriv},
	} {
		t.Run(string(k.Algorithm), func(t *testing.T) {
			a, err := jwtauth.New(jwtauth.Options{Keys: []jwtauth.Key{k}, Issuer: "i", Audience: "a", Store: jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{})})
			require.NoError(t, err)
			p, err := a.Issue(context.Background(), jwtauth.IssueOptions{Subject: "1"})
			require.NoError(t, err)
			_, err = a.Verify(context.Background(), p.AccessToken, jwtauth.Access)
			require.NoError(t, err)
			tok, _, err := jwt.NewParser().ParseUnverified(p.AccessToken, jwt.MapClaims{})
			require.NoError(t, err)
			assert.Equal(t, string(k.Algorithm), tok.Method.Alg())
		})
	}
}

func TestNewRefusals(t *testing.T) {
	store := jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{})
	good := jwtauth.Key{ID: "k", Algorithm: jwtauth.HS256, Secret: hsSecret}
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		name string
		opts jwtauth.Options
		want string
	}{
		{"no keys", jwtauth.Options{Issuer: "i", Audience: "a", Store: store}, "Keys is empty"},
		{"short secret", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Algorithm: jwtauth.HS256, Secret: []byte("short")}}, Issuer: "i", Audience: "a", Store: store}, "at least 32 bytes"},
		{"31 bytes", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Algorithm: jwtauth.HS256, Secret: hsSecret[:31]}}, Issuer: "i", Audience: "a", Store: store}, "at least 32 bytes"},
		{"no algorithm", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Secret: hsSecret}}, Issuer: "i", Audience: "a", Store: store}, "Algorithm is empty"},
		{"none algorithm", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Algorithm: "none", Secret: hsSecret}}, Issuer: "i", Audience: "a", Store: store}, "not supported"},
		{"RS256", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Algorithm: "RS256", Secret: hsSecret}}, Issuer: "i", Audience: "a", Store: store}, "not supported"},
		{"bad kid", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k/../x", Algorithm: jwtauth.HS256, Secret: hsSecret}}, Issuer: "i", Audience: "a", Store: store}, "key ID"},
		{"duplicate kid", jwtauth.Options{Keys: []jwtauth.Key{good, good}, Issuer: "i", Audience: "a", Store: store}, "twice"},
		{"ed key with secret", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Algorithm: jwtauth.EdDSA, Secret: hsSecret}}, Issuer: "i", Audience: "a", Store: store}, "not Secret"},
		{"ed key of wrong type", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Algorithm: jwtauth.EdDSA, PrivateKey: ecPriv}}, Issuer: "i", Audience: "a", Store: store}, "ed25519"},
		{"es key on P-384", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Algorithm: jwtauth.ES256, PrivateKey: ec384}}, Issuer: "i", Audience: "a", Store: store}, "P-256"},
		{"mismatched pair", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Algorithm: jwtauth.EdDSA, PrivateKey: edPriv, PublicKey: make(ed25519.PublicKey, 32)}}, Issuer: "i", Audience: "a", Store: store}, "does not match"},
		{"verify-only set", jwtauth.Options{Keys: []jwtauth.Key{{ID: "k", Algorithm: jwtauth.EdDSA, PublicKey: edPriv.Public()}}, Issuer: "i", Audience: "a", Store: store}, "no key can sign"},
		{"unknown signing key", jwtauth.Options{Keys: []jwtauth.Key{good}, SigningKeyID: "x", Issuer: "i", Audience: "a", Store: store}, "SigningKeyID"},
		{"no issuer", jwtauth.Options{Keys: []jwtauth.Key{good}, Audience: "a", Store: store}, "Issuer is empty"},
		{"no audience", jwtauth.Options{Keys: []jwtauth.Key{good}, Issuer: "i", Store: store}, "Audience is empty"},
		{"no store", jwtauth.Options{Keys: []jwtauth.Key{good}, Issuer: "i", Audience: "a"}, "Store is nil"},
		{"negative ttl", jwtauth.Options{Keys: []jwtauth.Key{good}, Issuer: "i", Audience: "a", Store: store, AccessTTL: -time.Second}, "negative"},
		{"access longer than refresh", jwtauth.Options{Keys: []jwtauth.Key{good}, Issuer: "i", Audience: "a", Store: store, AccessTTL: 8 * 24 * time.Hour}, "longer than RefreshTTL"},
		{"refresh longer than session", jwtauth.Options{Keys: []jwtauth.Key{good}, Issuer: "i", Audience: "a", Store: store, RefreshTTL: 60 * 24 * time.Hour}, "longer than SessionLifetime"},
		{"long grace", jwtauth.Options{Keys: []jwtauth.Key{good}, Issuer: "i", Audience: "a", Store: store, ReuseGrace: time.Hour}, "ReuseGrace"},
		{"bad cookie", jwtauth.Options{Keys: []jwtauth.Key{good}, Issuer: "i", Audience: "a", Store: store, Cookie: "a;b"}, "Cookie"},
		{"bad realm", jwtauth.Options{Keys: []jwtauth.Key{good}, Issuer: "i", Audience: "a", Store: store, Realm: `a"b`}, "Realm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := jwtauth.New(tt.opts)
			require.Error(t, err)
			assert.Nil(t, a)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
