package audit

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// Bounds on request fields that the client chooses.
const (
	maxMethodBytes    = 32
	maxPathBytes      = 1024
	maxUserAgentBytes = 256
)

// Requests is the request log middleware. For every request it
//
//   - takes the incoming X-Request-ID if it is well formed ([ValidRequestID])
//     and Options.IgnoreIncomingRequestID is not set, or generates one;
//   - sets it on the response header before calling the next handler (so
//     every error body, problem+json included, can quote it) and stores it,
//     with the client address, in the request context
//     ([RequestIDFromContext]; [Logger.Log] picks both up);
//   - after the handler, writes one HTTPRequest record: method, route
//     pattern ([SetRoute], [ReportRoute]), path (never the query string,
//     which may carry tokens), status, bytes, duration_ms, user agent, client
//     IP, request ID, and the user reported with [SetUser].
//
// The level is INFO below status 400, WARN for 4xx and ERROR for 5xx; the
// outcome is failure from 400 on. A panic that passes through (when
// [Logger.Recover] is not inside) is logged with "aborted": true and left
// to continue, stack intact. Requests to Options.SkipPaths are not logged
// unless they fail with a 5xx.
//
// Put it outside authentication and rate limiting, so refused requests are
// logged too, and directly outside [Logger.Recover], so the 500 that Recover
// writes is logged with the same request ID:
//
//	alice.New(guard.ClientIP, log.Requests, log.Recover, guard.Handler, limiter.Handler, auth.Authenticate)
//
// The ResponseWriter the next handler gets keeps Flusher, Hijacker,
// io.ReaderFrom and http.ResponseController working (it implements Unwrap).
func (l *Logger) Requests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := l.now()
		var id string
		if v := r.Header["X-Request-Id"]; len(v) > 0 && !l.ignoreID && ValidRequestID(v[0]) {
			id = v[0]
		} else {
			id = newRequestID()
		}
		// One allocation holds the context node, the writer and the header
		// value.
		st := &requestState{
			ctx:     reqCtx{Context: r.Context(), id: id, ip: l.clientIP(r)},
			rw:      responseWriter{ResponseWriter: w},
			idValue: [1]string{id},
		}
		w.Header()["X-Request-Id"] = st.idValue[:] // the canonical form of HeaderRequestID
		r2 := r.WithContext(&st.ctx)
		completed := false
		defer func() {
			l.logRequest(&st.rw, r2, start, id, st.ctx.ip, !completed)
		}()
		next.ServeHTTP(&st.rw, r2)
		completed = true
	})
}

// requestState is what Requests allocates per request.
type requestState struct {
	ctx     reqCtx
	rw      responseWriter
	idValue [1]string
}

// logRequest writes the HTTPRequest record of one request.
func (l *Logger) logRequest(rw *responseWriter, r *http.Request, start time.Time, id string, ip netip.Addr, aborted bool) {
	status := rw.status
	if _, skip := l.skip[r.URL.Path]; skip && status < 500 && !aborted {
		return
	}
	now := l.now()
	h := header{
		time:      now,
		event:     HTTPRequest,
		outcome:   Success,
		requestID: id,
		clientIP:  ip,
		userID:    rw.userID,
		userEmail: rw.userEmail,
	}
	switch {
	case aborted || status >= 500:
		h.level, h.outcome = slog.LevelError, Failure
	case status >= 400:
		h.level, h.outcome = slog.LevelWarn, Failure
	default:
		h.level = slog.LevelInfo
	}
	rec, e := l.startRecord(&h)
	attrStart := len(e.b)
	e.target(r, rw)
	e.b = append(e.b, `,"status":`...)
	e.b = strconv.AppendInt(e.b, int64(status), 10)
	e.b = append(e.b, `,"bytes":`...)
	e.b = strconv.AppendInt(e.b, rw.bytes, 10)
	e.b = append(e.b, `,"duration_ms":`...)
	e.b = strconv.AppendFloat(e.b, float64(now.Sub(start).Microseconds())/1000, 'f', -1, 64)
	if ua := r.UserAgent(); ua != "" {
		e.b = append(e.b, `,"user_agent":`...)
		e.str(truncateUTF8(ua, maxUserAgentBytes))
	}
	if rw.hijacked {
		e.b = append(e.b, `,"hijacked":true`...)
	}
	if aborted {
		e.b = append(e.b, `,"aborted":true`...)
	}
	attrEnd := len(e.b)
	e.finish()
	l.submit(rec, &h, e.b, attrStart, attrEnd)
}

// target appends the method, route and path fields of a request record.
// The route is the one reported through SetRoute, or the request's own
// Pattern (set when the mux received this very request). The query string
// is never logged: it may carry tokens.
func (e *lineEncoder) target(r *http.Request, rw *responseWriter) {
	route := rw.route
	if route == "" {
		route = r.Pattern
	}
	e.b = append(e.b, `,"method":`...)
	e.b = appendString(e.b, truncateUTF8(r.Method, maxMethodBytes))
	if route != "" {
		e.b = append(e.b, `,"route":`...)
		e.b = appendString(e.b, truncateUTF8(route, maxPathBytes))
	}
	e.b = append(e.b, `,"path":`...)
	e.str(truncateUTF8(r.URL.Path, maxPathBytes))
}
