package jwtauth

import (
	"hash/maphash"
	"sync"
)

// tokenCache remembers access tokens whose signature and claims have been
// verified, so that a session presenting the same token again skips the
// signature check. It is keyed by a seeded 64-bit hash of the token and
// compares the whole token on a hit, so a hash collision can never return
// another token's claims. It holds about size entries (at least one per
// shard, so 16 at the least; about 400 bytes each, the token included); when a shard is full an arbitrary entry is
// dropped. Expiry and revocation are checked by the caller on every hit.
type tokenCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	per    int
}

const cacheShards = 16

type cacheShard struct {
	mu sync.RWMutex
	m  map[uint64]cacheEntry
}

type cacheEntry struct {
	token  string
	claims *Claims
}

func newTokenCache(size int) *tokenCache {
	c := &tokenCache{seed: maphash.MakeSeed(), per: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]cacheEntry)
	}
	return c
}

func (c *tokenCache) get(token string) (*Claims, bool) {
	h := maphash.String(c.seed, token)
	s := &c.shards[h%cacheShards]
	s.mu.RLock()
	e, ok := s.m[h]
	s.mu.RUnlock()
	if !ok || e.token != token {
		return nil, false
	}
	return e.claims, true
}

func (c *tokenCache) put(token string, claims *Claims) {
	h := maphash.String(c.seed, token)
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[h]; !ok && len(s.m) >= c.per {
		for k := range s.m { // map iteration starts at a random entry
			delete(s.m, k)
			break
		}
	}
	s.m[h] = cacheEntry{token: token, claims: claims}
}

// len returns the number of cached tokens.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.RLock()
		n += len(c.shards[i].m)
		c.shards[i].mu.RUnlock()
	}
	return n
}
