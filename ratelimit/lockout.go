package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// LockoutMode says which failures add up to a lock.
type LockoutMode int

const (
	// AccountOrIP locks an account after Threshold failures on it from
	// anywhere, and an address after IPThreshold failures from it on any
	// account. It stops both the guessing of one password and the spraying
	// of one password over many accounts. An address that recently logged
	// into the account keeps its own allowance (see Lockout).
	AccountOrIP LockoutMode = iota
	// AccountAndIP locks only the pair of account and address: a guesser is
	// stopped, and nobody can lock a victim out from elsewhere, but a
	// guesser with many addresses gets Threshold tries from each.
	AccountAndIP
)

// Defaults applied by NewLockout to zero fields of LockoutOptions.
const (
	DefaultLockoutThreshold = 5
	DefaultLockoutWindow    = 15 * time.Minute
	DefaultLockoutBase      = 15 * time.Minute
	DefaultLockoutMax       = 24 * time.Hour
	DefaultLockoutForget    = 7 * 24 * time.Hour
	DefaultTrustedFor       = 30 * 24 * time.Hour
)

// LockoutOptions configures a Lockout. The zero value locks an account for
// 15 minutes after 5 failures within 15 minutes, doubling on each further
// lock up to a day, and an address after 20 failures on any accounts.
type LockoutOptions struct {
	// Store keeps the counts. Zero value: a MemoryStore of its own. Share
	// the limiters' store (a MemoryStore or ratelimit/redisstore) to keep one
	// state per deployment.
	Store LockoutStore
	// Prefix namespaces the keys in the store. Zero value: "lockout".
	Prefix string
	// Mode: AccountOrIP (zero value) or AccountAndIP.
	Mode LockoutMode
	// Threshold is the number of failures that locks an account (or a pair in
	// AccountAndIP mode). Zero value: 5.
	Threshold int
	// IPThreshold is the number of failures from one address, on any
	// accounts, that locks the address (AccountOrIP mode). Zero value: four
	// times Threshold.
	IPThreshold int
	// Window: failures further apart than this do not add up. Zero value:
	// 15 minutes.
	Window time.Duration
	// BaseLock is the length of a first lock; each further lock doubles it,
	// up to MaxLock. Zero values: 15 minutes and 24 hours.
	BaseLock, MaxLock time.Duration
	// Forget: after this long without failures a key's lock history is
	// forgotten and the next lock is a first one again. It must be longer
	// than MaxLock (failures during a lock do not count, so a shorter Forget
	// would forget the history during the longest lock). Zero value: 7 days.
	Forget time.Duration
	// TrustedFor is how long an address that logged into an account
	// successfully keeps its own allowance for that account when the account
	// is locked (AccountOrIP mode): its failures count on their own, so that
	// an attacker failing on a victim's account from elsewhere cannot lock
	// the victim out. Zero value: 30 days.
	TrustedFor time.Duration
	// DisableTrustedAddresses turns that allowance off. Zero value: false.
	DisableTrustedAddresses bool
	// IPv6Prefix groups IPv6 addresses for counting. Zero value: 64.
	IPv6Prefix int
	// OnLock is called when a failure starts a lock. Zero value: nothing.
	OnLock func(ctx context.Context, e LockEvent)
	// OnUnlock is called when a success clears a key that had been locked.
	// Zero value: nothing.
	OnUnlock func(ctx context.Context, e LockEvent)
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// LockEvent describes a lock starting or being cleared.
type LockEvent struct {
	// Scope is "account", "ip" or "account+ip".
	Scope string
	// Account and IP are the login's account and client address.
	Account string
	IP      netip.Addr
	// Until is when the lock ends (for OnLock); Locks counts the locks in
	// the key's history, this one included.
	Until time.Time
	Locks int
}

// LockStatus answers Lockout.Check and Lockout.Failure.
type LockStatus struct {
	// Locked reports whether the login must be refused (429), whatever the
	// password.
	Locked bool
	// RetryAfter is how long the lock lasts.
	RetryAfter time.Duration
	// Scope is what is locked: "account", "ip" or "account+ip".
	Scope string
}

// ErrLocked is wrapped by LockedError.
var ErrLocked = errors.New("ratelimit: login locked")

// Lockout counts failed logins and locks accounts and addresses, as
// django-axes does for Django: check before verifying a password, report
// the outcome after. It is safe for concurrent use.
//
//	st, err := lockout.Check(ctx, email, ip)
//	if st.Locked { 429 with Retry-After }
//	if !passwordOK {
//		st, err = lockout.Failure(ctx, email, ip) // may lock now
//		401
//	}
//	lockout.Success(ctx, email, ip)
//
// Accounts should be normalized by the caller (lower-cased e-mail). Every
// store call is one key; a Check costs up to four reads.
type Lockout struct {
	o        LockoutOptions
	account  LockoutRule
	ip       LockoutRule
	v6prefix int
}

// NewLockout validates opts and returns a Lockout.
func NewLockout(opts LockoutOptions) (*Lockout, error) {
	var errs []error
	for name, d := range map[string]time.Duration{"Window": opts.Window, "BaseLock": opts.BaseLock, "MaxLock": opts.MaxLock, "Forget": opts.Forget, "TrustedFor": opts.TrustedFor} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("ratelimit: LockoutOptions.%s is negative", name))
		}
	}
	if opts.Threshold < 0 || opts.IPThreshold < 0 {
		errs = append(errs, errors.New("ratelimit: LockoutOptions.Threshold and IPThreshold must not be negative"))
	}
	if opts.Mode != AccountOrIP && opts.Mode != AccountAndIP {
		errs = append(errs, fmt.Errorf("ratelimit: LockoutOptions.Mode %d is not a LockoutMode", opts.Mode))
	}
	if opts.IPv6Prefix < 0 || opts.IPv6Prefix > 128 {
		errs = append(errs, errors.New("ratelimit: LockoutOptions.IPv6Prefix must be 1–128"))
	}
	if strings.ContainsAny(opts.Prefix, "|\n\r") {
		errs = append(errs, errors.New("ratelimit: LockoutOptions.Prefix may not contain '|' or line breaks"))
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&opts.Window, DefaultLockoutWindow)
	def(&opts.BaseLock, DefaultLockoutBase)
	def(&opts.MaxLock, DefaultLockoutMax)
	def(&opts.Forget, DefaultLockoutForget)
	def(&opts.TrustedFor, DefaultTrustedFor)
	if opts.Threshold == 0 {
		opts.Threshold = DefaultLockoutThreshold
	}
	if opts.IPThreshold == 0 {
		opts.IPThreshold = 4 * opts.Threshold
	}
	if opts.IPv6Prefix == 0 {
		opts.IPv6Prefix = DefaultIPv6Prefix
	}
	if opts.MaxLock < opts.BaseLock {
		errs = append(errs, fmt.Errorf("ratelimit: LockoutOptions.MaxLock (%v) is shorter than BaseLock (%v)", opts.MaxLock, opts.BaseLock))
	}
	if opts.Forget <= opts.MaxLock {
		errs = append(errs, fmt.Errorf("ratelimit: LockoutOptions.Forget (%v) must be longer than MaxLock (%v): the history would be forgotten during the longest lock and locks would stop growing", opts.Forget, opts.MaxLock))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.Store == nil {
		opts.Store = NewMemoryStore(MemoryStoreOptions{})
	}
	if opts.Prefix == "" {
		opts.Prefix = "lockout"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	rule := LockoutRule{Threshold: opts.Threshold, Window: opts.Window, BaseLock: opts.BaseLock, MaxLock: opts.MaxLock, Forget: opts.Forget}
	ipRule := rule
	ipRule.Threshold = opts.IPThreshold
	return &Lockout{o: opts, account: rule, ip: ipRule, v6prefix: opts.IPv6Prefix}, nil
}

func (l *Lockout) keys(account string, ip netip.Addr) (acct, addr, pair, trust string) {
	a := string(appendIP(nil, ip.Unmap(), 32, l.v6prefix))
	p := l.o.Prefix
	return p + "|acct|" + account, p + "|" + a, p + "|pair|" + account + "|" + a, p + "|trust|" + account + "|" + a
}

// trusted reports whether ip logged into account recently.
func (l *Lockout) trusted(ctx context.Context, trustKey string, now time.Time) (bool, error) {
	if l.o.DisableTrustedAddresses || l.o.Mode != AccountOrIP {
		return false, nil
	}
	return l.o.Store.Marked(ctx, trustKey, now)
}

// Check reports whether a login to account from ip must be refused now,
// before the password is looked at. It changes nothing.
func (l *Lockout) Check(ctx context.Context, account string, ip netip.Addr) (LockStatus, error) {
	now := l.o.Now()
	acct, addr, pair, trust := l.keys(account, ip)
	check := func(key, scope string) (LockStatus, bool, error) {
		st, err := l.o.Store.State(ctx, key, now)
		if err != nil {
			return LockStatus{}, false, fmt.Errorf("ratelimit: lockout: %w", err)
		}
		if st.Locked(now) {
			return LockStatus{Locked: true, RetryAfter: st.LockedUntil.Sub(now), Scope: scope}, true, nil
		}
		return LockStatus{}, false, nil
	}
	if l.o.Mode == AccountAndIP {
		st, _, err := check(pair, "account+ip")
		return st, err
	}
	trusted, err := l.trusted(ctx, trust, now)
	if err != nil {
		return LockStatus{}, fmt.Errorf("ratelimit: lockout: %w", err)
	}
	if trusted {
		if st, locked, err := check(pair, "account+ip"); err != nil || locked {
			return st, err
		}
	} else if st, locked, err := check(acct, "account"); err != nil || locked {
		return st, err
	}
	st, _, err := check(addr, "ip")
	return st, err
}

// Failure records a failed login to account from ip and reports whether it
// is now locked (the failure that reaches the threshold locks at once).
func (l *Lockout) Failure(ctx context.Context, account string, ip netip.Addr) (LockStatus, error) {
	now := l.o.Now()
	acct, addr, pair, trust := l.keys(account, ip)
	var out LockStatus
	fail := func(key, scope string, rule LockoutRule) error {
		before, err := l.o.Store.State(ctx, key, now)
		if err != nil {
			return fmt.Errorf("ratelimit: lockout: %w", err)
		}
		st, err := l.o.Store.Fail(ctx, key, now, rule)
		if err != nil {
			return fmt.Errorf("ratelimit: lockout: %w", err)
		}
		if st.Locked(now) {
			if !before.Locked(now) && l.o.OnLock != nil {
				l.o.OnLock(ctx, LockEvent{Scope: scope, Account: account, IP: ip, Until: st.LockedUntil, Locks: st.Locks})
			}
			if d := st.LockedUntil.Sub(now); !out.Locked || d > out.RetryAfter {
				out = LockStatus{Locked: true, RetryAfter: d, Scope: scope}
			}
		}
		return nil
	}
	if l.o.Mode == AccountAndIP {
		return out, fail(pair, "account+ip", l.account)
	}
	trusted, err := l.trusted(ctx, trust, now)
	if err != nil {
		return LockStatus{}, fmt.Errorf("ratelimit: lockout: %w", err)
	}
	key, scope := acct, "account"
	if trusted {
		key, scope = pair, "account+ip"
	}
	if err := fail(key, scope, l.account); err != nil {
		return LockStatus{}, err
	}
	return out, fail(addr, "ip", l.ip)
}

// Success records a successful login: the failures of the pair are
// forgotten, the address is trusted for the account for TrustedFor, and the
// account's count of consecutive failures starts again (an account lock in
// force is left alone: a lock set by someone guessing from elsewhere must
// keep them out). The address's own count is not reset: otherwise anyone
// with one valid account could spray passwords over other accounts without
// limit, logging into their own between rounds.
func (l *Lockout) Success(ctx context.Context, account string, ip netip.Addr) error {
	now := l.o.Now()
	acct, _, pair, trust := l.keys(account, ip)
	for _, k := range []struct{ key, scope string }{{pair, "account+ip"}, {acct, "account"}} {
		st, err := l.o.Store.State(ctx, k.key, now)
		if err != nil {
			return fmt.Errorf("ratelimit: lockout: %w", err)
		}
		if k.key == acct && st.Locked(now) {
			continue
		}
		if st == (LockState{}) {
			continue
		}
		if err := l.o.Store.Reset(ctx, k.key); err != nil {
			return fmt.Errorf("ratelimit: lockout: %w", err)
		}
		if st.Locks > 0 && l.o.OnUnlock != nil {
			l.o.OnUnlock(ctx, LockEvent{Scope: k.scope, Account: account, IP: ip, Locks: st.Locks})
		}
	}
	if l.o.Mode == AccountOrIP && !l.o.DisableTrustedAddresses {
		if err := l.o.Store.Mark(ctx, trust, now.Add(l.o.TrustedFor)); err != nil {
			return fmt.Errorf("ratelimit: lockout: %w", err)
		}
	}
	return nil
}
