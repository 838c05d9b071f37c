package audit

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// responseWriter records what the handler sent, and the user and route that
// inner layers report through SetUser and SetRoute. It keeps every optional
// ability of the writer it wraps:
//
//   - Unwrap returns the wrapped writer, so http.ResponseController reaches
//     Flush, Hijack, SetReadDeadline, SetWriteDeadline and EnableFullDuplex
//     of whatever lies beneath;
//   - Flush, FlushError and Hijack are methods of its own (for code that
//     type-asserts http.Flusher or http.Hijacker) that go through
//     http.ResponseController: Flush does nothing and Hijack fails with
//     http.ErrNotSupported when the writer beneath cannot;
//   - ReadFrom hands the copy to the wrapped writer, so net/http's sendfile
//     path still applies.
//
// http.Pusher (HTTP/2 server push, which browsers have dropped) is not
// kept.
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
	userID      string
	userEmail   string
	route       string
}

var (
	_ http.Flusher    = (*responseWriter)(nil)
	_ http.Hijacker   = (*responseWriter)(nil)
	_ io.ReaderFrom   = (*responseWriter)(nil)
	_ io.StringWriter = (*responseWriter)(nil)
)

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader && (code < 100 || code > 199 || code == http.StatusSwitchingProtocols) {
		w.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// WriteString writes s without copying it when the wrapped writer
// implements io.StringWriter, as net/http's does (io.WriteString through a
// writer without it converts s to a new []byte each call).
func (w *responseWriter) WriteString(s string) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := io.WriteString(w.ResponseWriter, s)
	w.bytes += int64(n)
	return n, err
}

func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := io.Copy(w.ResponseWriter, src)
	w.bytes += n
	return n, err
}

func (w *responseWriter) FlushError() error {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *responseWriter) Flush() { _ = w.FlushError() }

func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
		if !w.wroteHeader { // logged as 101, as perf records it, not as status 0
			w.status, w.wroteHeader = http.StatusSwitchingProtocols, true
		}
	}
	return conn, rw, err
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// maxUnwrap bounds the walk down Unwrap chains, in case one loops.
const maxUnwrap = 32

// findWriter returns the audit writer in w's Unwrap chain, or nil.
func findWriter(w http.ResponseWriter) *responseWriter {
	for range maxUnwrap {
		switch t := w.(type) {
		case *responseWriter:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
	return nil
}

// SetUser reports the authenticated user of the current request to the
// request log. [Logger.Requests] runs before authentication (so that it logs
// refused requests too), so it cannot see the user in the request context
// that the authentication layer creates; call SetUser from that layer, or
// from a handler, with the ResponseWriter it was given:
//
//	func withAuditUser(next http.Handler) http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			if c, ok := jwtauth.FromContext(r.Context()); ok {
//				audit.SetUser(w, c.Subject, "")
//			}
//			next.ServeHTTP(w, r)
//		})
//	}
//
// SetUser finds the request log's writer by walking Unwrap() chains, so it
// works through any wrapper that implements Unwrap (as
// http.ResponseController requires). It reports whether it found one; it
// does not allocate. Call it on the request's goroutine, before the handler
// returns. The values are cut to Options.MaxValueBytes.
func SetUser(w http.ResponseWriter, id, email string) bool {
	if rw := findWriter(w); rw != nil {
		rw.userID, rw.userEmail = id, email
		return true
	}
	return false
}

// SetRoute reports the route pattern that served the request ("GET
// /api/campaigns/{id}") to the request log, like [SetUser]. [ReportRoute]
// calls it for an http.ServeMux. Route patterns are the request log's
// bounded label; the raw path is logged separately.
func SetRoute(w http.ResponseWriter, pattern string) bool {
	if rw := findWriter(w); rw != nil {
		rw.route = pattern
		return true
	}
	return false
}

// ReportRoute wraps an http.ServeMux (or any handler that sets
// Request.Pattern on the request it is given, as ServeMux does) so that the
// request log records the matched pattern. Put it directly around the mux,
// inside every middleware that copies the request:
//
//	handler := alice.New(log.Requests, log.Recover, guard.Handler, auth.Authenticate).
//		Then(audit.ReportRoute(mux))
//
// Without it the request log has a route only when nothing between
// [Logger.Requests] and the mux copies the request.
func ReportRoute(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if r.Pattern != "" {
				SetRoute(w, r.Pattern)
			}
		}()
		mux.ServeHTTP(w, r)
	})
}
