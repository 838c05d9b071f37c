package perf

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"time"
)

// writer is the ResponseWriter the Recorder hands down the chain. It
// records the status and the body size, carries the route and user that
// inner layers report (SetRoute, SetUser), and keeps every optional
// interface working: Flush and Hijack are forwarded through
// http.ResponseController (so wrappers below are unwrapped too), ReadFrom
// and WriteString reach the server's fast paths, and Unwrap lets
// http.ResponseController find SetReadDeadline, SetWriteDeadline and
// EnableFullDuplex.
//
// Writers are pooled: one costs no allocation per request. As with any
// ResponseWriter, a handler must not use it after ServeHTTP returns.
type writer struct {
	rw          http.ResponseWriter
	rec         *Recorder
	status      int
	bytes       int64
	wroteHeader bool
	done        bool // the handler returned (false while unwinding a panic)
	hijacked    bool
	hijackedAt  time.Duration // Recorder.elapsed at Hijack
	route       string
	user        string
}

var (
	_ http.Flusher                    = (*writer)(nil)
	_ http.Hijacker                   = (*writer)(nil)
	_ io.ReaderFrom                   = (*writer)(nil)
	_ io.StringWriter                 = (*writer)(nil)
	_ http.Pusher                     = (*writer)(nil)
	_ rwUnwrapper                     = (*writer)(nil)
	_ interface{ FlushError() error } = (*writer)(nil)
)

// rwUnwrapper is what http.ResponseController looks for to reach the
// writer a wrapper wraps.
type rwUnwrapper interface {
	Unwrap() http.ResponseWriter
}

func (w *writer) reset(rw http.ResponseWriter, rec *Recorder) {
	*w = writer{rw: rw, rec: rec}
}

// Header returns the header map of the wrapped writer.
func (w *writer) Header() http.Header { return w.rw.Header() }

// WriteHeader records the first final status (1xx informational codes
// other than 101 may precede it) and forwards the call.
func (w *writer) WriteHeader(code int) {
	if !w.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols || code < 100) {
		w.status = code
		w.wroteHeader = true
	}
	w.rw.WriteHeader(code)
}

func (w *writer) implicitOK() {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
}

// Write counts the body bytes written.
func (w *writer) Write(p []byte) (int, error) {
	w.implicitOK()
	n, err := w.rw.Write(p)
	w.bytes += int64(n)
	return n, err
}

// WriteString writes s without copying it when the wrapped writer
// implements io.StringWriter, as net/http's does.
func (w *writer) WriteString(s string) (int, error) {
	w.implicitOK()
	var n int
	var err error
	if sw, ok := w.rw.(io.StringWriter); ok {
		n, err = sw.WriteString(s)
	} else {
		n, err = w.rw.Write([]byte(s))
	}
	w.bytes += int64(n)
	return n, err
}

// ReadFrom copies src into the response, through the wrapped writer's
// ReadFrom when it has one (net/http's uses sendfile for files).
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	w.implicitOK()
	var n int64
	var err error
	if rf, ok := w.rw.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{w.rw}, src)
	}
	w.bytes += n
	return n, err
}

// writerOnly hides every method but Write, so that io.Copy cannot loop
// back into ReadFrom.
type writerOnly struct{ io.Writer }

// Flush sends buffered data to the client; see FlushError.
func (w *writer) Flush() { _ = w.FlushError() }

// FlushError flushes through http.ResponseController, which reports
// http.ErrNotSupported when nothing below can flush. Flushing commits the
// status (200 if none was written).
func (w *writer) FlushError() error {
	w.implicitOK()
	return http.NewResponseController(w.rw).Flush()
}

// Hijack takes over the connection through http.ResponseController (an
// HTTP/1 server's writer supports it, HTTP/2's does not:
// http.ErrNotSupported). A hijacked request is recorded with status 101
// unless another was written, and its duration ends at the Hijack call, so
// a WebSocket's lifetime does not count as latency.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.rw).Hijack()
	if err == nil {
		w.hijacked = true
		w.hijackedAt = w.rec.elapsed()
		if !w.wroteHeader {
			w.status = http.StatusSwitchingProtocols
			w.wroteHeader = true
		}
	}
	return conn, brw, err
}

// Push forwards an HTTP/2 server push, or returns http.ErrNotSupported.
func (w *writer) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.rw.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.rw }

// find returns the Recorder's writer at or below w, following Unwrap.
func find(w http.ResponseWriter) *writer {
	for w != nil {
		if pw, ok := w.(*writer); ok {
			return pw
		}
		u, ok := w.(rwUnwrapper)
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// SetRoute reports the route pattern of the request being served on w to
// the Recorder whose middleware is above it (found through the Unwrap
// methods of any writers in between), and reports whether one was found.
// It costs no allocation.
//
// Call it from inner layers when the Recorder cannot read r.Pattern itself:
// a router other than http.ServeMux, or middleware between the Recorder and
// the mux that passes a copy of the request (r.WithContext) down — the mux
// sets Pattern on the request it receives, which is then not the one the
// Recorder holds. ReportPattern does this for a ServeMux. A route reported
// this way wins over r.Pattern. pattern must come from the application's
// route table, never from the request: it is a metrics label.
func SetRoute(w http.ResponseWriter, pattern string) bool {
	if pw := find(w); pw != nil {
		pw.route = pattern
		return true
	}
	return false
}

// SetUser reports who made the request being served on w (after
// authentication), for the slow-request log, and reports whether a
// Recorder was found. It costs no allocation. Pass a stable identifier such
// as a user ID rather than an email address: the slow-request log is shown
// to administrators and kept in memory. At most 128 bytes are kept.
func SetUser(w http.ResponseWriter, user string) bool {
	if pw := find(w); pw != nil {
		pw.user = user
		return true
	}
	return false
}

// ReportPattern wraps the innermost handler, usually the http.ServeMux, so
// that the pattern it matched reaches the Recorder however many request
// copies the middleware in between made: after next has served the
// request, it hands r.Pattern to SetRoute. A Recorder placed directly
// around the mux, or on each route, reads r.Pattern itself and does not
// need it.
func ReportPattern(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Deferred, so that a request whose handler panics is still filed
		// under its route.
		defer func() {
			if r.Pattern != "" {
				SetRoute(w, r.Pattern)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
