package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ProblemKind says how a chain was tampered with.
type ProblemKind string

// The kinds of problem Verify reports.
const (
	// ProblemEdited: the record's mac does not match its content, or the
	// line is not a chained record at all (also an incomplete last line
	// after a crash, and every record when the key is wrong).
	ProblemEdited ProblemKind = "edited"
	// ProblemRemoved: records are missing before this one (a gap in seq).
	ProblemRemoved ProblemKind = "removed"
	// ProblemInserted: this line does not belong here: a forged line
	// followed by the true next record, a copy of an earlier record, or a
	// record replayed out of place.
	ProblemInserted ProblemKind = "inserted"
	// ProblemReordered: this record is out of order; the one that belongs
	// here comes later.
	ProblemReordered ProblemKind = "reordered"
	// ProblemTruncated: a checkpoint covers records after the last one
	// present: the newest records were removed.
	ProblemTruncated ProblemKind = "truncated"
	// ProblemForked: the record does not follow from its predecessor's mac
	// or differs from a checkpoint: history was replaced from here on (e.g.
	// the tail was cut while the application was down and the chain
	// continued from the cut), or two writers share one file.
	ProblemForked ProblemKind = "forked"
	// ProblemRestarted: a new chain (seq 1) starts in the middle: the
	// chain state was lost or discarded.
	ProblemRestarted ProblemKind = "restarted"
)

// Problem is the first sign of tampering Verify found.
type Problem struct {
	// Kind says what was done to the chain.
	Kind ProblemKind
	// File and Line locate the record (Line counts from 1). For
	// ProblemTruncated they name the last record present.
	File string
	Line int64 // from 1: the line number in File, or the row id of a table
	// Seq is the record's sequence number when it could be read.
	Seq uint64
	// Detail explains what was expected and found.
	Detail string
}

// Error formats the problem as "<file>:<line>: <kind>: <detail>".
func (p *Problem) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Kind, p.Detail)
}

// FileReport summarizes one verified file (or table).
type FileReport struct {
	// Path is the file (or "sql:<table>").
	Path string
	// Records counts its verified records.
	Records int64
	// FirstSeq and LastSeq bound its verified records' sequence numbers.
	FirstSeq, LastSeq uint64
}

// Report is the result of a verification.
type Report struct {
	// Files lists the files in the order they were read.
	Files []FileReport
	// Records counts the records verified before the first problem.
	Records int64
	// FirstSeq and LastSeq bound the verified records. FirstSeq is above 1
	// when older files were removed by retention (MaxBackups, MaxAgeDays):
	// that is not reported as a problem.
	FirstSeq, LastSeq uint64
	// CheckpointsMatched counts checkpoints whose record was found with the
	// same mac; CheckpointsBefore counts those older than FirstSeq (their
	// records were rotated away).
	CheckpointsMatched, CheckpointsBefore int
	// Problem is the first problem found, or nil.
	Problem *Problem
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return r.Problem == nil }

// Err returns the problem as an error, or nil.
func (r *Report) Err() error {
	if r.Problem == nil {
		return nil
	}
	return r.Problem
}

// String summarizes the report in one line, for a CLI.
func (r *Report) String() string {
	files := len(r.Files)
	if r.Problem != nil {
		return fmt.Sprintf("TAMPERED: %v (%d records verified before it, %d file(s))", r.Problem, r.Records, files)
	}
	if r.Records == 0 {
		return fmt.Sprintf("OK: no records (%d file(s))", files)
	}
	return fmt.Sprintf("OK: %d records, seq %d to %d, %d file(s), %d checkpoint(s) matched",
		r.Records, r.FirstSeq, r.LastSeq, files, r.CheckpointsMatched)
}

// Checkpoint is a chain position recorded in a second sink.
type Checkpoint struct {
	// Chain is the chain's name (ChainOptions.Name).
	Chain string
	// Seq is the sequence number the chain had reached.
	Seq uint64
	// MAC is the mac of record Seq.
	MAC [sha256.Size]byte
	// Time is when the checkpoint was written.
	Time time.Time
}

// ParseCheckpoint parses an AuditCheckpoint record written by a [Chain].
// It reports false for any other line.
func ParseCheckpoint(line []byte) (Checkpoint, bool) {
	var w struct {
		Time     time.Time `json:"time"`
		Event    string    `json:"event"`
		Chain    string    `json:"chain"`
		ChainSeq uint64    `json:"chain_seq"`
		ChainMAC string    `json:"chain_mac"`
	}
	if !bytes.Contains(line, []byte(AuditCheckpoint)) || json.Unmarshal(line, &w) != nil || w.Event != string(AuditCheckpoint) || w.ChainSeq == 0 {
		return Checkpoint{}, false
	}
	cp := Checkpoint{Chain: w.Chain, Seq: w.ChainSeq, Time: w.Time}
	if !decodeLowerHex(cp.MAC[:], []byte(w.ChainMAC)) {
		return Checkpoint{}, false
	}
	return cp, true
}

// ReadCheckpoints returns the checkpoints of the named chain ("" for all)
// found among the JSON lines of r (a stdout capture, a log service export);
// other lines are skipped.
func ReadCheckpoints(r io.Reader, chain string) ([]Checkpoint, error) {
	var cps []Checkpoint
	err := readLines(r, func(_ int64, line []byte, _ bool) {
		if cp, ok := ParseCheckpoint(line); ok && (chain == "" || cp.Chain == chain) {
			cps = append(cps, cp)
		}
	})
	return cps, err
}

// VerifyOptions configures Verify and NewVerifier.
type VerifyOptions struct {
	// Key is the chain's key. Required.
	Key []byte
	// Checkpoints of the chain (ReadCheckpoints, or the SQL sink's
	// Checkpoints). Zero value: none; tail truncation is then not
	// detected.
	Checkpoints []Checkpoint
}

// Verifier checks a chain record by record, for records that do not come
// from files (Verify uses it for files; the SQL sink for tables). It is not
// safe for concurrent use. Create it with [NewVerifier].
type Verifier struct {
	mac    hash.Hash
	sum    [sha256.Size]byte // scratch for mac sums
	cps    map[uint64][sha256.Size]byte
	maxCP  uint64
	report Report

	started bool
	lastSeq uint64
	lastMAC [sha256.Size]byte
	last    *FileReport // the file of the last record seen
	lastPos position

	// A suspected problem waits for more records to be classified.
	cand *candidate
}

type position struct {
	file string
	line int64
}

type candidate struct {
	Problem
	needNext  bool   // edited or inserted: decided by the next record
	expectSeq uint64 // (needNext) the seq the next record must have for "inserted"; 0 if unknown
	wantSeq   uint64 // removed or reordered: is wantSeq found later?
}

// NewVerifier returns a Verifier for the chain keyed by opts.Key.
func NewVerifier(opts VerifyOptions) (*Verifier, error) {
	if len(opts.Key) < MinKeyLength {
		return nil, fmt.Errorf("%w: the key has %d bytes, a chain key has at least %d", ErrShortKey, len(opts.Key), MinKeyLength)
	}
	v := &Verifier{mac: hmac.New(sha256.New, append([]byte(nil), opts.Key...)), cps: map[uint64][sha256.Size]byte{}}
	for _, cp := range opts.Checkpoints {
		if _, dup := v.cps[cp.Seq]; !dup {
			v.cps[cp.Seq] = cp.MAC
		}
		v.maxCP = max(v.maxCP, cp.Seq)
	}
	return v, nil
}

// Add checks the next record, read from file (or table) at line (or row
// number). After the first problem, Add only reads on as far as needed to
// classify it.
func (v *Verifier) Add(file string, line int64, record []byte) {
	if v.report.Problem != nil {
		return
	}
	if v.last == nil || v.last.Path != file {
		v.report.Files = append(v.report.Files, FileReport{Path: file})
		v.last = &v.report.Files[len(v.report.Files)-1]
	}
	pos := position{file, line}
	f, parsed := parseChainFields(record)
	valid := parsed && v.macOK(f)

	if c := v.cand; c != nil {
		switch {
		case c.needNext:
			if valid && c.expectSeq != 0 && f.seq == c.expectSeq && (!v.started || f.prev == v.lastMAC) {
				c.Kind = ProblemInserted
				c.Detail = fmt.Sprintf("this line is not part of the chain; the record after it (seq %d) continues the chain", f.seq)
			}
			v.fail(c.Problem)
		case valid && f.seq == c.wantSeq:
			c.Kind = ProblemReordered
			c.Detail = fmt.Sprintf("expected seq %d here, found seq %d; seq %d comes later, at %s:%d", c.wantSeq, c.Seq, c.wantSeq, file, line)
			v.fail(c.Problem)
		}
		return
	}

	expected := v.lastSeq + 1
	switch {
	case !parsed:
		v.suspectEdited(pos, 0, expected, "not a chained record (no valid seq, prev and mac fields)")
	case !valid:
		detail := "the mac does not match the record: its content was changed"
		if !v.started {
			detail += " (or the key is wrong)"
		}
		v.suspectEdited(pos, f.seq, expected, detail)
	case !v.started:
		v.accept(f, pos)
	case f.seq == expected && f.prev != v.lastMAC:
		v.fail(Problem{Kind: ProblemForked, File: file, Line: line, Seq: f.seq,
			Detail: fmt.Sprintf("seq %d does not follow from the record before it (its prev is not that record's mac)", f.seq)})
	case f.seq == expected:
		v.accept(f, pos)
	case f.seq > expected:
		v.cand = &candidate{
			Problem: Problem{Kind: ProblemRemoved, File: file, Line: line, Seq: f.seq,
				Detail: removedDetail(expected, f.seq)},
			wantSeq: expected,
		}
	case f.seq == 1 && f.prev == [sha256.Size]byte{}:
		v.fail(Problem{Kind: ProblemRestarted, File: file, Line: line, Seq: 1,
			Detail: fmt.Sprintf("a new chain starts here after seq %d", v.lastSeq)})
	default:
		v.fail(Problem{Kind: ProblemInserted, File: file, Line: line, Seq: f.seq,
			Detail: fmt.Sprintf("seq %d appears again after seq %d: a copy of an earlier record", f.seq, v.lastSeq)})
	}
}

func removedDetail(from, to uint64) string {
	if to-from == 1 {
		return fmt.Sprintf("seq %d is missing before seq %d", from, to)
	}
	return fmt.Sprintf("seq %d to %d are missing before seq %d", from, to-1, to)
}

func (v *Verifier) suspectEdited(pos position, seq, expected uint64, detail string) {
	c := &candidate{Problem: Problem{Kind: ProblemEdited, File: pos.file, Line: pos.line, Seq: seq, Detail: detail}, needNext: true}
	if v.started {
		c.expectSeq = expected
	} else {
		c.expectSeq = 1
	}
	v.cand = c
}

func (v *Verifier) macOK(f chainFields) bool {
	return macMatches(v.mac, &v.sum, f)
}

func (v *Verifier) accept(f chainFields, pos position) {
	if want, ok := v.cps[f.seq]; ok {
		if want != f.mac {
			v.fail(Problem{Kind: ProblemForked, File: pos.file, Line: pos.line, Seq: f.seq,
				Detail: fmt.Sprintf("seq %d differs from the checkpoint of that seq: the records were replaced from here on (tail cut and the chain continued), or rewritten with the key", f.seq)})
			return
		}
		v.report.CheckpointsMatched++
	}
	if !v.started {
		v.started = true
		v.report.FirstSeq = f.seq
	}
	v.lastSeq, v.lastMAC, v.lastPos = f.seq, f.mac, pos
	v.report.Records++
	v.report.LastSeq = f.seq
	if v.last.Records == 0 {
		v.last.FirstSeq = f.seq
	}
	v.last.Records++
	v.last.LastSeq = f.seq
}

func (v *Verifier) fail(p Problem) {
	v.cand = nil
	v.report.Problem = &p
}

// Report finishes the verification and returns its result. Call it once,
// after the last Add.
func (v *Verifier) Report() *Report {
	if c := v.cand; c != nil {
		v.fail(c.Problem)
	}
	if v.report.Problem == nil && v.maxCP > v.lastSeq {
		p := Problem{Kind: ProblemTruncated, File: v.lastPos.file, Line: v.lastPos.line, Seq: v.lastSeq,
			Detail: fmt.Sprintf("a checkpoint covers seq %d but the last record is seq %d: the newest records were removed", v.maxCP, v.lastSeq)}
		if !v.started {
			p.Detail = fmt.Sprintf("a checkpoint covers seq %d but there are no records", v.maxCP)
		}
		v.report.Problem = &p
	}
	for seq := range v.cps {
		if v.started && seq < v.report.FirstSeq {
			v.report.CheckpointsBefore++
		}
	}
	return &v.report
}

// Verify checks the chain of a chained file sink across its files. Each
// path is either an active log file, which stands for itself and its
// rotated files (found next to it by [LogFiles], oldest first, gzipped ones
// included), or a rotated file, which stands for itself; give paths oldest
// first. Tampering is reported in the Report, not as an error; the error is
// for files that cannot be read and for a short key.
func Verify(paths []string, opts VerifyOptions) (*Report, error) {
	v, err := NewVerifier(opts)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, p := range paths {
		var fs []string
		if isBackupName(p) {
			fs = []string{p}
		} else if fs, err = LogFiles(p); err != nil {
			return nil, err
		}
		for _, f := range fs {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("audit: verify: no log files at %s", strings.Join(paths, ", "))
	}
	var torn position
	for _, path := range files {
		if err := verifyFile(v, path, &torn); err != nil {
			return nil, err
		}
	}
	r := v.Report()
	if p := r.Problem; p != nil && p.Kind == ProblemEdited && p.File == torn.file && p.Line == torn.line {
		p.Detail = "incomplete last line: the writer stopped in the middle of a record (a crash), or the file was cut"
	}
	return r, nil
}

func verifyFile(v *Verifier, path string, torn *position) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("audit: verify: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if filepath.Ext(path) == ".gz" {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("audit: verify %s: %w", path, err)
		}
		r = zr
	}
	err = readLines(r, func(n int64, line []byte, complete bool) {
		if !complete {
			*torn = position{path, n}
		}
		v.Add(path, n, line)
	})
	if err != nil {
		return fmt.Errorf("audit: verify %s: %w", path, err)
	}
	return nil
}

// maxLineBytes bounds the line a reader of untrusted logs keeps; the rest of
// a longer line is discarded (it cannot be a valid record).
const maxLineBytes = 1 << 20

// readLines calls fn for each line of r (without its '\n'), numbered from
// 1; complete is false for a last line without '\n'. Lines longer than
// maxLineBytes are cut.
func readLines(r io.Reader, fn func(n int64, line []byte, complete bool)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	var n int64
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long) < maxLineBytes {
				long = append(long, chunk[:min(len(chunk), maxLineBytes-len(long))]...)
			}
			continue
		}
		if len(chunk) == 0 && len(long) == 0 && err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		complete := len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
		if complete {
			chunk = chunk[:len(chunk)-1]
		}
		line := chunk
		if long != nil {
			if len(long) < maxLineBytes {
				long = append(long, chunk[:min(len(chunk), maxLineBytes-len(long))]...)
			}
			line, long = long, nil
		}
		n++
		fn(n, line, complete)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// backupTimeLayout is the time in rotated file names (lumberjack's).
const backupTimeLayout = "2006-01-02T15-04-05.000"

// isBackupName reports whether path names a rotated file:
// <prefix>-<time><ext>[.gz].
func isBackupName(path string) bool {
	base := strings.TrimSuffix(filepath.Base(path), ".gz")
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if len(stem) < len(backupTimeLayout)+2 || stem[len(stem)-len(backupTimeLayout)-1] != '-' {
		return false
	}
	_, err := time.Parse(backupTimeLayout, stem[len(stem)-len(backupTimeLayout):])
	return err == nil
}

// LogFiles returns the files of a file sink in the order they were
// written: the rotated files next to the active file at path, oldest first
// (by the time in their names; a gzipped file is skipped when its
// uncompressed original is still there, i.e. compression is under way),
// then the active file if it exists.
func LogFiles(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ext := filepath.Ext(base)
	prefix := strings.TrimSuffix(base, ext) + "-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: log files of %s: %w", path, err)
	}
	type backup struct {
		t    time.Time
		name string
	}
	var backups []backup
	names := map[string]bool{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			names[e.Name()] = true
		}
	}
	for name := range names {
		stem := strings.TrimSuffix(name, ".gz")
		if stem != name && names[stem] {
			continue // compression under way: the original is complete
		}
		if !strings.HasPrefix(stem, prefix) || !strings.HasSuffix(stem, ext) {
			continue
		}
		t, err := time.Parse(backupTimeLayout, stem[len(prefix):len(stem)-len(ext)])
		if err != nil {
			continue
		}
		backups = append(backups, backup{t, name})
	}
	slices.SortFunc(backups, func(a, b backup) int {
		if c := a.t.Compare(b.t); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	files := make([]string, 0, len(backups)+1)
	for _, b := range backups {
		files = append(files, filepath.Join(dir, b.name))
	}
	if names[base] {
		files = append(files, path)
	}
	return files, nil
}
