package sqlsink_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/audit/sqlsink"
	"github.com/senfi-sharif/senfi/internal/clientip"
	"github.com/senfi-sharif/senfi/internal/testenv"
)

var key = []byte("0123456789abcdef0123456789abcdef-sqlsink")

// forEachDB runs fn against a fresh SQLite database and a fresh PostgreSQL
// database.
func forEachDB(t *testing.T, fn func(t *testing.T, db *sqlx.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, testenv.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, testenv.Postgres(t)) })
}

func newSink(t *testing.T, db *sqlx.DB) *sqlsink.Sink {
	t.Helper()
	s, err := sqlsink.New(db, sqlsink.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	require.NoError(t, s.Migrate(context.Background()), "Migrate is idempotent")
	return s
}

func fixedNow() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC) }

func TestWriteColumns(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqlx.DB) {
		s := newSink(t, db)
		l, err := audit.New(audit.Options{Sinks: []audit.Sink{s}, Now: fixedNow})
		require.NoError(t, err)
		ctx := clientip.NewContext(audit.WithRequestID(context.Background(), "req-7"), netip.MustParseAddr("203.0.113.5"))
		l.Log(ctx, audit.AuthnLoginFail, audit.Failure,
			slog.String(audit.KeyUserEmail, "ali@example.com"), slog.String("reason", "bad_password"),
			slog.String("password", "hunter2"), slog.Int("attempt", 3))
		l.Log(context.Background(), audit.SysStartup, audit.Success)
		slog.New(l.SlogHandler()).Info("hello", "k", "v")
		require.NoError(t, l.Close())

		var rows []struct {
			ID        int64
			Time      any
			Level     string
			Event     *string
			Outcome   *string
			Message   *string
			RequestID *string `db:"request_id"`
			ClientIP  *string `db:"client_ip"`
			UserID    *string `db:"user_id"`
			UserEmail *string `db:"user_email"`
			Seq       *int64
			Attrs     string
			Record    string
		}
		require.NoError(t, db.Select(&rows, "SELECT id, time, level, event, outcome, message, request_id, client_ip, user_id, user_email, seq, attrs, record FROM audit_events ORDER BY id"))
		require.Len(t, rows, 3)
		r := rows[0]
		assert.Equal(t, "WARN", r.Level)
		assert.Equal(t, "authn_login_fail", *r.Event)
		assert.Equal(t, "failure", *r.Outcome)
		assert.Nil(t, r.Message)
		assert.Equal(t, "req-7", *r.RequestID)
		assert.Equal(t, "203.0.113.5", *r.ClientIP)
		assert.Nil(t, r.UserID)
		assert.Equal(t, "ali@example.com", *r.UserEmail)
		assert.Nil(t, r.Seq)
		var attrs map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.Attrs), &attrs))
		assert.Equal(t, map[string]any{"reason": "bad_password", "password": audit.Redacted, "attempt": 3.0}, attrs)
		assert.True(t, strings.HasPrefix(r.Record, `{"time":"2026-01-02T03:04:05.678Z","level":"WARN","event":"authn_login_fail"`), r.Record)
		assert.NotContains(t, r.Record+r.Attrs, "hunter2")
		assert.Equal(t, "{}", strings.ReplaceAll(rows[1].Attrs, " ", ""))
		assert.Equal(t, "hello", *rows[2].Message)
		assert.Nil(t, rows[2].Event)

		// The columns serve the queries admins write.
		var reason string
		q := "SELECT json_extract(attrs, '$.reason') FROM audit_events WHERE event = ? AND time >= ?"
		since := any("2026-01-02T00:00:00.000Z")
		if s.Dialect() == sqlsink.Postgres {
			q = "SELECT attrs->>'reason' FROM audit_events WHERE event = $1 AND time >= $2"
			since = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
		}
		require.NoError(t, db.Get(&reason, q, "authn_login_fail", since))
		assert.Equal(t, "bad_password", reason)
	})
}

func TestLargeBatchesKeepOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqlx.DB) {
		s := newSink(t, db)
		l, err := audit.New(audit.Options{Sinks: []audit.Sink{s}, QueueSize: 1000})
		require.NoError(t, err)
		for i := range 500 {
			l.Log(context.Background(), audit.UserCreated, audit.Success, slog.Int("i", i))
		}
		require.NoError(t, l.Close())
		assert.Zero(t, l.Stats().Sinks[0].Failed)
		var recs []string
		require.NoError(t, db.Select(&recs, "SELECT record FROM audit_events ORDER BY id"))
		require.Len(t, recs, 500)
		for i, r := range recs {
			require.Contains(t, r, `"i":`+itoa(i)+`}`)
		}
	})
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestWriteBatchSizes writes batches directly, one statement (1, 64 rows)
// and several in a transaction (65, 200 rows): every row lands, in order.
func TestWriteBatchSizes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqlx.DB) {
		s := newSink(t, db)
		total := 0
		for _, n := range []int{1, 64, 65, 200} {
			batch := make([]*audit.Entry, n)
			for i := range batch {
				batch[i] = &audit.Entry{Time: time.Now(), Level: slog.LevelInfo, Event: audit.UserCreated, Outcome: audit.Success,
					Line: []byte(`{"n":` + itoa(total+i) + `}`)}
			}
			require.NoError(t, s.Write(batch), "%d rows", n)
			total += n
		}
		var recs []string
		require.NoError(t, db.Select(&recs, "SELECT record FROM audit_events ORDER BY id"))
		require.Len(t, recs, total)
		for i, r := range recs {
			require.Equal(t, `{"n":`+itoa(i)+`}`, r)
		}
	})
}

func TestChainedTable(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqlx.DB) {
		ctx := context.Background()
		s := newSink(t, db)
		logSome := func(n int) {
			chain, err := audit.NewChain(s, audit.ChainOptions{Key: key})
			require.NoError(t, err)
			l, err := audit.New(audit.Options{Sinks: []audit.Sink{chain}})
			require.NoError(t, err)
			for i := range n {
				l.Log(ctx, audit.AuthzAdmin, audit.Success, slog.Int("i", i))
			}
			require.NoError(t, l.Close())
		}
		logSome(10)
		logSome(5) // a restart: the chain continues from the table's last row

		rep, err := s.Verify(ctx, audit.VerifyOptions{Key: key})
		require.NoError(t, err)
		require.True(t, rep.OK(), rep.String())
		assert.EqualValues(t, 15, rep.LastSeq)
		var seqs []int64
		require.NoError(t, db.Select(&seqs, "SELECT seq FROM audit_events ORDER BY id"))
		assert.Len(t, seqs, 15)
		assert.EqualValues(t, 15, seqs[14])

		_, err = db.Exec(db.Rebind("DELETE FROM audit_events WHERE seq = ?"), 7)
		require.NoError(t, err)
		rep, err = s.Verify(ctx, audit.VerifyOptions{Key: key})
		require.NoError(t, err)
		require.False(t, rep.OK())
		assert.Equal(t, audit.ProblemRemoved, rep.Problem.Kind)
		assert.Equal(t, "sql:audit_events", rep.Problem.File)
		assert.EqualValues(t, 8, rep.Problem.Line, "the row id of seq 8")

		_, err = db.Exec(db.Rebind("UPDATE audit_events SET record = REPLACE(record, '\"i\":2', '\"i\":9') WHERE seq = ?"), 3)
		require.NoError(t, err)
		rep, err = s.Verify(ctx, audit.VerifyOptions{Key: key})
		require.NoError(t, err)
		assert.Equal(t, audit.ProblemEdited, rep.Problem.Kind)
		assert.EqualValues(t, 3, rep.Problem.Seq)
	})
}

// TestCheckpointsInTable uses the table as the checkpoint sink of a chained
// file, and verifies the file with the checkpoints read back.
func TestCheckpointsInTable(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqlx.DB) {
		ctx := context.Background()
		s := newSink(t, db)
		path := filepath.Join(t.TempDir(), "audit.log")
		file, err := audit.NewFileSink(audit.FileOptions{Path: path})
		require.NoError(t, err)
		chain, err := audit.NewChain(file, audit.ChainOptions{Key: key, Name: "audit-file", Checkpoints: s, CheckpointEvery: 4})
		require.NoError(t, err)
		l, err := audit.New(audit.Options{Sinks: []audit.Sink{chain}})
		require.NoError(t, err)
		for i := range 10 {
			l.Log(ctx, audit.AuthnLoginSuccess, audit.Success, slog.Int("i", i))
		}
		require.NoError(t, l.Close())

		cps, err := s.Checkpoints(ctx, "audit-file")
		require.NoError(t, err)
		require.Len(t, cps, 3) // seq 4, 8, and 10 at Close
		assert.EqualValues(t, []uint64{4, 8, 10}, []uint64{cps[0].Seq, cps[1].Seq, cps[2].Seq})
		none, err := s.Checkpoints(ctx, "other")
		require.NoError(t, err)
		assert.Empty(t, none)
		rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: key, Checkpoints: cps})
		require.NoError(t, err)
		require.True(t, rep.OK(), rep.String())
		assert.Equal(t, 3, rep.CheckpointsMatched)
	})
}

func TestWriteFailureIsReported(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *sqlx.DB) {
		s := newSink(t, db)
		errOut := &strings.Builder{}
		var mu sync.Mutex
		l, err := audit.New(audit.Options{Sinks: []audit.Sink{s}, ErrorOutput: lockedWriter{&mu, errOut}})
		require.NoError(t, err)
		_, err = db.Exec("DROP TABLE audit_events")
		require.NoError(t, err)
		l.Log(context.Background(), audit.AuthnLoginFail, audit.Failure)
		require.NoError(t, l.Close())
		st := l.Stats()
		assert.EqualValues(t, 1, st.Sinks[0].Failed)
		assert.EqualValues(t, 1, st.Undelivered)
		mu.Lock()
		defer mu.Unlock()
		assert.Contains(t, errOut.String(), "sink sql:audit_events")
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func TestConcurrentMigrate(t *testing.T) {
	db := testenv.Postgres(t)
	s, err := sqlsink.New(db, sqlsink.Options{Table: "events"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Migrate(context.Background()) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

func TestNewRefuses(t *testing.T) {
	_, err := sqlsink.New(nil, sqlsink.Options{})
	require.ErrorIs(t, err, sqlsink.ErrNilDB)
	db := testenv.SQLite(t)
	_, err = sqlsink.New(sqlx.NewDb(db.DB, "mysql"), sqlsink.Options{})
	require.ErrorIs(t, err, sqlsink.ErrUnsupportedDriver)
	for _, bad := range []string{"Audit", "1abc", "a-b", "a;drop", strings.Repeat("a", 49)} {
		_, err = sqlsink.New(db, sqlsink.Options{Table: bad})
		require.ErrorIs(t, err, sqlsink.ErrInvalidTable, bad)
	}
	_, err = sqlsink.Schema("oracle", "")
	require.ErrorIs(t, err, sqlsink.ErrUnsupportedDriver)
}

func TestSchema(t *testing.T) {
	for _, d := range []sqlsink.Dialect{sqlsink.Postgres, sqlsink.SQLite} {
		ddl, err := sqlsink.Schema(d, "security_log")
		require.NoError(t, err)
		assert.Contains(t, ddl, "CREATE TABLE IF NOT EXISTS security_log (")
		assert.Contains(t, ddl, "CREATE INDEX IF NOT EXISTS security_log_event_time_idx ON security_log (event, time);")
	}
	// The DDL runs as is.
	db := testenv.SQLite(t)
	ddl, err := sqlsink.Schema(sqlsink.SQLite, "")
	require.NoError(t, err)
	_, err = db.Exec(ddl)
	require.NoError(t, err)
}
