package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/senfi-sharif/senfi/jwtauth"
)

// Store is a [jwtauth.Store] kept in Redis, so that several replicas of an
// application share revocations and consumed refresh tokens. It is safe for
// concurrent use by multiple goroutines and by several processes sharing the
// Redis database. Create it with [New]; the zero value is not usable.
type Store struct {
	client redis.UniversalClient
	now    func() time.Time

	famPrefix, subPrefix, usedPrefix string

	// mget is true for a single-node client, where one MGET reads the family
	// and subject keys; Ring and Cluster clients may place the two keys on
	// different nodes, so they get a pipeline of two GETs instead.
	mget bool

	revokeFamily, revokeSubject *redis.Script

	// tag and seq make every Consume value unique, so that Consume
	// recognizes its own write when the client retries a SET whose reply
	// was lost.
	tag string
	seq atomic.Uint64
}

var _ jwtauth.Store = (*Store)(nil)

// New returns a Store over client, which may be a single-node, Sentinel
// (failover), Ring or Cluster client. The server must be Redis 7.0 or later
// (Consume uses SET ... NX GET). The Store does not own client: closing it is
// the caller's job.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	s := &Store{
		client:        client,
		now:           opts.Now,
		famPrefix:     prefix + "fam:",
		subPrefix:     prefix + "sub:",
		usedPrefix:    prefix + "used:",
		revokeFamily:  redis.NewScript(scriptRevokeFamily),
		revokeSubject: redis.NewScript(scriptRevokeSubject),
		tag:           rand.Text(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	_, s.mget = client.(*redis.Client)
	return s, nil
}

// Revoked implements [jwtauth.Store] with one round trip: MGET of the
// family and subject keys (on Ring and Cluster clients, a pipeline of two
// GETs, sent to the nodes in parallel).
func (s *Store) Revoked(ctx context.Context, t jwtauth.TokenRef) (bool, error) {
	famKey, subKey := s.famPrefix+t.Family, s.subPrefix+t.Subject
	var fam, sub any
	if s.mget {
		vals, err := s.client.MGet(ctx, famKey, subKey).Result()
		if err != nil {
			return false, fmt.Errorf("redisstore: revoked: %w", err)
		}
		if len(vals) != 2 {
			return false, fmt.Errorf("redisstore: revoked: MGET returned %d values for 2 keys", len(vals))
		}
		fam, sub = vals[0], vals[1]
	} else {
		var famCmd, subCmd *redis.StringCmd
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			famCmd, subCmd = p.Get(ctx, famKey), p.Get(ctx, subKey)
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, fmt.Errorf("redisstore: revoked: %w", err)
		}
		if fam, err = optional(famCmd); err != nil {
			return false, fmt.Errorf("redisstore: revoked: %w", err)
		}
		if sub, err = optional(subCmd); err != nil {
			return false, fmt.Errorf("redisstore: revoked: %w", err)
		}
	}
	if fam != nil {
		return true, nil
	}
	if sub == nil {
		return false, nil
	}
	str, _ := sub.(string)
	before, err := strconv.ParseInt(str, 10, 64)
	if err != nil {
		return false, fmt.Errorf("redisstore: revoked: key %q: %w", subKey, ErrMalformed)
	}
	return t.IssuedAt.UnixMicro() <= before, nil
}

// optional returns the value of a GET: nil for a missing key.
func optional(cmd *redis.StringCmd) (any, error) {
	v, err := cmd.Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return v, nil
}

// ttl returns the time to live, in whole milliseconds rounded up, of an entry
// that expires at expires, by the store's clock.
func (s *Store) ttl(expires time.Time) int64 {
	d := expires.Sub(s.now())
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// Consume implements [jwtauth.Store] with one atomic command,
// SET used:<jti> <usedAt> PX <ttl> NX GET: it writes the mark if there is
// none and returns the previous mark otherwise. usedAt is stored in Unix
// microseconds (now, truncated).
func (s *Store) Consume(ctx context.Context, jti string, now, expires time.Time) (first bool, usedAt time.Time, err error) {
	key := s.usedPrefix + jti
	ttl := max(s.ttl(expires), 1) // an entry already expired lives 1 ms
	tag := s.tag + strconv.FormatUint(s.seq.Add(1), 36)
	val := strconv.FormatInt(now.UnixMicro(), 10) + " " + tag
	old, err := s.client.Do(ctx, "SET", key, val, "PX", ttl, "NX", "GET").Text()
	switch {
	case errors.Is(err, redis.Nil):
		return true, now, nil
	case err != nil:
		return false, time.Time{}, fmt.Errorf("redisstore: consume: %w", err)
	}
	usStr, oldTag, _ := strings.Cut(old, " ")
	us, err := strconv.ParseInt(usStr, 10, 64)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("redisstore: consume: key %q: %w", key, ErrMalformed)
	}
	if oldTag == tag {
		// Our own SET, retried by the client after its reply was lost.
		return true, now, nil
	}
	return false, time.UnixMicro(us), nil
}

// RevokeFamily implements [jwtauth.Store] with one script call (EVALSHA;
// EVAL once more if the server has not cached the script yet) that sets
// fam:<fid> and keeps the longer of its current and new time to live. An
// expires that has already passed writes nothing.
func (s *Store) RevokeFamily(ctx context.Context, fid string, expires time.Time) error {
	ttl := s.ttl(expires)
	if ttl <= 0 {
		return nil
	}
	if err := s.revokeFamily.Run(ctx, s.client, []string{s.famPrefix + fid}, ttl).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redisstore: revoke family: %w", err)
	}
	return nil
}

// RevokeSubject implements [jwtauth.Store] with one script call that sets
// sub:<sub> to the later of its current and new before (Unix microseconds,
// rounded down, which is exact for a TokenRef.IssuedAt with microsecond
// precision) and keeps the longer time to live. An expires that has already passed
// writes nothing.
func (s *Store) RevokeSubject(ctx context.Context, sub string, before, expires time.Time) error {
	ttl := s.ttl(expires)
	if ttl <= 0 {
		return nil
	}
	key := s.subPrefix + sub
	err := s.revokeSubject.Run(ctx, s.client, []string{key}, before.UnixMicro(), ttl).Err()
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		return nil
	case redis.HasErrorPrefix(err, malformedReply):
		return fmt.Errorf("redisstore: revoke subject: key %q: %w", key, ErrMalformed)
	}
	return fmt.Errorf("redisstore: revoke subject: %w", err)
}

// malformedReply starts the error a script returns for a value it cannot
// parse.
const malformedReply = "MALFORMED"

// scriptRevokeFamily sets KEYS[1] with a time to live of ARGV[1] ms, unless
// it already lives longer.
const scriptRevokeFamily = `
local ttl = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
`

// scriptRevokeSubject sets KEYS[1] to the larger of its value and ARGV[1]
// (before, Unix µs), with the longer of its time to live and ARGV[2] ms.
// Numbers stay strings where they can: Lua numbers are doubles, which hold
// Unix microseconds exactly (integers up to 2^53, about the year 2255) and
// so compare them exactly, but need not print back as the same digits.
const scriptRevokeSubject = `
local before, ttl = ARGV[1], ARGV[2]
local cur = redis.call('GET', KEYS[1])
if cur then
  local c = tonumber(cur)
  if c == nil then
    return redis.error_reply('` + malformedReply + ` value at ' .. KEYS[1])
  end
  local pttl = redis.call('PTTL', KEYS[1])
  if c >= tonumber(before) and pttl >= tonumber(ttl) then
    return 0
  end
  if c > tonumber(before) then before = cur end
  if pttl > tonumber(ttl) then ttl = string.format('%d', pttl) end
end
redis.call('SET', KEYS[1], before, 'PX', ttl)
return 0
`
