package backup

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseInfo: metadata files are read from disk and may have been
// tampered with. Whatever the bytes, ParseInfo does not panic; what it
// accepts names a data file inside the directory, consistent with the
// other fields, and survives a round trip unchanged.
func FuzzParseInfo(f *testing.F) {
	good, err := validInfo().marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	plain := validInfo()
	plain.Recipients, plain.Compression, plain.Engine = nil, CompressionNone, PostgreSQL
	plain.File = dataFile(plain.Name, plain.Engine, plain.Compression, false)
	b, _ := plain.marshal()
	f.Add(b)
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"format":2,"name":"x"}`))
	f.Add([]byte(`{"format":1,"name":"../x","file":"../x.sqlite"}`))
	f.Add([]byte(`{"format":1,"tables":[{"schema":"a","name":"b","rows":-1}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseInfo(data)
		if err != nil {
			return
		}
		if !ValidName(info.Name) || strings.ContainsAny(info.File, `/\`) || !strings.HasPrefix(info.File, info.Name+".") {
			t.Fatalf("accepted a name or file that could leave the directory: %q %q", info.Name, info.File)
		}
		if info.File != dataFile(info.Name, info.Engine, info.Compression, info.Encrypted()) {
			t.Fatalf("accepted an inconsistent file name %q", info.File)
		}
		if info.Size < 0 || info.RawSize < 0 || info.SchemaVersion < 0 || len(info.Tables) > maxTables {
			t.Fatalf("accepted out-of-range values: %+v", info)
		}
		again, err := info.marshal()
		if err != nil {
			t.Fatalf("cannot re-encode accepted metadata: %v", err)
		}
		back, err := ParseInfo(again)
		if err != nil {
			t.Fatalf("re-encoded metadata does not parse: %v", err)
		}
		if !back.CreatedAt.Equal(info.CreatedAt) || back.Name != info.Name || back.SHA256 != info.SHA256 || len(back.Tables) != len(info.Tables) {
			t.Fatalf("round trip changed the metadata:\n%+v\n%+v", info, back)
		}
	})
}

// FuzzParseDatabaseURL: database URLs come from configuration. Whatever
// the string, the parser does not panic, accepts only the two engines,
// never an in-memory SQLite database, and never shows a password.
func FuzzParseDatabaseURL(f *testing.F) {
	for _, s := range []string{
		"sqlite:///var/lib/senfi/senfi.db", "sqlite://senfi.db", "file:x.db", "/abs.db", "x.db",
		"sqlite::memory:", "postgres://u:s3cret@h:5432/db?sslmode=disable", "postgresql://u@h/db?password=s3cret",
		"postgres:///db?host=/tmp", "mysql://x/y", "postgres://%zz", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := ParseDatabaseURL(raw)
		if err != nil {
			return
		}
		switch d.Engine {
		case SQLite:
			if d.Path == "" || strings.HasPrefix(d.Path, ":memory:") || strings.ContainsRune(d.Path, 0) {
				t.Fatalf("accepted SQLite path %q", d.Path)
			}
		case PostgreSQL:
			if d.Name == "" || d.pgURL == nil {
				t.Fatalf("accepted PostgreSQL URL without database: %q", raw)
			}
			conn, _ := tool(d.pgURL)
			for _, shown := range []string{d.String(), conn} {
				u, err := url.Parse(shown)
				if err != nil {
					t.Fatalf("%q does not parse back: %v", shown, err)
				}
				if _, has := u.User.Password(); has || u.Query().Has("password") {
					t.Fatalf("%q shows a password", shown)
				}
			}
		default:
			t.Fatalf("unknown engine %q", d.Engine)
		}
	})
}
