package mail_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/example/internal/mail"
	"github.com/senfi-sharif/senfi/example/internal/mailtest"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// failures collects OnError calls.
type failures struct {
	mu   sync.Mutex
	msgs []mail.Message
	errs []error
}

func (f *failures) record(m mail.Message, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, m)
	f.errs = append(f.errs, err)
}

func (f *failures) get() ([]mail.Message, []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]mail.Message(nil), f.msgs...), append([]error(nil), f.errs...)
}

func newQueue(t *testing.T, s mail.Sender, opts mail.QueueOptions) *mail.Queue {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	q, err := mail.NewQueue(s, opts)
	if err != nil {
		t.Fatalf("NewQueue: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Close(ctx)
	})
	return q
}

// TestQueueRetriesThenDelivers: two temporary refusals, then the message
// goes through on the third attempt; the log tells the story with the
// recipient's domain only, never the code, the subject or the local part.
func TestQueueRetriesThenDelivers(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{STARTTLS: true, Username: testUser, Password: testPassword, RejectRcpt: 2, RejectCode: 451})
	logs := &syncBuffer{}
	var failed failures
	q := newQueue(t, newSMTP(t, config(srv, mail.TLSStartTLS, true)), mail.QueueOptions{
		Retries: 3, Backoff: time.Millisecond, OnError: failed.record,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	const to, code = "maryam.karimi@sharif.edu", "739104"
	if err := q.Enqueue(mail.VerificationCode(to, code)); err != nil {
		t.Fatal(err)
	}
	if got := srv.Code(t, to); got != code {
		t.Fatalf("code = %s, want %s", got, code)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.RejectedRcpt != 2 || st.Delivered != 1 {
		t.Errorf("stats %+v, want 2 refusals then 1 delivery", st)
	}
	if msgs, _ := failed.get(); len(msgs) != 0 {
		t.Errorf("OnError called for a delivered message")
	}
	out := logs.String()
	if n := strings.Count(out, `"msg":"mail delivery failed; retrying"`); n != 2 {
		t.Errorf("%d retry lines, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, `"domain":"sharif.edu"`) || !strings.Contains(out, `"msg":"mail delivered after retry"`) {
		t.Errorf("log lacks the domain or the final success:\n%s", out)
	}
	assertNoSecrets(t, out, code, "maryam.karimi", mail.VerificationSubject, testPassword)
}

// TestQueueGivesUp: permanent failures are tried once; temporary ones up
// to 1+Retries times; either way OnError gets the message and the error.
func TestQueueGivesUp(t *testing.T) {
	cases := []struct {
		name         string
		server       mailtest.Options
		wrongPass    bool
		retries      int
		kind         error
		wantRejected int
		wantAuthFail int
	}{
		{"permanent 550", mailtest.Options{STARTTLS: true, RejectRcpt: 5, RejectCode: 550}, false, 3, mail.ErrRejected, 1, 0},
		{"wrong password is not retried", mailtest.Options{STARTTLS: true, Username: testUser, Password: testPassword}, true, 3, mail.ErrAuth, 0, 1},
		{"temporary until retries run out", mailtest.Options{STARTTLS: true, RejectRcpt: 10, RejectCode: 421}, false, 2, mail.ErrRejected, 3, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.server)
			cfg := config(srv, mail.TLSStartTLS, tc.server.Username != "")
			if tc.wrongPass {
				cfg.Password = "wrong"
			}
			logs := &syncBuffer{}
			var failed failures
			q := newQueue(t, newSMTP(t, cfg), mail.QueueOptions{
				Retries: tc.retries, Backoff: time.Millisecond, OnError: failed.record,
				Logger: slog.New(slog.NewJSONHandler(logs, nil)),
			})
			m := mail.PasswordReset("reza.m@sharif.edu", "551122")
			if err := q.Enqueue(m); err != nil {
				t.Fatal(err)
			}
			if err := q.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			msgs, errs := failed.get()
			if len(msgs) != 1 || msgs[0] != m || !errors.Is(errs[0], tc.kind) {
				t.Fatalf("OnError got %v / %v, want the message with %v", msgs, errs, tc.kind)
			}
			st := srv.Stats()
			if st.RejectedRcpt != tc.wantRejected || st.AuthFailed != tc.wantAuthFail || st.Delivered != 0 {
				t.Errorf("stats %+v, want %d refused RCPTs and %d failed logins", st, tc.wantRejected, tc.wantAuthFail)
			}
			out := logs.String()
			if !strings.Contains(out, `"msg":"mail not delivered"`) || !strings.Contains(out, `"reason":"`+mail.Describe(errs[0])+`"`) {
				t.Errorf("no final log line with the reason:\n%s", out)
			}
			assertNoSecrets(t, out, "551122", "reza.m", mail.PasswordResetSubject, "wrong")
		})
	}
}

// gateSender blocks each Send until released (or its context ends) and
// records what it was given.
type gateSender struct {
	started chan mail.Message
	release chan struct{}
	mu      sync.Mutex
	sent    []mail.Message
}

func newGate() *gateSender {
	return &gateSender{started: make(chan mail.Message, 100), release: make(chan struct{})}
}

func (g *gateSender) Send(ctx context.Context, m mail.Message) error {
	g.started <- m
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, m)
	return nil
}

func (g *gateSender) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sent)
}

func msgTo(i int) mail.Message {
	return mail.VerificationCode(fmt.Sprintf("user%d@sharif.edu", i), fmt.Sprintf("%06d", i))
}

// TestQueueFull: with the worker busy and Size messages waiting, Enqueue
// answers ErrQueueFull at once instead of blocking the handler.
func TestQueueFull(t *testing.T) {
	g := newGate()
	q := newQueue(t, g, mail.QueueOptions{Size: 2, Workers: 1})
	if err := q.Enqueue(msgTo(0)); err != nil {
		t.Fatal(err)
	}
	<-g.started // the worker holds message 0
	for i := 1; i <= 2; i++ {
		if err := q.Enqueue(msgTo(i)); err != nil {
			t.Fatalf("Enqueue %d: %v", i, err)
		}
	}
	if q.Len() != 2 {
		t.Errorf("Len = %d, want 2", q.Len())
	}
	err := q.Enqueue(msgTo(3))
	if !errors.Is(err, mail.ErrQueueFull) {
		t.Fatalf("Enqueue on a full queue: %v, want ErrQueueFull", err)
	}
	if got := mail.Describe(err); got != "too many mails are waiting; try again later" {
		t.Errorf("Describe = %q", got)
	}
	if err := q.Send(context.Background(), msgTo(4)); !errors.Is(err, mail.ErrQueueFull) {
		t.Errorf("Send on a full queue: %v, want ErrQueueFull", err)
	}
	close(g.release)
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g.count() != 3 {
		t.Errorf("delivered %d, want the 3 accepted", g.count())
	}
}

// TestQueueCloseDrains: Close returns only when every queued message has
// reached the real server; later Enqueues are refused.
func TestQueueCloseDrains(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{STARTTLS: true})
	q := newQueue(t, newSMTP(t, config(srv, mail.TLSStartTLS, false)), mail.QueueOptions{Size: 32, Workers: 3})
	const n = 20
	for i := range n {
		if err := q.Enqueue(msgTo(i)); err != nil {
			t.Fatalf("Enqueue %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := len(srv.Messages()); got != n {
		t.Fatalf("after Close the server holds %d messages, want %d", got, n)
	}
	for i := range n {
		if code := srv.Code(t, fmt.Sprintf("user%d@sharif.edu", i)); code != fmt.Sprintf("%06d", i) {
			t.Errorf("user%d got code %s", i, code)
		}
	}
	if err := q.Enqueue(msgTo(99)); !errors.Is(err, mail.ErrQueueClosed) {
		t.Errorf("Enqueue after Close: %v, want ErrQueueClosed", err)
	}
	if err := q.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestQueueCloseDeadline: when Close's context ends first, the delivery
// under way is cancelled and every message not delivered reaches OnError
// with ErrQueueClosed; Close reports the deadline.
func TestQueueCloseDeadline(t *testing.T) {
	g := newGate()
	var failed failures
	q := newQueue(t, g, mail.QueueOptions{Size: 5, Workers: 1, OnError: failed.record})
	for i := range 3 {
		if err := q.Enqueue(msgTo(i)); err != nil {
			t.Fatal(err)
		}
	}
	<-g.started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := q.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want DeadlineExceeded", err)
	}
	msgs, errs := failed.get()
	if len(msgs) != 3 || g.count() != 0 {
		t.Fatalf("OnError got %d messages, %d delivered; want all 3 given up", len(msgs), g.count())
	}
	for i, err := range errs {
		if !errors.Is(err, mail.ErrQueueClosed) {
			t.Errorf("message %d: %v, want ErrQueueClosed", i, err)
		}
	}
}

// TestQueueConcurrentClose: Enqueue racing with Close never panics (no send
// on a closed channel) and every accepted message is delivered.
func TestQueueConcurrentClose(t *testing.T) {
	var w strings.Builder
	var mu sync.Mutex
	ws, err := mail.NewWriter(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return w.Write(p)
	}))
	if err != nil {
		t.Fatal(err)
	}
	q := newQueue(t, ws, mail.QueueOptions{Size: 1000, Workers: 2})
	var wg sync.WaitGroup
	var accepted sync.Map
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				m := msgTo(g*1000 + i)
				switch err := q.Enqueue(m); {
				case err == nil:
					accepted.Store(m.To, true)
				case !errors.Is(err, mail.ErrQueueClosed):
					t.Errorf("Enqueue: %v", err)
				}
			}
		})
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	mu.Lock()
	out := w.String()
	mu.Unlock()
	n := 0
	accepted.Range(func(k, _ any) bool {
		n++
		if !strings.Contains(out, "To: "+k.(string)+"\n") {
			t.Errorf("accepted message to %s was not delivered", k)
		}
		return true
	})
	if got := strings.Count(out, "----- end of mail -----"); got != n {
		t.Errorf("%d mails printed, %d accepted", got, n)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestNewQueueRefuses: bad options are refused with the field named.
func TestNewQueueRefuses(t *testing.T) {
	g := newGate()
	cases := []struct {
		s    mail.Sender
		opts mail.QueueOptions
		want string
	}{
		{nil, mail.QueueOptions{}, "Sender"},
		{g, mail.QueueOptions{Size: -1}, "Size"},
		{g, mail.QueueOptions{Workers: -1}, "Workers"},
		{g, mail.QueueOptions{Retries: mail.MaxRetries + 1}, "Retries"},
		{g, mail.QueueOptions{Retries: -1}, "Retries"},
		{g, mail.QueueOptions{Backoff: -time.Second}, "Backoff"},
	}
	for _, tc := range cases {
		if _, err := mail.NewQueue(tc.s, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewQueue(%+v) = %v, want an error naming %s", tc.opts, err, tc.want)
		}
	}
	q := newQueue(t, g, mail.QueueOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Send(ctx, msgTo(1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context: %v", err)
	}
}

// assertNoSecrets fails t if out holds any of secrets.
func assertNoSecrets(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("log holds %q:\n%s", s, out)
		}
	}
}
