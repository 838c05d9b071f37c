package jwtauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Authenticator issues, rotates, verifies and revokes tokens, and is the
// middleware that authenticates requests. It is safe for concurrent use and
// immutable after [New], except for its bounded cache of verified tokens.
type Authenticator struct {
	opts    Options
	keys    map[string]*compiledKey
	signer  *compiledKey
	parser  *jwt.Parser
	cache   *tokenCache // nil when disabled
	onError func(w http.ResponseWriter, r *http.Request, err error)
}

// Pair is the result of a login or a refresh.
type Pair struct {
	// AccessToken authenticates requests (Authorization: Bearer ...).
	AccessToken string
	// RefreshToken obtains the next pair, once.
	RefreshToken string
	// AccessExpiresAt and RefreshExpiresAt are the tokens' exp.
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
	// Family identifies the session; pass it to [Authenticator.Revoke] to end it.
	Family string
}

// New validates opts and returns an Authenticator. Every problem is
// reported at once, each naming the option to fix.
func New(opts Options) (*Authenticator, error) {
	keys, signer, err := opts.validate()
	if err != nil {
		return nil, err
	}
	a := &Authenticator{
		opts:   opts,
		keys:   keys,
		signer: signer,
		// No WithValidMethods: the key function pins each key's one
		// algorithm, so "none" and every other algorithm are ErrAlgorithm.
		parser: jwt.NewParser(
			jwt.WithLeeway(opts.Leeway),
			jwt.WithIssuer(opts.Issuer),
			jwt.WithAudience(opts.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(opts.Now),
			jwt.WithStrictDecoding(),
		),
		onError: opts.ErrorHandler,
	}
	if !opts.DisableCache {
		a.cache = newTokenCache(opts.CacheSize)
	}
	if a.onError == nil {
		a.onError = a.writeError
	}
	return a, nil
}

// IssueOptions describes the user a new session is for.
type IssueOptions struct {
	// Subject identifies the user (sub). Required.
	Subject string
	// Role is put in the role claim. Zero value: no role.
	Role string
	// RefreshTTL, when set, is this session's refresh-token lifetime instead
	// of Options.RefreshTTL, for every rotation of the session (it travels
	// in the signed rttl claim): a "remember me" login can stay signed in
	// longer than others, idle sessions still end, and SessionLifetime
	// still caps the whole. Whole seconds, from Options.AccessTTL to
	// Options.SessionLifetime; Issue refuses others. Keep a retired signing
	// key in the set for the longest RefreshTTL in use. Lowering the value
	// later does not shorten sessions already issued (each keeps its own,
	// within SessionLifetime): revoke them to end them sooner. Replicas must
	// all run a version that reads rttl, or a remembered session rotated by
	// an older one falls back to Options.RefreshTTL. Zero value:
	// Options.RefreshTTL.
	RefreshTTL time.Duration
}

// Issue starts a new session (a new token family) for a user who just
// proved who they are, and returns its first pair.
func (a *Authenticator) Issue(ctx context.Context, o IssueOptions) (Pair, error) {
	if o.Subject == "" {
		return Pair{}, errors.New("jwtauth: Issue needs a Subject")
	}
	if o.RefreshTTL != 0 && (o.RefreshTTL < a.opts.AccessTTL || o.RefreshTTL > a.opts.SessionLifetime || o.RefreshTTL%time.Second != 0) {
		return Pair{}, fmt.Errorf("jwtauth: IssueOptions.RefreshTTL %v: want whole seconds from AccessTTL (%v) to SessionLifetime (%v), or 0 for RefreshTTL (%v)",
			o.RefreshTTL, a.opts.AccessTTL, a.opts.SessionLifetime, a.opts.RefreshTTL)
	}
	now := a.now()
	return a.issue(o.Subject, o.Role, rand.Text(), o.RefreshTTL, now, now)
}

func (a *Authenticator) now() time.Time {
	return a.opts.Now().UTC().Truncate(time.Microsecond)
}

// issue signs a pair of family fid whose session began at authTime; rttl
// is the session's own refresh-token lifetime (0: Options.RefreshTTL).
func (a *Authenticator) issue(sub, role, fid string, rttl time.Duration, authTime, now time.Time) (Pair, error) {
	end := authTime.Add(a.opts.SessionLifetime)
	if !now.Before(end) {
		return Pair{}, ErrSessionExpired
	}
	if rttl == a.opts.RefreshTTL {
		rttl = 0
	}
	ttl := a.opts.RefreshTTL
	if rttl != 0 {
		// Within bounds when issued; the options may have changed since.
		ttl = min(max(rttl, a.opts.AccessTTL), a.opts.SessionLifetime)
	}
	refreshExp := minTime(now.Add(ttl), end)
	accessExp := minTime(now.Add(a.opts.AccessTTL), refreshExp)
	base := wireClaims{
		Subject:    sub,
		Role:       role,
		Family:     fid,
		Issuer:     a.opts.Issuer,
		Audience:   audience{a.opts.Audience},
		IssuedAt:   numericDate{now},
		NotBefore:  numericDate{now},
		AuthTime:   numericDate{authTime},
		RefreshTTL: int64(rttl / time.Second),
	}
	access, refresh := base, base
	access.Type, access.ID, access.ExpiresAt = Access, rand.Text(), numericDate{accessExp}
	access.RefreshTTL = 0 // only Refresh reads it
	refresh.Type, refresh.ID, refresh.ExpiresAt = Refresh, rand.Text(), numericDate{refreshExp}
	at, err := a.sign(&access)
	if err != nil {
		return Pair{}, err
	}
	rt, err := a.sign(&refresh)
	if err != nil {
		return Pair{}, err
	}
	return Pair{AccessToken: at, RefreshToken: rt, AccessExpiresAt: accessExp, RefreshExpiresAt: refreshExp, Family: fid}, nil
}

func (a *Authenticator) sign(c *wireClaims) (string, error) {
	t := jwt.NewWithClaims(a.signer.method, &jwtClaims{*c})
	t.Header["kid"] = a.signer.id
	s, err := t.SignedString(a.signer.sign)
	if err != nil {
		return "", fmt.Errorf("jwtauth: signing: %w", err)
	}
	return s, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Verify checks a token completely: signature under a key of the set with
// that key's algorithm, header, iss, aud, exp, nbf and iat within the leeway,
// the expected type, and revocation. It returns the claims, or an error
// wrapping the package's sentinels (ErrStoreUnavailable when the store
// failed and AcceptOnStoreError is off).
func (a *Authenticator) Verify(ctx context.Context, token string, want TokenType) (*Claims, error) {
	c, err := a.verifyCached(token, want)
	if err != nil {
		return nil, err
	}
	if err := a.checkRevoked(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// verifyCached verifies everything but revocation, using the cache of
// verified access tokens.
func (a *Authenticator) verifyCached(token string, want TokenType) (*Claims, error) {
	if want == Access && a.cache != nil {
		if c, ok := a.cache.get(token); ok {
			now := a.opts.Now()
			if !now.Before(c.ExpiresAt.Add(a.opts.Leeway)) {
				return nil, ErrTokenExpired
			}
			return c, nil
		}
	}
	c, err := a.parse(token)
	if err != nil {
		return nil, err
	}
	if c.Type != want {
		return nil, fmt.Errorf("%w: got a %s token where an %s token is required", ErrWrongTokenType, c.Type, want)
	}
	if want == Access && a.cache != nil {
		a.cache.put(token, c)
	}
	return c, nil
}

func (a *Authenticator) checkRevoked(ctx context.Context, c *Claims) error {
	revoked, err := a.opts.Store.Revoked(ctx, c.ref())
	if err != nil {
		a.storeError(ctx, err)
		if a.opts.AcceptOnStoreError {
			return nil
		}
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if revoked {
		return ErrTokenRevoked
	}
	return nil
}

func (a *Authenticator) storeError(ctx context.Context, err error) {
	if a.opts.OnStoreError != nil {
		a.opts.OnStoreError(ctx, err)
	}
}

// forbiddenHeaders may name a key for the verifier to fetch or trust.
var forbiddenHeaders = [...]string{"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"}

// parse verifies signature and registered claims.
func (a *Authenticator) parse(token string) (*Claims, error) {
	if len(token) > 8192 {
		return nil, fmt.Errorf("%w: token longer than 8 KiB", ErrInvalidToken)
	}
	var wc jwtClaims
	var keyErr error
	_, err := a.parser.ParseWithClaims(token, &wc, func(t *jwt.Token) (any, error) {
		for _, h := range forbiddenHeaders {
			if _, ok := t.Header[h]; ok {
				keyErr = fmt.Errorf("%w: %s", ErrForbiddenHeader, h)
				return nil, keyErr
			}
		}
		kid, _ := t.Header["kid"].(string)
		k, ok := a.keys[kid]
		if !ok {
			keyErr = ErrUnknownKey
			return nil, keyErr
		}
		if t.Method.Alg() != string(k.alg) {
			keyErr = fmt.Errorf("%w: key %q is pinned to %s, token says %s", ErrAlgorithm, k.id, k.alg, t.Method.Alg())
			return nil, keyErr
		}
		return k.verify, nil
	})
	if err != nil {
		return nil, translate(err, keyErr)
	}
	if wc.Subject == "" || wc.ID == "" || wc.Family == "" || wc.NotBefore.IsZero() || wc.AuthTime.IsZero() {
		return nil, fmt.Errorf("%w: a required claim (sub, jti, fid, nbf, auth_time) is missing", ErrInvalidToken)
	}
	if wc.Type != Access && wc.Type != Refresh {
		return nil, fmt.Errorf("%w: typ %q", ErrWrongTokenType, wc.Type)
	}
	return wc.claims(), nil
}

// translate maps golang-jwt's errors to ours.
func translate(err, keyErr error) error {
	switch {
	case keyErr != nil:
		return keyErr
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrTokenNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ErrWrongIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return ErrWrongAudience
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		if errors.Is(err, jwt.ErrTokenUnverifiable) {
			return fmt.Errorf("%w: %w", ErrAlgorithm, ErrInvalidToken)
		}
		return fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}
	return ErrInvalidToken
}

// Refresh rotates a refresh token: it verifies it, consumes it atomically
// and returns a new pair of the same family. Of two concurrent refreshes
// with one token exactly one succeeds. A token that was already consumed
// (outside ReuseGrace) revokes its whole family, calls OnReuse and returns
// ErrTokenReused: a stolen refresh token is useless to the thief and, once
// the thief has used it, to the victim too, who must log in again.
func (a *Authenticator) Refresh(ctx context.Context, refreshToken string) (Pair, error) {
	c, err := a.verifyCached(refreshToken, Refresh)
	if err != nil {
		return Pair{}, err
	}
	revoked, err := a.opts.Store.Revoked(ctx, c.ref())
	if err != nil {
		// Rotation never proceeds without the store, AcceptOnStoreError or not.
		a.storeError(ctx, err)
		return Pair{}, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if revoked {
		return Pair{}, ErrTokenRevoked
	}
	now := a.now()
	first, usedAt, err := a.opts.Store.Consume(ctx, c.ID, now, c.ExpiresAt.Add(a.opts.Leeway))
	if err != nil {
		a.storeError(ctx, err)
		return Pair{}, fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if !first && (a.opts.ReuseGrace == 0 || now.Sub(usedAt) > a.opts.ReuseGrace) {
		if err := a.Revoke(ctx, c.Family); err != nil {
			return Pair{}, err
		}
		if a.opts.OnReuse != nil {
			a.opts.OnReuse(ctx, c)
		}
		return Pair{}, ErrTokenReused
	}
	return a.issue(c.Subject, c.Role, c.Family, c.RefreshTTL, c.AuthTime, now)
}

// Revoke ends a session: every token of the family stops working at once
// (logout).
func (a *Authenticator) Revoke(ctx context.Context, family string) error {
	if family == "" {
		return errors.New("jwtauth: Revoke needs a family")
	}
	if err := a.opts.Store.RevokeFamily(ctx, family, a.now().Add(a.opts.SessionLifetime+a.opts.Leeway)); err != nil {
		a.storeError(ctx, err)
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return nil
}

// RevokeSubject revokes every token of a user issued up to now, in every
// session ("log out everywhere"; also on password and role changes). Tokens
// issued afterwards, even in the same millisecond, work.
func (a *Authenticator) RevokeSubject(ctx context.Context, subject string) error {
	if subject == "" {
		return errors.New("jwtauth: RevokeSubject needs a subject")
	}
	now := a.now()
	if err := a.opts.Store.RevokeSubject(ctx, subject, now, now.Add(a.opts.SessionLifetime+a.opts.Leeway)); err != nil {
		a.storeError(ctx, err)
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return nil
}
