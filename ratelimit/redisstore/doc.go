// Package redisstore keeps ratelimit budgets in Redis, so that every replica
// of an application spends one budget per key: with a "5/m" limit, five
// requests a minute in total, whichever replicas they reach. [Store]
// implements [ratelimit.Store] and passes ratelimit/storetest: for the same
// sequence of calls it gives exactly the decisions of ratelimit.MemoryStore,
// to the nanosecond.
//
//	client := redis.NewClient(&redis.Options{
//		Addr:                  "redis:6379",
//		ContextTimeoutEnabled: true, // let Options.StoreTimeout bound each call
//	})
//	store, err := redisstore.New(client, redisstore.Options{})
//	...
//	login, err := ratelimit.New(ratelimit.Options{Name: "login", Policy: p, Store: store})
//
// It needs Redis 7.0 or later, and works with single-node, Sentinel, Ring
// and Cluster clients (each Take touches one key).
//
// # Keys
//
// With the default prefix "ratelimit:", the store keeps one string per
// limited key, holding the key's theoretical arrival time (GCRA's tat) in
// decimal Unix nanoseconds:
//
//	ratelimit:<key>   "1764770412123456789"
//
// where <key> is the Limiter's "<name>:<key function output>", verbatim
// (Redis keys are binary-safe), for example "ratelimit:login:ip:203.0.113.7".
// Its time to live (PX) is the time until the key is back in its initial
// state, tat − now rounded up to the millisecond, so that a key with its full
// budget again vanishes by itself: memory is bounded by the number of keys
// limited within the last reset period, and nothing needs sweeping.
//
// # One round trip
//
// Take runs one Lua script (EVALSHA; EVAL once more when the server has not
// cached it yet, as after a restart): GET the tat, decide as
// [ratelimit.GCRA] does, and SET the new tat with its PX if the request is
// allowed. Redis runs a script atomically, so of concurrent calls for one key
// exactly as many are allowed as the policy allows. The script returns the
// tat it read, and Take computes the Decision from it with ratelimit.GCRA
// itself, so Remaining, RetryAfter and ResetAfter are those of the memory
// store by construction (Take checks that the script decided alike).
//
// Lua numbers are doubles, which hold integers exactly only up to 2^53, and
// Unix nanoseconds exceed that. The script therefore keeps every time as a
// pair of milliseconds and nanoseconds within the millisecond, in which all
// its arithmetic is exact: the store has nanosecond resolution, like GCRA.
//
// # Clocks
//
// The decision uses the now of the caller (the Limiter's Options.Now), never
// the Redis server's clock, and the time to live is relative (PX, not PXAT).
// Replicas sharing keys should keep their clocks in sync (NTP): a replica
// whose clock runs δ ahead of the others' may let through up to δ/interval
// requests more; one whose clock runs behind is stricter by as much.
//
// # Failure
//
// Every error from Redis or the client is returned, never read as "allowed":
// the Limiter then answers 503, or lets the request through if FailOpen is
// set, and reports the error to OnStoreError. go-redis bounds reads and
// writes with the client's ReadTimeout and WriteTimeout (3 s and 5 s by
// default) and ignores the context's deadline unless ContextTimeoutEnabled
// is set: set it, so that the Limiter's StoreTimeout (100 ms by default)
// bounds each call during an outage. A client that retries a script whose
// reply was lost (MaxRetries) may count that request twice, which only ever
// makes the limit stricter.
//
// # Lockouts
//
// Store also implements [ratelimit.LockoutStore], so that a
// [ratelimit.Lockout] on it counts the failed logins of every replica
// together, and passes storetest.RunLockout: its states are those of
// [ratelimit.FailState], to the nanosecond. Each lockout key is one hash,
// under the prefix and "lock|" (a Limiter's keys follow the prefix with its
// name, which cannot contain '|'):
//
//	ratelimit:lock|lockout|acct|a@example.com
//	    failures      "2"                    failures since the last lock
//	    locks         "1"                    locks since the history began
//	    locked_until  "1764771312123456789"  end of the last lock, if any
//	    last          "1764770412123456789"  the last failure that counted
//	    forget_at     "1764856812123456789"  last + Forget
//	    mark          "1767362412123456789"  Mark's until, if any
//
// Fail is one script call that applies FailState to the hash and writes the
// result (nothing while the key is locked: failures during a lock change
// nothing), and, as Take, checks the script's result against FailState in
// Go. Reset and Mark are one script call each (Reset keeps a live mark, Mark
// keeps the later until), State and Marked one HMGET. Fail and Mark extend
// a key's time to live, never shorten it, to when the key carries no
// information any more: the latest of forget_at, locked_until and mark,
// measured from the caller's now for Fail; Reset cuts it to the mark's end,
// or deletes the key. Mark and Reset take no now, so they measure the
// mark's life from the process's clock (time.Now), and a mark that has
// already ended by it is not kept. Every method returns ErrMalformed for a
// hash the store did not write, and leaves it alone.
package redisstore
