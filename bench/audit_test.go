package bench

import (
	"bytes"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/senfi-sharif/senfi/audit"
)

// lineCounter is the io.Discard-like writer both request loggers write
// to: it keeps nothing and counts lines, so the benchmark can check that
// every implementation writes one line per request.
type lineCounter struct{ lines atomic.Int64 }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines.Add(int64(bytes.Count(p, []byte{'\n'})))
	return len(p), nil
}

// chiLogger is chi's middleware.Logger with its writer replaced:
// middleware.Logger is RequestLogger over a DefaultLogFormatter writing to
// os.Stdout.
func chiLogger(w *lineCounter) func(http.Handler) http.Handler {
	return middleware.RequestLogger(&middleware.DefaultLogFormatter{Logger: log.New(w, "", log.LstdFlags), NoColor: true})
}

// BenchmarkAudit compares the request log and panic recovery of senfi's
// audit.Logger (Requests + Recover, synchronous delivery, JSON lines) with
// chi's middleware.Logger + middleware.Recoverer (text lines), each
// writing one line per request to its own lineCounter, on the same GET
// from numClients addresses.
//
// senfi also assigns a request ID (generated: the requests carry none) and
// echoes it in the response; chi-requestid+logger+recoverer adds chi's
// middleware.RequestID for a like-for-like comparison. senfi-queued
// delivers through a 4096-record queue instead.
func BenchmarkAudit(b *testing.B) {
	reqs := makeRequests(http.MethodGet, http.Header{
		"Accept":     {"application/json"},
		"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
	})
	newSenfi := func(w *lineCounter, queue int) http.Handler {
		l, err := audit.New(audit.Options{Sinks: []audit.Sink{audit.NewWriterSink("counter", w)}, QueueSize: queue})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.Close() })
		return l.Requests(l.Recover(final))
	}
	type impl struct {
		name    string
		handler http.Handler
		lines   *lineCounter // nil: writes no log
	}
	var impls []impl
	add := func(name string, build func(w *lineCounter) http.Handler) {
		w := &lineCounter{}
		impls = append(impls, impl{name, build(w), w})
	}
	impls = append(impls, impl{"bare", final, nil})
	add("senfi", func(w *lineCounter) http.Handler { return newSenfi(w, 0) })
	add("senfi-queued", func(w *lineCounter) http.Handler { return newSenfi(w, 4096) })
	add("chi-logger+recoverer", func(w *lineCounter) http.Handler {
		return chiLogger(w)(middleware.Recoverer(final))
	})
	add("chi-requestid+logger+recoverer", func(w *lineCounter) http.Handler {
		return middleware.RequestID(chiLogger(w)(middleware.Recoverer(final)))
	})

	// Every implementation must answer 200 and log each request once
	// before anything is measured.
	for _, im := range impls {
		if im.name == "senfi-queued" {
			continue // its lines arrive asynchronously
		}
		before := int64(0)
		if im.lines != nil {
			before = im.lines.lines.Load()
		}
		for _, r := range []*http.Request{reqs[0], reqs[1], reqs[2]} {
			rec := httptest.NewRecorder()
			im.handler.ServeHTTP(rec, r)
			if rec.Code != http.StatusOK {
				b.Fatalf("%s: status %d", im.name, rec.Code)
			}
		}
		if im.lines != nil {
			if n := im.lines.lines.Load() - before; n != 3 {
				b.Fatalf("%s wrote %d lines for 3 requests", im.name, n)
			}
		}
	}

	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) { serve(b, im.handler, reqs) })
	}
	for _, im := range impls {
		b.Run(im.name+"-parallel", func(b *testing.B) { serveParallel(b, im.handler, reqs) })
	}
}
