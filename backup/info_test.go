package backup

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validInfo returns metadata that passes validation.
func validInfo() Info {
	i := Info{
		Format:        MetadataFormat,
		Name:          "senfi-20260102T030405Z-0a1b2c3d",
		CreatedAt:     time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC),
		Reason:        ReasonManual,
		Engine:        SQLite,
		Database:      "sqlite:///var/lib/senfi/senfi.db",
		Size:          1234,
		SHA256:        strings.Repeat("ab", 32),
		RawSize:       4096,
		Compression:   CompressionZstd,
		Recipients:    []string{Fingerprint("age1xyz")},
		SchemaVersion: 12,
		AppVersion:    "1.2.3",
		Tables:        []TableCount{{"main", "signatures", 3}, {"main", "users", 2}},
	}
	i.File = dataFile(i.Name, i.Engine, i.Compression, i.Encrypted())
	return i
}

func TestParseInfo(t *testing.T) {
	want := validInfo()
	data, err := want.marshal()
	require.NoError(t, err)
	assert.Contains(t, string(data), `"file": "senfi-20260102T030405Z-0a1b2c3d.sqlite.zst.age"`)
	got, err := ParseInfo(data)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	edit := func(f func(*Info)) []byte {
		i := validInfo()
		f(&i)
		b, err := i.marshal()
		require.NoError(t, err)
		return b
	}
	bad := map[string][]byte{
		"newer format":        []byte(`{"format": 2}`),
		"not JSON":            []byte(`{"format": 1`),
		"trailing data":       append(edit(func(*Info) {}), []byte(`{}`)...),
		"unknown field":       []byte(strings.Replace(string(edit(func(*Info) {})), `"format": 1,`, `"format": 1, "exec": "x",`, 1)),
		"traversal name":      edit(func(i *Info) { i.Name = "../../etc/passwd" }),
		"file elsewhere":      edit(func(i *Info) { i.File = "../live.db" }),
		"file of other codec": edit(func(i *Info) { i.File = dataFile(i.Name, i.Engine, CompressionGzip, true) }),
		"no time":             edit(func(i *Info) { i.CreatedAt = time.Time{} }),
		"reason":              edit(func(i *Info) { i.Reason = "whim" }),
		"engine":              edit(func(i *Info) { i.Engine = "oracle" }),
		"compression":         edit(func(i *Info) { i.Compression = "lz4" }),
		"sha256":              edit(func(i *Info) { i.SHA256 = strings.Repeat("AB", 32) }),
		"negative size":       edit(func(i *Info) { i.Size = -1 }),
		"negative version":    edit(func(i *Info) { i.SchemaVersion = -1 }),
		"fingerprint":         edit(func(i *Info) { i.Recipients = []string{"age1xyz"} }),
		"unsorted tables":     edit(func(i *Info) { i.Tables[0], i.Tables[1] = i.Tables[1], i.Tables[0] }),
		"duplicate table":     edit(func(i *Info) { i.Tables[1] = i.Tables[0] }),
		"negative rows":       edit(func(i *Info) { i.Tables[0].Rows = -5 }),
		"NUL in table":        edit(func(i *Info) { i.Tables[0].Name = "a\x00" }),
		"huge":                []byte(`{"format":1,"app_version":"` + strings.Repeat("x", maxMetadataBytes) + `"}`),
	}
	for name, data := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseInfo(data)
			require.ErrorIs(t, err, ErrInvalidMetadata)
		})
	}
}

func TestValidNameAndNormalize(t *testing.T) {
	for _, ok := range []string{"a", "senfi-20260102T030405Z-0a1b2c3d", "A_b-9"} {
		assert.True(t, ValidName(ok), ok)
	}
	for _, bad := range []string{"", "-a", "_a", "a.b", "a/b", "..", "a b", strings.Repeat("a", 129), "é"} {
		assert.False(t, ValidName(bad), bad)
	}
	assert.Equal(t, "x", normalizeName("x.json"))
	assert.Equal(t, "x", normalizeName("x.sqlite.zst.age"))
	assert.Equal(t, "x", normalizeName("x.pgdump"))
	assert.Equal(t, "x.txt", normalizeName("x.txt"))
}

func TestCompareContents(t *testing.T) {
	want := validInfo()
	got := contents{schemaVersion: 12, tables: append([]TableCount(nil), want.Tables...)}
	require.NoError(t, compareContents(want, got))

	got.schemaVersion = 13
	require.ErrorIs(t, compareContents(want, got), ErrIntegrity)
	got.schemaVersion = 12

	cases := map[string]struct {
		tables []TableCount
		want   TableMismatchError
	}{
		"rows":    {[]TableCount{{"main", "signatures", 3}, {"main", "users", 9}}, TableMismatchError{"main.users", 2, 9}},
		"missing": {[]TableCount{{"main", "users", 2}}, TableMismatchError{"main.signatures", 3, -1}},
		"extra":   {[]TableCount{{"main", "a", 1}, {"main", "signatures", 3}, {"main", "users", 2}}, TableMismatchError{"main.a", -1, 1}},
		"last":    {[]TableCount{{"main", "signatures", 3}}, TableMismatchError{"main.users", 2, -1}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := compareContents(want, contents{schemaVersion: 12, tables: c.tables})
			var m *TableMismatchError
			require.ErrorAs(t, err, &m)
			assert.Equal(t, c.want, *m)
			require.ErrorIs(t, err, ErrIntegrity)
			assert.Contains(t, err.Error(), c.want.Table)
		})
	}
}
