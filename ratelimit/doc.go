// Package ratelimit limits how often a client may call an endpoint, in a way
// a client cannot step around and that holds across replicas.
//
// A [Limiter] enforces one [Policy] ("5/m", "100/h", "10/s burst 20"; see
// [ParsePolicy]) per key. Keys say whose budget a request spends:
// [KeyByIP] (the client address resolved by secure's client-IP middleware,
// IPv6 grouped by /64, never a raw forwarding header), [KeyByUser],
// [KeyByRoute], [KeyByHeader] (which refuses spoofable headers) and any
// [Compose]-ition of them. The algorithm is GCRA: a budget of Burst requests
// refills at Limit per Period, continuously, so there is no window edge to
// exploit by sending 2×Limit around a boundary.
//
// # Use
//
//	login, err := ratelimit.New(ratelimit.Options{
//		Name:   "login",
//		Policy: must(ratelimit.ParsePolicy("5/m")),
//		Store:  store, // one MemoryStore or redisstore.Store shared by all limiters
//	})
//	mux.Handle("POST /api/auth/login", login.Handler(loginHandler))
//
// In a chain, put per-IP limiters after secure's Guard.ClientIP (which
// resolves the address) and Guard.Handler (so 429 responses carry the
// security headers), and before authentication, so floods are shed before
// signatures are checked. Per-user limits go after authentication, on the
// routes they protect.
//
// Every response of a limited route carries the RateLimit-Policy and
// RateLimit fields of draft-ietf-httpapi-ratelimit-headers-10 (and, if asked
// for, the legacy X-RateLimit-* trio); a refused request gets 429
// problem+json with Retry-After and calls Options.OnLimited.
//
// # Stores
//
// [MemoryStore] keeps budgets in this process, bounded in memory (a few tens
// of bytes per tracked key, whatever the key's length) and without
// allocations. ratelimit/redisstore keeps them in Redis, one atomic round
// trip per decision, so that several replicas share one budget. Both give
// identical decisions for identical request sequences (ratelimit/storetest).
// When a store fails or exceeds Options.StoreTimeout, the request is refused
// with 503 (the zero value) or let through (FailOpen), and reported to
// OnStoreError either way.
//
// # Trust model
//
// The client address comes from internal/clientip: the direct peer, unless
// secure's client-IP middleware resolved it behind configured trusted
// proxies. A client that forges X-Forwarded-For therefore gets no fresh
// budget, and a client rotating IPv6 addresses inside its /64 neither.
package ratelimit
