package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Options configures a [Limiter]: one named policy with its key, enforced
// on the routes it wraps.
type Options struct {
	// Name identifies the limit: it prefixes every key in the store (so
	// limiters can share one store) and names the policy in the RateLimit
	// headers. 1–64 characters of a-z, 0-9, '.', '_', '-'. Required.
	Name string
	// Policy is the rate. Required; see ParsePolicy.
	Policy Policy
	// Key identifies whose budget a request spends. Zero value: KeyByIP().
	Key KeyFunc
	// Store keeps the budgets. Zero value: a MemoryStore of its own
	// (this process only).
	Store Store
	// StoreTimeout bounds each call to a Store that is not a MemoryStore.
	// Zero value: 100 ms.
	StoreTimeout time.Duration
	// FailOpen lets requests through when the store fails or times out,
	// reporting each failure to OnStoreError. Zero value: false; such
	// requests get 503.
	FailOpen bool
	// LegacyHeaders adds X-RateLimit-Limit, X-RateLimit-Remaining and
	// X-RateLimit-Reset to the IETF headers. Zero value: false.
	LegacyHeaders bool
	// OnLimited is called for every refused request (wire it to the audit
	// log). Zero value: nothing.
	OnLimited func(r *http.Request, d Decision)
	// OnStoreError is called whenever the store fails. Zero value: nothing.
	OnStoreError func(r *http.Request, err error)
	// ErrorHandler writes the response of a refused request; err is a
	// *LimitError (429) or wraps ErrStoreUnavailable (503). Zero value:
	// WriteError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Now is the clock. Zero value: time.Now for Redis-backed stores; for a
	// MemoryStore, the process's monotonic clock anchored to the Unix time
	// at start (one clock read instead of two, and immune to steps of the
	// wall clock).
	Now func() time.Time
}

// DefaultStoreTimeout bounds store calls when Options.StoreTimeout is zero.
const DefaultStoreTimeout = 100 * time.Millisecond

var namePattern = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)

// Limiter enforces one policy. It is safe for concurrent use; build one per
// policy with [New] and wrap the routes it covers with [Limiter.Handler].
type Limiter struct {
	opts    Options
	mem     *MemoryStore // Store, when it is a MemoryStore: the allocation-free path
	byIP    bool         // Key is KeyByIP(): the key is built in place
	mono    bool         // Options.Now was nil: MemoryStore decisions use memNow's monotonic clock
	gcra    gcra         // opts.Policy, precomputed for MemoryStore decisions
	policy  []string     // precomputed RateLimit-Policy value
	limit   []string     // precomputed X-RateLimit-Limit value
	values  intern       // RateLimit values by (remaining, reset)
	legacy  intern       // X-RateLimit-Remaining / -Reset values
	bufs    sync.Pool    // *[]byte key buffers
	onError func(w http.ResponseWriter, r *http.Request, err error)
}

// New validates opts and returns a Limiter. Every problem is reported at
// once.
func New(opts Options) (*Limiter, error) {
	var errs []error
	if !namePattern.MatchString(opts.Name) {
		errs = append(errs, fmt.Errorf("ratelimit: Options.Name %q must be 1–64 characters of a-z, 0-9, '.', '_', '-'", opts.Name))
	}
	if err := opts.Policy.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("ratelimit: Options.Policy: %w", err))
	}
	if opts.StoreTimeout < 0 {
		errs = append(errs, errors.New("ratelimit: Options.StoreTimeout is negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.Key == nil {
		opts.Key = KeyByIP()
	}
	if opts.Store == nil {
		opts.Store = NewMemoryStore(MemoryStoreOptions{})
	}
	if opts.StoreTimeout == 0 {
		opts.StoreTimeout = DefaultStoreTimeout
	}
	mono := opts.Now == nil
	if mono {
		opts.Now = time.Now
	}
	l := &Limiter{opts: opts, onError: opts.ErrorHandler, mono: mono, gcra: gcraOf(opts.Policy)}
	if l.onError == nil {
		l.onError = WriteError
	}
	l.mem, _ = opts.Store.(*MemoryStore)
	l.byIP = isKeyByIP(opts.Key)
	window := int64(opts.Policy.Period / time.Second)
	if window < 1 {
		window = 1
	}
	l.policy = []string{strconv.Quote(opts.Name) + ";q=" + strconv.Itoa(opts.Policy.Limit) + ";w=" + strconv.FormatInt(window, 10)}[:1:1]
	l.limit = []string{strconv.Itoa(opts.Policy.Limit)}[:1:1]
	l.bufs.New = func() any { b := make([]byte, 0, 128); return &b }
	return l, nil
}

// Policy returns the limiter's policy.
func (l *Limiter) Policy() Policy { return l.opts.Policy }

// Name returns the limiter's name.
func (l *Limiter) Name() string { return l.opts.Name }

// Handler is the middleware that spends one unit of the request's budget.
// Every response of a wrapped route carries RateLimit-Policy and RateLimit
// (draft-ietf-httpapi-ratelimit-headers-10); a request over its limit gets
// 429 with Retry-After and never reaches next. An allowed request costs no
// allocation with a MemoryStore once its header values are cached.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := l.Allow(r)
		if err != nil {
			if errors.Is(err, ErrNoKey) || l.opts.FailOpen {
				next.ServeHTTP(w, r)
				return
			}
			l.onError(w, r, err)
			return
		}
		l.setHeaders(w.Header(), d)
		if !d.Allowed {
			if l.opts.OnLimited != nil {
				l.opts.OnLimited(r, d)
			}
			l.onError(w, r, &LimitError{Name: l.opts.Name, Decision: d})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Allow spends one unit of r's budget and returns the decision, for
// handlers that limit something other than whole requests. The error is
// ErrNoKey (not limited), or wraps ErrStoreUnavailable; OnStoreError has
// been called for the latter.
func (l *Limiter) Allow(r *http.Request) (Decision, error) {
	if l.byIP && l.mem != nil {
		// What the general path below computes for KeyByIP and a
		// MemoryStore, with a direct call and a stack buffer (the longest
		// key, a 64-byte name and an IPv6 address, fits).
		var buf [128]byte
		key := append(append(buf[:0], l.opts.Name...), ':')
		key = appendClientIP(key, r)
		return l.mem.takeBytes(key, l.gcra, l.memNow()), nil
	}
	bp := l.bufs.Get().(*[]byte)
	defer l.bufs.Put(bp)
	key := append((*bp)[:0], l.opts.Name...)
	key = append(key, ':')
	key, err := l.opts.Key(r, key)
	*bp = key[:0]
	if err != nil {
		if errors.Is(err, ErrNoKey) {
			return Decision{}, ErrNoKey
		}
		return Decision{}, l.storeFailed(r, fmt.Errorf("key: %w", err))
	}
	if l.mem != nil {
		return l.mem.takeBytes(key, l.gcra, l.memNow()), nil
	}
	now := l.opts.Now()
	ctx, cancel := context.WithTimeout(r.Context(), l.opts.StoreTimeout)
	defer cancel()
	d, err := l.opts.Store.Take(ctx, string(key), l.opts.Policy, now)
	if err != nil {
		return Decision{}, l.storeFailed(r, err)
	}
	return d, nil
}

// epoch anchors the default clock of MemoryStore decisions: Unix time at
// start plus the monotonic time elapsed since. Reading it costs one
// monotonic clock read instead of time.Now's wall and monotonic reads, and
// a step of the wall clock (NTP, an operator) neither refills nor empties
// budgets. A MemoryStore is private to the process, so its decisions need no
// agreement with other machines' clocks; Redis-backed stores get time.Now.
var (
	epoch         = time.Now()
	epochUnixNano = epoch.UnixNano()
)

// memNow is the time of a MemoryStore decision, in Unix nanoseconds.
func (l *Limiter) memNow() int64 {
	if l.mono {
		return epochUnixNano + int64(time.Since(epoch))
	}
	return l.opts.Now().UnixNano()
}

func (l *Limiter) storeFailed(r *http.Request, err error) error {
	if l.opts.OnStoreError != nil {
		l.opts.OnStoreError(r, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrStoreUnavailable, l.opts.Name, err)
}

// setHeaders writes the rate-limit headers of d.
func (l *Limiter) setHeaders(h http.Header, d Decision) {
	remaining := int64(d.Remaining)
	reset := ceilSeconds(d.ResetAfter)
	h[keyRateLimitPolicy] = l.policy
	h[keyRateLimit] = l.values.get(uint64(remaining)<<32|uint64(reset), func() string {
		return rateLimitValue(l.opts.Name, remaining, reset)
	})
	if l.opts.LegacyHeaders {
		h[keyXRateLimitLimit] = l.limit
		h[keyXRateLimitRemaining] = l.legacy.get(uint64(remaining), func() string { return strconv.FormatInt(remaining, 10) })
		h[keyXRateLimitReset] = l.legacy.get(1<<63|uint64(reset), func() string { return strconv.FormatInt(reset, 10) })
	}
}
