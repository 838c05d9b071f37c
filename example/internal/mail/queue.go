package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Queue defaults and limits.
const (
	// DefaultQueueSize is the capacity when [QueueOptions.Size] is zero.
	DefaultQueueSize = 256
	// DefaultQueueWorkers is the worker count when [QueueOptions.Workers]
	// is zero.
	DefaultQueueWorkers = 2
	// DefaultBackoff is the first wait before a retry when
	// [QueueOptions.Backoff] is zero.
	DefaultBackoff = time.Second
	// MaxRetries bounds [QueueOptions.Retries].
	MaxRetries = 10
	// maxBackoff caps the doubling wait between two attempts.
	maxBackoff = time.Minute
)

// QueueOptions configures a [Queue]. The zero value is a queue of
// [DefaultQueueSize] messages served by [DefaultQueueWorkers] workers that
// try each message once.
type QueueOptions struct {
	// Size is how many messages may wait; zero means [DefaultQueueSize].
	// When it is full, Enqueue returns [ErrQueueFull] at once: memory stays
	// bounded however fast requests arrive.
	Size int
	// Workers is how many messages are delivered at the same time (one SMTP
	// connection each); zero means [DefaultQueueWorkers].
	Workers int
	// Retries is how many more attempts a message gets after a temporary
	// failure (see [Temporary]): a connection failure, a timeout or a 4xx
	// reply. Zero means none; at most [MaxRetries]. Permanent failures
	// (authentication, TLS, 5xx, an invalid message) are never retried, so a
	// wrong password cannot lock the mailbox.
	Retries int
	// Backoff is the wait before the first retry; each further retry waits
	// twice as long (with ±20 % jitter, at most a minute). Zero means
	// [DefaultBackoff].
	Backoff time.Duration
	// OnError, if set, is called from a worker with each message that is
	// finally not delivered (retries spent, a permanent failure, or dropped
	// by Close) and the last error: the place to record an audit event. The
	// Message holds the code in its Text: do not log it. OnError must not
	// block for long; it holds a worker.
	OnError func(Message, error)
	// Logger receives one line per failed attempt and per message given up,
	// with the recipient's domain, the attempt number and the error, never
	// the recipient's full address, the subject or the body. Nil means
	// slog.Default().
	Logger *slog.Logger
}

// Queue delivers messages in the background, so that an HTTP handler never
// waits for a mail server: Enqueue (or Send) puts the message in a bounded
// buffer and returns; workers hand it to the wrapped [Sender], retrying
// temporary failures with a doubling backoff. Close drains it on shutdown.
//
// A Queue is itself a [Sender] and is safe for concurrent use. Queued
// messages live in memory only: a crash loses them, which for verification
// codes just means the user asks for a new one.
type Queue struct {
	sender Sender
	opts   QueueOptions
	log    *slog.Logger

	mu     sync.RWMutex // closed and close(ch) versus sends on ch
	closed bool
	ch     chan Message

	ctx    context.Context // ends when Close gives up waiting
	cancel context.CancelFunc
	done   chan struct{} // closed when every worker has returned
}

// NewQueue validates opts and starts the workers delivering through s.
func NewQueue(s Sender, opts QueueOptions) (*Queue, error) {
	switch {
	case s == nil:
		return nil, errors.New("mail: NewQueue needs a Sender, such as the result of NewSMTP")
	case opts.Size < 0:
		return nil, fmt.Errorf("mail: QueueOptions.Size %d is negative: use zero for %d", opts.Size, DefaultQueueSize)
	case opts.Workers < 0:
		return nil, fmt.Errorf("mail: QueueOptions.Workers %d is negative: use zero for %d", opts.Workers, DefaultQueueWorkers)
	case opts.Retries < 0 || opts.Retries > MaxRetries:
		return nil, fmt.Errorf("mail: QueueOptions.Retries %d is out of range: use 0 to %d", opts.Retries, MaxRetries)
	case opts.Backoff < 0:
		return nil, fmt.Errorf("mail: QueueOptions.Backoff %v is negative: use zero for %v", opts.Backoff, DefaultBackoff)
	}
	if opts.Size == 0 {
		opts.Size = DefaultQueueSize
	}
	if opts.Workers == 0 {
		opts.Workers = DefaultQueueWorkers
	}
	if opts.Backoff == 0 {
		opts.Backoff = DefaultBackoff
	}
	q := &Queue{
		sender: s,
		opts:   opts,
		log:    opts.Logger,
		ch:     make(chan Message, opts.Size),
		done:   make(chan struct{}),
	}
	if q.log == nil {
		q.log = slog.Default()
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Go(func() {
			for m := range q.ch {
				q.deliver(m)
			}
		})
	}
	go func() {
		wg.Wait()
		q.cancel()
		close(q.done)
	}()
	return q, nil
}

// Enqueue validates m and queues it for delivery. It never blocks: it
// returns an error wrapping [ErrInvalidMessage] for a refused message,
// [ErrQueueFull] when Size messages are already waiting (answer the client
// 503 with Retry-After), and [ErrQueueClosed] after Close.
func (q *Queue) Enqueue(m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrQueueClosed
	}
	select {
	case q.ch <- m:
		return nil
	default:
		return ErrQueueFull
	}
}

// Send is [Queue.Enqueue], so that a Queue can stand wherever a [Sender] is
// expected. ctx only stops a Send whose context has already ended: the
// delivery itself outlives the request that asked for it.
func (q *Queue) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: not queued: %w", err)
	}
	return q.Enqueue(m)
}

// Len returns how many messages are waiting (not counting those being
// delivered).
func (q *Queue) Len() int { return len(q.ch) }

// Close stops accepting messages and waits until every queued and
// in-flight message has been delivered or given up. If ctx ends first,
// Close cancels the deliveries under way, hands each message still
// waiting to OnError with [ErrQueueClosed], and returns ctx's error once
// the workers have stopped. Calling Close again waits the same way.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.cancel()
		<-q.done
		return fmt.Errorf("mail: queue closed before every message was delivered: %w", ctx.Err())
	}
}

// deliver tries m until it is sent, fails permanently, runs out of retries
// or the queue is cancelled by Close.
func (q *Queue) deliver(m Message) {
	domain := slog.String("domain", recipientDomain(m.To))
	var err error
	attempts := 0
	for q.ctx.Err() == nil {
		attempts++
		if err = q.sender.Send(q.ctx, m); err == nil {
			if attempts > 1 {
				q.log.Info("mail delivered after retry", domain, slog.Int("attempt", attempts))
			}
			return
		}
		if q.ctx.Err() != nil {
			break
		}
		if attempts > q.opts.Retries || !Temporary(err) {
			q.giveUp(m, domain, attempts, err)
			return
		}
		wait := q.backoff(attempts)
		q.log.Warn("mail delivery failed; retrying", domain, slog.Int("attempt", attempts),
			slog.Duration("retry_in", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-q.ctx.Done():
			t.Stop()
		}
	}
	if err != nil {
		err = fmt.Errorf("%w; last attempt: %w", ErrQueueClosed, err)
	} else {
		err = ErrQueueClosed
	}
	q.giveUp(m, domain, attempts, err)
}

// giveUp logs that m will not be delivered and tells OnError.
func (q *Queue) giveUp(m Message, domain slog.Attr, attempts int, err error) {
	q.log.Error("mail not delivered", domain, slog.Int("attempts", attempts),
		slog.String("reason", Describe(err)), slog.String("error", err.Error()))
	if q.opts.OnError != nil {
		q.opts.OnError(m, err)
	}
}

// backoff returns the wait after the given failed attempt (1-based):
// Backoff·2^(attempt-1), at most a minute (or Backoff when that is longer),
// with ±20 % jitter so that messages failing together do not retry together.
func (q *Queue) backoff(attempt int) time.Duration {
	d := q.opts.Backoff
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	if d > maxBackoff && q.opts.Backoff < maxBackoff {
		d = maxBackoff
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5*2+1)) - d/5
	return d + jitter
}
