package backup

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"filippo.io/age"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// zstdMaxWindow caps the memory a zstd frame may ask the decoder for, so a
// tampered file cannot make it allocate gigabytes. Our encoder uses 8 MiB.
const zstdMaxWindow = 64 << 20

// Fingerprint returns the fingerprint of an age recipient (public key) as
// stored in [Info.Recipients]: the first 16 bytes of the SHA-256 of its
// text, in hex. It tells which key a backup needs without storing the key.
func Fingerprint(recipient string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(recipient)))
	return hex.EncodeToString(sum[:16])
}

// parseRecipient reads an age X25519 ("age1…") or hybrid post-quantum
// recipient.
func parseRecipient(s string) (age.Recipient, string, error) {
	s = strings.TrimSpace(s)
	if r, err := age.ParseX25519Recipient(s); err == nil {
		return r, r.String(), nil
	}
	if r, err := age.ParseHybridRecipient(s); err == nil {
		return r, r.String(), nil
	}
	return nil, "", errors.New("not an age X25519 or hybrid recipient (age1…)")
}

// Identity is an age secret key that decrypts backups encrypted to its
// recipient. Its String and LogValue show only the recipient's fingerprint,
// so printing or logging Options does not leak the key. The zero Identity
// decrypts nothing.
type Identity struct {
	id        age.Identity // *age.X25519Identity or *age.HybridIdentity
	recipient string
}

// ParseIdentity reads one age secret key ("AGE-SECRET-KEY-1…", X25519, or
// a hybrid post-quantum key).
func ParseIdentity(s string) (Identity, error) {
	s = strings.TrimSpace(s)
	if id, err := age.ParseX25519Identity(s); err == nil {
		return Identity{id: id, recipient: id.Recipient().String()}, nil
	}
	if id, err := age.ParseHybridIdentity(s); err == nil {
		return Identity{id: id, recipient: id.Recipient().String()}, nil
	}
	// The input is a secret: never echo it.
	return Identity{}, errors.New("backup: not an age X25519 or hybrid secret key (AGE-SECRET-KEY-…)")
}

// ParseIdentities reads an age identity file: one secret key per line,
// blank lines and lines starting with '#' ignored (the format of
// age-keygen's output).
func ParseIdentities(r io.Reader) ([]Identity, error) {
	var ids []Identity
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := ParseIdentity(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("backup: read identities: %w", err)
	}
	if len(ids) == 0 {
		return nil, errors.New("backup: no identity in the identity file")
	}
	return ids, nil
}

// GenerateIdentity makes a new X25519 identity. Keep [Identity.SecretKey]
// off the server that makes backups (give it only [Identity.Recipient]),
// and somewhere it survives the loss of that server.
func GenerateIdentity() (Identity, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return Identity{}, fmt.Errorf("backup: generate identity: %w", err)
	}
	return Identity{id: id, recipient: id.Recipient().String()}, nil
}

// Recipient returns the public key backups must be encrypted to for this
// identity to decrypt them (Options.Recipients).
func (i Identity) Recipient() string { return i.recipient }

// SecretKey returns the secret key in age's text form, for saving to an
// identity file. Treat it as a password.
func (i Identity) SecretKey() string {
	if s, ok := i.id.(fmt.Stringer); ok {
		return s.String()
	}
	return ""
}

// String returns "age identity <fingerprint>", never the key.
func (i Identity) String() string {
	if i.id == nil {
		return "age identity (none)"
	}
	return "age identity " + Fingerprint(i.recipient)
}

// GoString returns the same redacted text as String, for %#v.
func (i Identity) GoString() string { return "backup.Identity(" + i.String() + ")" }

// LogValue implements slog.LogValuer with the same redacted text as String.
func (i Identity) LogValue() slog.Value { return slog.StringValue(i.String()) }

// codec holds the parsed compression and encryption settings of a Manager.
type codec struct {
	compression  Compression
	recipients   []age.Recipient
	fingerprints []string // sorted like Options.Recipients
	identities   []age.Identity
	idPrints     map[string]bool
}

// encoder compresses and encrypts what is written to it into dst. Close
// flushes every layer; it does not close dst.
type encoder struct {
	w       io.Writer
	closers []io.Closer
}

func (e *encoder) Write(p []byte) (int, error) { return e.w.Write(p) }

func (e *encoder) Close() error {
	var errs []error
	for _, c := range e.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// identity reports whether encoding is a no-op (no compression, no
// encryption).
func (c *codec) identity() bool {
	return c.compression == CompressionNone && len(c.recipients) == 0
}

func (c *codec) newEncoder(dst io.Writer) (*encoder, error) {
	e := &encoder{w: dst}
	if len(c.recipients) > 0 {
		aw, err := age.Encrypt(dst, c.recipients...)
		if err != nil {
			return nil, fmt.Errorf("backup: encrypt: %w", err)
		}
		e.w = aw
		e.closers = append(e.closers, aw)
	}
	switch c.compression {
	case CompressionZstd:
		zw, err := zstd.NewWriter(e.w, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			return nil, fmt.Errorf("backup: zstd: %w", err)
		}
		e.w = zw
		e.closers = append([]io.Closer{zw}, e.closers...)
	case CompressionGzip:
		gw := gzip.NewWriter(e.w)
		e.w = gw
		e.closers = append([]io.Closer{gw}, e.closers...)
	}
	return e, nil
}

// decoder undoes the encoder: it decrypts (if the backup is encrypted) and
// decompresses src, and refuses to yield more than info.RawSize bytes.
// Close releases the decompressor.
type decoder struct {
	io.Reader
	close func()
}

func (d *decoder) Close() error {
	if d.close != nil {
		d.close()
	}
	return nil
}

func (c *codec) newDecoder(src io.Reader, info Info) (*decoder, error) {
	r := src
	if info.Encrypted() {
		if len(c.identities) == 0 {
			return nil, fmt.Errorf("%w: the backup is encrypted to %s and Options.Identities is empty",
				ErrNoIdentity, strings.Join(info.Recipients, ", "))
		}
		if !c.canDecrypt(info) {
			return nil, fmt.Errorf("%w: the backup is encrypted to %s; the identities given are for other recipients",
				ErrNoIdentity, strings.Join(info.Recipients, ", "))
		}
		dr, err := age.Decrypt(src, c.identities...)
		if err != nil {
			if _, ok := errors.AsType[*age.NoIdentityMatchError](err); ok {
				return nil, fmt.Errorf("%w: %v", ErrNoIdentity, err)
			}
			return nil, fmt.Errorf("%w: decrypt: %v", ErrIntegrity, err)
		}
		r = dr
	}
	d := &decoder{}
	switch info.Compression {
	case CompressionZstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %v", ErrIntegrity, err)
		}
		r, d.close = zr, zr.Close
	case CompressionGzip:
		gr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrIntegrity, err)
		}
		r, d.close = gr, func() { gr.Close() }
	}
	d.Reader = &capReader{r: r, left: info.RawSize}
	return d, nil
}

// canDecrypt reports whether one of the identities belongs to one of the
// backup's recipients.
func (c *codec) canDecrypt(info Info) bool {
	for _, fp := range info.Recipients {
		if c.idPrints[fp] {
			return true
		}
	}
	return false
}

// capReader yields at most left bytes, and fails if the source has more:
// decompressing beyond the recorded raw size means the file is not what
// the metadata describes (or is a decompression bomb).
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		n, err := io.ReadFull(c.r, one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: the data decompresses to more than the metadata's raw_size", ErrIntegrity)
		}
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return 0, io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	switch {
	case err == io.EOF && c.left > 0:
		return n, fmt.Errorf("%w: the data decompresses to fewer bytes than the metadata's raw_size", ErrIntegrity)
	case err != nil && err != io.EOF && !errors.Is(err, ErrIntegrity):
		// A damaged compressed or encrypted stream (or an unreadable file).
		return n, fmt.Errorf("%w: read backup data: %v", ErrIntegrity, err)
	}
	return n, err
}
