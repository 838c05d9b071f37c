package audit_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/internal/clientip"
)

func TestRequestID(t *testing.T) {
	for _, tc := range []struct {
		name     string
		incoming string
		ignore   bool
		keep     bool
	}{
		{name: "none", incoming: ""},
		{name: "uuid kept", incoming: "6f1c2a3e-9b7d-4c1a-8f2e-1234567890ab", keep: true},
		{name: "trace id kept", incoming: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", keep: true},
		{name: "64 bytes kept", incoming: strings.Repeat("a", 64), keep: true},
		{name: "65 bytes replaced", incoming: strings.Repeat("a", 65)},
		{name: "newline replaced", incoming: "abc\ndef"},
		{name: "space replaced", incoming: "abc def"},
		{name: "quote replaced", incoming: `abc"def`},
		{name: "non-ASCII replaced", incoming: "abcé"},
		{name: "valid but ignored", incoming: "client-chosen", ignore: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, buf := newBufferLogger(t, audit.Options{IgnoreIncomingRequestID: tc.ignore})
			var inHandler, headerInHandler string
			h := l.Requests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inHandler = audit.RequestIDFromContext(r.Context())
				headerInHandler = w.Header().Get(audit.HeaderRequestID)
				l.Log(r.Context(), audit.AuthzFail, audit.Failure)
				w.WriteHeader(http.StatusForbidden)
			}))
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tc.incoming != "" {
				req.Header.Set(audit.HeaderRequestID, tc.incoming)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.NoError(t, l.Close())

			id := rec.Header().Get(audit.HeaderRequestID)
			if tc.keep {
				assert.Equal(t, tc.incoming, id)
			} else {
				assert.Regexp(t, "^[0-9a-f]{32}$", id)
			}
			assert.Equal(t, id, inHandler, "the context carries the ID")
			assert.Equal(t, id, headerInHandler, "the response header is set before the handler runs")
			recs := records(t, buf.Bytes())
			require.Len(t, recs, 2)
			assert.Equal(t, id, recs[0]["request_id"], "events logged by the handler carry the ID")
			assert.Equal(t, id, recs[1]["request_id"])
		})
	}
}

func TestGeneratedRequestIDsAreUniqueAndValid(t *testing.T) {
	l, _ := newBufferLogger(t, audit.Options{})
	h := l.Requests(okHandler)
	seen := map[string]bool{}
	for range 1000 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		id := rec.Header().Get(audit.HeaderRequestID)
		require.True(t, audit.ValidRequestID(id))
		require.False(t, seen[id], "duplicate request ID %s", id)
		seen[id] = true
	}
}

// copyRequest is a middleware that passes a copy of the request on, as
// authentication middleware does when it adds claims to the context.
func copyRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		type k struct{}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), k{}, 1)))
	})
}

// unwrapper is a third-party style wrapper that implements Unwrap only.
type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestRequestRecord(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/campaigns/{id}/sign", func(w http.ResponseWriter, r *http.Request) {
		assert.True(t, audit.SetUser(w, "42", "ali@example.com"), "SetUser finds the request log through wrappers")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /api/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusNotFound)
	})
	mux.HandleFunc("GET /api/broken", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(unwrapper{w}, r) })
	}
	h := l.Requests(copyRequest(wrap(audit.ReportRoute(mux))))

	req := httptest.NewRequest(http.MethodPost, "/api/campaigns/7/sign?token=secret-in-query", nil)
	req.RemoteAddr = "198.51.100.7:4242"
	req.Header.Set("User-Agent", strings.Repeat("U", 300))
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/missing", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/broken", nil))
	require.NoError(t, l.Close())

	recs := records(t, buf.Bytes())
	require.Len(t, recs, 3)
	r := recs[0]
	assert.Equal(t, "http_request", r["event"])
	assert.Equal(t, "INFO", r["level"])
	assert.Equal(t, "success", r["outcome"])
	assert.Equal(t, "POST", r["method"])
	assert.Equal(t, "POST /api/campaigns/{id}/sign", r["route"])
	assert.Equal(t, "/api/campaigns/7/sign", r["path"], "never the query string")
	assert.EqualValues(t, 201, r["status"])
	assert.EqualValues(t, len(`{"ok":true}`), r["bytes"])
	assert.EqualValues(t, 1, r["duration_ms"], "the injected clock ticks 1 ms per call")
	assert.Equal(t, "198.51.100.7", r["client_ip"])
	assert.Equal(t, "42", r["user_id"])
	assert.Equal(t, "ali@example.com", r["user_email"])
	assert.Equal(t, strings.Repeat("U", 256), r["user_agent"], "user agents are cut at 256 bytes")
	assert.NotContains(t, buf.String(), "secret-in-query")

	assert.Equal(t, "WARN", recs[1]["level"])
	assert.Equal(t, "failure", recs[1]["outcome"])
	assert.EqualValues(t, 404, recs[1]["status"])
	assert.Equal(t, "ERROR", recs[2]["level"])
	assert.EqualValues(t, 502, recs[2]["status"])
	assert.EqualValues(t, 0, recs[2]["bytes"])
}

func TestRequestsClientIP(t *testing.T) {
	t.Run("resolved earlier in the chain", func(t *testing.T) {
		l, buf := newBufferLogger(t, audit.Options{})
		h := l.Requests(okHandler)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "10.0.0.1:1234" // a trusted proxy
		req = req.WithContext(clientip.NewContext(req.Context(), netip.MustParseAddr("203.0.113.9")))
		h.ServeHTTP(httptest.NewRecorder(), req)
		require.NoError(t, l.Close())
		assert.Equal(t, "203.0.113.9", records(t, buf.Bytes())[0]["client_ip"])
	})
	t.Run("forwarding headers are not read", func(t *testing.T) {
		l, buf := newBufferLogger(t, audit.Options{})
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "192.0.2.1:1234"
		req.Header.Set("X-Forwarded-For", "203.0.113.66")
		l.Requests(okHandler).ServeHTTP(httptest.NewRecorder(), req)
		require.NoError(t, l.Close())
		assert.Equal(t, "192.0.2.1", records(t, buf.Bytes())[0]["client_ip"])
	})
	t.Run("custom", func(t *testing.T) {
		l, buf := newBufferLogger(t, audit.Options{ClientIP: func(*http.Request) netip.Addr { return netip.MustParseAddr("2001:db8::1") }})
		l.Requests(okHandler).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		require.NoError(t, l.Close())
		assert.Equal(t, "2001:db8::1", records(t, buf.Bytes())[0]["client_ip"])
	})
}

func TestSkipPaths(t *testing.T) {
	status := http.StatusOK
	l, buf := newBufferLogger(t, audit.Options{SkipPaths: []string{"/healthz"}})
	h := l.Requests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	for _, s := range []int{200, 200, 503} {
		status = s
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		assert.NotEmpty(t, rec.Header().Get(audit.HeaderRequestID), "skipped requests still get an ID")
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz/deep", nil))
	require.NoError(t, l.Close())
	recs := records(t, buf.Bytes())
	require.Len(t, recs, 2, "a failing health check is logged; other paths are")
	assert.EqualValues(t, 503, recs[0]["status"])
	assert.Equal(t, "/healthz/deep", recs[1]["path"])
}

// TestStreamingThroughChain checks that Flush reaches the client through
// Requests and Recover, both by type assertion and by ResponseController:
// the client reads the first chunk while the handler waits for it to.
func TestStreamingThroughChain(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{})
	gotFirst := make(chan struct{})
	srv := httptest.NewServer(l.Requests(l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-gotFirst
		require.NoError(t, http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)))
		_, _ = io.WriteString(w, "data: two\n\n")
		require.NoError(t, http.NewResponseController(w).Flush())
	}))))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "data: one\n", line)
	close(gotFirst)
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "\ndata: two\n\n", string(rest))
	srv.Close() // waits for the handler, and so for the request log
	require.NoError(t, l.Close())
	recs := records(t, buf.Bytes())
	require.Len(t, recs, 1)
	assert.EqualValues(t, 200, recs[0]["status"])
	assert.EqualValues(t, len("data: one\n\ndata: two\n\n"), recs[0]["bytes"])
}

func TestHijackThroughChain(t *testing.T) {
	for _, how := range []string{"Hijacker", "ResponseController"} {
		t.Run(how, func(t *testing.T) {
			l, buf := newBufferLogger(t, audit.Options{})
			// httptest's Close does not wait for handlers of hijacked
			// connections: wait for the request log to return ourselves.
			done := make(chan struct{})
			var logged http.Handler
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				logged.ServeHTTP(w, r)
			}))
			logged = l.Requests(l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var conn net.Conn
				var rw *bufio.ReadWriter
				var err error
				if how == "Hijacker" {
					conn, rw, err = w.(http.Hijacker).Hijack()
				} else {
					conn, rw, err = http.NewResponseController(w).Hijack()
				}
				require.NoError(t, err)
				defer conn.Close()
				_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\nhello")
				require.NoError(t, rw.Flush())
			})))
			defer srv.Close()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			defer conn.Close()
			_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
			require.NoError(t, err)
			got, err := io.ReadAll(conn)
			require.NoError(t, err)
			assert.True(t, strings.HasSuffix(string(got), "\r\n\r\nhello"), string(got))
			<-done
			srv.Close()
			require.NoError(t, l.Close())
			recs := records(t, buf.Bytes())
			require.Len(t, recs, 1)
			assert.Equal(t, true, recs[0]["hijacked"])
			assert.EqualValues(t, http.StatusSwitchingProtocols, recs[0]["status"], "a hijacked request without a status is logged as 101")
		})
	}
}

// readerFromRecorder is a ResponseWriter that records whether ReadFrom
// was used (net/http's sendfile path).
type readerFromRecorder struct {
	*httptest.ResponseRecorder
	usedReadFrom bool
}

func (r *readerFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.usedReadFrom = true
	return io.Copy(r.ResponseRecorder, src)
}

func TestReadFromReachesWrappedWriter(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{})
	h := l.Requests(l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A plain io.Reader, so that io.Copy goes through w's ReadFrom.
		src := struct{ io.Reader }{strings.NewReader(strings.Repeat("z", 5000))}
		n, err := io.Copy(w, src)
		require.NoError(t, err)
		assert.EqualValues(t, 5000, n)
	})))
	rec := &readerFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/file", nil))
	require.NoError(t, l.Close())
	assert.True(t, rec.usedReadFrom)
	assert.Equal(t, 5000, rec.Body.Len())
	assert.EqualValues(t, 5000, records(t, buf.Bytes())[0]["bytes"])
}

func TestSetUserWithoutRequestLog(t *testing.T) {
	assert.False(t, audit.SetUser(httptest.NewRecorder(), "1", ""))
	assert.False(t, audit.SetRoute(unwrapper{httptest.NewRecorder()}, "GET /"))
}

// TestPanicPassingThroughRequests checks the request log of a panic that
// no Recover handles: logged as aborted, and the panic goes on.
func TestPanicPassingThroughRequests(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{})
	h := l.Requests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	func() {
		defer func() { assert.Equal(t, "boom", recover()) }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	require.NoError(t, l.Close())
	recs := records(t, buf.Bytes())
	require.Len(t, recs, 1)
	assert.Equal(t, true, recs[0]["aborted"])
	assert.Equal(t, "ERROR", recs[0]["level"])
}

// exampleClock is a clock that never moves, for examples with output.
func exampleClock() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
