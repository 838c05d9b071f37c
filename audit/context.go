package audit

import (
	"context"
	"math/rand/v2"
	"net/netip"
)

// HeaderRequestID is the request and response header carrying the request
// ID. [Logger.Requests] sets it on the response before calling the next
// handler, which is where the kit's problem+json writer reads it from.
const HeaderRequestID = "X-Request-ID"

// MaxRequestIDLength is the longest incoming X-Request-ID that
// [Logger.Requests] accepts.
const MaxRequestIDLength = 64

// ValidRequestID reports whether id may be used as a request ID: 1 to
// MaxRequestIDLength bytes of ASCII letters, digits, '-', '_', '.' and ':'.
// That admits UUIDs, ULIDs, W3C trace IDs and most proxies' formats, and
// nothing that could break a log line, a header or a shell.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > MaxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// newRequestID returns 128 random bits as 32 lowercase hex digits. The bits
// come from math/rand/v2's runtime generator (ChaCha8, seeded by the
// operating system): unpredictable and collision-free in practice, at a
// fraction of the cost of crypto/rand. Request IDs are identifiers, not
// secrets.
func newRequestID() string {
	var b [32]byte
	for half := range 2 {
		v := rand.Uint64()
		for i := range 16 {
			b[half*16+i] = hexDigits[v&0xF]
			v >>= 4
		}
	}
	return string(b[:])
}

// ctxKey is the context key of a reqCtx. A lookup returns the *reqCtx
// itself, so storing the request's values costs one allocation.
type ctxKey struct{}

// reqCtx is the context node [Logger.Requests] adds: the request ID and the
// client address it resolved.
type reqCtx struct {
	context.Context
	id string
	ip netip.Addr
}

func (c *reqCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func (c *reqCtx) String() string {
	return "audit.WithRequestID(" + c.id + ")"
}

// WithRequestID returns a copy of ctx carrying id as the request ID, for
// work that is not an HTTP request (a background job, a CLI command) and
// for tests. [Logger.Requests] does this for every request.
func WithRequestID(ctx context.Context, id string) context.Context {
	return &reqCtx{Context: ctx, id: id}
}

// RequestIDFromContext returns the request ID stored by [Logger.Requests]
// or [WithRequestID], or "" if there is none.
func RequestIDFromContext(ctx context.Context) string {
	if c, ok := ctx.Value(ctxKey{}).(*reqCtx); ok {
		return c.id
	}
	return ""
}
