package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Policy is a rate: Limit requests per Period, of which up to Burst may come
// at once. It is enforced with GCRA (the generic cell rate algorithm): one
// request is earned back every Period/Limit, and a client that has been quiet
// for Burst×Period/Limit (a whole Period when Burst is Limit) has its full
// Burst again.
type Policy struct {
	// Limit is the number of requests allowed per Period. Must be positive.
	Limit int
	// Period is the window the Limit applies to. Must be at least 1 ms.
	Period time.Duration
	// Burst is how many requests may arrive at once. Zero value: Limit (so
	// "5/m" allows 5 requests at once, then one every 12 s, like a fixed
	// window of one minute without its edge effects).
	Burst int
}

// ErrInvalidPolicy is wrapped by every error of ParsePolicy and
// Policy.Validate.
var ErrInvalidPolicy = errors.New("ratelimit: invalid policy")

// ParsePolicy parses a rate in django-ratelimit's notation: a count, a slash
// and a unit of s, m, h or d, optionally with a multiplier ("5/m", "100/h",
// "10/s", "1000/d", "3/10m"), optionally followed by " burst N":
// "10/s burst 20". Spaces around the parts are ignored. Anything else is an
// error wrapping ErrInvalidPolicy that quotes the input.
func ParsePolicy(s string) (Policy, error) {
	bad := func(why string) (Policy, error) {
		return Policy{}, fmt.Errorf("%w: %q: %s (examples: \"5/m\", \"100/h\", \"3/10m\", \"10/s burst 20\")", ErrInvalidPolicy, s, why)
	}
	in := strings.TrimSpace(s)
	rate, burstPart, hasBurst := strings.Cut(in, " burst ")
	countStr, per, ok := strings.Cut(strings.TrimSpace(rate), "/")
	if !ok {
		return bad("missing '/'")
	}
	count, err := strconv.Atoi(strings.TrimSpace(countStr))
	if err != nil || count <= 0 {
		return bad("the count must be a positive whole number")
	}
	per = strings.TrimSpace(per)
	if per == "" {
		return bad("missing unit")
	}
	unit, ok := units[per[len(per)-1]]
	if !ok {
		return bad("the unit must be s, m, h or d")
	}
	mult := 1
	if n := per[:len(per)-1]; n != "" {
		mult, err = strconv.Atoi(n)
		if err != nil || mult <= 0 || mult > 1000 {
			return bad("the unit multiplier must be a whole number from 1 to 1000")
		}
	}
	p := Policy{Limit: count, Period: time.Duration(mult) * unit}
	if hasBurst {
		p.Burst, err = strconv.Atoi(strings.TrimSpace(burstPart))
		if err != nil || p.Burst <= 0 {
			return bad("the burst must be a positive whole number")
		}
	}
	if err := p.Validate(); err != nil {
		return Policy{}, fmt.Errorf("%w (in %q)", err, s)
	}
	return p, nil
}

var units = map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}

// MaxLimit bounds Policy.Limit and Policy.Burst.
const MaxLimit = 1 << 30

// Validate reports whether p can be enforced: a positive Limit, a Period of
// at least a millisecond, an emission interval (Period/Limit) of at least
// a microsecond, and a burst earned back within 100 years.
func (p Policy) Validate() error {
	switch {
	case p.Limit <= 0:
		return fmt.Errorf("%w: the limit must be positive, got %d (a limit of 0 would refuse everything; remove the limiter instead)", ErrInvalidPolicy, p.Limit)
	case p.Limit > MaxLimit || p.Burst > MaxLimit:
		return fmt.Errorf("%w: limit and burst must be at most %d", ErrInvalidPolicy, MaxLimit)
	case p.Burst < 0:
		return fmt.Errorf("%w: the burst must not be negative", ErrInvalidPolicy)
	case p.Period < time.Millisecond:
		return fmt.Errorf("%w: the period must be at least 1ms, got %v", ErrInvalidPolicy, p.Period)
	case p.Period/time.Duration(p.Limit) < time.Microsecond:
		return fmt.Errorf("%w: %d per %v is more than one request per microsecond", ErrInvalidPolicy, p.Limit, p.Period)
	case time.Duration(p.burst()+1) > maxSpan/p.interval():
		return fmt.Errorf("%w: %v takes more than 100 years to earn back its burst", ErrInvalidPolicy, p)
	}
	return nil
}

// maxSpan bounds the time a Policy takes to earn back its whole burst (and
// one request more), so that GCRA's arithmetic on Unix nanoseconds cannot
// overflow.
const maxSpan = 100 * 365 * 24 * time.Hour

// String formats p in the notation ParsePolicy reads ("5/m", "3/10m",
// "10/s burst 20"). Only a Period of 1 to 1000 seconds, minutes, hours or
// days has such a notation: others are written in a form ParsePolicy
// refuses ("3 per 1.5s", "3/1001s").
func (p Policy) String() string {
	var s string
	switch {
	case p.Period%(24*time.Hour) == 0:
		s = unitString(p.Limit, p.Period/(24*time.Hour), "d")
	case p.Period%time.Hour == 0:
		s = unitString(p.Limit, p.Period/time.Hour, "h")
	case p.Period%time.Minute == 0:
		s = unitString(p.Limit, p.Period/time.Minute, "m")
	case p.Period%time.Second == 0:
		s = unitString(p.Limit, p.Period/time.Second, "s")
	default:
		s = strconv.Itoa(p.Limit) + " per " + p.Period.String()
	}
	if p.Burst != 0 && p.Burst != p.Limit {
		s += " burst " + strconv.Itoa(p.Burst)
	}
	return s
}

func unitString(limit int, mult time.Duration, unit string) string {
	if mult == 1 {
		return strconv.Itoa(limit) + "/" + unit
	}
	return strconv.Itoa(limit) + "/" + strconv.FormatInt(int64(mult), 10) + unit
}

// burst returns the effective burst.
func (p Policy) burst() int {
	if p.Burst == 0 {
		return p.Limit
	}
	return p.Burst
}

// interval is the emission interval: one request is earned back every
// interval.
func (p Policy) interval() time.Duration {
	return p.Period / time.Duration(p.Limit)
}
