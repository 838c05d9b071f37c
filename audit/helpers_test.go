package audit_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/audit"
)

// testKey is a chain key for tests.
var testKey = []byte("0123456789abcdef0123456789abcdef-test-key")

// clock returns a deterministic clock starting at 2026-01-02T03:04:05Z and
// advancing 1 ms per call; it is safe for concurrent use.
func clock() func() time.Time {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var n atomic.Int64
	return func() time.Time {
		return base.Add(time.Duration(n.Add(1)-1) * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Bytes() []byte {
	return []byte(b.String())
}

// newBufferLogger returns a Logger writing to a buffer with a fixed clock.
func newBufferLogger(t *testing.T, opts audit.Options) (*audit.Logger, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	opts.Sinks = append(opts.Sinks, audit.NewWriterSink("buffer", buf))
	if opts.Now == nil {
		opts.Now = clock()
	}
	l, err := audit.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l, buf
}

// records parses JSON lines, failing the test on any invalid line.
func records(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoErrorf(t, json.Unmarshal([]byte(line), &m), "line %d: %s", i+1, line)
		out = append(out, m)
	}
	return out
}

// withEvent returns the records of one event.
func withEvent(recs []map[string]any, ev audit.Event) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["event"] == string(ev) {
			out = append(out, r)
		}
	}
	return out
}

// failingSink fails every write.
type failingSink struct{ err error }

func (s failingSink) Name() string                     { return "failing" }
func (s failingSink) Write(batch []*audit.Entry) error { return s.err }

// panickingSink panics on every write.
type panickingSink struct{}

func (panickingSink) Name() string                     { return "panicking" }
func (panickingSink) Write(batch []*audit.Entry) error { panic("sink bug") }

// okHandler answers 200 "ok".
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte("ok"))
})

// intField returns the integer value of a top-level "key":N member of a
// JSON line written by the Logger, or -1. It is a fast stand-in for
// json.Unmarshal in loops over many lines.
func intField(line, key string) int {
	i := strings.Index(line, `,"`+key+`":`)
	if i < 0 {
		return -1
	}
	v, n := 0, 0
	for _, c := range line[i+len(key)+4:] {
		if c < '0' || c > '9' {
			break
		}
		v, n = v*10+int(c-'0'), n+1
	}
	if n == 0 {
		return -1
	}
	return v
}
