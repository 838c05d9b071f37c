package ratelimit

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// ErrLimited is wrapped by the error a Limiter hands its ErrorHandler when a
// request is over its limit (429).
var ErrLimited = errors.New("ratelimit: rate limit exceeded")

// ErrStoreUnavailable is wrapped by the error a Limiter hands its
// ErrorHandler when the store failed or timed out and FailOpen is off (503).
var ErrStoreUnavailable = errors.New("ratelimit: store unavailable")

// LimitError is the error for a refused request: read it with errors.As to
// get the Decision (RetryAfter, ...).
type LimitError struct {
	// Name is the Limiter's name.
	Name string
	// Decision is the store's answer.
	Decision Decision
}

// Error implements error.
func (e *LimitError) Error() string {
	return "ratelimit: " + e.Name + ": rate limit exceeded, retry after " + e.Decision.RetryAfter.String()
}

// Unwrap returns ErrLimited.
func (e *LimitError) Unwrap() error { return ErrLimited }

// WriteError is the default ErrorHandler: a 429 problem+json with
// Retry-After for ErrLimited, a 503 problem+json with Retry-After for
// ErrStoreUnavailable, 500 otherwise. The body never carries internal error
// text.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var le *LimitError
	switch {
	case errors.As(err, &le):
		w.Header().Set("Retry-After", strconv.FormatInt(ceilSeconds(le.Decision.RetryAfter), 10))
		problem.Write(w, r, problem.Problem{
			Type:   "https://pkg.go.dev/github.com/senfi-sharif/senfi/ratelimit#ErrLimited",
			Status: http.StatusTooManyRequests,
			Detail: "too many requests; retry after " + strconv.FormatInt(ceilSeconds(le.Decision.RetryAfter), 10) + " seconds",
		})
	case errors.Is(err, ErrStoreUnavailable):
		w.Header().Set("Retry-After", "1")
		problem.Write(w, r, problem.Problem{
			Type:   "https://pkg.go.dev/github.com/senfi-sharif/senfi/ratelimit#ErrStoreUnavailable",
			Status: http.StatusServiceUnavailable,
			Detail: "the request could not be checked against its rate limit right now; retry shortly",
		})
	default:
		problem.Write(w, r, problem.New(http.StatusInternalServerError, "the server could not process the request"))
	}
}

// ceilSeconds rounds d up to whole seconds, at least 1 for a positive d.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
