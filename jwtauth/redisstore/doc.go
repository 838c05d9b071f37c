// Package redisstore keeps the revocation state of jwtauth — consumed
// refresh tokens, revoked token families and per-subject revocation times —
// in Redis, so that every replica of an application sees the same state.
// [Store] implements [jwtauth.Store] and passes jwtauth/storetest.
//
//	client := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	store, err := redisstore.New(client, redisstore.Options{})
//
// It needs Redis 7.0 or later, and works with single-node, Sentinel, Ring
// and Cluster clients.
//
// # Keys and commands
//
// With the default prefix "jwtauth:", the store writes three kinds of keys,
// each with a time to live that ends at the entry's expiry:
//
//	jwtauth:fam:<fid>   "1"                        revoked family
//	jwtauth:sub:<sub>   "<before, Unix µs>"        subject's tokens issued at or before are revoked
//	jwtauth:used:<jti>  "<usedAt, Unix µs> <tag>"  consumed refresh token
//
// Times in values are decimal Unix microseconds, the precision of a token's
// iat, so that a token issued in the same millisecond as, but after, a
// revocation stays valid. Times to live are in milliseconds (PX).
//
// One round trip per operation:
//
//   - Revoked: MGET fam:<fid> sub:<sub> (Ring and Cluster: a pipeline of two
//     GETs, which the client sends to the owning nodes in parallel).
//   - Consume: SET used:<jti> <value> PX <ttl> NX GET, atomic: of concurrent
//     calls exactly one writes, and the others read the winner's usedAt.
//     The tag in the value lets a call recognize its own write when the
//     client retried the command after losing its reply.
//   - RevokeFamily, RevokeSubject: a Lua script each (EVALSHA, falling back
//     to EVAL when the server has not cached it yet), keeping the later
//     before and the longer time to live, so a later call never shortens or
//     moves back an earlier one.
//
// IDs go into keys verbatim: Redis keys are binary-safe, and each kind of
// key has its own sub-prefix, so no ID can collide with another kind.
//
// # Expiry and clocks
//
// Time to live is computed from Options.Now (PX, not PXAT): Redis forgets an
// entry when the application's clock reaches its expiry, even if the Redis
// server's clock disagrees. Memory use is therefore bounded by the number of
// live entries; nothing needs sweeping.
//
// # Failure
//
// Every error from Redis is returned, never read as "not revoked": the
// middleware then answers 503 or fails open, as configured. Give the client
// short timeouts (DialTimeout, ReadTimeout) so that an outage fails requests
// quickly instead of holding them.
package redisstore
