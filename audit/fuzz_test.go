package audit_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/senfi-sharif/senfi/audit"
)

// FuzzRequestID checks the X-Request-ID validator through the middleware:
// a valid incoming ID is echoed as is, anything else is replaced, and the
// response header is always a valid ID.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", "6f1c2a3e-9b7d-4c1a-8f2e-1234567890ab", "a\r\nSet-Cookie: x=1", strings.Repeat("z", 65), "é", "a b", "a:b.c_d-e"} {
		f.Add(s)
	}
	l, err := audit.New(audit.Options{Sinks: []audit.Sink{audit.NewWriterSink("discard", discard{})}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { l.Close() })
	h := l.Requests(okHandler)
	f.Fuzz(func(t *testing.T, id string) {
		valid := audit.ValidRequestID(id)
		if valid != (len(id) >= 1 && len(id) <= audit.MaxRequestIDLength && strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == "") {
			t.Fatalf("ValidRequestID(%q) = %v", id, valid)
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set(audit.HeaderRequestID, id)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(audit.HeaderRequestID)
		if !audit.ValidRequestID(got) {
			t.Fatalf("response request ID %q is not valid", got)
		}
		if valid && got != id {
			t.Fatalf("valid incoming ID %q replaced by %q", id, got)
		}
		if !valid && got == id {
			t.Fatalf("invalid incoming ID %q echoed", id)
		}
	})
}

// FuzzVerify feeds arbitrary files to Verify, seeded with a real chain and
// its checkpoints: it never panics or fails with an error, and its report
// is consistent with the input.
func FuzzVerify(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "chain.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	lines := bytes.SplitAfter(golden, []byte("\n"))
	f.Add(golden)
	f.Add(bytes.Join([][]byte{lines[0], lines[2], lines[1]}, nil))
	f.Add(append(bytes.Clone(golden[:len(golden)-30]), '\n'))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"seq":1,"prev":"x","mac":"y"}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "audit.log")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify([]string{path}, audit.VerifyOptions{Key: testKey})
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		n := int64(bytes.Count(data, []byte("\n")))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			n++
		}
		if rep.Records > n {
			t.Fatalf("%d records verified in %d lines", rep.Records, n)
		}
		if rep.OK() && rep.Records != n {
			t.Fatalf("OK with %d of %d lines verified", rep.Records, n)
		}
		if rep.Records > 0 && rep.FirstSeq > rep.LastSeq {
			t.Fatalf("FirstSeq %d > LastSeq %d", rep.FirstSeq, rep.LastSeq)
		}
		if p := rep.Problem; p != nil && (p.Line < 1 || p.Line > n) {
			t.Fatalf("problem at line %d of %d: %v", p.Line, n, p)
		}
	})
}

// FuzzReadCheckpoints checks the parser of checkpoint lines, which come
// from a log stream an attacker may have written to.
func FuzzReadCheckpoints(f *testing.F) {
	f.Add(`{"time":"2026-01-02T03:04:05.000Z","level":"INFO","event":"audit_checkpoint","outcome":"success","chain":"audit","chain_seq":3,"chain_mac":"94a38e01342565acea783cacb5527bba11f360ebc6697ed606bf37a664552d38"}`)
	f.Add(`{"event":"audit_checkpoint","chain_seq":-1}`)
	f.Add(`{"event":"audit_checkpoint","chain_seq":1,"chain_mac":"ZZ"}`)
	f.Fuzz(func(t *testing.T, line string) {
		cps, err := audit.ReadCheckpoints(strings.NewReader(line), "")
		if err != nil {
			t.Fatal(err)
		}
		for _, cp := range cps {
			if cp.Seq == 0 {
				t.Fatalf("checkpoint with seq 0 from %q", line)
			}
		}
		_, _ = audit.ParseCheckpoint([]byte(line))
	})
}
