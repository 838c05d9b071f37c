package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/slogtest"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/audit"
)

// TestConcurrentFileSinkLosesNothing logs 16 × 10,000 events concurrently
// through a chained file sink, synchronously and through a small queue,
// and checks that the file holds exactly 160,000 valid lines with every
// sequence number and every event exactly once. The queued mode repeats the
// check with 16 × 2,000 events, to keep the test time under -race in
// bounds.
func TestConcurrentFileSinkLosesNothing(t *testing.T) {
	const goroutines = 16
	for _, mode := range []struct {
		name         string
		queue        int
		perGoroutine int
	}{{"synchronous", 0, 10_000}, {"queue", 64, 2_000}} {
		perGoroutine := mode.perGoroutine
		t.Run(mode.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			file, err := audit.NewFileSink(audit.FileOptions{Path: path})
			require.NoError(t, err)
			chain, err := audit.NewChain(file, audit.ChainOptions{Key: testKey})
			require.NoError(t, err)
			l, err := audit.New(audit.Options{Sinks: []audit.Sink{chain}, QueueSize: mode.queue})
			require.NoError(t, err)

			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					ctx := audit.WithRequestID(context.Background(), fmt.Sprintf("g%d", g))
					for i := range perGoroutine {
						l.Log(ctx, audit.AuthnLoginSuccess, audit.Success, slog.Int("g", g), slog.Int("i", i))
					}
				})
			}
			wg.Wait()
			require.NoError(t, l.Close())

			data, err := os.ReadFile(path)
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			require.Len(t, lines, goroutines*perGoroutine)
			seen := make([]bool, goroutines*perGoroutine)
			// Plain ifs, not testify, in this loop: it runs 160,000 times.
			for n, line := range lines {
				if !json.Valid([]byte(line)) {
					t.Fatalf("line %d is not valid JSON: %s", n+1, line)
				}
				rec := struct{ G, I, Seq int }{intField(line, "g"), intField(line, "i"), intField(line, "seq")}
				k := rec.G*perGoroutine + rec.I
				if k < 0 || k >= len(seen) || seen[k] {
					t.Fatalf("line %d: event g=%d i=%d unknown or written twice", n+1, rec.G, rec.I)
				}
				seen[k] = true
				if rec.Seq != n+1 {
					t.Fatalf("line %d has seq %d: sequence numbers must follow the line order", n+1, rec.Seq)
				}
			}
			for k, ok := range seen {
				if !ok {
					t.Fatalf("event g=%d i=%d missing", k/perGoroutine, k%perGoroutine)
				}
			}

			st := l.Stats()
			assert.EqualValues(t, goroutines*perGoroutine, st.Records)
			assert.EqualValues(t, goroutines*perGoroutine, st.Sinks[0].Written)
			assert.Zero(t, st.Sinks[0].Failed)
			assert.Zero(t, st.Undelivered)

			rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey})
			require.NoError(t, err)
			require.True(t, rep.OK(), rep.String())
			assert.EqualValues(t, goroutines*perGoroutine, rep.LastSeq)
		})
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	w := audit.NewWriterSink("w", &syncBuffer{})
	for _, tc := range []struct {
		name string
		opts audit.Options
		want error
	}{
		{"no sinks", audit.Options{}, audit.ErrNoSinks},
		{"nil sink", audit.Options{Sinks: []audit.Sink{nil}}, audit.ErrInvalidOptions},
		{"sink twice", audit.Options{Sinks: []audit.Sink{w, w}}, audit.ErrInvalidOptions},
		{"negative queue", audit.Options{Sinks: []audit.Sink{w}, QueueSize: -1}, audit.ErrInvalidOptions},
		{"tiny values", audit.Options{Sinks: []audit.Sink{w}, MaxValueBytes: 10}, audit.ErrInvalidOptions},
		{"relative skip path", audit.Options{Sinks: []audit.Sink{w}, SkipPaths: []string{"healthz"}}, audit.ErrInvalidOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := audit.New(tc.opts)
			require.ErrorIs(t, err, tc.want)
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		_, err := audit.New(audit.Options{Sinks: []audit.Sink{w}, QueueSize: -1, MaxValueBytes: 1, SkipPaths: []string{"x"}})
		require.Error(t, err)
		for _, part := range []string{"QueueSize", "MaxValueBytes", "SkipPaths"} {
			assert.Contains(t, err.Error(), part)
		}
	})
	t.Run("sink both chained and not", func(t *testing.T) {
		c, err := audit.NewChain(w, audit.ChainOptions{Key: testKey})
		require.NoError(t, err)
		_, err = audit.New(audit.Options{Sinks: []audit.Sink{c, w}})
		require.ErrorIs(t, err, audit.ErrInvalidOptions)
		_, err = audit.NewChain(c, audit.ChainOptions{Key: testKey})
		require.ErrorIs(t, err, audit.ErrInvalidOptions)
	})
	t.Run("chain used by two loggers", func(t *testing.T) {
		c, err := audit.NewChain(audit.NewWriterSink("w2", &syncBuffer{}), audit.ChainOptions{Key: testKey})
		require.NoError(t, err)
		l, err := audit.New(audit.Options{Sinks: []audit.Sink{c}})
		require.NoError(t, err)
		defer l.Close()
		_, err = audit.New(audit.Options{Sinks: []audit.Sink{c}})
		require.ErrorIs(t, err, audit.ErrSinkInUse)
	})
}

func TestRecordFormat(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{
		User: func(context.Context) (string, string) { return "42", "ali@example.com" },
	})
	ctx := audit.WithRequestID(context.Background(), "req-1")
	l.Log(ctx, audit.AuthnLoginFail, audit.Failure,
		slog.String("reason", "bad_password"),
		slog.Int("attempt", 3),
		slog.String("seq", "user-supplied"), // reserved: renamed
		slog.String("note", "line1\nline2\"x\"\x00\xff"),
	)
	l.Log(context.Background(), audit.AuthzChange, audit.Success,
		slog.String(audit.KeyUserID, "7"), slog.String(audit.KeyUserEmail, "admin@example.com"),
		slog.String("from", "simple_user"), slog.String("to", "head"))
	require.NoError(t, l.Close())
	want := `{"time":"2026-01-02T03:04:05.000Z","level":"WARN","event":"authn_login_fail","outcome":"failure","request_id":"req-1","user_id":"42","user_email":"ali@example.com","reason":"bad_password","attempt":3,"_seq":"user-supplied","note":"line1\nline2\"x\"\ufffd\ufffd"}` + "\n" +
		`{"time":"2026-01-02T03:04:05.001Z","level":"WARN","event":"authz_change","outcome":"success","user_id":"7","user_email":"admin@example.com","from":"simple_user","to":"head"}` + "\n"
	assert.Equal(t, want, buf.String())
}

func TestLevels(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{})
	ctx := context.Background()
	cases := []struct {
		event   audit.Event
		outcome audit.Outcome
		level   string
	}{
		{audit.AuthnLoginSuccess, audit.Success, "INFO"},
		{audit.AuthnLoginFail, audit.Failure, "WARN"},
		{audit.AuthnTokenReuse, audit.Failure, "CRITICAL"},
		{audit.AuthzFail, audit.Failure, "CRITICAL"},
		{audit.ExcessRateLimitExceeded, audit.Failure, "WARN"},
		{audit.BackupCreated, audit.Success, "INFO"},
		{audit.BackupCreated, audit.Failure, "WARN"},
		{audit.BackupFail, audit.Failure, "ERROR"},
		{audit.Event("custom_thing"), audit.Success, "INFO"},
	}
	for _, c := range cases {
		l.Log(ctx, c.event, c.outcome)
	}
	require.NoError(t, l.Close())
	recs := records(t, buf.Bytes())
	require.Len(t, recs, len(cases))
	for i, c := range cases {
		assert.Equal(t, c.level, recs[i]["level"], c.event)
		assert.Equal(t, string(c.outcome), recs[i]["outcome"], c.event)
	}
}

func TestSinkFailureIsReportedNotFatal(t *testing.T) {
	errOut := &syncBuffer{}
	good := &syncBuffer{}
	l, err := audit.New(audit.Options{
		Sinks:       []audit.Sink{failingSink{errors.New("disk full")}, panickingSink{}, audit.NewWriterSink("good", good)},
		ErrorOutput: errOut,
		Now:         clock(), // 1 ms per call: every report after the first is within the same second
	})
	require.NoError(t, err)
	for range 5 {
		l.Log(context.Background(), audit.UserCreated, audit.Success)
	}
	require.NoError(t, l.Close())

	assert.Len(t, records(t, good.Bytes()), 5, "the healthy sink still gets every record")
	st := l.Stats()
	require.Len(t, st.Sinks, 3)
	assert.Equal(t, audit.SinkStats{Name: "failing", Written: 0, Failed: 5}, st.Sinks[0])
	assert.Equal(t, audit.SinkStats{Name: "panicking", Written: 0, Failed: 5}, st.Sinks[1])
	assert.Equal(t, audit.SinkStats{Name: "good", Written: 5, Failed: 0}, st.Sinks[2])
	assert.Zero(t, st.Undelivered)
	out := errOut.String()
	assert.Equal(t, 1, strings.Count(out, "sink failing:"), "reports are limited to one a second per sink: %s", out)
	assert.Contains(t, out, "disk full")
	assert.Contains(t, out, "sink panicked: sink bug")
}

func TestUndeliveredRecordsGoToErrorOutput(t *testing.T) {
	errOut := &syncBuffer{}
	l, err := audit.New(audit.Options{Sinks: []audit.Sink{failingSink{errors.New("down")}}, ErrorOutput: errOut})
	require.NoError(t, err)
	l.Log(context.Background(), audit.AuthnLoginFail, audit.Failure, slog.String("password", "hunter2"))
	require.NoError(t, l.Close())
	l.Log(context.Background(), audit.SysShutdown, audit.Success) // after Close
	assert.EqualValues(t, 2, l.Stats().Undelivered)
	out := errOut.String()
	assert.Contains(t, out, `no sink accepted this record: {"time"`)
	assert.Contains(t, out, `record logged after Close: {"time"`)
	assert.NotContains(t, out, "hunter2")
}

func TestCloseFlushesQueueAndIsIdempotent(t *testing.T) {
	buf := &syncBuffer{}
	l, err := audit.New(audit.Options{Sinks: []audit.Sink{audit.NewWriterSink("b", buf)}, QueueSize: 8})
	require.NoError(t, err)
	for i := range 1000 {
		l.Log(context.Background(), audit.VerificationCodeSent, audit.Success, slog.Int("i", i))
	}
	require.NoError(t, l.Close())
	recs := records(t, buf.Bytes())
	require.Len(t, recs, 1000)
	for i, r := range recs {
		require.EqualValues(t, i, r["i"], "queue keeps the order")
	}
	require.NoError(t, l.Close())
}

// blockingSink blocks every write until release is closed.
type blockingSink struct {
	release chan struct{}
	n       atomic.Int64
}

func (s *blockingSink) Name() string { return "blocking" }
func (s *blockingSink) Write(batch []*audit.Entry) error {
	<-s.release
	s.n.Add(int64(len(batch)))
	return nil
}

// TestDeliveryWaitsRatherThanDrops checks, with the sink stuck, who waits:
// synchronously, every caller waits for the write of its record (the
// first one writing, the others queued behind it for the next batch);
// with a queue of 1, the writer holds one record, the queue another, and
// only the third caller waits for room (back-pressure). Nothing is dropped.
func TestDeliveryWaitsRatherThanDrops(t *testing.T) {
	for _, tc := range []struct {
		name          string
		queue         int
		callers       int
		returnedStuck int64 // callers that return while the sink is stuck
		waits         uint64
	}{
		{"synchronous", 0, 4, 0, 3},
		{"queue", 1, 3, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sink := &blockingSink{release: make(chan struct{})}
				l, err := audit.New(audit.Options{Sinks: []audit.Sink{sink}, QueueSize: tc.queue})
				require.NoError(t, err)
				var returned atomic.Int64
				for range tc.callers { // one at a time, so that who waits is determined
					go func() {
						l.Log(context.Background(), audit.AuthnLoginFail, audit.Failure)
						returned.Add(1)
					}()
					synctest.Wait()
				}
				assert.Equal(t, tc.returnedStuck, returned.Load())
				assert.Equal(t, tc.waits, l.Stats().Waits)
				close(sink.release)
				synctest.Wait()
				assert.EqualValues(t, tc.callers, returned.Load())
				require.NoError(t, l.Close())
				assert.EqualValues(t, tc.callers, sink.n.Load(), "nothing dropped")
			})
		})
	}
}

func TestSlogHandlerConformance(t *testing.T) {
	var buf *syncBuffer
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		var l *audit.Logger
		l, buf = newBufferLogger(t, audit.Options{})
		return l.SlogHandler()
	}, func(t *testing.T) map[string]any {
		recs := records(t, buf.Bytes())
		require.Len(t, recs, 1)
		return recs[0]
	})
}

func TestSlogHandler(t *testing.T) {
	l, buf := newBufferLogger(t, audit.Options{Level: slog.LevelWarn})
	log := slog.New(l.SlogHandler()).With(audit.KeyUserID, "9", "token", "abc").WithGroup("credentials")
	ctx := audit.WithRequestID(context.Background(), "r9")
	log.InfoContext(ctx, "dropped below Level")
	log.WarnContext(ctx, "kept", "user", "u", "k", 1)
	slog.New(l.SlogHandler()).Error("top", audit.KeyEvent, string(audit.BackupFail), audit.KeyOutcome, "failure")
	require.NoError(t, l.Close())
	recs := records(t, buf.Bytes())
	require.Len(t, recs, 2)
	assert.Equal(t, "kept", recs[0]["msg"])
	assert.Equal(t, "r9", recs[0]["request_id"])
	assert.Equal(t, "9", recs[0]["user_id"])
	assert.Equal(t, audit.Redacted, recs[0]["token"])
	assert.Equal(t, map[string]any{"user": audit.Redacted, "k": audit.Redacted}, recs[0]["credentials"],
		"a group named by the deny-list is redacted whole")
	assert.Equal(t, string(audit.BackupFail), recs[1]["event"])
	assert.Equal(t, "failure", recs[1]["outcome"])
}

// entrySink keeps the entries it is given.
type entrySink struct{ got []audit.Entry }

func (*entrySink) Name() string { return "entries" }
func (s *entrySink) Write(batch []*audit.Entry) error {
	for _, e := range batch {
		s.got = append(s.got, *e)
	}
	return nil
}

// TestEntryTimeIsUTC: a sink gets Entry.Time in UTC, as documented, even
// from a clock in another zone.
func TestEntryTimeIsUTC(t *testing.T) {
	tehran := time.FixedZone("IRST", 3*3600+1800)
	sink := &entrySink{}
	l, err := audit.New(audit.Options{Sinks: []audit.Sink{sink}, Now: func() time.Time { return time.Now().In(tehran) }})
	require.NoError(t, err)
	l.Log(context.Background(), audit.AuthnLoginFail, audit.Failure)
	require.NoError(t, l.Close())
	require.Len(t, sink.got, 1)
	assert.Equal(t, time.UTC, sink.got[0].Time.Location())
}
