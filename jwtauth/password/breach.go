package password

import (
	"bytes"
	"context"
	"crypto/sha1" // the range API is keyed by SHA-1; it is not used as a password hash
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RangeEntry is one line of a k-anonymity range answer: the last 35
// hexadecimal digits of a password's SHA-1 and the number of times that
// password was seen in breaches. Padding entries have Count 0.
type RangeEntry struct {
	Suffix string
	Count  int64
}

// RangeLookup looks up breached passwords by k-anonymity, as the Have I
// Been Pwned Pwned Passwords API offers: Range receives the first 5
// upper-case hexadecimal digits of a password's SHA-1 and returns every
// known suffix with that prefix, so the password (and even its full hash)
// never leaves the process. Implementations must be safe for concurrent use
// and must return an error, never an empty answer, when they could not ask.
// [HIBP] is the HTTP implementation; an offline copy of the corpus can
// implement it too.
type RangeLookup interface {
	Range(ctx context.Context, prefix string) ([]RangeEntry, error)
}

// RangeLookupFunc adapts a function to [RangeLookup].
type RangeLookupFunc func(ctx context.Context, prefix string) ([]RangeEntry, error)

// Range calls f(ctx, prefix).
func (f RangeLookupFunc) Range(ctx context.Context, prefix string) ([]RangeEntry, error) {
	return f(ctx, prefix)
}

// Breached checks pw, exactly as given, against the breach corpus behind
// lookup. It returns:
//   - nil if the password was not found;
//   - a [*ValidationError] with one [RuleBreached] violation carrying the
//     count if it was (so it joins the errors of [Policy.Validate]);
//   - an error wrapping [ErrBreachUnavailable] (and the lookup's error) if
//     the check could not be made: network failure, timeout, bad answer,
//     nil lookup.
//
// A failed check never looks like "not breached". The caller decides what
// it means: failing open (accept the password, log the outage) keeps
// registration working when the service is down; failing closed (refuse,
// ask to retry) never lets a breached password through. For example:
//
//	err := password.Breached(ctx, hibp, pw)
//	if errors.Is(err, password.ErrBreachUnavailable) {
//		logger.Warn("breach check unavailable", "err", err)
//		err = nil // fail open
//	}
//
// Bound the wait with ctx (or the HTTP client's timeout).
func Breached(ctx context.Context, lookup RangeLookup, pw string) error {
	if lookup == nil {
		return fmt.Errorf("%w: no RangeLookup", ErrBreachUnavailable)
	}
	sum := sha1.Sum([]byte(pw))
	var hexSum [2 * sha1.Size]byte
	hex.Encode(hexSum[:], sum[:])
	full := strings.ToUpper(string(hexSum[:]))
	prefix, suffix := full[:5], full[5:]

	entries, err := lookup.Range(ctx, prefix)
	if err != nil {
		if errors.Is(err, ErrBreachUnavailable) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrBreachUnavailable, err)
	}
	for _, e := range entries {
		if e.Count > 0 && strings.EqualFold(e.Suffix, suffix) {
			return &ValidationError{Violations: []Violation{{Rule: RuleBreached, Count: e.Count}}}
		}
	}
	return nil
}

// DefaultHIBPBaseURL is the Pwned Passwords API root; ranges are fetched
// from DefaultHIBPBaseURL + "/range/" + prefix.
const DefaultHIBPBaseURL = "https://api.pwnedpasswords.com"

// Defaults of [HIBPOptions].
const (
	// DefaultHIBPTimeout is the timeout of the HTTP client NewHIBP makes
	// when HIBPOptions.Client is nil.
	DefaultHIBPTimeout = 5 * time.Second
	// DefaultHIBPUserAgent is the User-Agent sent when
	// HIBPOptions.UserAgent is empty.
	DefaultHIBPUserAgent = "senfi-password/1 (+https://github.com/senfi-sharif/senfi)"
	// DefaultHIBPMaxResponseBytes bounds the answer when
	// HIBPOptions.MaxResponseBytes is zero; a padded answer is about 30 KiB.
	DefaultHIBPMaxResponseBytes = 1 << 20
)

// HIBPOptions configures a [HIBP] client.
type HIBPOptions struct {
	// Client sends the requests. Zero value: a new http.Client with
	// Timeout DefaultHIBPTimeout (not http.DefaultClient, which never times
	// out).
	Client *http.Client
	// BaseURL is the API root, without "/range/". Tests point it at an
	// httptest.Server; an internal mirror works too. It must be an
	// absolute http or https URL without query or fragment.
	// Zero value: DefaultHIBPBaseURL.
	BaseURL string
	// UserAgent is sent with every request; the API refuses requests
	// without one. Zero value: DefaultHIBPUserAgent.
	UserAgent string
	// MaxResponseBytes bounds the answer read. Zero value:
	// DefaultHIBPMaxResponseBytes (1 MiB).
	MaxResponseBytes int64
}

// HIBP is a [RangeLookup] over HTTP against the Have I Been Pwned Pwned
// Passwords range API (GET {BaseURL}/range/{prefix}, answered by lines of
// SUFFIX:COUNT). It always sends "Add-Padding: true", so that the size of
// the answer does not reveal the prefix to an observer; padding entries
// (count 0) are returned like the others and ignored by [Breached]. A HIBP
// is safe for concurrent use. The zero HIBP is not usable: build one with
// [NewHIBP].
type HIBP struct {
	client    *http.Client
	base      string
	userAgent string
	maxBytes  int64
}

var _ RangeLookup = (*HIBP)(nil)

// NewHIBP validates opts and returns a client. The error wraps
// [ErrInvalidOptions].
func NewHIBP(opts HIBPOptions) (*HIBP, error) {
	c := &HIBP{
		client:    opts.Client,
		base:      or(opts.BaseURL, DefaultHIBPBaseURL),
		userAgent: or(opts.UserAgent, DefaultHIBPUserAgent),
		maxBytes:  or(opts.MaxResponseBytes, DefaultHIBPMaxResponseBytes),
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: DefaultHIBPTimeout}
	}
	var errs []error
	u, err := url.Parse(c.base)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("%w: BaseURL: %v", ErrInvalidOptions, err))
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.RawQuery != "", u.Fragment != "", u.User != nil:
		errs = append(errs, fmt.Errorf("%w: BaseURL %q must be an absolute http(s) URL without user, query or fragment", ErrInvalidOptions, c.base))
	}
	c.base = strings.TrimSuffix(c.base, "/")
	if c.maxBytes < 0 {
		errs = append(errs, fmt.Errorf("%w: MaxResponseBytes %d is negative", ErrInvalidOptions, c.maxBytes))
	}
	if strings.ContainsAny(c.userAgent, "\r\n") {
		errs = append(errs, fmt.Errorf("%w: UserAgent contains a line break", ErrInvalidOptions))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Range fetches the suffixes of prefix, 5 hexadecimal digits. Any failure
// (request, status other than 200, oversized or malformed answer) is an
// error wrapping [ErrBreachUnavailable].
func (c *HIBP) Range(ctx context.Context, prefix string) ([]RangeEntry, error) {
	if len(prefix) != 5 || !isHex(prefix) {
		return nil, fmt.Errorf("%w: prefix must be 5 hexadecimal digits", ErrBreachUnavailable)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/range/"+strings.ToUpper(prefix), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBreachUnavailable, err)
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "text/plain")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBreachUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%w: HTTP status %d", ErrBreachUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %w", ErrBreachUnavailable, err)
	}
	if int64(len(body)) > c.maxBytes {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrBreachUnavailable, c.maxBytes)
	}
	return parseRange(body)
}

// parseRange parses a range answer: lines of 35 hexadecimal digits, ':',
// and a decimal count, separated by CRLF or LF; empty lines are skipped.
func parseRange(body []byte) ([]RangeEntry, error) {
	s := string(body) // one copy; suffixes are substrings of it
	entries := make([]RangeEntry, 0, bytes.Count(body, []byte{'\n'})+1)
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		suffix, count, ok := strings.Cut(line, ":")
		if !ok || len(suffix) != 35 || !isHex(suffix) {
			return nil, fmt.Errorf("%w: malformed line in range answer", ErrBreachUnavailable)
		}
		n, ok := parseDecimal(count, 1<<62)
		if !ok {
			return nil, fmt.Errorf("%w: malformed count in range answer", ErrBreachUnavailable)
		}
		entries = append(entries, RangeEntry{Suffix: suffix, Count: int64(n)})
	}
	return entries, nil
}

// isHex reports whether s consists of hexadecimal digits.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9') && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
