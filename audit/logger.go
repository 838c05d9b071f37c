package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/senfi-sharif/senfi/internal/clientip"
)

// Logger writes security events, request logs and recovered panics to its
// sinks. It is safe for concurrent use. Create it with [New]; the zero value
// is not usable. Close it after the HTTP server has shut down.
type Logger struct {
	sinks        []*sinkState
	red          *redactor
	maxValue     int
	user         func(ctx context.Context) (id, email string)
	clientIP     func(r *http.Request) netip.Addr
	skip         map[string]struct{}
	ignoreID     bool
	level        slog.Leveler
	errorHandler func(w http.ResponseWriter, r *http.Request, err error)
	errOut       io.Writer
	now          func() time.Time
	pool         sync.Pool // *record

	// Synchronous delivery (QueueSize 0): group commit, see commit.
	mu       sync.Mutex
	cond     sync.Cond   // signalled when flushing ends, for Close
	flushing bool        // a caller is delivering
	next     *groupBatch // the batch callers join while one is delivered
	single   [1]*record  // the leader's batch when nobody else waited
	closed   bool        // guarded by mu (synchronous) or qmu (queued)

	// Queued delivery (QueueSize > 0).
	queue chan *record
	qmu   sync.RWMutex // held shared while enqueueing, exclusively by Close
	stop  chan struct{}
	done  chan struct{}

	entries []*Entry // the deliverer's scratch; one deliverer at a time

	records, waits, undelivered, checkpointFailures atomic.Uint64

	errMu     sync.Mutex // serializes ErrorOutput
	closeOnce sync.Once
	closeErr  error
}

// sinkState is a sink with its counters.
type sinkState struct {
	sink              Sink
	name              string
	written, failed   atomic.Uint64
	lastReport        time.Time // guarded by Logger.errMu
	suppressedReports int       // guarded by Logger.errMu
}

// record is a pooled Entry with the buffer its Line lives in and the
// encoder that fills it.
type record struct {
	Entry
	buf []byte
	enc lineEncoder
}

// maxBatch bounds the records delivered in one Write.
const maxBatch = 256

// New validates opts and returns a Logger. Every problem is reported at
// once. With a positive QueueSize it starts the goroutine that writes the
// queue; Close stops it.
func New(opts Options) (*Logger, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	l := &Logger{
		red:          newRedactor(opts.RedactKeys, opts.AllowKeys),
		maxValue:     opts.MaxValueBytes,
		user:         opts.User,
		clientIP:     opts.ClientIP,
		skip:         map[string]struct{}{},
		ignoreID:     opts.IgnoreIncomingRequestID,
		level:        opts.Level,
		errorHandler: opts.ErrorHandler,
		errOut:       opts.ErrorOutput,
		now:          opts.Now,
	}
	for _, s := range opts.Sinks {
		if c, ok := s.(*Chain); ok && !c.attach(l) {
			return nil, fmt.Errorf("%w: %s", ErrSinkInUse, s.Name())
		}
		l.sinks = append(l.sinks, &sinkState{sink: s, name: s.Name()})
	}
	if l.maxValue == 0 {
		l.maxValue = DefaultMaxValueBytes
	}
	if l.clientIP == nil {
		l.clientIP = clientip.FromRequest
	}
	for _, p := range opts.SkipPaths {
		l.skip[p] = struct{}{}
	}
	if l.level == nil {
		l.level = slog.LevelInfo
	}
	if l.errorHandler == nil {
		l.errorHandler = writePanicProblem
	}
	if l.errOut == nil {
		l.errOut = os.Stderr
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.pool.New = func() any { return &record{buf: make([]byte, 0, 512)} }
	l.cond.L = &l.mu
	if opts.QueueSize > 0 {
		l.queue = make(chan *record, opts.QueueSize)
		l.stop = make(chan struct{})
		l.done = make(chan struct{})
		go l.run()
	}
	return l, nil
}

// Log writes one security event. ctx supplies the request ID and client
// address (set by [Logger.Requests]) and the user (Options.User); attrs are
// the event's own fields, redacted by key and by value (see
// [DefaultRedactKeys]). The record's level is the event's OWASP level,
// raised to WARN for a Failure.
//
// Log never drops a record: it returns once the record is written
// (synchronous delivery) or queued (Options.QueueSize), waiting for room if
// the queue is full. Sink failures do not reach the caller; they are
// counted in Stats and reported to Options.ErrorOutput.
func (l *Logger) Log(ctx context.Context, event Event, outcome Outcome, attrs ...slog.Attr) {
	h := header{time: l.now(), level: event.level(outcome), event: event, outcome: outcome}
	l.contextFields(ctx, &h)
	hoistUser(&h, attrs)
	rec, e := l.startRecord(&h)
	start := len(e.b)
	for _, a := range attrs {
		if a.Key == KeyUserID || a.Key == KeyUserEmail {
			continue
		}
		e.attr(a, 0, true)
	}
	end := len(e.b)
	e.finish()
	l.submit(rec, &h, e.b, start, end)
}

// hoistUser takes the user fields from attributes named KeyUserID and
// KeyUserEmail.
func hoistUser(h *header, attrs []slog.Attr) {
	for _, a := range attrs {
		switch a.Key {
		case KeyUserID:
			h.userID = a.Value.Resolve().String()
		case KeyUserEmail:
			h.userEmail = a.Value.Resolve().String()
		}
	}
}

// contextFields fills the request ID, client address and user of ctx.
func (l *Logger) contextFields(ctx context.Context, h *header) {
	if ctx == nil {
		return
	}
	if c, ok := ctx.Value(ctxKey{}).(*reqCtx); ok {
		h.requestID, h.clientIP = c.id, c.ip
	}
	if !h.clientIP.IsValid() {
		h.clientIP, _ = clientip.FromContext(ctx)
	}
	if l.user != nil {
		h.userID, h.userEmail = l.user(ctx)
	}
}

// startRecord takes a pooled record and writes h into its buffer; the
// caller appends the attributes with the returned encoder and hands both to
// submit.
func (l *Logger) startRecord(h *header) (*record, *lineEncoder) {
	rec := l.pool.Get().(*record)
	rec.enc = lineEncoder{b: rec.buf[:0], red: l.red, maxValue: l.maxValue}
	rec.enc.header(h)
	return rec, &rec.enc
}

func (l *Logger) release(rec *record) {
	if cap(rec.buf) > maxRecordBytes+maxStackBytes {
		return // an outsized buffer is left to the GC
	}
	rec.buf = rec.Line[:0]
	rec.Entry = Entry{}
	rec.enc = lineEncoder{}
	l.pool.Put(rec)
}

// submit completes rec's Entry from h and the encoded line b (whose
// attributes are b[start:end]) and delivers it.
func (l *Logger) submit(rec *record, h *header, b []byte, start, end int) {
	rec.buf = b
	rec.Entry = Entry{
		Time:       h.time.UTC(),
		Level:      h.level,
		Event:      h.event,
		Outcome:    h.outcome,
		Message:    truncateUTF8(h.msg, l.maxValue),
		RequestID:  truncateUTF8(h.requestID, l.maxValue),
		ClientIP:   h.clientIP,
		UserID:     truncateUTF8(h.userID, l.maxValue),
		UserEmail:  truncateUTF8(h.userEmail, l.maxValue),
		Line:       b,
		attrsStart: start,
		attrsEnd:   end,
	}
	l.records.Add(1)
	if l.queue != nil {
		l.enqueue(rec)
		return
	}
	l.commit(rec)
	l.release(rec)
}

// commit delivers rec synchronously, together with the records of callers
// arriving meanwhile (group commit). One caller at a time, the leader,
// delivers; callers arriving during a delivery join the next batch and wait
// for it; when the leader is done it hands the turn to one member of that
// batch, which delivers it. An uncontended call allocates nothing.
func (l *Logger) commit(rec *record) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.afterClose(rec)
		return
	}
	var batch []*record
	if !l.flushing {
		l.flushing = true
		l.mu.Unlock()
		l.single[0] = rec
		batch = l.single[:]
	} else {
		b := l.next
		if b == nil {
			b = &groupBatch{done: make(chan struct{}), lead: make(chan struct{}, 1)}
			l.next = b
		}
		b.recs = append(b.recs, rec)
		l.mu.Unlock()
		l.waits.Add(1)
		select {
		case <-b.done: // another member delivered it
			return
		case <-b.lead: // the turn passed to this batch, and to this caller
		}
		l.mu.Lock()
		l.next = nil // members can no longer join b
		l.mu.Unlock()
		batch = b.recs
		defer close(b.done)
	}
	l.deliver(batch)
	batch[0] = nil
	l.mu.Lock()
	if l.next != nil {
		l.next.lead <- struct{}{} // flushing stays true: the turn passes on
	} else {
		l.flushing = false
		l.cond.Broadcast() // for Close
	}
	l.mu.Unlock()
}

// groupBatch is the batch that callers join while another batch is being
// delivered.
type groupBatch struct {
	recs []*record
	done chan struct{} // closed once recs are delivered
	lead chan struct{} // receives the turn to deliver recs
}

// enqueue puts rec on the queue, waiting for room if it is full.
func (l *Logger) enqueue(rec *record) {
	l.qmu.RLock()
	if l.closed {
		l.qmu.RUnlock()
		l.afterClose(rec)
		l.release(rec)
		return
	}
	select {
	case l.queue <- rec:
	default:
		l.waits.Add(1)
		l.queue <- rec
	}
	l.qmu.RUnlock()
}

// run writes the queue until Close.
func (l *Logger) run() {
	defer close(l.done)
	batch := make([]*record, 0, maxBatch)
	for {
		select {
		case rec := <-l.queue:
			batch = append(batch[:0], rec)
			batch = l.drain(batch)
			l.deliver(batch)
			for _, r := range batch {
				l.release(r)
			}
		case <-l.stop:
			for {
				batch = l.drain(batch[:0])
				if len(batch) == 0 {
					return
				}
				l.deliver(batch)
				for _, r := range batch {
					l.release(r)
				}
			}
		}
	}
}

// drain adds queued records to batch without waiting, up to maxBatch.
func (l *Logger) drain(batch []*record) []*record {
	for len(batch) < maxBatch {
		select {
		case rec := <-l.queue:
			batch = append(batch, rec)
		default:
			return batch
		}
	}
	return batch
}

// deliver hands batch to every sink. A record that no sink accepted is
// written to ErrorOutput.
func (l *Logger) deliver(batch []*record) {
	for start := 0; start < len(batch); start += maxBatch {
		part := batch[start:min(start+maxBatch, len(batch))]
		l.entries = l.entries[:0]
		for _, r := range part {
			l.entries = append(l.entries, &r.Entry)
		}
		accepted := false
		for _, s := range l.sinks {
			if err := writeSafely(s.sink, l.entries); err != nil {
				s.failed.Add(uint64(len(part)))
				l.reportSinkError(s, err, len(part))
				continue
			}
			s.written.Add(uint64(len(part)))
			accepted = true
		}
		if !accepted {
			l.undelivered.Add(uint64(len(part)))
			l.errMu.Lock()
			for _, e := range l.entries {
				fmt.Fprintf(l.errOut, "audit: no sink accepted this record: %s\n", e.Line)
			}
			l.errMu.Unlock()
		}
		clear(l.entries)
	}
}

// writeSafely calls s.Write, turning a panic into an error: a broken sink
// must not take the application down.
func writeSafely(s Sink, batch []*Entry) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sink panicked: %v", p)
		}
	}()
	return s.Write(batch)
}

// reportSinkError writes a failure to ErrorOutput, at most once a second
// per sink.
func (l *Logger) reportSinkError(s *sinkState, err error, n int) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	now := l.now()
	if !s.lastReport.IsZero() && now.Sub(s.lastReport) < time.Second && now.Sub(s.lastReport) >= 0 {
		s.suppressedReports++
		return
	}
	more := ""
	if s.suppressedReports > 0 {
		more = fmt.Sprintf(" (and %d more failed writes since the last report)", s.suppressedReports)
	}
	fmt.Fprintf(l.errOut, "audit: sink %s: %d record(s) not written: %v%s\n", s.name, n, err, more)
	s.lastReport, s.suppressedReports = now, 0
}

// reportCheckpointError is how a Chain reports a failed checkpoint.
func (l *Logger) reportCheckpointError(chain string, err error) {
	l.checkpointFailures.Add(1)
	l.errMu.Lock()
	defer l.errMu.Unlock()
	fmt.Fprintf(l.errOut, "audit: chain %s: checkpoint not written: %v\n", chain, err)
}

// afterClose handles a record logged after Close: the sinks are closed, so
// it goes to ErrorOutput.
func (l *Logger) afterClose(rec *record) {
	l.undelivered.Add(1)
	l.errMu.Lock()
	defer l.errMu.Unlock()
	fmt.Fprintf(l.errOut, "audit: record logged after Close: %s\n", rec.Line)
}

// Close writes every record already logged, has each [Chain] write its
// final checkpoint, then closes the sinks that implement io.Closer (chains
// first, so that their checkpoint sinks are still open). It is idempotent;
// later calls return the first call's result. Records logged after Close
// are written to Options.ErrorOutput.
func (l *Logger) Close() error {
	l.closeOnce.Do(func() {
		if l.queue != nil {
			l.qmu.Lock()
			l.closed = true
			l.qmu.Unlock()
			close(l.stop)
			<-l.done
		} else {
			l.mu.Lock()
			l.closed = true
			for l.flushing {
				l.cond.Wait()
			}
			l.mu.Unlock()
		}
		var errs []error
		for _, s := range l.sinks {
			if c, ok := s.sink.(*Chain); ok {
				errs = append(errs, c.Close())
			}
		}
		for _, s := range l.sinks {
			if _, ok := s.sink.(*Chain); ok {
				continue
			}
			if c, ok := s.sink.(io.Closer); ok {
				errs = append(errs, c.Close())
			}
		}
		l.closeErr = errors.Join(errs...)
	})
	return l.closeErr
}

// Stats counts what a Logger has done since New. Export it as metrics:
// Undelivered, SinkStats.Failed and CheckpointFailures should stay zero.
type Stats struct {
	// Records is the number of records logged.
	Records uint64
	// Waits counts callers that had to wait: for a full queue
	// (Options.QueueSize), or for another caller's batch to be written
	// (synchronous delivery). It measures back-pressure.
	Waits uint64
	// Undelivered counts records no sink accepted (or logged after Close);
	// each was written to Options.ErrorOutput instead.
	Undelivered uint64
	// CheckpointFailures counts checkpoints a Chain could not write.
	CheckpointFailures uint64
	// Sinks has one entry per sink, in the order of Options.Sinks.
	Sinks []SinkStats
}

// SinkStats counts the records one sink stored and failed to store.
type SinkStats struct {
	// Name is the sink's Name.
	Name string
	// Written counts the records the sink accepted.
	Written uint64
	// Failed counts the records of batches the sink failed to write.
	Failed uint64
}

// Stats returns the Logger's counters.
func (l *Logger) Stats() Stats {
	st := Stats{
		Records:            l.records.Load(),
		Waits:              l.waits.Load(),
		Undelivered:        l.undelivered.Load(),
		CheckpointFailures: l.checkpointFailures.Load(),
	}
	for _, s := range l.sinks {
		st.Sinks = append(st.Sinks, SinkStats{Name: s.name, Written: s.written.Load(), Failed: s.failed.Load()})
	}
	return st
}
