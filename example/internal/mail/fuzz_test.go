package mail

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/senfi-sharif/senfi/example/internal/mailtest"
)

// FuzzMessage feeds request-controlled To, Subject and Text through
// Validate and, when accepted, through the MIME writer. Invariants: a
// message that Validate accepts is written with exactly the expected
// headers (nothing injected), one recipient equal to To, and a subject (less
// surrounding spaces) and body that decode back to the input; a refused message is refused with
// ErrInvalidMessage.
func FuzzMessage(f *testing.F) {
	f.Add("ali@sharif.edu", "Sharif Verification Code", "Your verification code is: 123456\n")
	f.Add("a@b.c", "کد تأیید", "متن فارسی با نیم‌فاصله\n= sign \t\n")
	f.Add("a@sharif.edu\r\nBcc: x@evil.test", "s", "t")
	f.Add("a@sharif.edu", "s\r\nBcc: x@evil.test", "t")
	f.Add("\"a b\"@sharif.edu", "=?utf-8?q?injected?=", "line\r\nline\rline")
	f.Add("a@[127.0.0.1]", strings.Repeat("ک ", 90), strings.Repeat("x", 1000))
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", From: "Senfi <noreply@senfi.test>", TLS: TLSNone})
	if err != nil {
		f.Fatal(err)
	}
	wantHeaders := []string{"Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
	f.Fuzz(func(t *testing.T, to, subject, text string) {
		m := Message{To: to, Subject: subject, Text: text}
		if err := m.Validate(); err != nil {
			return
		}
		msg, err := s.build(m)
		if err != nil {
			t.Fatalf("build refused a valid message: %v", err)
		}
		var raw bytes.Buffer
		if _, err := msg.WriteTo(&raw); err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
		got, err := mailtest.Decode(raw.Bytes())
		if err != nil {
			t.Fatalf("the written message does not decode: %v\n%s", err, raw.Bytes())
		}
		var keys []string
		for k := range got.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantHeaders) {
			t.Fatalf("headers %v, want %v\n%s", keys, wantHeaders, raw.Bytes())
		}
		if len(got.To) != 1 || got.To[0] != to {
			t.Fatalf("To = %q, want [%q]", got.To, to)
		}
		if want := strings.Trim(subject, " "); got.Subject != want {
			t.Fatalf("Subject = %q, want %q", got.Subject, want)
		}
		if want := normalizeNewlines(text); got.Text != want {
			t.Fatalf("Text = %q, want %q", got.Text, want)
		}
	})
}

// normalizeNewlines is what a mail body becomes on the wire: every line
// break, CRLF, CR or LF, is CRLF, which a reader sees as "\n".
func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
