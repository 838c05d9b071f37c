package ratelimit

import (
	"strconv"
	"sync"
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

// internCacheSize bounds each intern cache of a Limiter.
const internCacheSize = 4096

// intern keeps header values already formatted, keyed by the numbers they
// show, so that steady traffic sets its RateLimit headers without
// allocating. It is bounded: when full it starts over.
type intern struct {
	mu sync.RWMutex
	m  map[uint64][]string
}

func (c *intern) get(k uint64, format func() string) []string {
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = []string{format()}[:1:1] // cap 1: a handler's Add copies instead of writing into it
	c.mu.Lock()
	if c.m == nil || len(c.m) >= internCacheSize {
		c.m = make(map[uint64][]string)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v
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
