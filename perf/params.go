package perf

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// ErrBadParameter is wrapped by the error of a query parameter the
// handlers cannot use (400).
var ErrBadParameter = errors.New("perf: bad query parameter")

// ParamError says which query parameter is wrong and why. It wraps
// ErrBadParameter.
type ParamError struct {
	// Name is the parameter's name.
	Name string
	// Reason says what a valid value is.
	Reason string
}

// Error implements error.
func (e *ParamError) Error() string {
	return "perf: query parameter " + strconv.Quote(e.Name) + ": " + e.Reason
}

// Unwrap returns ErrBadParameter.
func (e *ParamError) Unwrap() error { return ErrBadParameter }

// maxParamBytes bounds a query parameter value the handlers look at.
const maxParamBytes = 64

// param returns the single value of query parameter name, "" when absent.
// A parameter given twice, or longer than maxParamBytes, is an error.
func param(q url.Values, name string) (string, error) {
	vs := q[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", &ParamError{Name: name, Reason: "given more than once"}
	case len(vs[0]) > maxParamBytes:
		return "", &ParamError{Name: name, Reason: fmt.Sprintf("longer than %d bytes", maxParamBytes)}
	}
	return vs[0], nil
}

// windowParam parses ?window=, def when absent.
func windowParam(q url.Values, def Window) (Window, error) {
	s, err := param(q, "window")
	if err != nil || s == "" {
		return def, err
	}
	w, err := ParseWindow(s)
	if err != nil {
		return def, &ParamError{Name: "window", Reason: `must be "5m", "1h", "24h" or "all"`}
	}
	return w, nil
}

// intParam parses an integer parameter in [lo, hi], def when absent.
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s, err := param(q, name)
	if err != nil || s == "" {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return def, &ParamError{Name: name, Reason: fmt.Sprintf("must be an integer from %d to %d", lo, hi)}
	}
	return n, nil
}

// hoursParam parses ?hours=: a decimal number of hours in (0, hi], def
// when absent.
func hoursParam(q url.Values, def, hi float64) (float64, error) {
	s, err := param(q, "hours")
	if err != nil || s == "" {
		return def, err
	}
	h, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(h) || h <= 0 || h > hi {
		return def, &ParamError{Name: "hours", Reason: fmt.Sprintf("must be a number of hours above 0 and at most %g", hi)}
	}
	return h, nil
}

// WriteError is the handlers' default ErrorHandler: 400 problem+json
// naming the parameter for an ErrBadParameter, 404 for ErrUnknownEndpoint,
// 500 otherwise. The body never carries internal error text.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *ParamError
	switch {
	case errors.As(err, &pe):
		problem.Write(w, r, problem.Problem{
			Type:   "https://pkg.go.dev/github.com/senfi-sharif/senfi/perf#ErrBadParameter",
			Status: http.StatusBadRequest,
			Detail: "query parameter " + strconv.Quote(pe.Name) + " " + pe.Reason,
			Errors: []problem.FieldError{{Field: pe.Name, Message: pe.Reason}},
		})
	case errors.Is(err, ErrUnknownEndpoint):
		problem.Write(w, r, problem.Problem{
			Type:   "https://pkg.go.dev/github.com/senfi-sharif/senfi/perf#ErrUnknownEndpoint",
			Status: http.StatusNotFound,
			Detail: `no requests recorded for this endpoint; name it "METHOD /route/{pattern}" or by its route pattern alone`,
		})
	default:
		problem.Write(w, r, problem.New(http.StatusInternalServerError, "the performance data could not be produced"))
	}
}
