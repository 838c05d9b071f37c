package audit

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// FileOptions configures a [FileSink].
type FileOptions struct {
	// Path is the active log file, e.g. "/var/log/senfi/audit.log". Its
	// directory is created (mode 0700) if missing; the file is created with
	// mode 0600. Rotated files are named <name>-<UTC time><ext>
	// ("audit-2026-01-02T15-04-05.000.log") next to it. Required.
	Path string
	// MaxSizeMB is the size in megabytes at which the file is rotated.
	// Zero value: 100.
	MaxSizeMB int
	// MaxBackups is the number of rotated files kept; older ones are
	// deleted. Zero value: all are kept (an audit trail is evidence: decide
	// deliberately how much of it to throw away).
	MaxBackups int
	// MaxAgeDays deletes rotated files older than this many days. Zero
	// value: none are deleted for age.
	MaxAgeDays int
	// Compress gzips rotated files (Verify reads them). Zero value: false.
	Compress bool
	// Sync calls fsync after every batch, so that records survive a power
	// loss, at the cost of a disk flush per batch. Zero value: false (a
	// record is in the operating system's cache once written, which
	// survives a crash of the application but not of the machine).
	Sync bool
}

// DefaultMaxSizeMB is the rotation size when FileOptions.MaxSizeMB is zero.
const DefaultMaxSizeMB = 100

// FileSink writes records as JSON lines to a file with size-based rotation
// and retention (gopkg.in/natefinch/lumberjack.v2). Rotation only happens
// between batches, so a record is never split across files. It is a
// [Resumer], so a [Chain] over it continues after restarts and rotations.
// It is safe for concurrent use. Create it with [NewFileSink].
type FileSink struct {
	path string
	lj   *lumberjack.Logger
	sync bool

	mu         sync.Mutex
	buf        []byte
	torn       bool // the file may end in a partial line: start the next write with '\n'
	lastRotate time.Time
}

var (
	_ Sink    = (*FileSink)(nil)
	_ Resumer = (*FileSink)(nil)
)

// maxWrite bounds one write to the file, well under the smallest rotation
// size (lumberjack refuses a write larger than MaxSize).
const maxWrite = 256 << 10

// NewFileSink checks that opts.Path can be written and returns the sink.
func NewFileSink(opts FileOptions) (*FileSink, error) {
	var errs []error
	if opts.Path == "" {
		errs = append(errs, fmt.Errorf("%w: FileOptions.Path is empty: name the audit log file", ErrInvalidOptions))
	}
	if opts.MaxSizeMB < 0 || opts.MaxBackups < 0 || opts.MaxAgeDays < 0 {
		errs = append(errs, fmt.Errorf("%w: FileOptions.MaxSizeMB, MaxBackups and MaxAgeDays must not be negative", ErrInvalidOptions))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.MaxSizeMB == 0 {
		opts.MaxSizeMB = DefaultMaxSizeMB
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: file sink: %w", err)
	}
	f, err := os.OpenFile(opts.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: file sink: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("audit: file sink: %w", err)
	}
	s := &FileSink{
		path: opts.Path,
		sync: opts.Sync,
		lj: &lumberjack.Logger{
			Filename:   opts.Path,
			MaxSize:    opts.MaxSizeMB,
			MaxBackups: opts.MaxBackups,
			MaxAge:     opts.MaxAgeDays,
			Compress:   opts.Compress,
		},
	}
	if last, err := tailOfFile(opts.Path); err == nil && last.torn {
		s.torn = true
	}
	return s, nil
}

// Name returns "file:" and the path.
func (s *FileSink) Name() string { return "file:" + s.path }

// Path returns the active log file.
func (s *FileSink) Path() string { return s.path }

// Write appends the batch's lines.
func (s *FileSink) Write(batch []*Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(batch) > 0 {
		s.buf = s.buf[:0]
		if s.torn {
			s.buf = append(s.buf, '\n')
		}
		n := 0
		for n < len(batch) && (n == 0 || len(s.buf)+len(batch[n].Line) < maxWrite) {
			s.buf = append(s.buf, batch[n].Line...)
			s.buf = append(s.buf, '\n')
			n++
		}
		written, err := s.lj.Write(s.buf)
		if err != nil {
			s.torn = s.torn || written > 0
			return err
		}
		s.torn = false
		batch = batch[n:]
	}
	if cap(s.buf) > maxKeptBuffer {
		s.buf = nil
	}
	if s.sync {
		return syncPath(s.path)
	}
	return nil
}

// syncPath flushes the file at path to stable storage. After a Write, the
// path names the file just written (lumberjack rotates before writing).
func syncPath(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Rotate moves the active file aside and starts a new one, as reaching
// MaxSizeMB does; call it on SIGHUP or from a scheduler for time-based
// rotation.
func (s *FileSink) Rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Rotated names carry milliseconds; a second rotation in the same
	// millisecond would overwrite the first rotated file.
	if d := time.Since(s.lastRotate); d < 2*time.Millisecond {
		time.Sleep(2*time.Millisecond - d)
	}
	s.lastRotate = time.Now()
	return s.lj.Rotate()
}

// Close closes the file. Further writes reopen it.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lj.Close()
}

// LastRecord returns the last complete line of the active file, or of the
// newest rotated file when the active one has none.
func (s *FileSink) LastRecord() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := tailOfFile(s.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if t.line != nil {
		return t.line, nil
	}
	files, err := LogFiles(s.path)
	if err != nil {
		return nil, err
	}
	for i := len(files) - 1; i >= 0; i-- {
		if files[i] == s.path {
			continue
		}
		t, err := tailOfFile(files[i])
		if err != nil {
			return nil, err
		}
		if t.line != nil {
			return t.line, nil
		}
	}
	return nil, nil
}

// tail is the end of a log file.
type tail struct {
	line []byte // the last complete line, without '\n'; nil if none
	torn bool   // the file does not end with '\n'
}

// maxTailScan bounds how far back tailOfFile looks for a line start.
const maxTailScan = 4 << 20

// tailOfFile reads the last complete line of a log file (gzip-compressed
// if its name ends in ".gz").
func tailOfFile(path string) (tail, error) {
	if filepath.Ext(path) == ".gz" {
		data, err := readGzip(path)
		if err != nil {
			return tail{}, err
		}
		t, _ := tailOf(data, true)
		return t, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return tail{}, err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return tail{}, err
	}
	// Read backwards in growing windows until the window holds the whole
	// last line (a newline before it, or the start of the file).
	for window := int64(64 << 10); ; window *= 4 {
		off := max(size-window, 0)
		buf := make([]byte, size-off)
		if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
			return tail{}, err
		}
		t, whole := tailOf(buf, off == 0)
		if whole || window >= maxTailScan {
			return t, nil
		}
	}
}

// tailOf returns the last complete line of data, the end of a file (all of
// it if atStart). whole is false when the line may begin before data does.
func tailOf(data []byte, atStart bool) (t tail, whole bool) {
	end := len(data)
	if end > 0 && data[end-1] != '\n' {
		t.torn = true
		end = bytes.LastIndexByte(data, '\n') + 1 // keep the complete lines only
	}
	if end == 0 {
		return t, atStart
	}
	body := data[:end-1]
	start := bytes.LastIndexByte(body, '\n') + 1
	if start == 0 && !atStart {
		return t, false
	}
	t.line = append([]byte(nil), body[start:]...)
	return t, true
}

// maxGzipBytes bounds the decompressed size of a rotated file read by
// LastRecord, against a decompression bomb planted in the log directory.
const maxGzipBytes = 1 << 30

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	data, err := io.ReadAll(io.LimitReader(zr, maxGzipBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}
