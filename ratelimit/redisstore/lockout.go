package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/senfi-sharif/senfi/ratelimit"
)

// Store also implements [ratelimit.LockoutStore], so that a
// ratelimit.Lockout on it counts the failures of every replica together.
var _ ratelimit.LockoutStore = (*Store)(nil)

// ErrInvalidRule is returned by Store.Fail for a LockoutRule with a negative
// duration (ratelimit.NewLockout never makes one).
var ErrInvalidRule = errors.New("redisstore: invalid lockout rule")

// lockInfix follows the prefix in every lockout key. A Limiter's keys
// follow the prefix with its name, which cannot contain '|', so the two
// never meet.
const lockInfix = "lock|"

// The fields of a lockout hash. Times are decimal Unix nanoseconds, counts
// decimal; an absent field is zero (no time, no count).
const (
	fieldFailures    = "failures"
	fieldLockedUntil = "locked_until"
	fieldLocks       = "locks"
	fieldLast        = "last"      // the last failure that counted
	fieldForgetAt    = "forget_at" // last + Forget: the history is kept until then
	fieldMark        = "mark"      // Mark's until
)

// lockKey returns the Redis key of a lockout key.
func (s *Store) lockKey(key string) string { return s.prefix + lockInfix + key }

// maxUnixNano is the last instant the key layout can represent, in
// 2262-04-11.
const maxUnixNano = math.MaxInt64

// unixNano returns t in Unix nanoseconds, or ErrTimeRange for a t the
// layout cannot represent.
func unixNano(t time.Time) (int64, error) {
	if t.Before(time.Unix(0, 0)) || t.After(time.Unix(0, maxUnixNano)) {
		return 0, fmt.Errorf("%w: %v is outside 1970 to 2262", ErrTimeRange, t)
	}
	return t.UnixNano(), nil
}

// Fail implements [ratelimit.LockoutStore] with one script call that reads
// the key's hash, applies [ratelimit.FailState] and writes the new state
// (nothing while the key is locked), extending the key's time to live to
// when it carries no information any more. It returns an error wrapping
// [ErrInvalidRule] for a rule with a negative duration, [ErrTimeRange] for a
// now before 1970 or a lock that could end after 2262, [ErrMalformed] for a
// value it did not write, and Redis's and the client's errors otherwise;
// after an error the failure may or may not have been counted.
func (s *Store) Fail(ctx context.Context, key string, now time.Time, rule ratelimit.LockoutRule) (ratelimit.LockState, error) {
	ns, err := unixNano(now)
	if err != nil {
		return ratelimit.LockState{}, fmt.Errorf("redisstore: fail: %w", err)
	}
	if rule.Window < 0 || rule.BaseLock < 0 || rule.MaxLock < 0 || rule.Forget < 0 {
		return ratelimit.LockState{}, fmt.Errorf("%w: %+v has a negative duration", ErrInvalidRule, rule)
	}
	if int64(rule.MaxLock) > maxUnixNano-ns {
		return ratelimit.LockState{}, fmt.Errorf("redisstore: fail: %w: a lock of MaxLock %v from %v would end after 2262", ErrTimeRange, rule.MaxLock, now)
	}
	k := s.lockKey(key)
	res, err := s.fail.Run(ctx, s.client, []string{k},
		ns/nsPerMs, ns%nsPerMs, rule.Threshold,
		int64(rule.Window)/nsPerMs, int64(rule.Window)%nsPerMs,
		int64(rule.BaseLock)/nsPerMs, int64(rule.BaseLock)%nsPerMs,
		int64(rule.MaxLock)/nsPerMs, int64(rule.MaxLock)%nsPerMs,
		int64(rule.Forget)/nsPerMs, int64(rule.Forget)%nsPerMs).StringSlice()
	if err != nil {
		return ratelimit.LockState{}, scriptError("fail", k, err)
	}
	if len(res) != 7 {
		return ratelimit.LockState{}, fmt.Errorf("redisstore: fail: key %q: unexpected script reply %q", k, res)
	}
	old, oldLast, err1 := parseState(res[0], res[1], res[2], res[3])
	got, _, err2 := parseState(res[4], res[5], res[6], "")
	if err := errors.Join(err1, err2); err != nil {
		return ratelimit.LockState{}, fmt.Errorf("redisstore: fail: key %q: %w", k, err)
	}
	// The state, computed from what the script read by the function every
	// LockoutStore shares, so that it is MemoryStore's by construction; the
	// script's own must agree with it.
	want := ratelimit.FailState(old, oldLast, now, rule)
	if got.Failures != want.Failures || got.Locks != want.Locks || !got.LockedUntil.Equal(want.LockedUntil) {
		return ratelimit.LockState{}, fmt.Errorf("redisstore: fail: key %q: the script computed %+v where FailState computes %+v from %+v, last failure %v",
			k, got, want, old, oldLast)
	}
	return want, nil
}

// State implements [ratelimit.LockoutStore] with one HMGET: the state the
// last Fail left, or the zero state once its history is forgotten (more than
// Forget after the last failure, and not locked). It returns [ErrTimeRange]
// for a now before 1970 and [ErrMalformed] for a value it did not write.
func (s *Store) State(ctx context.Context, key string, now time.Time) (ratelimit.LockState, error) {
	ns, err := unixNano(now)
	if err != nil {
		return ratelimit.LockState{}, fmt.Errorf("redisstore: state: %w", err)
	}
	k := s.lockKey(key)
	h, err := s.readLock(ctx, k)
	if err != nil {
		return ratelimit.LockState{}, fmt.Errorf("redisstore: state: %w", err)
	}
	if h.last.IsZero() || ns > h.forgetAt && !h.state.Locked(now) {
		return ratelimit.LockState{}, nil
	}
	return h.state, nil
}

// Reset implements [ratelimit.LockoutStore] with one script call that
// deletes the key's failures, lock and history, and keeps its mark if it
// is still live by this process's clock (the key then lives until the mark
// ends). It returns [ErrMalformed] for a value it did not write.
func (s *Store) Reset(ctx context.Context, key string) error {
	wall := time.Now().UnixNano()
	k := s.lockKey(key)
	if err := s.reset.Run(ctx, s.client, []string{k}, wall/nsPerMs, wall%nsPerMs).Err(); err != nil {
		return scriptError("reset", k, err)
	}
	return nil
}

// Mark implements [ratelimit.LockoutStore] with one script call that keeps
// the later of the key's until and the given one. An until that has passed
// by this process's clock marks nothing (the key would carry no
// information); one after 2262 is stored as 2262. The key's time to live is
// extended to until if it is shorter. It returns [ErrMalformed] for a value
// it did not write.
func (s *Store) Mark(ctx context.Context, key string, until time.Time) error {
	wall := time.Now().UnixNano()
	if !until.After(time.Unix(0, wall)) {
		return nil
	}
	u := int64(maxUnixNano)
	if until.Before(time.Unix(0, maxUnixNano)) {
		u = until.UnixNano()
	}
	k := s.lockKey(key)
	if err := s.mark.Run(ctx, s.client, []string{k},
		u/nsPerMs, u%nsPerMs, wall/nsPerMs, wall%nsPerMs).Err(); err != nil {
		return scriptError("mark", k, err)
	}
	return nil
}

// Marked implements [ratelimit.LockoutStore] with one HMGET. It returns
// [ErrTimeRange] for a now before 1970 and [ErrMalformed] for a value it did
// not write.
func (s *Store) Marked(ctx context.Context, key string, now time.Time) (bool, error) {
	ns, err := unixNano(now)
	if err != nil {
		return false, fmt.Errorf("redisstore: marked: %w", err)
	}
	h, err := s.readLock(ctx, s.lockKey(key))
	if err != nil {
		return false, fmt.Errorf("redisstore: marked: %w", err)
	}
	return h.mark > ns, nil
}

// scriptError wraps an error of a lockout script call.
func scriptError(op, key string, err error) error {
	if redis.HasErrorPrefix(err, malformedReply) {
		return fmt.Errorf("redisstore: %s: key %q: %w", op, key, ErrMalformed)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}

// lockHash is a lockout hash, read and checked.
type lockHash struct {
	state    ratelimit.LockState
	last     time.Time // zero: no history
	forgetAt int64
	mark     int64 // 0: none
}

// readLock reads and checks the hash at k, as the scripts check it.
func (s *Store) readLock(ctx context.Context, k string) (lockHash, error) {
	vals, err := s.client.HMGet(ctx, k, fieldFailures, fieldLockedUntil, fieldLocks, fieldLast, fieldForgetAt, fieldMark).Result()
	if err != nil {
		return lockHash{}, err
	}
	f := make([]string, len(vals))
	present := make([]bool, len(vals))
	for i, v := range vals {
		if v == nil {
			continue
		}
		sv, ok := v.(string)
		if !ok {
			return lockHash{}, fmt.Errorf("key %q: unexpected reply %v", k, vals)
		}
		f[i], present[i] = sv, true
	}
	bad := func() (lockHash, error) { return lockHash{}, fmt.Errorf("key %q: %w", k, ErrMalformed) }
	for i := range f {
		if present[i] && f[i] == "" {
			return bad()
		}
	}
	// failures, locks, last and forget_at come together; locked_until only
	// with them.
	history := present[0] && present[2] && present[3] && present[4]
	if !history && (present[0] || present[1] || present[2] || present[3] || present[4]) {
		return bad()
	}
	var h lockHash
	if history {
		var err error
		if h.state, h.last, err = parseState(f[0], f[1], f[2], f[3]); err != nil {
			return bad()
		}
		var ok bool
		if h.forgetAt, ok = parseTimeNs(f[4]); !ok {
			return bad()
		}
	}
	if present[5] {
		var ok bool
		if h.mark, ok = parseTimeNs(f[5]); !ok {
			return bad()
		}
	}
	return h, nil
}

// parseState parses stored or replied failures, locked_until, locks and
// last ("" for absent, which means zero).
func parseState(failures, lockedUntil, locks, last string) (ratelimit.LockState, time.Time, error) {
	var st ratelimit.LockState
	var ok bool
	var lastT time.Time
	if st.Failures, ok = parseCount(failures); !ok {
		return st, lastT, ErrMalformed
	}
	if st.Locks, ok = parseCount(locks); !ok {
		return st, lastT, ErrMalformed
	}
	if st.LockedUntil, ok = parseTime(lockedUntil); !ok {
		return st, lastT, ErrMalformed
	}
	if lastT, ok = parseTime(last); !ok {
		return st, lastT, ErrMalformed
	}
	return st, lastT, nil
}

// parseCount parses a stored count: "" (zero) or 1 to 15 decimal digits.
func parseCount(v string) (int, bool) {
	if v == "" {
		return 0, true
	}
	if len(v) > 15 || !allDigits(v) {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// parseTime parses a stored instant: "" (the zero Time) or Unix nanoseconds.
func parseTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	ns, ok := parseTimeNs(v)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// parseTimeNs parses Unix nanoseconds written as the scripts write them: 7
// to 19 decimal digits (the milliseconds, then six digits of nanoseconds),
// at most math.MaxInt64.
func parseTimeNs(v string) (int64, bool) {
	if len(v) < 7 || len(v) > 19 || !allDigits(v) {
		return 0, false
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	return ns, err == nil
}

func allDigits(v string) bool {
	for i := range len(v) {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// luaLockPrelude starts every lockout script: it reads the hash at KEYS[1]
// and checks it as readLock does (returning MALFORMED if it is not as the
// scripts write it), and defines the arithmetic on times.
//
// As in scriptTake, every time and duration is a pair (ms, ns) of
// milliseconds and nanoseconds within the millisecond, both non-negative
// (times are after 1970, durations not negative), so that all arithmetic
// is exact in Lua's doubles. gt(a, b) compares two pairs through
// (a_ms-b_ms)·10^6 + (a_ns-b_ns), which has the sign of the exact value
// even where the product rounds; the script compares an elapsed time
// now - last with a duration d as gt(now - last, d), the difference taken
// part by part (its ns part then lies in (-10^6, 10^6), and the comparison's
// in (-2·10^6, 10^6)).
const luaLockPrelude = `
local v = redis.call('HMGET', KEYS[1], 'failures', 'locked_until', 'locks', 'last', 'forget_at', 'mark')
local function bad_count(x)
  return x and (#x > 15 or not string.find(x, '^%d+$'))
end
local function bad_time(x)
  return x and (#x < 7 or #x > 19 or not string.find(x, '^%d+$') or (#x == 19 and x > '9223372036854775807'))
end
local history = v[1] and v[3] and v[4] and v[5]
if bad_count(v[1]) or bad_time(v[2]) or bad_count(v[3]) or bad_time(v[4]) or bad_time(v[5]) or bad_time(v[6])
    or (not history and (v[1] or v[2] or v[3] or v[4] or v[5])) then
  return redis.error_reply('` + malformedReply + ` value')
end
local function split(x)
  return tonumber(string.sub(x, 1, -7)), tonumber(string.sub(x, -6))
end
local function gt(a_ms, a_ns, b_ms, b_ns)
  return (a_ms - b_ms) * 1000000 + (a_ns - b_ns) > 0
end
local function add(a_ms, a_ns, b_ms, b_ns)
  local ms, ns = a_ms + b_ms, a_ns + b_ns
  if ns >= 1000000 then
    ms, ns = ms + 1, ns - 1000000
  end
  return ms, ns
end
local function fmt(ms, ns)
  return string.format('%.0f%06.0f', ms, ns)
end
-- extend sets the time to live to the time until h (ms, ns) from now,
-- rounded up to the millisecond, unless the key already lives longer.
local function extend(h_ms, h_ns, now_ms, now_ns)
  local ttl = h_ms - now_ms
  if h_ns > now_ns then
    ttl = ttl + 1
  end
  if ttl < 1 then
    ttl = 1
  end
  local cur = redis.call('PTTL', KEYS[1])
  if cur < 0 or ttl > cur then
    redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl))
  end
end
`

// scriptFail is ratelimit.FailState on the hash at KEYS[1].
//
// ARGV: now, then Threshold, then Window, BaseLock, MaxLock and Forget, each
// time as ms and ns. While the key is locked nothing is written. Otherwise
// the script forgets the history if now - last > Forget and the count if
// now - last > Window, counts the failure, and at Threshold locks for
// LockFor(locks) (BaseLock doubled while below MaxLock, at most MaxLock)
// and starts the count again; it writes the new state, last = now and
// forget_at = now + Forget (at most 2^63-1 ns), and extends the time to live
// to the latest of forget_at, locked_until and mark.
//
// Reply: the old failures, locked_until, locks and last, then the new
// failures, locked_until and locks, as strings ("" for absent).
const scriptFail = luaLockPrelude + `
local now_ms, now_ns = tonumber(ARGV[1]), tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local win_ms, win_ns = tonumber(ARGV[4]), tonumber(ARGV[5])
local base_ms, base_ns = tonumber(ARGV[6]), tonumber(ARGV[7])
local max_ms, max_ns = tonumber(ARGV[8]), tonumber(ARGV[9])
local fgt_ms, fgt_ns = tonumber(ARGV[10]), tonumber(ARGV[11])
local old = {v[1] or '', v[2] or '', v[3] or '', v[4] or ''}
local failures, locks = tonumber(v[1] or '0'), tonumber(v[3] or '0')
local u_ms, u_ns
if v[2] then
  u_ms, u_ns = split(v[2])
  if gt(u_ms, u_ns, now_ms, now_ns) then
    return {old[1], old[2], old[3], old[4], old[1], old[2], old[3]}
  end
end
if v[4] then
  local l_ms, l_ns = split(v[4])
  local e_ms, e_ns = now_ms - l_ms, now_ns - l_ns
  if gt(e_ms, e_ns, fgt_ms, fgt_ns) then
    failures, locks, u_ms, u_ns = 0, 0, nil, nil
  end
  if gt(e_ms, e_ns, win_ms, win_ns) then
    failures = 0
  end
end
failures = failures + 1
if failures >= threshold then
  locks = locks + 1
  local d_ms, d_ns = base_ms, base_ns
  local i = 1
  while i < locks and gt(max_ms, max_ns, d_ms, d_ns) and (d_ms > 0 or d_ns > 0) do
    d_ms, d_ns = add(d_ms, d_ns, d_ms, d_ns)
    i = i + 1
  end
  if gt(d_ms, d_ns, max_ms, max_ns) then
    d_ms, d_ns = max_ms, max_ns
  end
  u_ms, u_ns = add(now_ms, now_ns, d_ms, d_ns)
  failures = 0
end
local f_ms, f_ns = add(now_ms, now_ns, fgt_ms, fgt_ns)
if gt(f_ms, f_ns, 9223372036854, 775807) then
  f_ms, f_ns = 9223372036854, 775807
end
local nf, nn, nu = string.format('%.0f', failures), string.format('%.0f', locks), ''
redis.call('HSET', KEYS[1], 'failures', nf, 'locks', nn, 'last', fmt(now_ms, now_ns), 'forget_at', fmt(f_ms, f_ns))
local h_ms, h_ns = f_ms, f_ns
if u_ms then
  nu = fmt(u_ms, u_ns)
  redis.call('HSET', KEYS[1], 'locked_until', nu)
  if gt(u_ms, u_ns, h_ms, h_ns) then
    h_ms, h_ns = u_ms, u_ns
  end
else
  redis.call('HDEL', KEYS[1], 'locked_until')
end
if v[6] then
  local m_ms, m_ns = split(v[6])
  if gt(m_ms, m_ns, h_ms, h_ns) then
    h_ms, h_ns = m_ms, m_ns
  end
end
extend(h_ms, h_ns, now_ms, now_ns)
return {old[1], old[2], old[3], old[4], nf, nu, nn}
`

// scriptReset deletes the lockout fields of the hash at KEYS[1] and keeps
// its mark if the mark ends after ARGV's now (ms, ns), the time to live
// then ending with the mark; otherwise it deletes the key.
const scriptReset = luaLockPrelude + `
local now_ms, now_ns = tonumber(ARGV[1]), tonumber(ARGV[2])
if v[6] then
  local m_ms, m_ns = split(v[6])
  if gt(m_ms, m_ns, now_ms, now_ns) then
    redis.call('HDEL', KEYS[1], 'failures', 'locked_until', 'locks', 'last', 'forget_at')
    local ttl = m_ms - now_ms
    if m_ns > now_ns then
      ttl = ttl + 1
    end
    redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl))
    return 1
  end
end
redis.call('DEL', KEYS[1])
return 0
`

// scriptMark sets the mark of the hash at KEYS[1] to ARGV's until (ms, ns)
// if it is later than the stored one, and extends the time to live to it
// from ARGV's now (ms, ns). The caller passes an until after now.
const scriptMark = luaLockPrelude + `
local u_ms, u_ns = tonumber(ARGV[1]), tonumber(ARGV[2])
local now_ms, now_ns = tonumber(ARGV[3]), tonumber(ARGV[4])
if v[6] then
  local m_ms, m_ns = split(v[6])
  if not gt(u_ms, u_ns, m_ms, m_ns) then
    return 0
  end
end
redis.call('HSET', KEYS[1], 'mark', fmt(u_ms, u_ns))
extend(u_ms, u_ns, now_ms, now_ns)
return 1
`
