package perf

import (
	"errors"
	"fmt"
	"time"
)

// Window selects the requests a figure covers.
type Window int

// The windows a Recorder keeps. A rolling window ends now and is made of
// whole slots (minutes for the last hour, hours for the last day): the
// current slot, partly elapsed, and the complete slots before it that
// started less than the window's length ago. Last5Minutes therefore covers
// between 4 and 5 minutes of requests, and Stats.Span says exactly how much.
const (
	// SinceStart covers every request since the Recorder was made.
	SinceStart Window = iota
	// Last5Minutes covers the current minute and the 4 before it.
	Last5Minutes
	// LastHour covers the current minute and the 59 before it.
	LastHour
	// LastDay covers the current hour and the 23 before it.
	LastDay
)

// ErrUnknownWindow is returned by ParseWindow for a name it does not know.
var ErrUnknownWindow = errors.New(`perf: unknown window; use "5m", "1h", "24h" or "all"`)

// ParseWindow returns the Window named "5m", "1h", "24h" or "all" (the
// names Window.String returns and the handlers accept in ?window=).
func ParseWindow(s string) (Window, error) {
	for _, w := range allWindows() {
		if s == w.String() {
			return w, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownWindow, truncate(s, 32))
}

// String returns the window's name: "all", "5m", "1h" or "24h".
func (w Window) String() string {
	switch w {
	case SinceStart:
		return "all"
	case Last5Minutes:
		return "5m"
	case LastHour:
		return "1h"
	case LastDay:
		return "24h"
	}
	return fmt.Sprintf("Window(%d)", int(w))
}

// allWindows returns every window in the order of the JSON members.
func allWindows() [4]Window { return [4]Window{Last5Minutes, LastHour, LastDay, SinceStart} }

// minutes is the number of minute slots of a minute-grained window.
func (w Window) minutes() int {
	if w == Last5Minutes {
		return 5
	}
	return minuteSlots
}

// Stats are the figures of a set of requests.
type Stats struct {
	// Count is the number of requests.
	Count uint64
	// ByClass counts responses by status class: ByClass[1] to ByClass[5]
	// are 1xx to 5xx (a hijacked connection counts as 101), ByClass[0]
	// any status outside 100–599.
	ByClass [6]uint64
	// Bytes is the number of response body bytes written.
	Bytes uint64
	// Slow is the number of requests that took at least the slow threshold.
	Slow uint64
	// Total is the sum of the durations.
	Total time.Duration
	// Min, Max and Mean are exact.
	Min, Max, Mean time.Duration
	// P50, P90, P95 and P99 are quantiles, each within RelativeError of the
	// true value (0.5 µs below 16 µs).
	P50, P90, P95, P99 time.Duration
	// Span is the length of time the figures cover: the part of the window
	// that has elapsed since the Recorder was made.
	Span time.Duration
}

// Errors is the number of 4xx and 5xx responses, what the Django original
// counted as errors.
func (s Stats) Errors() uint64 { return s.ByClass[4] + s.ByClass[5] }

// ErrorRate is Errors as a percentage of Count (0 when Count is 0).
func (s Stats) ErrorRate() float64 { return percent(s.Errors(), s.Count) }

// ServerErrorRate is the 5xx responses as a percentage of Count.
func (s Stats) ServerErrorRate() float64 { return percent(s.ByClass[5], s.Count) }

// Rate is the number of requests per second over Span.
func (s Stats) Rate() float64 {
	if s.Span <= 0 {
		return 0
	}
	return float64(s.Count) / s.Span.Seconds()
}

func percent(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole) * 100
}

// statsOf computes the figures of h, covering span.
func statsOf(h *hist, span time.Duration) Stats {
	s := Stats{ByClass: h.classes, Bytes: h.bytes, Slow: h.slow, Total: time.Duration(h.sum), Span: span}
	s.Count = h.count()
	if s.Count == 0 {
		return s
	}
	s.Min, s.Max = time.Duration(h.min), time.Duration(h.max)
	s.Mean = time.Duration(h.sum / s.Count)
	s.P50, s.P90 = h.quantile(0.50), h.quantile(0.90)
	s.P95, s.P99 = h.quantile(0.95), h.quantile(0.99)
	return s
}

// EndpointStats are the figures of one endpoint: a method and a route
// pattern.
type EndpointStats struct {
	// Method is the request method (GET, POST, ..., or OTHER for methods
	// outside RFC 9110's), or "" for the unmatched and overflow buckets and
	// for a route looked up across its methods.
	Method string
	// Route is the route pattern without its method, e.g.
	// "/api/campaigns/{id}", or UnmatchedKey, or OverflowKey.
	Route string
	// Key is Method + " " + Route, the name Recorder.Endpoint and the
	// handlers accept; Route alone when Method is "".
	Key string
	Stats
}

// Point is one slot of a time series: a minute or an hour.
type Point struct {
	// Start is when the slot began.
	Start time.Time
	Stats
}

// truncate cuts s to at most n bytes, on a UTF-8 boundary, for error
// messages and stored client text.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}
