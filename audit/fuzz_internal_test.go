package audit

import (
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

const fuzzChainLine = `{"time":"2026-01-02T03:04:05.000Z","level":"WARN","event":"authn_login_fail","i":1,"seq":1,"prev":"0000000000000000000000000000000000000000000000000000000000000000","mac":"e09390b7260dd0338f7fdf6768fa1b85c99d3810b46faa6a4bee4627066ca31e"}`

// FuzzParseChainFields checks the parser of the chain suffix, which reads
// untrusted log lines: it never panics, and what it accepts is exactly the
// one spelling a Chain writes.
func FuzzParseChainFields(f *testing.F) {
	f.Add([]byte(fuzzChainLine))
	f.Add([]byte(strings.Replace(fuzzChainLine, `"seq":1`, `"seq":01`, 1)))
	f.Add([]byte(strings.Replace(fuzzChainLine, `"seq":1`, `"seq":18446744073709551616`, 1)))
	f.Add([]byte(`{"seq":1,"prev":"","mac":""}`))
	f.Add([]byte(`}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		cf, ok := parseChainFields(line)
		if !ok {
			return
		}
		if cf.seq == 0 {
			t.Fatalf("accepted seq 0: %q", line)
		}
		rebuilt := string(cf.covered) + macPrefix + hex.EncodeToString(cf.mac[:]) + `"}`
		if rebuilt != string(line) {
			t.Fatalf("mac part not canonical:\n%q\n%q", rebuilt, line)
		}
		suffix := seqPrefix + strconv.FormatUint(cf.seq, 10) + prevPrefix + hex.EncodeToString(cf.prev[:]) + `"`
		if !strings.HasSuffix(string(cf.covered), suffix) {
			t.Fatalf("seq/prev part not canonical: %q", cf.covered)
		}
	})
}

// FuzzEncode checks that any key and value give one valid JSON line, that
// a denied key's value is redacted, and that embedded documents are
// handled without panics.
func FuzzEncode(f *testing.F) {
	f.Add("password", "hunter2")
	f.Add("note", `{"token":"x","a":[1,{"code":"2"}]}`)
	f.Add("raw", "a=1&password=2; sessionid=3")
	f.Add("k\n\"", "v\x00\xff\u2028")
	f.Add("", "eyJhbGciOiJIUzI1NiJ9.eyJ9.x")
	red := newRedactor(nil, nil)
	f.Fuzz(func(t *testing.T, key, value string) {
		e := lineEncoder{red: red, maxValue: DefaultMaxValueBytes}
		e.header(&header{level: slog.LevelInfo, event: "fuzz"})
		e.attr(slog.String(key, value), 0, true)
		e.attr(slog.Any("m", map[string]any{key: value, "l": []any{value}}), 0, true)
		e.attr(slog.Group("g", slog.String(key, value)), 0, true)
		e.finish()
		if strings.ContainsAny(string(e.b), "\n\r") {
			t.Fatalf("line break in record: %q", e.b)
		}
		var rec map[string]any
		if err := json.Unmarshal(e.b, &rec); err != nil {
			t.Fatalf("invalid JSON: %v: %q", err, e.b)
		}
		if key == "" || !red.denied(key) {
			return
		}
		g, _ := rec["g"].(map[string]any)
		if g[key] != Redacted {
			t.Fatalf("denied key %q not redacted in group: %q", key, e.b)
		}
		m, _ := rec["m"].(map[string]any)
		if m[key] != Redacted {
			t.Fatalf("denied key %q not redacted in map: %q", key, e.b)
		}
	})
}
