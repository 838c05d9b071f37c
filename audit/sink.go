package audit

import (
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// Sink stores records. The Logger hands every record to each of its sinks,
// in batches, in the order the records were logged.
//
// Implementations must be safe for concurrent use (a [Chain]'s checkpoints
// may arrive while the Logger writes) and must not retain the batch, the
// entries or their Line after Write returns. An optional Close method
// (io.Closer) is called by [Logger.Close]; an optional LastRecord method
// ([Resumer]) lets a [Chain] continue after a restart.
type Sink interface {
	// Name identifies the sink in Stats and error reports, e.g.
	// "file:/var/log/senfi/audit.log".
	Name() string
	// Write stores the batch, all of it or (on error) as much as it could.
	// An error is counted and reported by the Logger; the records still
	// reach the other sinks.
	Write(batch []*Entry) error
}

// Resumer is implemented by sinks that can read back the last record they
// stored, so that a [Chain] over them continues the existing chain (its
// sequence numbers and MACs) when the application restarts.
type Resumer interface {
	// LastRecord returns the last complete record, or nil if there is none.
	LastRecord() ([]byte, error)
}

// Entry is one record as a sink receives it: the encoded line and the
// fields a structured store (the SQL sink) puts in columns. Its strings are
// already cut to Options.MaxValueBytes; its Line is already redacted.
type Entry struct {
	// Time is when the record was logged, in UTC.
	Time time.Time
	// Level is the record's level (LevelName gives its text).
	Level slog.Level
	// Event is the event name; "" for SlogHandler records without one.
	Event Event
	// Outcome is success or failure; "" when not given.
	Outcome Outcome
	// Message is the message of a record written through SlogHandler.
	Message string
	// RequestID is the request ID of the context, or "".
	RequestID string
	// ClientIP is the client address of the context; the zero Addr if
	// unknown.
	ClientIP netip.Addr
	// UserID and UserEmail identify the acting user, or are "".
	UserID, UserEmail string
	// Seq is the record's sequence number in a chained sink; 0 otherwise.
	Seq uint64
	// Line is the complete JSON object, without a trailing newline. In a
	// chained sink it ends with the seq, prev and mac fields.
	Line []byte

	attrsStart, attrsEnd int // the event's attributes: Line[attrsStart:attrsEnd], each preceded by ','
}

// Attrs returns the record's own attributes (everything but the fields
// named by the Key constants) as a JSON object. It allocates.
func (e *Entry) Attrs() []byte {
	region := e.Line[e.attrsStart:e.attrsEnd]
	out := make([]byte, 0, len(region)+2)
	out = append(out, '{')
	if len(region) > 0 {
		out = append(out, region[1:]...)
	}
	return append(out, '}')
}

// WriterSink writes records as JSON lines to an io.Writer, typically
// os.Stdout for a container's log collector. Each batch is one Write call.
// It is safe for concurrent use. Create it with [NewWriterSink].
type WriterSink struct {
	name string
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
}

var _ Sink = (*WriterSink)(nil)

// NewWriterSink returns a sink writing to w, reported under name ("stdout"
// if empty). The Logger does not close w.
func NewWriterSink(name string, w io.Writer) *WriterSink {
	if name == "" {
		name = "stdout"
	}
	return &WriterSink{name: name, w: w}
}

// Name returns the name given to NewWriterSink.
func (s *WriterSink) Name() string { return s.name }

// Write writes the batch's lines, each followed by '\n', in one Write call.
func (s *WriterSink) Write(batch []*Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = appendLines(s.buf[:0], batch)
	_, err := s.w.Write(s.buf)
	if cap(s.buf) > maxKeptBuffer {
		s.buf = nil
	}
	return err
}

// maxKeptBuffer is the largest buffer a sink keeps between batches.
const maxKeptBuffer = 1 << 20

func appendLines(b []byte, batch []*Entry) []byte {
	for _, e := range batch {
		b = append(b, e.Line...)
		b = append(b, '\n')
	}
	return b
}
