package secure

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// problemTypeBase prefixes the problem "type" URIs: each one resolves to the
// documentation of the sentinel error it stands for.
const problemTypeBase = "https://pkg.go.dev/github.com/senfi-sharif/senfi/secure#"

var sentinelNames = []struct {
	err  error
	name string
}{
	{ErrHostNotAllowed, "ErrHostNotAllowed"},
	{ErrBodyTooLarge, "ErrBodyTooLarge"},
	{ErrUnsupportedMediaType, "ErrUnsupportedMediaType"},
	{ErrEmptyBody, "ErrEmptyBody"},
	{ErrInvalidJSON, "ErrInvalidJSON"},
	{ErrTrailingData, "ErrTrailingData"},
	{ErrDuplicateKey, "ErrDuplicateKey"},
	{ErrTooDeep, "ErrTooDeep"},
	{ErrWrongType, "ErrWrongType"},
	{ErrUnknownField, "ErrUnknownField"},
	{ErrBodyUnreadable, "ErrBodyUnreadable"},
	{ErrCrossOrigin, "ErrCrossOrigin"},
}

// WriteError is the default ErrorHandler: it writes err as an RFC 9457
// application/problem+json response whose status comes from [StatusCode],
// whose type URI links to the sentinel's documentation and whose detail is
// the [RequestError]'s client-safe Detail. A field error also appears in the
// "errors" list. An error that is not a *RequestError gets a generic 500
// body: its text is never sent.
//
// Handlers that call [DecodeJSON] can pass its error here directly.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	p := problem.New(StatusCode(err), "")
	var re *RequestError
	if errors.As(err, &re) {
		p.Detail = re.Detail
		for _, s := range sentinelNames {
			if errors.Is(re.Err, s.err) {
				p.Type = problemTypeBase + s.name
				break
			}
		}
		if re.Field != "" {
			p.Errors = []problem.FieldError{{Field: re.Field, Message: re.Detail}}
		}
	} else {
		p = problem.New(http.StatusInternalServerError, "the server could not process the request")
	}
	if p.Status == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close") // the rest of the body is not read
	}
	problem.Write(w, r, p)
}

func bodyLimitDetail(limit int64) string {
	return "the request body is larger than the " + formatBytes(limit) + " this endpoint accepts"
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
