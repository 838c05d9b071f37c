package audit_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/audit"
)

func TestRecoverWritesProblemAndLogsStack(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{})
	outer := func(next http.Handler) http.Handler { // stands for secure's headers
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Content-Type-Options", "nosniff")
			next.ServeHTTP(w, r)
		})
	}
	h := l.Requests(l.Recover(outer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=abc")
		w.Header().Set("Content-Type", "text/html")
		var m map[string]int
		m["db password is hunter2"]++ // nil map: a runtime error panic
	}))))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/auth/login", nil))
	require.NoError(t, l.Close())

	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Empty(t, rec.Header().Get("Set-Cookie"), "headers that commit the client are dropped")
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "security headers stay")
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	id := rec.Header().Get(audit.HeaderRequestID)
	assert.Equal(t, id, body["request_id"])
	assert.EqualValues(t, 500, body["status"])
	for _, leak := range []string{"nil map", "runtime", "panic", "goroutine", ".go:"} {
		assert.NotContains(t, rec.Body.String(), leak, "no internals in the response")
	}

	recs := records(t, buf.Bytes())
	require.Len(t, recs, 2)
	p := recs[0]
	assert.Equal(t, "http_panic", p["event"])
	assert.Equal(t, "ERROR", p["level"])
	assert.Equal(t, id, p["request_id"])
	assert.Equal(t, "POST", p["method"])
	assert.Contains(t, p["panic"], "assignment to entry in nil map")
	assert.Contains(t, p["stack"], "TestRecoverWritesProblemAndLogsStack")
	assert.Equal(t, false, p["response_started"])
	r := recs[1]
	assert.Equal(t, "http_request", r["event"])
	assert.EqualValues(t, 500, r["status"])
	assert.Equal(t, id, r["request_id"])
}

func TestRecoverRedactsPanicValue(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{})
	token := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	h := l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("cannot parse token " + token)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	require.NoError(t, l.Close())
	assert.NotContains(t, buf.String(), token)
	assert.Equal(t, audit.Redacted, records(t, buf.Bytes())[0]["panic"])
}

func TestRecoverPassesErrAbortHandler(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{})
	h := l.Requests(l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})))
	func() {
		defer func() { assert.Equal(t, http.ErrAbortHandler, recover()) }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	require.NoError(t, l.Close())
	recs := records(t, buf.Bytes())
	require.Len(t, recs, 1, "no panic record for a deliberate abort")
	assert.Equal(t, "http_request", recs[0]["event"])
	assert.Equal(t, true, recs[0]["aborted"])
}

// countingWriter counts WriteHeader calls.
type countingWriter struct {
	*httptest.ResponseRecorder
	writeHeaders []int
}

func (c *countingWriter) WriteHeader(code int) {
	c.writeHeaders = append(c.writeHeaders, code)
	c.ResponseRecorder.WriteHeader(code)
}

func TestRecoverAfterResponseStarted(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{})
	h := l.Requests(l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"items":[1,2,`)
		panic("half way")
	})))
	cw := &countingWriter{ResponseRecorder: httptest.NewRecorder()}
	func() {
		defer func() { assert.Equal(t, http.ErrAbortHandler, recover(), "net/http must abort the response") }()
		h.ServeHTTP(cw, httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	require.NoError(t, l.Close())
	assert.Equal(t, []int{200}, cw.writeHeaders, "no second status")
	assert.Equal(t, `{"items":[1,2,`, cw.Body.String(), "no problem body appended")
	recs := records(t, buf.Bytes())
	require.Len(t, recs, 2)
	assert.Equal(t, "half way", recs[0]["panic"])
	assert.Equal(t, true, recs[0]["response_started"])
	assert.Equal(t, true, recs[1]["aborted"])

	t.Run("a real client sees the response cut", func(t *testing.T) {
		l, _ := newBufferLogger(t, audit.Options{})
		srv := httptest.NewServer(l.Requests(l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, strings.Repeat("a", 100))
			w.(http.Flusher).Flush()
			panic("half way")
		}))))
		defer srv.Close()
		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a cut body must not look complete")
	})
}

func TestRecoverCustomErrorHandlerAndNoRequests(t *testing.T) {
	var got error
	l, buf := newBufferLogger(t, audit.Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusServiceUnavailable)
	}})
	h := l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(errors.New("db down")) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	require.NoError(t, l.Close())
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.ErrorIs(t, got, audit.ErrPanic)
	var pe *audit.PanicError
	require.ErrorAs(t, got, &pe)
	assert.EqualError(t, pe.Value.(error), "db down")
	assert.NotEmpty(t, pe.Stack)
	assert.Equal(t, "db down", records(t, buf.Bytes())[0]["panic"])
}

func TestRecoverHead(t *testing.T) {
	l, _ := newBufferLogger(t, audit.Options{})
	h := l.Requests(l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("x") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	assert.Equal(t, 500, rec.Code)
	assert.Zero(t, rec.Body.Len())
}
