package audit

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// Recover is the panic recovery middleware. When the next handler panics it
//
//   - writes an HTTPPanic record at ERROR with the panic value (redacted
//     like any string, cut to Options.MaxValueBytes), the stack (cut to 32
//     KiB), method, route and path, and the request ID and client address
//     of the context;
//   - if nothing has been sent yet, answers 500 through
//     Options.ErrorHandler: by default an application/problem+json body
//     with the request ID and no detail of the failure. Headers the handler
//     set that could commit the client to something (Set-Cookie, Location,
//     Content-Disposition, ETag, Last-Modified, Content-Range) are removed
//     first; security headers set by outer layers stay;
//   - if the response has already started, sends nothing more (a second
//     status line would be ignored, and a body that looks complete would be
//     a lie): it panics with http.ErrAbortHandler, which makes net/http
//     abort the connection or stream without logging another stack.
//
// A panic with http.ErrAbortHandler itself is passed on untouched: it is
// how a handler asks net/http to abort.
//
// Put it directly inside [Logger.Requests]; it finds the request log's
// writer through Unwrap to know whether the response has started, and
// wraps the writer itself when there is none.
func (l *Logger) Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := findWriter(w)
		if rw == nil {
			rw = &responseWriter{ResponseWriter: w}
			w = rw
		}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			stack := debug.Stack()
			l.logPanic(r, rw, v, stack)
			if rw.wroteHeader || rw.hijacked {
				panic(http.ErrAbortHandler)
			}
			h := w.Header()
			for _, k := range []string{"Set-Cookie", "Location", "Content-Disposition", "Etag", "Last-Modified", "Content-Range"} {
				delete(h, k)
			}
			l.errorHandler(w, r, &PanicError{Value: v, Stack: stack})
		}()
		next.ServeHTTP(w, r)
	})
}

// logPanic writes the HTTPPanic record.
func (l *Logger) logPanic(r *http.Request, rw *responseWriter, v any, stack []byte) {
	h := header{time: l.now(), level: HTTPPanic.level(Failure), event: HTTPPanic, outcome: Failure}
	l.contextFields(r.Context(), &h)
	if rw.userID != "" || rw.userEmail != "" {
		h.userID, h.userEmail = rw.userID, rw.userEmail
	}
	rec, e := l.startRecord(&h)
	start := len(e.b)
	e.target(r, rw)
	e.b = append(e.b, `,"panic":`...)
	e.str(fmt.Sprint(v)) // fmt recovers from a panicking Error or String method
	e.b = append(e.b, `,"response_started":`...)
	e.b = strconv.AppendBool(e.b, rw.wroteHeader || rw.hijacked)
	e.b = append(e.b, `,"stack":`...)
	e.b = appendString(e.b, truncateUTF8(string(stack), maxStackBytes))
	end := len(e.b)
	e.finish()
	l.submit(rec, &h, e.b, start, end)
}

// writePanicProblem is the default Options.ErrorHandler of Recover: a 500
// problem+json that says nothing about the failure but the request ID
// (taken from the X-Request-ID response header that Requests set).
func writePanicProblem(w http.ResponseWriter, r *http.Request, _ error) {
	problem.Write(w, r, problem.New(http.StatusInternalServerError,
		"The server failed to process the request. Quote the request ID if you report the problem."))
}
