package audit_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/audit"
)

// TestAllocations holds the hot paths to their allocation budgets: an event
// costs none (pooled buffers, synchronous delivery), a request three (the
// request copy that carries the new context, the request ID string, and one
// block holding the context node, the writer and the header value), and
// SetUser none.
func TestAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation figures")
	}
	l, err := audit.New(audit.Options{Sinks: []audit.Sink{audit.NewWriterSink("discard", io.Discard)}})
	require.NoError(t, err)
	defer l.Close()
	ctx := audit.WithRequestID(context.Background(), "req")

	allocs := testing.AllocsPerRun(1000, func() {
		l.Log(ctx, audit.AuthnLoginFail, audit.Failure, slog.String(audit.KeyUserEmail, "a@b.c"), slog.String("password", "x"), slog.Int("n", 1))
	})
	assert.Zero(t, allocs, "Log")

	silent := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		audit.SetUser(w, "42", "a@b.c")
		w.WriteHeader(http.StatusNoContent)
	})
	h := l.Requests(l.Recover(silent))
	req := httptest.NewRequest(http.MethodGet, "/api/x", nil)
	w := &discardResponse{h: http.Header{}}
	allocs = testing.AllocsPerRun(1000, func() {
		clear(w.h)
		h.ServeHTTP(w, req)
	})
	assert.Equal(t, 3.0, allocs, "Requests + Recover")

	// io.WriteString through the request log's writer copies nothing.
	writer := l.Requests(l.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			_, _ = io.WriteString(w, "a response part")
		}
	})))
	allocs = testing.AllocsPerRun(1000, func() {
		clear(w.h)
		writer.ServeHTTP(w, req)
	})
	assert.Equal(t, 3.0, allocs, "Requests + Recover, 4 io.WriteString")

	wrapped := unwrapper{unwrapper{w}}
	rw := httptest.NewRecorder()
	var found bool
	l.Requests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var inner http.ResponseWriter = unwrapper{unwrapper{w}} // boxed once, outside the measurement
		assert.Zero(t, testing.AllocsPerRun(100, func() { found = audit.SetUser(inner, "1", "") }), "SetUser")
	})).ServeHTTP(rw, req)
	assert.True(t, found)
	assert.False(t, audit.SetUser(wrapped, "1", ""))
}
