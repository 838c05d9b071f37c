package ratelimit

import (
	"strconv"
	"sync/atomic"
)

// Header names.
const (
	// HeaderRateLimitPolicy and HeaderRateLimit are the fields of
	// draft-ietf-httpapi-ratelimit-headers-10.
	HeaderRateLimitPolicy = "RateLimit-Policy"
	HeaderRateLimit       = "RateLimit"
	// The legacy trio, sent when Options.LegacyHeaders is set.
	HeaderXRateLimitLimit     = "X-RateLimit-Limit"
	HeaderXRateLimitRemaining = "X-RateLimit-Remaining"
	HeaderXRateLimitReset     = "X-RateLimit-Reset"
	// HeaderRetryAfter is sent with every 429.
	HeaderRetryAfter = "Retry-After"
)

// Canonical forms of the header names, for direct assignment into an
// http.Header.
const (
	keyRateLimitPolicy     = "Ratelimit-Policy"
	keyRateLimit           = "Ratelimit"
	keyXRateLimitLimit     = "X-Ratelimit-Limit"
	keyXRateLimitRemaining = "X-Ratelimit-Remaining"
	keyXRateLimitReset     = "X-Ratelimit-Reset"
)

// internBits sets the size of each intern cache of a Limiter: 1<<internBits
// slots of one pointer each.
const internBits = 10

// intern keeps header values already formatted, keyed by the numbers they
// show, so that steady traffic sets its RateLimit headers without
// allocating. It is a direct-mapped cache of immutable entries: a read is
// one atomic load (no lock, so no cache line written by every request of
// every core), and a miss formats the value and replaces the slot's entry.
// Its zero value is ready to use.
type intern struct {
	slots [1 << internBits]atomic.Pointer[internEntry]
}

type internEntry struct {
	k uint64
	v []string
}

func (c *intern) get(k uint64, format func() string) []string {
	slot := &c.slots[(k*0x9e3779b97f4a7c15)>>(64-internBits)]
	if e := slot.Load(); e != nil && e.k == k {
		return e.v
	}
	e := &internEntry{k: k, v: []string{format()}[:1:1]} // cap 1: a handler's Add copies instead of writing into it
	slot.Store(e)
	return e.v
}

// rateLimitValue formats the RateLimit field: "name";r=remaining;t=reset.
func rateLimitValue(name string, remaining, reset int64) string {
	b := make([]byte, 0, len(name)+32)
	b = strconv.AppendQuote(b, name)
	b = append(b, ";r="...)
	b = strconv.AppendInt(b, remaining, 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, reset, 10)
	return string(b)
}
