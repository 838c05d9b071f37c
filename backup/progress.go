package backup

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports the phases of long operations to Options.Progress: a
// progress bar when it is a terminal, plain lines otherwise (a log file, a
// systemd journal, a CI log), so output stays readable either way.
type progress struct {
	w   io.Writer // nil: report nothing
	tty bool
	now func() time.Time
	mu  sync.Mutex // serializes plain lines of concurrent operations
}

func newProgress(w io.Writer, now func() time.Time, isTerminal func(fd int) bool) *progress {
	p := &progress{w: w, now: now}
	if f, ok := w.(*os.File); ok && isTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// isTerminal is the production terminal test.
func isTerminal(fd int) bool { return term.IsTerminal(fd) }

// tracker follows one phase. Write counts bytes (so it can sit in an
// io.MultiWriter or io.TeeReader), set reports an absolute position. A nil
// *tracker does nothing.
type tracker struct {
	p       *progress
	what    string
	total   int64 // -1: unknown
	n       int64
	next    int64 // plain mode: print when n reaches next
	started time.Time
	bar     *progressbar.ProgressBar
}

// plainStep is how often a plain-line tracker of unknown total reports.
const plainStep = 256 << 20

// start begins a phase of total bytes (-1 when unknown).
func (p *progress) start(what string, total int64) *tracker {
	if p == nil || p.w == nil {
		return nil
	}
	t := &tracker{p: p, what: what, total: total, started: p.now()}
	if p.tty {
		t.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
		)
		return t
	}
	if total > 0 {
		t.line("%s: %s", what, humanBytes(total))
	} else {
		t.line("%s", what)
	}
	t.advanceNext()
	return t
}

func (t *tracker) line(format string, args ...any) {
	t.p.mu.Lock()
	defer t.p.mu.Unlock()
	fmt.Fprintf(t.p.w, "backup: "+format+"\n", args...)
}

// advanceNext sets the next plain-line report: every 10% of a known total,
// every 256 MiB otherwise.
func (t *tracker) advanceNext() {
	step := int64(plainStep)
	if t.total > 0 {
		step = max(t.total/10, 1)
	}
	t.next = (t.n/step + 1) * step
}

// Write counts len(b) bytes of progress.
func (t *tracker) Write(b []byte) (int, error) {
	t.add(int64(len(b)))
	return len(b), nil
}

func (t *tracker) add(n int64) {
	if t == nil {
		return
	}
	t.set(t.n + n)
}

// set reports that n bytes (or units) are done.
func (t *tracker) set(n int64) {
	if t == nil {
		return
	}
	t.n = n
	if t.bar != nil {
		_ = t.bar.Set64(n)
		return
	}
	if n >= t.next && (t.total <= 0 || n < t.total) {
		if t.total > 0 {
			t.line("%s: %s of %s (%d%%)", t.what, humanBytes(n), humanBytes(t.total), n*100/t.total)
		} else {
			t.line("%s: %s", t.what, humanBytes(n))
		}
		t.advanceNext()
	}
}

// done ends the phase, successful or not.
func (t *tracker) done(err error) {
	if t == nil {
		return
	}
	if t.bar != nil {
		if err == nil {
			_ = t.bar.Finish()
		} else {
			_ = t.bar.Exit()
			fmt.Fprintln(t.p.w)
		}
		return
	}
	if err != nil {
		t.line("%s: failed after %s", t.what, humanBytes(t.n))
		return
	}
	t.line("%s: done, %s in %s", t.what, humanBytes(t.n), t.p.now().Sub(t.started).Round(time.Millisecond))
}

// humanBytes formats n in IEC units: "512 B", "1.5 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
