package backup

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Long operations report progress as plain lines when the writer is not a
// terminal.
func TestProgressPlainLines(t *testing.T) {
	live := sqliteLive(t)
	seed(t, live, 100)
	var out bytes.Buffer
	m, _ := testManager(t, live, func(o *Options) { o.Progress = &out })
	ctx := ctxT(t)
	info, err := m.Create(ctx)
	require.NoError(t, err)
	_, err = m.Verify(ctx, info.Name)
	require.NoError(t, err)

	text := out.String()
	for _, want := range []string{
		"backup: snapshot live.db: ",
		"backup: snapshot live.db: done, ",
		"backup: compress and write: done, ",
		"backup: checksum " + info.Name + ": done, ",
		"backup: restore to scratch copy: done, ",
	} {
		assert.Contains(t, text, want)
	}
	for line := range strings.Lines(text) {
		assert.True(t, strings.HasPrefix(line, "backup: "), line)
		assert.NotContains(t, line, "\r", "no terminal control in plain output")
	}
}

func TestTrackerLines(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(0, 0)
	p := newProgress(&out, func() time.Time { return now }, func(int) bool { return false })
	tr := p.start("copy", 1000)
	for range 10 {
		tr.add(100)
	}
	now = now.Add(1500 * time.Millisecond)
	tr.done(nil)
	assert.Equal(t, "backup: copy: 1000 B\n"+
		"backup: copy: 100 B of 1000 B (10%)\nbackup: copy: 200 B of 1000 B (20%)\nbackup: copy: 300 B of 1000 B (30%)\n"+
		"backup: copy: 400 B of 1000 B (40%)\nbackup: copy: 500 B of 1000 B (50%)\nbackup: copy: 600 B of 1000 B (60%)\n"+
		"backup: copy: 700 B of 1000 B (70%)\nbackup: copy: 800 B of 1000 B (80%)\nbackup: copy: 900 B of 1000 B (90%)\n"+
		"backup: copy: done, 1000 B in 1.5s\n", out.String())

	out.Reset()
	tr = p.start("pg_dump senfi", -1)
	tr.add(300 << 20)
	tr.done(errors.New("x"))
	assert.Equal(t, "backup: pg_dump senfi\nbackup: pg_dump senfi: 300.0 MiB\nbackup: pg_dump senfi: failed after 300.0 MiB\n", out.String())

	var nilTracker *tracker
	nilTracker.add(1)
	nilTracker.done(nil)
	assert.Nil(t, (&progress{}).start("x", 1))
	assert.Equal(t, "1.5 GiB", humanBytes(3<<29))
}

// On a terminal the output is a progress bar (schollz/progressbar).
func TestProgressBarOnTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	p := newProgress(w, time.Now, func(int) bool { return true })
	require.True(t, p.tty)
	tr := p.start("checksum x", 4<<20)
	tr.add(4 << 20)
	tr.done(nil)
	require.NoError(t, w.Close())
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Contains(t, string(out), "checksum x")
	assert.Contains(t, string(out), "100%")
	assert.Contains(t, string(out), "MiB")
}
