package jwtauth

import "context"

type ctxKey struct{}

// claimsCtx is a context node carrying the claims; one allocation, and a
// lookup returns the node itself, so reading allocates nothing.
type claimsCtx struct {
	context.Context
	c *Claims
}

func (c *claimsCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func (c *claimsCtx) String() string { return "jwtauth.NewContext(" + c.c.Subject + ")" }

// NewContext returns a copy of ctx carrying c, as [Authenticator.Authenticate]
// does. It is exported for tests and for other middleware.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return &claimsCtx{Context: ctx, c: c}
}

// FromContext returns the claims of the authenticated request, or false for
// an anonymous one.
func FromContext(ctx context.Context) (*Claims, bool) {
	n, ok := ctx.Value(ctxKey{}).(*claimsCtx)
	if !ok || n.c == nil {
		return nil, false
	}
	return n.c, true
}
