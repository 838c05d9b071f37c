package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Options configures a [Logger]. Only Sinks is required; every other zero
// value is a safe default.
type Options struct {
	// Sinks receive every record, in order. Several may be given (a chained
	// file, stdout, SQL); a record that none of them accepts is written to
	// ErrorOutput rather than lost. The Logger takes ownership: Close closes
	// every sink that implements io.Closer. Required.
	Sinks []Sink

	// QueueSize chooses how records are delivered. Zero value: synchronously
	// — Log, and the request log, return once every sink has the record;
	// concurrent callers are written together in one batch per sink (group
	// commit), so a record is never lost to a crash once Log has returned.
	// A positive value puts records on a queue of that many, written by one
	// goroutine in batches: the caller waits only to encode and enqueue,
	// unless the queue is full, when it blocks until there is room
	// (back-pressure, counted in Stats.Waits); nothing is ever dropped, but
	// a crash loses what is still queued. Use a queue when a slow sink (SQL
	// over a network) must not add its latency to every request.
	QueueSize int

	// User returns the acting user of a request context, for records
	// written by Log and SlogHandler (e.g. from jwtauth.FromContext). An
	// attribute named KeyUserID or KeyUserEmail overrides it. Zero value: no
	// user unless given as an attribute. The request log gets its user from
	// SetUser instead, because it runs outside authentication.
	User func(ctx context.Context) (id, email string)

	// ClientIP returns the client address of a request. Zero value: the
	// address the secure package's client-IP middleware resolved (behind
	// trusted proxies), or the peer address when it did not run.
	// Forwarding headers are never read here.
	ClientIP func(r *http.Request) netip.Addr

	// RedactKeys are added to DefaultRedactKeys. Zero value: the defaults
	// alone.
	RedactKeys []string
	// AllowKeys are exact keys (compared after normalization) never
	// redacted by key, e.g. "status_code". Values that look like
	// credentials are redacted whatever their key. Zero value: none.
	AllowKeys []string

	// MaxValueBytes cuts longer string values (the cut ones end in "…").
	// 64 to 1 MiB. Zero value: DefaultMaxValueBytes. User agents are cut at
	// 256 bytes and paths at 1024 whatever this says.
	MaxValueBytes int

	// SkipPaths lists exact URL paths ("/healthz") whose requests the
	// request log leaves out, unless the response is a 5xx. They still get a
	// request ID. Zero value: every request is logged.
	SkipPaths []string

	// IgnoreIncomingRequestID makes Requests generate every request ID,
	// ignoring a well-formed X-Request-ID sent by the client. Zero value:
	// a valid incoming ID is kept (so a proxy's ID follows the request).
	IgnoreIncomingRequestID bool

	// Level is the minimum level of the records written through
	// SlogHandler. Records of Log, Requests and Recover are never filtered:
	// the Django original lost every INFO security event to a WARNING
	// threshold. Zero value: slog.LevelInfo.
	Level slog.Leveler

	// ErrorHandler writes the response after a recovered panic; err is a
	// *PanicError. Its text and stack must not reach the client. Zero
	// value: a 500 application/problem+json with the request ID and no
	// detail of the failure.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// ErrorOutput receives sink failures (at most one line per sink per
	// second) and records no sink accepted. Zero value: os.Stderr.
	ErrorOutput io.Writer

	// Now is the clock of record times and durations. Zero value:
	// time.Now.
	Now func() time.Time
}

// maxQueueSize bounds Options.QueueSize: a queue is for bursts, not a
// buffer for a dead sink.
const maxQueueSize = 1 << 20

// validate reports every problem of o.
func (o *Options) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...))
	}
	if len(o.Sinks) == 0 {
		errs = append(errs, fmt.Errorf("%w: give at least one sink in Options.Sinks (NewFileSink, NewWriterSink(\"stdout\", os.Stdout), ...)", ErrNoSinks))
	}
	for i, s := range o.Sinks {
		if s == nil {
			bad("Options.Sinks[%d] is nil", i)
			continue
		}
		for _, t := range o.Sinks[:i] {
			if sameSink(s, t) {
				bad("Options.Sinks[%d] (%s) is listed twice: each record would be written twice", i, s.Name())
			}
		}
		if c, ok := s.(*Chain); ok && slices.ContainsFunc(o.Sinks, func(t Sink) bool { return sameSink(c.inner, t) }) {
			bad("%s is listed both chained and unchained: the unchained lines would break the chain", c.inner.Name())
		}
	}
	if o.QueueSize < 0 || o.QueueSize > maxQueueSize {
		bad("Options.QueueSize %d: want 0 (synchronous) to %d", o.QueueSize, maxQueueSize)
	}
	if o.MaxValueBytes != 0 && (o.MaxValueBytes < 64 || o.MaxValueBytes > 1<<20) {
		bad("Options.MaxValueBytes %d: want 0 (default %d) or 64 to 1048576", o.MaxValueBytes, DefaultMaxValueBytes)
	}
	for _, p := range o.SkipPaths {
		if !strings.HasPrefix(p, "/") {
			bad("Options.SkipPaths entry %q: want an absolute URL path such as \"/healthz\"", p)
		}
	}
	for _, k := range o.RedactKeys {
		if len(normalizeKey(nil, k)) == 0 {
			bad("Options.RedactKeys has an empty key")
		}
	}
	return errors.Join(errs...)
}

// sameSink reports whether a and b are the same sink, without panicking on
// sink types that are not comparable.
func sameSink(a, b Sink) bool {
	if a == nil || b == nil {
		return false
	}
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}
