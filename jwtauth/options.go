package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Defaults applied by New to zero fields of Options.
const (
	DefaultAccessTTL       = 15 * time.Minute
	DefaultRefreshTTL      = 7 * 24 * time.Hour
	DefaultSessionLifetime = 30 * 24 * time.Hour
	DefaultLeeway          = 30 * time.Second
	DefaultCacheSize       = 10000
	DefaultRealm           = "api"
)

// Options configures an [Authenticator]. Keys, Issuer, Audience and Store
// are required; everything else has a safe default.
type Options struct {
	// Keys is the key set: the signing key and any older keys kept for
	// verification during key rotation. Required.
	Keys []Key
	// SigningKeyID is the ID of the key that signs new tokens; it must have a
	// private part (or a secret). Zero value: the first key that can sign.
	SigningKeyID string

	// Issuer is the iss claim put in tokens and required of them, such as
	// "https://api.example.com". Required.
	Issuer string
	// Audience is the aud claim put in tokens and required of them. Required.
	Audience string

	// AccessTTL is the lifetime of access tokens. Zero value: 15 minutes.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of a refresh token; each rotation issues a
	// new one. A session may have its own (IssueOptions.RefreshTTL, "remember
	// me"). Zero value: 7 days.
	RefreshTTL time.Duration
	// SessionLifetime caps a family: however often it rotates, no token of
	// it outlives AuthTime + SessionLifetime. Zero value: 30 days.
	SessionLifetime time.Duration
	// Leeway tolerates clock skew in exp, nbf and iat. Zero value: 30 s.
	Leeway time.Duration
	// ReuseGrace lets a refresh token that was consumed less than ReuseGrace
	// ago be used again without counting as reuse, for clients that send
	// parallel refreshes. Each such retry gets its own new pair. Zero value:
	// off; any second use is reuse.
	ReuseGrace time.Duration

	// Store keeps revocations and consumed refresh tokens. Required: use
	// [NewMemoryStore] for one process, jwtauth/sqlstore or
	// jwtauth/redisstore for several replicas.
	Store Store
	// AcceptOnStoreError lets requests through with a token that verifies
	// but whose revocation state cannot be read, reporting each case to
	// OnStoreError. Zero value: false; such requests get 503 (not 401, which
	// would log clients out).
	AcceptOnStoreError bool
	// OnStoreError is called whenever the Store fails. Zero value: nothing.
	OnStoreError func(ctx context.Context, err error)
	// OnReuse is called when a consumed refresh token is presented again,
	// after its family has been revoked: wire it to the security log. Zero
	// value: nothing.
	OnReuse func(ctx context.Context, c *Claims)

	// CacheSize bounds the cache of verified tokens that spares the signature
	// check when a session presents the same access token again. Expiry and
	// revocation are still checked on every request. Zero value: 10000.
	CacheSize int
	// DisableCache turns the cache off. Zero value: false.
	DisableCache bool

	// Cookie, when set, is the name of a cookie Authenticate reads the access
	// token from when there is no Authorization header. Use it only together
	// with secure's CrossOriginProtection. Zero value: cookies are ignored.
	Cookie string
	// Realm is the realm of WWW-Authenticate challenges. Zero value: "api".
	Realm string
	// ErrorHandler writes the response when authentication fails; err wraps
	// one of the package's sentinels and [StatusCode] maps it to a status.
	// Zero value: an RFC 9457 problem+json response with a
	// WWW-Authenticate header on 401.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

func (o *Options) validate() (keys map[string]*compiledKey, signer *compiledKey, err error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("jwtauth: "+format, args...))
	}
	keys = make(map[string]*compiledKey)
	if len(o.Keys) == 0 {
		bad("Options.Keys is empty: give at least one key (HS256 with a 32-byte secret, or an Ed25519 key pair)")
	}
	for _, k := range o.Keys {
		ck, kerr := compileKey(k)
		if kerr != nil {
			bad("Options.Keys: %v", kerr)
			continue
		}
		if _, dup := keys[ck.id]; dup {
			bad("Options.Keys: key ID %q appears twice", ck.id)
			continue
		}
		keys[ck.id] = ck
		if signer == nil && ck.sign != nil && (o.SigningKeyID == "" || o.SigningKeyID == ck.id) {
			signer = ck
		}
	}
	if len(errs) == 0 && signer == nil {
		if o.SigningKeyID != "" {
			bad("Options.SigningKeyID: no key %q with a private part or secret", o.SigningKeyID)
		} else {
			bad("Options.Keys: no key can sign; add one with PrivateKey or Secret")
		}
	}
	if o.Issuer == "" {
		bad("Options.Issuer is empty: set it to a name for this service, such as \"https://api.example.com\"")
	}
	if o.Audience == "" {
		bad("Options.Audience is empty: set it to the name of the API the tokens are for")
	}
	if o.Store == nil {
		bad("Options.Store is nil: revocation and refresh rotation need one; use jwtauth.NewMemoryStore for one process, sqlstore or redisstore for several replicas")
	}
	for name, d := range map[string]time.Duration{
		"AccessTTL": o.AccessTTL, "RefreshTTL": o.RefreshTTL, "SessionLifetime": o.SessionLifetime,
		"Leeway": o.Leeway, "ReuseGrace": o.ReuseGrace,
	} {
		if d < 0 {
			bad("Options.%s: %v is negative", name, d)
		}
	}
	if o.AccessTTL == 0 {
		o.AccessTTL = DefaultAccessTTL
	}
	if o.RefreshTTL == 0 {
		o.RefreshTTL = DefaultRefreshTTL
	}
	if o.SessionLifetime == 0 {
		o.SessionLifetime = DefaultSessionLifetime
	}
	if o.Leeway == 0 {
		o.Leeway = DefaultLeeway
	}
	if o.AccessTTL > o.RefreshTTL {
		bad("Options.AccessTTL (%v) is longer than RefreshTTL (%v)", o.AccessTTL, o.RefreshTTL)
	}
	if o.RefreshTTL > o.SessionLifetime {
		bad("Options.RefreshTTL (%v) is longer than SessionLifetime (%v)", o.RefreshTTL, o.SessionLifetime)
	}
	if o.ReuseGrace > time.Minute {
		bad("Options.ReuseGrace (%v) is over a minute: a stolen refresh token would be usable that long after rotation", o.ReuseGrace)
	}
	if o.CacheSize < 0 {
		bad("Options.CacheSize: %d is negative", o.CacheSize)
	}
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.Realm == "" {
		o.Realm = DefaultRealm
	}
	for _, c := range o.Realm {
		if c == '"' || c == '\\' || c < ' ' || c == 0x7f {
			bad("Options.Realm may not contain quotes, backslashes or control characters")
			break
		}
	}
	if o.Cookie != "" && !validCookieName(o.Cookie) {
		bad("Options.Cookie: %q is not a cookie name", o.Cookie)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return keys, signer, nil
}

func validCookieName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '=' || c == ';' || c == ',' || c == '"' {
			return false
		}
	}
	return s != ""
}
