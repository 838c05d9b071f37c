package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/senfi-sharif/senfi/ratelimit"
)

// Store is a [ratelimit.Store] kept in Redis, so that every replica of an
// application spends one budget per key. Each Take is one atomic round trip
// and gives exactly the decision ratelimit.MemoryStore would give for the
// same sequence of calls. It is safe for concurrent use by multiple
// goroutines and by several processes sharing the Redis database. Create it
// with [New]; the zero value is not usable.
type Store struct {
	client redis.UniversalClient
	prefix string
	take   *redis.Script
	// Lockout scripts (lockout.go).
	fail, reset, mark *redis.Script
}

var _ ratelimit.Store = (*Store)(nil)

// New returns a Store over client, which may be a single-node, Sentinel
// (failover), Ring or Cluster client, of Redis 7.0 or later. The Store does
// not own client: closing it is the caller's job. Give the client
// ContextTimeoutEnabled so that the Limiter's StoreTimeout bounds each call
// (see the package documentation).
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	prefix, err := opts.validate()
	if err != nil {
		return nil, err
	}
	return &Store{
		client: client,
		prefix: prefix,
		take:   redis.NewScript(scriptTake),
		fail:   redis.NewScript(scriptFail),
		reset:  redis.NewScript(scriptReset),
		mark:   redis.NewScript(scriptMark),
	}, nil
}

// nsPerMs splits nanosecond values into milliseconds and nanoseconds within
// the millisecond, which the script keeps in separate Lua numbers.
const nsPerMs = int64(time.Millisecond)

// Take implements [ratelimit.Store] with one script call (EVALSHA; EVAL once
// more if the server has not cached the script yet) that reads the key's
// theoretical arrival time, decides as [ratelimit.GCRA] does and, if the
// request is allowed, stores the new one. It returns an error wrapping
// [ratelimit.ErrInvalidPolicy] for a policy that does not validate,
// [ErrTimeRange] for a now before 1970, [ErrMalformed] for a value it did
// not write, and Redis's and the client's errors (a cancelled ctx, a
// timeout, a connection refused) otherwise; after an error the request may
// or may not have been counted.
func (s *Store) Take(ctx context.Context, key string, p ratelimit.Policy, now time.Time) (ratelimit.Decision, error) {
	if err := p.Validate(); err != nil {
		return ratelimit.Decision{}, fmt.Errorf("redisstore: take: %w", err)
	}
	ns := now.UnixNano()
	if ns < 0 {
		return ratelimit.Decision{}, fmt.Errorf("%w: now is %v", ErrTimeRange, now)
	}
	// The policy's emission interval t and how far ahead of now a tat may
	// lie for a request to be allowed, (Burst-1)·t, as GCRA defines them:
	// a new key's first request at 0 stores tat t and leaves Burst-1.
	t, first := ratelimit.GCRA(0, 0, p)
	slack := int64(first.Remaining) * t
	k := s.prefix + key
	res, err := s.take.Run(ctx, s.client, []string{k},
		ns/nsPerMs, ns%nsPerMs, t/nsPerMs, t%nsPerMs, slack/nsPerMs, slack%nsPerMs).Slice()
	if err != nil {
		if redis.HasErrorPrefix(err, malformedReply) {
			return ratelimit.Decision{}, fmt.Errorf("redisstore: take: key %q: %w", k, ErrMalformed)
		}
		return ratelimit.Decision{}, fmt.Errorf("redisstore: take: %w", err)
	}
	allowed, oldTAT, newTAT, err := parseReply(res)
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("redisstore: take: key %q: %w", k, err)
	}
	// The decision, computed from the state the script saw by the same
	// function as MemoryStore's, so that every field is identical. The
	// script's own decision and new state must agree with it.
	wantTAT, d := ratelimit.GCRA(oldTAT, ns, p)
	if d.Allowed != allowed || allowed && newTAT != wantTAT {
		return ratelimit.Decision{}, fmt.Errorf("redisstore: take: key %q: the script decided (allowed %v, tat %d) where GCRA decides (allowed %v, tat %d) from tat %d",
			k, allowed, newTAT, d.Allowed, wantTAT, oldTAT)
	}
	return d, nil
}

// parseReply reads the script's reply: {allowed (0 or 1), the old tat
// ("" for none) and, when allowed, the new tat}.
func parseReply(res []any) (allowed bool, oldTAT, newTAT int64, err error) {
	if len(res) < 2 {
		return false, 0, 0, fmt.Errorf("unexpected script reply %v", res)
	}
	flag, ok1 := res[0].(int64)
	old, ok2 := res[1].(string)
	if !ok1 || !ok2 || flag != 0 && flag != 1 || (flag == 1) != (len(res) == 3) {
		return false, 0, 0, fmt.Errorf("unexpected script reply %v", res)
	}
	if old != "" {
		if oldTAT, err = strconv.ParseInt(old, 10, 64); err != nil {
			return false, 0, 0, ErrMalformed
		}
	}
	if flag == 1 {
		s, _ := res[2].(string)
		if newTAT, err = strconv.ParseInt(s, 10, 64); err != nil {
			return false, 0, 0, fmt.Errorf("unexpected script reply %v", res)
		}
	}
	return flag == 1, oldTAT, newTAT, nil
}

// malformedReply starts the error the script returns for a value it cannot
// parse.
const malformedReply = "MALFORMED"

// scriptTake is GCRA on KEYS[1], whose value is the key's theoretical
// arrival time (tat) in decimal Unix nanoseconds.
//
// Lua numbers are doubles, exact for integers up to 2^53 only, and Unix
// nanoseconds exceed that (about 2^60.6 today). So every time is handled as
// a pair (ms, ns): milliseconds, and nanoseconds within the millisecond.
// Both parts, their sums and differences stay far below 2^53 (ms until
// 2262 are below 2^43), so all arithmetic is exact, and the one comparison
// that combines the parts into one number, X·10^6 + Y with |Y| < 2·10^6,
// has the sign of the exact value even where X·10^6 rounds.
//
// ARGV: now, the emission interval t and the slack (Burst-1)·t, each as ms
// and ns. GCRA allows the request when max(tat, now) - now <= slack, and
// then stores max(tat, now) + t, with a time to live that ends when that
// tat is reached (rounded up to the millisecond): from then on the key is
// in its initial state, which a missing key also means.
//
// Reply: {1, old tat or "", new tat} when allowed, {0, old tat} when not.
const scriptTake = `
local now_ms, now_ns = tonumber(ARGV[1]), tonumber(ARGV[2])
local t_ms, t_ns = tonumber(ARGV[3]), tonumber(ARGV[4])
local slack_ms, slack_ns = tonumber(ARGV[5]), tonumber(ARGV[6])
local old = redis.call('GET', KEYS[1])
local ms, ns = now_ms, now_ns
if old then
  if #old < 7 or #old > 19 or not string.find(old, '^%d+$') then
    return redis.error_reply('` + malformedReply + ` value')
  end
  local o_ms, o_ns = tonumber(string.sub(old, 1, -7)), tonumber(string.sub(old, -6))
  if o_ms > now_ms or (o_ms == now_ms and o_ns > now_ns) then
    ms, ns = o_ms, o_ns
  end
else
  old = ''
end
if (ms - now_ms - slack_ms) * 1000000 + (ns - now_ns - slack_ns) > 0 then
  return {0, old}
end
ms, ns = ms + t_ms, ns + t_ns
if ns >= 1000000 then
  ms, ns = ms + 1, ns - 1000000
end
local ttl = ms - now_ms
if ns > now_ns then
  ttl = ttl + 1
end
local new = string.format('%.0f%06.0f', ms, ns)
redis.call('SET', KEYS[1], new, 'PX', string.format('%.0f', ttl))
return {1, old, new}
`
