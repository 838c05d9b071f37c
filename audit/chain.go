package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
)

// MinKeyLength is the shortest chain key NewChain and Verify accept: 32
// bytes, the output size of SHA-256 (RFC 2104 §3).
const MinKeyLength = 32

// Checkpoint defaults, used when ChainOptions leaves them zero.
const (
	DefaultCheckpointEvery    = 100
	DefaultCheckpointInterval = time.Second
)

// ChainOptions configures a [Chain].
type ChainOptions struct {
	// Key is the HMAC-SHA-256 key, at least MinKeyLength bytes of secret
	// random data (e.g. 32 bytes from crypto/rand, kept with the
	// application's other secrets, never next to the logs). Whoever has the
	// key can forge records; whoever only has the files cannot. Required.
	Key []byte

	// Name identifies the chain in its checkpoints. Zero value: the inner
	// sink's Name.
	Name string

	// Checkpoints receives a checkpoint record (event AuditCheckpoint,
	// fields chain, chain_seq, chain_mac) every CheckpointEvery records,
	// CheckpointInterval after a record not yet covered, and on Close. Send
	// them somewhere an attacker who can edit the chained sink cannot reach
	// (stdout shipped to a log service, a SQL table on another host): a
	// checkpoint is what makes the removal of the newest records (tail
	// truncation) detectable. It must not be the chained sink itself. Zero
	// value: no checkpoints; edits, removals, insertions and reordering are
	// still detected, truncation of the tail is not.
	Checkpoints Sink

	// CheckpointEvery is the number of records between checkpoints. Zero
	// value: DefaultCheckpointEvery.
	CheckpointEvery int

	// CheckpointInterval bounds how long a record stays uncovered by a
	// checkpoint. Zero value: DefaultCheckpointInterval.
	CheckpointInterval time.Duration
}

// Chain is a [Sink] that makes the records of another sink tamper-evident.
// It appends three fields to each record before passing it on:
//
//	"seq":N               1, 2, 3, ... with no gap, across restarts and rotations
//	"prev":"<64 hex>"     the mac of the record before (zeros for seq 1)
//	"mac":"<64 hex>"      HMAC-SHA-256 under the key of every byte of the line before ,"mac"
//
// Each record therefore authenticates itself and its place: an edited byte
// breaks its mac, a removed record leaves a gap in seq, an inserted or
// replayed one has a seq or prev that does not fit, and reordered ones are
// out of sequence. [Verify] reports the first such record. Because the mac
// is keyed, an attacker who can write the file but does not have the key
// cannot recompute it. Checkpoints sent to a second sink (see
// ChainOptions.Checkpoints) extend this to the removal of the newest
// records.
//
// When the inner sink is a [Resumer] (FileSink and sqlsink.Sink are),
// NewChain continues the chain from its last record, so restarts do not
// break it; it refuses to start on a last record that does not verify under
// the key. One Chain belongs to one Logger, and one chain to one writer: two
// processes appending to the same chained file break each other's chain
// (Verify then reports "forked").
//
// A Chain is safe for concurrent use. Create it with [NewChain].
type Chain struct {
	inner    Sink
	name     string
	cp       Sink
	every    int
	interval time.Duration

	mu        sync.Mutex
	mac       hash.Hash
	seq       uint64
	prev      [sha256.Size]byte
	uncovered int // records since the last checkpoint
	timer     *time.Timer
	closed    bool
	logger    *Logger

	sum     [sha256.Size]byte // scratch for mac sums
	buf     []byte
	bounds  []int
	entries []Entry
	ptrs    []*Entry
}

var _ Sink = (*Chain)(nil)

// NewChain returns a Chain over inner. It fails if the key is shorter than
// MinKeyLength, or if inner already holds records that cannot be continued:
// a last record without chain fields (ErrNotChained) or one whose mac does
// not verify under opts.Key (ErrKeyMismatch).
func NewChain(inner Sink, opts ChainOptions) (*Chain, error) {
	var errs []error
	if inner == nil {
		errs = append(errs, fmt.Errorf("%w: NewChain needs a sink to chain", ErrInvalidOptions))
	}
	if len(opts.Key) < MinKeyLength {
		errs = append(errs, fmt.Errorf("%w: ChainOptions.Key has %d bytes; use at least %d random bytes (crypto/rand)", ErrShortKey, len(opts.Key), MinKeyLength))
	}
	if _, ok := inner.(*Chain); ok {
		errs = append(errs, fmt.Errorf("%w: the sink is already a Chain", ErrInvalidOptions))
	}
	if opts.Checkpoints != nil && opts.Checkpoints == inner {
		errs = append(errs, fmt.Errorf("%w: ChainOptions.Checkpoints is the chained sink itself: truncating it would remove the checkpoints too", ErrInvalidOptions))
	}
	if opts.CheckpointEvery < 0 || opts.CheckpointInterval < 0 {
		errs = append(errs, fmt.Errorf("%w: ChainOptions.CheckpointEvery and CheckpointInterval must not be negative", ErrInvalidOptions))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &Chain{
		inner:    inner,
		name:     opts.Name,
		cp:       opts.Checkpoints,
		every:    opts.CheckpointEvery,
		interval: opts.CheckpointInterval,
		mac:      hmac.New(sha256.New, append([]byte(nil), opts.Key...)),
	}
	if c.name == "" {
		c.name = inner.Name()
	}
	if c.every == 0 {
		c.every = DefaultCheckpointEvery
	}
	if c.interval == 0 {
		c.interval = DefaultCheckpointInterval
	}
	if err := c.resume(); err != nil {
		return nil, err
	}
	return c, nil
}

// resume continues from the inner sink's last record.
func (c *Chain) resume() error {
	r, ok := c.inner.(Resumer)
	if !ok {
		return nil
	}
	last, err := r.LastRecord()
	if err != nil {
		return fmt.Errorf("audit: chain %s: reading the last record to continue the chain: %w", c.name, err)
	}
	if len(last) == 0 {
		return nil
	}
	f, ok := parseChainFields(last)
	if !ok {
		return fmt.Errorf("%w: the last record of %s has no seq/prev/mac fields; move the existing records aside (or start a new file) before chaining", ErrNotChained, c.inner.Name())
	}
	if !c.verify(f) {
		return fmt.Errorf("%w: the last record of %s (seq %d) does not verify: the key changed or the record was edited; run Verify on the existing records, then move them aside to start a new chain", ErrKeyMismatch, c.inner.Name(), f.seq)
	}
	c.seq, c.prev = f.seq, f.mac
	return nil
}

// verify reports whether f's mac is right under the chain's key.
func (c *Chain) verify(f chainFields) bool {
	return macMatches(c.mac, &c.sum, f)
}

// macMatches reports whether f's mac is the HMAC of its covered bytes
// under mac's key; sum is scratch space (a local array would escape
// through the hash.Hash interface and cost an allocation per record).
func macMatches(mac hash.Hash, sum *[sha256.Size]byte, f chainFields) bool {
	mac.Reset()
	mac.Write(f.covered)
	return hmac.Equal(mac.Sum(sum[:0]), f.mac[:])
}

// attach binds the chain to its Logger; it fails if another Logger has it.
func (c *Chain) attach(l *Logger) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.logger != nil && c.logger != l {
		return false
	}
	c.logger = l
	return true
}

// Name returns the inner sink's name.
func (c *Chain) Name() string { return c.inner.Name() }

// Seq returns the sequence number of the last record written.
func (c *Chain) Seq() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq
}

// Write chains the batch and writes it to the inner sink. If the inner
// sink fails, the chain does not advance (and, if the sink is a Resumer,
// continues from whatever it did store).
func (c *Chain) Write(batch []*Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errChainClosed
	}
	seq, prev := c.seq, c.prev
	c.buf, c.bounds = c.buf[:0], c.bounds[:0]
	sum := &c.sum
	for _, e := range batch {
		seq++
		start := len(c.buf)
		c.buf = append(c.buf, e.Line[:len(e.Line)-1]...) // without the closing '}'
		c.buf = append(c.buf, `,"seq":`...)
		c.buf = strconv.AppendUint(c.buf, seq, 10)
		c.buf = append(c.buf, `,"prev":"`...)
		c.buf = hex.AppendEncode(c.buf, prev[:])
		c.buf = append(c.buf, '"')
		c.mac.Reset()
		c.mac.Write(c.buf[start:])
		c.mac.Sum(sum[:0])
		c.buf = append(c.buf, `,"mac":"`...)
		c.buf = hex.AppendEncode(c.buf, sum[:])
		c.buf = append(c.buf, '"', '}')
		c.bounds = append(c.bounds, start, len(c.buf))
		prev = *sum
	}
	c.entries = c.entries[:0]
	c.ptrs = c.ptrs[:0]
	for i, e := range batch {
		ce := *e
		ce.Line = c.buf[c.bounds[2*i]:c.bounds[2*i+1]]
		ce.Seq = c.seq + uint64(i) + 1
		c.entries = append(c.entries, ce)
	}
	for i := range c.entries {
		c.ptrs = append(c.ptrs, &c.entries[i])
	}
	err := c.inner.Write(c.ptrs)
	clear(c.ptrs)
	if cap(c.buf) > maxKeptBuffer {
		c.buf = nil
	}
	if err != nil {
		if rerr := c.resume(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return err
	}
	c.seq, c.prev = seq, prev
	c.uncovered += len(batch)
	if c.uncovered >= c.every {
		c.checkpointLocked()
	} else if c.cp != nil && c.timer == nil {
		c.timer = time.AfterFunc(c.interval, c.onTimer)
	}
	return nil
}

func (c *Chain) onTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = nil
	if !c.closed {
		c.checkpointLocked()
	}
}

// checkpointLocked writes a checkpoint of the current seq and mac if
// records are uncovered. c.mu must be held.
func (c *Chain) checkpointLocked() {
	if c.cp == nil || c.uncovered == 0 {
		return
	}
	now := time.Now
	if c.logger != nil {
		now = c.logger.now
	}
	h := header{time: now(), level: slog.LevelInfo, event: AuditCheckpoint, outcome: Success}
	e := lineEncoder{maxValue: DefaultMaxValueBytes}
	e.header(&h)
	start := len(e.b)
	e.b = append(e.b, `,"chain":`...)
	e.b = appendString(e.b, c.name)
	e.b = append(e.b, `,"chain_seq":`...)
	e.b = strconv.AppendUint(e.b, c.seq, 10)
	e.b = append(e.b, `,"chain_mac":"`...)
	e.b = hex.AppendEncode(e.b, c.prev[:])
	e.b = append(e.b, '"')
	end := len(e.b)
	e.finish()
	entry := Entry{Time: h.time, Level: h.level, Event: h.event, Outcome: h.outcome, Line: e.b, attrsStart: start, attrsEnd: end}
	if err := writeSafely(c.cp, []*Entry{&entry}); err != nil {
		if c.logger != nil {
			c.logger.reportCheckpointError(c.name, err)
		} else {
			fmt.Fprintf(os.Stderr, "audit: chain %s: checkpoint not written: %v\n", c.name, err)
		}
		return // still uncovered: the next write or tick tries again
	}
	c.uncovered = 0
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

// Close writes a final checkpoint for records not yet covered and closes
// the inner sink if it is an io.Closer. The checkpoint sink is not closed.
// [Logger.Close] calls it; it is idempotent.
func (c *Chain) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.checkpointLocked()
	c.mu.Unlock()
	if cl, ok := c.inner.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// chainFields are the chain fields parsed from a line.
type chainFields struct {
	seq     uint64
	prev    [sha256.Size]byte
	mac     [sha256.Size]byte
	covered []byte // the bytes the mac covers
}

// The fixed parts of the chain suffix.
const (
	seqPrefix  = `,"seq":`
	prevPrefix = `,"prev":"`
	macPrefix  = `,"mac":"`
	hexMACLen  = 2 * sha256.Size
)

// parseChainFields parses the suffix ,"seq":N,"prev":"<hex>","mac":"<hex>"}
// of a chained line. It does not allocate; covered aliases line. The hex
// must be lowercase, as the Chain writes it, and seq positive without
// leading zeros, so that every record has exactly one valid spelling.
func parseChainFields(line []byte) (f chainFields, ok bool) {
	// line ends with: ,"mac":"<64 hex>"}
	n := len(line)
	if n < 2 || line[0] != '{' || line[n-1] != '}' || line[n-2] != '"' {
		return f, false
	}
	macEnd := n - 2
	macStart := macEnd - hexMACLen
	if macStart < len(macPrefix) || string(line[macStart-len(macPrefix):macStart]) != macPrefix {
		return f, false
	}
	if !decodeLowerHex(f.mac[:], line[macStart:macEnd]) {
		return f, false
	}
	f.covered = line[:macStart-len(macPrefix)]
	// covered ends with: ,"prev":"<64 hex>"
	c := f.covered
	if len(c) < 1 || c[len(c)-1] != '"' {
		return f, false
	}
	prevEnd := len(c) - 1
	prevStart := prevEnd - hexMACLen
	if prevStart < len(prevPrefix) || string(c[prevStart-len(prevPrefix):prevStart]) != prevPrefix {
		return f, false
	}
	if !decodeLowerHex(f.prev[:], c[prevStart:prevEnd]) {
		return f, false
	}
	// before that: ,"seq":<digits>
	digitsEnd := prevStart - len(prevPrefix)
	i := digitsEnd
	for i > 0 && '0' <= c[i-1] && c[i-1] <= '9' {
		i--
	}
	digits := c[i:digitsEnd]
	if len(digits) == 0 || len(digits) > 20 || digits[0] == '0' || i < len(seqPrefix) || string(c[i-len(seqPrefix):i]) != seqPrefix {
		return f, false
	}
	seq, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return f, false
	}
	f.seq = seq
	return f, true
}

// decodeLowerHex decodes exactly len(dst) bytes of lowercase hex from src.
func decodeLowerHex(dst, src []byte) bool {
	if len(src) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := lowerHexValue(src[2*i])
		lo, ok2 := lowerHexValue(src[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func lowerHexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
