package audit_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/audit"
)

var update = flag.Bool("update", false, "rewrite testdata/chain.jsonl")

// chainedLogger returns a Logger over a chained file sink at path, with
// checkpoints written to the returned buffer.
func chainedLogger(t *testing.T, path string, key []byte, every int, fopts audit.FileOptions) (*audit.Logger, *syncBuffer) {
	t.Helper()
	fopts.Path = path
	file, err := audit.NewFileSink(fopts)
	require.NoError(t, err)
	cps := &syncBuffer{}
	chain, err := audit.NewChain(file, audit.ChainOptions{
		Key: key, Name: "audit", Checkpoints: audit.NewWriterSink("checkpoints", cps), CheckpointEvery: every,
	})
	require.NoError(t, err)
	l, err := audit.New(audit.Options{Sinks: []audit.Sink{chain}, Now: clock()})
	require.NoError(t, err)
	return l, cps
}

// logN logs n deterministic events numbered from first.
func logN(l *audit.Logger, first, n int) {
	ctx := audit.WithRequestID(context.Background(), "fixture")
	for i := first; i < first+n; i++ {
		l.Log(ctx, audit.AuthnLoginFail, audit.Failure, slog.Int("i", i), slog.String(audit.KeyUserEmail, "user@example.com"))
	}
}

// writeChain writes a chain of 10 records numbered from first, with a
// checkpoint every `every` records, and returns its lines (each ending in
// '\n') and checkpoints.
func writeChain(t *testing.T, first, every int) (lines []string, cps []audit.Checkpoint) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, cpBuf := chainedLogger(t, path, testKey, every, audit.FileOptions{})
	logN(l, first, 10)
	require.NoError(t, l.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	cps, err = audit.ReadCheckpoints(strings.NewReader(cpBuf.String()), "audit")
	require.NoError(t, err)
	return strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n"), cps
}

// fixture is the chain of the golden file: records 1 to 10, a checkpoint
// after each.
func fixture(t *testing.T) (lines []string, cps []audit.Checkpoint) {
	t.Helper()
	lines, cps = writeChain(t, 1, 1)
	require.Len(t, cps, 10)
	return lines, cps
}

// TestChainGolden pins the on-disk format: logs written by older versions
// must keep verifying. Run with -update to rewrite the fixture after a
// deliberate format change.
func TestChainGolden(t *testing.T) {
	lines, _ := fixture(t)
	got := strings.Join(lines, "") + "\n"
	golden := filepath.Join("testdata", "chain.jsonl")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
	rep, err := audit.Verify([]string{golden}, audit.VerifyOptions{Key: testKey})
	require.NoError(t, err)
	assert.True(t, rep.OK(), rep.String())
	assert.EqualValues(t, 10, rep.Records)
}

// TestVerifyDetectsTampering applies each kind of tampering to a chain of
// 10 records and checks what Verify reports, and where.
func TestVerifyDetectsTampering(t *testing.T) {
	lines, cps := fixture(t)
	otherKey := bytes.Repeat([]byte{7}, 32)
	// A second chain with the same key, for forks and restarts.
	other, _ := writeChain(t, 101, 100)

	join := func(parts ...[]string) string {
		var b strings.Builder
		for _, p := range parts {
			for _, l := range p {
				b.WriteString(l)
				if !strings.HasSuffix(l, "\n") {
					b.WriteString("\n")
				}
			}
		}
		return b.String()
	}
	at := func(i int) []string { return lines[i-1 : i] } // line i (1-based)
	upTo := func(i int) []string { return lines[:i] }    // lines 1..i
	from := func(i int) []string { return lines[i-1:] }  // lines i..

	edited := strings.Replace(lines[4], `"i":5`, `"i":6`, 1)
	forgedMAC := lines[4][:len(lines[4])-5] + `0"}` + "\n"

	cases := []struct {
		name     string
		content  string
		key      []byte
		cps      []audit.Checkpoint
		kind     audit.ProblemKind
		line     int64
		inDetail string
	}{
		{name: "intact", content: join(lines), cps: cps},
		{name: "edited field", content: join(upTo(4), []string{edited}, from(6)), kind: audit.ProblemEdited, line: 5},
		{name: "edited mac", content: join(upTo(4), []string{forgedMAC}, from(6)), kind: audit.ProblemEdited, line: 5},
		{name: "deleted record", content: join(upTo(4), from(6)), kind: audit.ProblemRemoved, line: 5, inDetail: "seq 5 is missing"},
		{name: "deleted records", content: join(upTo(4), from(8)), kind: audit.ProblemRemoved, line: 5, inDetail: "seq 5 to 7"},
		{name: "deleted first record", content: join(from(2)), kind: "", line: 0},
		{name: "inserted forged record", content: join(upTo(4), []string{edited}, from(5)), kind: audit.ProblemInserted, line: 5},
		{name: "inserted plain line", content: join(upTo(4), []string{`{"event":"authn_login_success"}`}, from(5)), kind: audit.ProblemInserted, line: 5},
		{name: "inserted first line", content: join([]string{`{"hello":1}`}, lines), kind: audit.ProblemInserted, line: 1},
		{name: "replayed record", content: join(upTo(6), at(3), from(7)), kind: audit.ProblemInserted, line: 7, inDetail: "seq 3 appears again"},
		{name: "swapped records", content: join(upTo(4), at(6), at(5), from(7)), kind: audit.ProblemReordered, line: 5},
		{name: "record moved to the end", content: join(upTo(1), from(3), at(2)), kind: audit.ProblemReordered, line: 2, inDetail: "seq 2 comes later"},
		{name: "truncated tail", content: join(upTo(7)), cps: cps, kind: audit.ProblemTruncated, line: 7, inDetail: "checkpoint covers seq 10"},
		{name: "truncated tail without checkpoints", content: join(upTo(7))},
		{name: "everything removed", content: "", cps: cps, kind: audit.ProblemTruncated},
		{name: "forked", content: join(upTo(5), other[5:]), kind: audit.ProblemForked, line: 6},
		{name: "restarted", content: join(lines, other), kind: audit.ProblemRestarted, line: 11},
		{name: "wrong key", content: join(lines), key: otherKey, kind: audit.ProblemEdited, line: 1, inDetail: "key is wrong"},
		{name: "cut last line", content: join(upTo(9)) + lines[9][:40], kind: audit.ProblemEdited, line: 10, inDetail: "incomplete last line"},
		{name: "blank line", content: join(upTo(3), []string{""}, from(4)), kind: audit.ProblemInserted, line: 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			key := tc.key
			if key == nil {
				key = testKey
			}
			rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: key, Checkpoints: tc.cps})
			require.NoError(t, err)
			if tc.kind == "" {
				require.True(t, rep.OK(), rep.String())
				return
			}
			require.False(t, rep.OK(), "tampering not detected")
			p := rep.Problem
			assert.Equal(t, tc.kind, p.Kind, rep.String())
			if tc.line > 0 {
				assert.Equal(t, tc.line, p.Line, rep.String())
				assert.Equal(t, path, p.File)
			}
			assert.Contains(t, p.Detail, tc.inDetail)
			assert.ErrorIs(t, rep.Err(), p)
		})
	}
}

// TestTailCutAndContinuedIsForked cuts the newest records while the
// application is down: on restart the chain continues from the cut, which
// only the checkpoints can reveal.
func TestTailCutAndContinuedIsForked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, cpBuf := chainedLogger(t, path, testKey, 1, audit.FileOptions{})
	logN(l, 1, 10)
	require.NoError(t, l.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(data), "\n")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines[:7], "")), 0o600))

	l2, _ := chainedLogger(t, path, testKey, 1, audit.FileOptions{})
	logN(l2, 100, 3)
	require.NoError(t, l2.Close())

	cps, err := audit.ReadCheckpoints(strings.NewReader(cpBuf.String()), "audit")
	require.NoError(t, err)
	rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey, Checkpoints: cps})
	require.NoError(t, err)
	require.False(t, rep.OK())
	assert.Equal(t, audit.ProblemForked, rep.Problem.Kind)
	assert.EqualValues(t, 8, rep.Problem.Line)
	assert.EqualValues(t, 8, rep.Problem.Seq)

	rep, err = audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey})
	require.NoError(t, err)
	assert.True(t, rep.OK(), "without checkpoints the cut is invisible: that is what they are for")
}

// TestRotationKeepsChainVerifiable writes past the rotation size several
// times, restarts, compresses a rotated file, and verifies the whole set;
// then removes a middle file.
func TestRotationKeepsChainVerifiable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	file, err := audit.NewFileSink(audit.FileOptions{Path: path, MaxSizeMB: 1})
	require.NoError(t, err)
	chain, err := audit.NewChain(file, audit.ChainOptions{Key: testKey})
	require.NoError(t, err)
	l, err := audit.New(audit.Options{Sinks: []audit.Sink{chain}})
	require.NoError(t, err)
	pad := strings.Repeat("x", 2000)
	for i := range 1500 { // about 3.4 MB: three rotations
		l.Log(context.Background(), audit.AuthnTokenCreated, audit.Success, slog.Int("i", i), slog.String("pad", pad))
	}
	require.NoError(t, file.Rotate())
	logN(l, 0, 5)
	require.NoError(t, l.Close())

	// Restart: the chain continues from the last record.
	l, _ = chainedLogger(t, path, testKey, 100, audit.FileOptions{MaxSizeMB: 1})
	logN(l, 5, 5)
	require.NoError(t, l.Close())

	files, err := audit.LogFiles(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 5, "rotated files and the active one")
	assert.Equal(t, path, files[len(files)-1], "the active file comes last")

	// Compress the oldest rotated file the way lumberjack's Compress does.
	gzipFile(t, files[0])
	files, err = audit.LogFiles(path)
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(files[0], ".gz"))

	rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey})
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.String())
	assert.EqualValues(t, 1, rep.FirstSeq)
	assert.EqualValues(t, 1510, rep.LastSeq)
	assert.Len(t, rep.Files, len(files))

	// Retention deletes the oldest file: not tampering, the report starts later.
	require.NoError(t, os.Remove(files[0]))
	rep, err = audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey})
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.String())
	assert.Greater(t, rep.FirstSeq, uint64(1))

	// Removing a file in the middle is.
	require.NoError(t, os.Remove(files[2]))
	rep, err = audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey})
	require.NoError(t, err)
	require.False(t, rep.OK())
	assert.Equal(t, audit.ProblemRemoved, rep.Problem.Kind)
	assert.Equal(t, files[3], rep.Problem.File)
	assert.EqualValues(t, 1, rep.Problem.Line)
}

func gzipFile(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err = zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(path+".gz", buf.Bytes(), 0o600))
	require.NoError(t, os.Remove(path))
}

// TestChainResumesAfterRotatedAwayActiveFile restarts with the active file
// missing: the chain continues from the newest rotated file.
func TestChainResumesFromRotatedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	file, err := audit.NewFileSink(audit.FileOptions{Path: path})
	require.NoError(t, err)
	chain, err := audit.NewChain(file, audit.ChainOptions{Key: testKey})
	require.NoError(t, err)
	l, err := audit.New(audit.Options{Sinks: []audit.Sink{chain}})
	require.NoError(t, err)
	logN(l, 0, 3)
	require.NoError(t, file.Rotate())
	require.NoError(t, l.Close())
	require.NoError(t, os.Remove(path)) // lumberjack created an empty one

	l, _ = chainedLogger(t, path, testKey, 100, audit.FileOptions{})
	logN(l, 3, 2)
	require.NoError(t, l.Close())
	rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey})
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.String())
	assert.EqualValues(t, 5, rep.LastSeq)
}

// TestChainAfterTornWrite simulates a crash in the middle of a write: the
// next start continues on a new line, and Verify points at the fragment.
func TestChainAfterTornWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, _ := chainedLogger(t, path, testKey, 100, audit.FileOptions{})
	logN(l, 0, 3)
	require.NoError(t, l.Close())
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"time":"2026-01-02T03:04:05.000Z","level":"WA`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	l, _ = chainedLogger(t, path, testKey, 100, audit.FileOptions{})
	logN(l, 3, 2)
	require.NoError(t, l.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 6, strings.Count(string(data), "\n"), "the fragment is ended before the next record")
	rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey})
	require.NoError(t, err)
	require.False(t, rep.OK())
	assert.EqualValues(t, 4, rep.Problem.Line)
	assert.Equal(t, audit.ProblemInserted, rep.Problem.Kind, "the chain continues after the fragment: %s", rep)
}

func TestNewChainRefuses(t *testing.T) {
	dir := t.TempDir()
	w := audit.NewWriterSink("w", &syncBuffer{})
	_, err := audit.NewChain(w, audit.ChainOptions{Key: []byte("short")})
	require.ErrorIs(t, err, audit.ErrShortKey)
	_, err = audit.NewChain(w, audit.ChainOptions{Key: testKey, Checkpoints: w})
	require.ErrorIs(t, err, audit.ErrInvalidOptions)

	plain := filepath.Join(dir, "plain.log")
	require.NoError(t, os.WriteFile(plain, []byte(`{"event":"x"}`+"\n"), 0o600))
	fs, err := audit.NewFileSink(audit.FileOptions{Path: plain})
	require.NoError(t, err)
	_, err = audit.NewChain(fs, audit.ChainOptions{Key: testKey})
	require.ErrorIs(t, err, audit.ErrNotChained)

	chained := filepath.Join(dir, "chained.log")
	l, _ := chainedLogger(t, chained, testKey, 100, audit.FileOptions{})
	logN(l, 0, 1)
	require.NoError(t, l.Close())
	fs, err = audit.NewFileSink(audit.FileOptions{Path: chained})
	require.NoError(t, err)
	_, err = audit.NewChain(fs, audit.ChainOptions{Key: bytes.Repeat([]byte{1}, 32)})
	require.ErrorIs(t, err, audit.ErrKeyMismatch)

	_, err = audit.Verify([]string{chained}, audit.VerifyOptions{Key: []byte("short")})
	require.ErrorIs(t, err, audit.ErrShortKey)
	_, err = audit.Verify([]string{filepath.Join(dir, "missing.log")}, audit.VerifyOptions{Key: testKey})
	require.Error(t, err)
}

// TestCheckpointInterval checks that a record is covered by a checkpoint
// CheckpointInterval after it was written even when no more records come.
func TestCheckpointInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cps := &syncBuffer{}
		chain, err := audit.NewChain(audit.NewWriterSink("main", &syncBuffer{}), audit.ChainOptions{
			Key: testKey, Name: "main", Checkpoints: audit.NewWriterSink("cps", cps), CheckpointInterval: time.Second,
		})
		require.NoError(t, err)
		l, err := audit.New(audit.Options{Sinks: []audit.Sink{chain}})
		require.NoError(t, err)
		logN(l, 0, 3)
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		assert.Empty(t, cps.String())
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		got, err := audit.ReadCheckpoints(strings.NewReader(cps.String()), "main")
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.EqualValues(t, 3, got[0].Seq)
		require.NoError(t, l.Close())
		got, err = audit.ReadCheckpoints(strings.NewReader(cps.String()), "")
		require.NoError(t, err)
		assert.Len(t, got, 1, "nothing new to cover at Close")
		assert.Equal(t, uint64(3), chain.Seq())
	})
}
