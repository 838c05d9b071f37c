package backup

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MetadataFormat is the version of the metadata file layout this package
// writes. ParseInfo refuses files of a newer format instead of guessing.
const MetadataFormat = 1

// Limits on metadata, so that a tampered metadata file cannot make the
// Manager allocate without bound.
const (
	maxMetadataBytes = 4 << 20
	maxTables        = 10000
	maxNameLen       = 128
	maxTextLen       = 512
	maxRecipients    = 64
)

// Reasons recorded in [Info.Reason].
const (
	// ReasonManual: made by [Manager.Create].
	ReasonManual = "manual"
	// ReasonScheduled: made by [Manager.Schedule].
	ReasonScheduled = "scheduled"
	// ReasonPreRestore: the safety copy [Manager.Restore] takes of the live
	// database just before replacing it.
	ReasonPreRestore = "pre-restore"
)

// Compression is how a backup's data file is compressed.
type Compression string

// The compression methods.
const (
	// CompressionZstd is Zstandard at its fastest level
	// (github.com/klauspost/compress/zstd), the default: on database pages
	// it compresses about as well as the default level in half the time.
	CompressionZstd Compression = "zstd"
	// CompressionGzip is gzip, for tools that only know gzip.
	CompressionGzip Compression = "gzip"
	// CompressionNone stores the dump as it is.
	CompressionNone Compression = "none"
)

func (c Compression) ext() string {
	switch c {
	case CompressionZstd:
		return ".zst"
	case CompressionGzip:
		return ".gz"
	}
	return ""
}

func (c Compression) valid() bool {
	return c == CompressionZstd || c == CompressionGzip || c == CompressionNone
}

// TableCount is the number of rows of one table at the instant of the
// backup.
type TableCount struct {
	// Schema is the PostgreSQL schema ("public"); "main" for SQLite.
	Schema string `json:"schema"`
	// Name is the table name.
	Name string `json:"name"`
	// Rows is the row count.
	Rows int64 `json:"rows"`
}

// String returns schema.name.
func (t TableCount) String() string { return t.Schema + "." + t.Name }

// Info is a backup's metadata: what its sidecar file <name>.json holds. A
// backup is good only when its metadata parses, its data file exists with
// the recorded size, and both are fully written; [Manager.Verify] also
// checks the SHA-256 and restores it.
type Info struct {
	// Format is MetadataFormat.
	Format int `json:"format"`
	// Name identifies the backup: <prefix>-<UTC time>-<random>, e.g.
	// senfi-20260102T030405Z-1a2b3c4d.
	Name string `json:"name"`
	// CreatedAt is when the snapshot was taken, in UTC.
	CreatedAt time.Time `json:"created_at"`
	// Reason is ReasonManual, ReasonScheduled or ReasonPreRestore.
	Reason string `json:"reason"`
	// Engine is the engine of the database it was taken from.
	Engine Engine `json:"engine"`
	// Database names that database (SQLite path or PostgreSQL URL), without
	// password.
	Database string `json:"database"`
	// File is the data file's name in the backup directory, derived from
	// Name, Engine, Compression and encryption.
	File string `json:"file"`
	// Size is the data file's size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the lowercase hex SHA-256 of the data file as stored
	// (after compression and encryption), so it is checked without a key.
	SHA256 string `json:"sha256"`
	// RawSize is the size of the dump before compression and encryption;
	// restoring refuses to decompress beyond it.
	RawSize int64 `json:"raw_size"`
	// Compression is how the data file is compressed.
	Compression Compression `json:"compression"`
	// Recipients holds the fingerprints ([Fingerprint]) of the age
	// recipients the data file is encrypted to; empty when it is not
	// encrypted.
	Recipients []string `json:"recipients,omitempty"`
	// SchemaVersion is the database's schema (migration) version in the
	// snapshot; see Options.SchemaVersion.
	SchemaVersion int64 `json:"schema_version"`
	// AppVersion is Options.AppVersion of the application that made it.
	AppVersion string `json:"app_version,omitempty"`
	// Tables holds the row count of every table in the snapshot, sorted by
	// schema and name.
	Tables []TableCount `json:"tables"`
}

// Encrypted reports whether the data file is encrypted with age.
func (i Info) Encrypted() bool { return len(i.Recipients) > 0 }

// Rows returns the total row count over all tables.
func (i Info) Rows() int64 {
	var n int64
	for _, t := range i.Tables {
		n += t.Rows
	}
	return n
}

// dataFile returns the data file name for a backup called name.
func dataFile(name string, e Engine, c Compression, encrypted bool) string {
	f := name + "." + e.dataExt() + c.ext()
	if encrypted {
		f += ".age"
	}
	return f
}

// metaFile returns the metadata file name of a backup called name.
func metaFile(name string) string { return name + ".json" }

// ValidName reports whether name can be a backup name: 1 to 128 letters,
// digits, '-' or '_', starting with a letter or digit. Such a name cannot
// point outside the backup directory.
func ValidName(name string) bool { return validToken(name, maxNameLen) }

// validToken reports whether s is 1 to max ASCII letters, digits, '-' or
// '_', starting with a letter or digit.
func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for k := 0; k < len(s); k++ {
		c := s[k]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && (k == 0 || c != '-' && c != '_') {
			return false
		}
	}
	return true
}

// lowerHex reports whether s is exactly n lowercase hex digits.
func lowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for k := 0; k < len(s); k++ {
		if c := s[k]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ParseInfo reads a metadata file. It is strict, because metadata files are
// read from disk and may have been tampered with: unknown fields, a newer
// Format, a name that could escape the directory, a File that does not
// match the other fields, negative sizes or counts, or more than 10,000
// tables are all refused with an error wrapping [ErrInvalidMetadata].
func ParseInfo(data []byte) (Info, error) {
	if len(data) > maxMetadataBytes {
		return Info{}, fmt.Errorf("%w: larger than %d bytes", ErrInvalidMetadata, maxMetadataBytes)
	}
	// Read the format first, so a newer file gets a clear message rather
	// than "unknown field".
	var head struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrInvalidMetadata, err)
	}
	if head.Format != MetadataFormat {
		return Info{}, fmt.Errorf("%w: format %d, this build reads format %d", ErrInvalidMetadata, head.Format, MetadataFormat)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var info Info
	if err := dec.Decode(&info); err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrInvalidMetadata, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Info{}, fmt.Errorf("%w: data after the JSON object", ErrInvalidMetadata)
	}
	info.CreatedAt = info.CreatedAt.UTC()
	if err := info.validate(); err != nil {
		return Info{}, err
	}
	return info, nil
}

// validate checks every field of info; it is what ParseInfo enforces.
func (i *Info) validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if i.Format != MetadataFormat {
		bad("format %d", i.Format)
	}
	if !ValidName(i.Name) {
		bad("name %q is not a valid backup name", truncate(i.Name, 64))
	}
	if i.CreatedAt.IsZero() {
		bad("created_at missing")
	}
	switch i.Reason {
	case ReasonManual, ReasonScheduled, ReasonPreRestore:
	default:
		bad("unknown reason %q", truncate(i.Reason, 32))
	}
	if i.Engine != SQLite && i.Engine != PostgreSQL {
		bad("unknown engine %q", truncate(string(i.Engine), 32))
	}
	if !i.Compression.valid() {
		bad("unknown compression %q", truncate(string(i.Compression), 32))
	}
	if len(i.Recipients) > maxRecipients {
		bad("more than %d recipients", maxRecipients)
	}
	for _, r := range i.Recipients {
		if !lowerHex(r, 32) {
			bad("recipient fingerprint %q is not 32 hex digits", truncate(r, 40))
			break
		}
	}
	if ValidName(i.Name) && i.Engine.dataExt() != "" && i.Compression.valid() {
		if want := dataFile(i.Name, i.Engine, i.Compression, i.Encrypted()); i.File != want {
			bad("file %q does not match name, engine, compression and encryption (want %q)", truncate(i.File, 64), want)
		}
	}
	if i.Size < 0 || i.RawSize < 0 {
		bad("negative size")
	}
	if !lowerHex(i.SHA256, 64) {
		bad("sha256 is not 64 lowercase hex digits")
	}
	if i.SchemaVersion < 0 {
		bad("negative schema_version")
	}
	for _, s := range []string{i.Database, i.AppVersion} {
		if len(s) > maxTextLen || !utf8.ValidString(s) {
			bad("database or app_version longer than %d bytes or not UTF-8", maxTextLen)
		}
	}
	if len(i.Tables) > maxTables {
		bad("more than %d tables", maxTables)
	} else if msg := checkTables(i.Tables); msg != "" {
		bad("%s", msg)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidMetadata, strings.Join(problems, "; "))
	}
	return nil
}

// checkTables reports what is wrong with a table list, or "".
func checkTables(tables []TableCount) string {
	for k, t := range tables {
		switch {
		case t.Name == "" || t.Schema == "":
			return "a table without schema or name"
		case len(t.Name) > maxTextLen || len(t.Schema) > maxTextLen:
			return "a table name longer than 512 bytes"
		case strings.ContainsRune(t.Name, 0) || strings.ContainsRune(t.Schema, 0) || !utf8.ValidString(t.Name) || !utf8.ValidString(t.Schema):
			return "a table name with a NUL byte or invalid UTF-8"
		case t.Rows < 0:
			return fmt.Sprintf("table %s has a negative row count", truncate(t.String(), 64))
		case k > 0 && compareTables(tables[k-1], t) >= 0:
			return "tables not sorted by schema and name, or listed twice"
		}
	}
	return ""
}

func compareTables(a, b TableCount) int {
	if c := strings.Compare(a.Schema, b.Schema); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

func sortTables(t []TableCount) { slices.SortFunc(t, compareTables) }

// marshal encodes info as the metadata file's content.
func (i Info) marshal() ([]byte, error) {
	if i.Tables == nil {
		i.Tables = []TableCount{}
	}
	b, err := json.MarshalIndent(i, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// compareContents checks that a restored copy holds what the metadata
// recorded: the same tables with the same row counts and the same schema
// version.
func compareContents(want Info, got contents) error {
	if got.schemaVersion != want.SchemaVersion {
		return fmt.Errorf("%w: schema version %d, the metadata says %d", ErrIntegrity, got.schemaVersion, want.SchemaVersion)
	}
	wi, gi := 0, 0
	for wi < len(want.Tables) || gi < len(got.tables) {
		switch {
		case gi == len(got.tables) || (wi < len(want.Tables) && compareTables(want.Tables[wi], got.tables[gi]) < 0):
			return &TableMismatchError{Table: want.Tables[wi].String(), Want: want.Tables[wi].Rows, Got: -1}
		case wi == len(want.Tables) || compareTables(want.Tables[wi], got.tables[gi]) > 0:
			return &TableMismatchError{Table: got.tables[gi].String(), Want: -1, Got: got.tables[gi].Rows}
		case want.Tables[wi].Rows != got.tables[gi].Rows:
			return &TableMismatchError{Table: want.Tables[wi].String(), Want: want.Tables[wi].Rows, Got: got.tables[gi].Rows}
		}
		wi++
		gi++
	}
	return nil
}

// contents is what a driver reads from a snapshot or a restored copy.
type contents struct {
	schemaVersion int64
	tables        []TableCount // sorted
}

func hexSum(sum []byte) string { return hex.EncodeToString(sum) }
