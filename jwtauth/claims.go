package jwtauth

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenType tells access tokens from refresh tokens (the typ claim).
type TokenType string

// The two token types.
const (
	Access  TokenType = "access"
	Refresh TokenType = "refresh"
)

// Claims are the verified claims of a token. Values handed out by this
// package are shared and must not be modified.
type Claims struct {
	// Subject identifies the user (sub).
	Subject string
	// Role is the user's role when the token was issued (role).
	Role string
	// Type is Access or Refresh (typ).
	Type TokenType
	// ID is unique per token (jti).
	ID string
	// Family is shared by every token of one login session, through all its
	// rotations (fid).
	Family string
	// Issuer and Audience are iss and aud.
	Issuer   string
	Audience []string
	// IssuedAt, NotBefore and ExpiresAt are iat, nbf and exp, with
	// microsecond precision (RFC 7519 NumericDate allows fractions).
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
	// AuthTime is when the session (family) began: the login (auth_time).
	// Rotation never extends a family past AuthTime plus the session lifetime.
	AuthTime time.Time
	// RefreshTTL is the refresh-token lifetime chosen for this session at
	// Issue (IssueOptions.RefreshTTL, claim rttl, whole seconds), kept
	// through every rotation; zero when the session uses Options.RefreshTTL.
	RefreshTTL time.Duration
}

// wireClaims is the JSON form.
type wireClaims struct {
	Subject   string      `json:"sub"`
	Role      string      `json:"role,omitempty"`
	Type      TokenType   `json:"typ"`
	ID        string      `json:"jti"`
	Family    string      `json:"fid"`
	Issuer    string      `json:"iss"`
	Audience  audience    `json:"aud"`
	IssuedAt  numericDate `json:"iat"`
	NotBefore numericDate `json:"nbf"`
	ExpiresAt numericDate `json:"exp"`
	AuthTime  numericDate `json:"auth_time"`
	// RefreshTTL is IssueOptions.RefreshTTL in seconds, set only when it
	// differs from Options.RefreshTTL.
	RefreshTTL int64 `json:"rttl,omitempty"`
}

// numericDate is a NumericDate with microsecond precision.
type numericDate struct{ time.Time }

func (d numericDate) MarshalJSON() ([]byte, error) {
	us := d.UnixMicro()
	return strconv.AppendFloat(nil, float64(us)/1e6, 'f', 6, 64), nil
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return errors.New("invalid NumericDate")
	}
	d.Time = time.UnixMicro(int64(math.Round(f * 1e6))).UTC()
	return nil
}

// audience accepts a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = audience{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = list
	return nil
}

// jwtClaims adapts wireClaims to golang-jwt's validator.
type jwtClaims struct{ wireClaims }

func (c *jwtClaims) date(d numericDate) (*jwt.NumericDate, error) {
	if d.IsZero() {
		return nil, nil
	}
	return jwt.NewNumericDate(d.Time), nil
}

func (c *jwtClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.date(c.ExpiresAt) }
func (c *jwtClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.date(c.IssuedAt) }
func (c *jwtClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.date(c.NotBefore) }
func (c *jwtClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *jwtClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *jwtClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(c.Audience), nil
}

func (c *jwtClaims) UnmarshalJSON(b []byte) error {
	return json.Unmarshal(b, &c.wireClaims)
}

func (c *jwtClaims) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.wireClaims)
}

func (w *wireClaims) claims() *Claims {
	return &Claims{
		Subject:    w.Subject,
		Role:       w.Role,
		Type:       w.Type,
		ID:         w.ID,
		Family:     w.Family,
		Issuer:     w.Issuer,
		Audience:   []string(w.Audience),
		IssuedAt:   w.IssuedAt.Time,
		NotBefore:  w.NotBefore.Time,
		ExpiresAt:  w.ExpiresAt.Time,
		AuthTime:   w.AuthTime.Time,
		RefreshTTL: time.Duration(min(max(w.RefreshTTL, 0), math.MaxInt64/int64(time.Second))) * time.Second,
	}
}

// ref returns what a Store needs to know about the token.
func (c *Claims) ref() TokenRef {
	return TokenRef{Subject: c.Subject, Family: c.Family, IssuedAt: c.IssuedAt}
}
