package audit_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/senfi-sharif/senfi/audit"
)

// benchLogger returns a Logger over the sink kind named, closed when the
// benchmark ends. File sinks rotate at 64 MB and keep one rotated file, so
// a long run does not fill the disk.
func benchLogger(b *testing.B, kind string, queue int) *audit.Logger {
	b.Helper()
	var sink audit.Sink
	switch kind {
	case "discard":
		sink = audit.NewWriterSink("discard", io.Discard)
	case "file", "file-chained":
		fs, err := audit.NewFileSink(audit.FileOptions{Path: filepath.Join(b.TempDir(), "audit.log"), MaxSizeMB: 64, MaxBackups: 1})
		if err != nil {
			b.Fatal(err)
		}
		sink = fs
		if kind == "file-chained" {
			if sink, err = audit.NewChain(fs, audit.ChainOptions{Key: testKey, Checkpoints: audit.NewWriterSink("cps", io.Discard)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	l, err := audit.New(audit.Options{Sinks: []audit.Sink{sink}, QueueSize: queue})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// BenchmarkLog measures the cost of one security event (four attributes)
// to a sink: io.Discard (the encoding alone), a file, a chained file;
// delivered synchronously or through a queue; from one goroutine and from
// GOMAXPROCS.
func BenchmarkLog(b *testing.B) {
	ctx := audit.WithRequestID(context.Background(), "0123456789abcdef0123456789abcdef")
	logOne := func(l *audit.Logger) {
		l.Log(ctx, audit.AuthnLoginFail, audit.Failure,
			slog.String(audit.KeyUserEmail, "ali@example.com"),
			slog.String("reason", "bad_password"),
			slog.String("password", "hunter2"),
			slog.Int("attempt", 3))
	}
	for _, kind := range []string{"discard", "file", "file-chained"} {
		for _, mode := range []struct {
			name  string
			queue int
		}{{"sync", 0}, {"queue", 4096}} {
			b.Run(kind+"/"+mode.name, func(b *testing.B) {
				l := benchLogger(b, kind, mode.queue)
				b.ReportAllocs()
				for b.Loop() {
					logOne(l)
				}
			})
			b.Run(kind+"/"+mode.name+"-parallel", func(b *testing.B) {
				l := benchLogger(b, kind, mode.queue)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						logOne(l)
					}
				})
			})
		}
	}
}

// discardResponse is a reusable ResponseWriter that keeps headers and
// throws the body away, so the harness allocates nothing.
type discardResponse struct{ h http.Header }

func (w *discardResponse) Header() http.Header         { return w.h }
func (w *discardResponse) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardResponse) WriteHeader(int)             {}

// WriteString is net/http's: the string is not copied.
func (w *discardResponse) WriteString(s string) (int, error) { return len(s), nil }

// BenchmarkRequests measures the per-request cost of the request log and
// panic recovery around a trivial handler, writing to io.Discard.
func BenchmarkRequests(b *testing.B) {
	l := benchLogger(b, "discard", 0)
	req := httptest.NewRequest(http.MethodGet, "/api/campaigns/approved", nil)
	req.RemoteAddr = "198.51.100.7:4242"
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) bench")
	for _, impl := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", okHandler},
		{"requests", l.Requests(okHandler)},
		{"requests+recover", l.Requests(l.Recover(okHandler))},
	} {
		b.Run(impl.name, func(b *testing.B) {
			w := &discardResponse{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				impl.h.ServeHTTP(w, req)
			}
		})
		b.Run(impl.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardResponse{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					impl.h.ServeHTTP(w, req)
				}
			})
		})
	}
}
