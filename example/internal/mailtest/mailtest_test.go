package mailtest_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/example/internal/mailtest"
)

// The server is checked with the standard library's net/smtp client, a
// second implementation next to the go-mail client that package mail uses.

const rawMessage = "From: Senfi <noreply@senfi.test>\r\n" +
	"To: a@sharif.edu\r\n" +
	"Subject: =?UTF-8?q?=DA=A9=D8=AF_=D8=AA=D8=A3=DB=8C=DB=8C=D8=AF?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Your verification code is: 314159\r\n" +
	"=DA=A9=D8=AF: 314159\r\n"

func dial(t *testing.T, srv *mailtest.Server, startTLS bool) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if startTLS {
		cfg := srv.TLSConfig()
		cfg.ServerName = srv.Host()
		if err := c.StartTLS(cfg); err != nil {
			t.Fatalf("STARTTLS: %v", err)
		}
	}
	return c
}

func send(c *smtp.Client, from, to, raw string) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(raw)); err != nil {
		return err
	}
	return w.Close()
}

func replyCode(err error) int {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	return 0
}

func TestServerReceives(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{STARTTLS: true})
	c := dial(t, srv, true)
	if err := send(c, "noreply@senfi.test", "A@Sharif.edu", rawMessage); err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, "a@sharif.edu", time.Second) // case-insensitive
	if m.Subject != "کد تأیید" || m.From != "noreply@senfi.test" || len(m.To) != 1 || m.To[0] != "a@sharif.edu" {
		t.Errorf("decoded %q from %q to %q", m.Subject, m.From, m.To)
	}
	if m.Text != "Your verification code is: 314159\nکد: 314159\n" {
		t.Errorf("Text = %q", m.Text)
	}
	if !m.TLS || m.MailFrom != "noreply@senfi.test" || m.RcptTo[0] != "A@Sharif.edu" || m.User != "" {
		t.Errorf("envelope %+v", m)
	}
}

func TestServerAuth(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{STARTTLS: true, Username: "u", Password: "p"})

	plain := dial(t, srv, false)
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Error("AUTH offered over plain text")
	}

	c := dial(t, srv, true)
	if err := send(c, "noreply@senfi.test", "a@sharif.edu", rawMessage); replyCode(err) != 530 {
		t.Errorf("MAIL before AUTH: %v, want 530", err)
	}
	if err := c.Auth(smtp.PlainAuth("", "u", "wrong", srv.Host())); replyCode(err) != 535 {
		t.Errorf("wrong password: %v, want 535", err)
	}

	c = dial(t, srv, true)
	if err := c.Auth(smtp.PlainAuth("", "u", "p", srv.Host())); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := send(c, "noreply@senfi.test", "a@sharif.edu", rawMessage); err != nil {
		t.Fatal(err)
	}
	if m := srv.WaitFor(t, "a@sharif.edu", time.Second); m.User != "u" {
		t.Errorf("User = %q", m.User)
	}
	if st := srv.Stats(); st != (mailtest.Stats{Delivered: 1, AuthSucceeded: 1, AuthFailed: 1}) {
		t.Errorf("Stats = %+v", st)
	}
}

func TestServerImplicitTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{ImplicitTLS: true})
	cfg := srv.TLSConfig()
	cfg.ServerName = srv.Host()
	conn, err := tls.Dial("tcp", srv.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, srv.Host())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered inside TLS")
	}
	if err := send(c, "noreply@senfi.test", "a@sharif.edu", rawMessage); err != nil {
		t.Fatal(err)
	}
	if m := srv.WaitFor(t, "a@sharif.edu", time.Second); !m.TLS {
		t.Error("message not marked as received over TLS")
	}
	if mailtest.Start(t, mailtest.Options{}).TLSConfig() != nil {
		t.Error("TLSConfig of a plain server is not nil")
	}
}

func TestServerFailMode(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{RejectRcpt: 2, RejectCode: 452})
	c := dial(t, srv, false)
	for i := range 2 {
		if err := send(c, "noreply@senfi.test", "a@sharif.edu", rawMessage); replyCode(err) != 452 {
			t.Fatalf("attempt %d: %v, want 452", i+1, err)
		}
		if err := c.Reset(); err != nil {
			t.Fatal(err)
		}
	}
	if err := send(c, "noreply@senfi.test", "a@sharif.edu", rawMessage); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	if st := srv.Stats(); st.RejectedRcpt != 2 || st.Delivered != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestWaitForOrder: successive calls return successive messages to one
// recipient, ignoring the others; a message arriving while WaitFor waits
// wakes it.
func TestWaitForOrder(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	c := dial(t, srv, false)
	for _, m := range []struct{ to, code string }{{"a@x.test", "111111"}, {"b@x.test", "222222"}, {"a@x.test", "333333"}} {
		body := strings.ReplaceAll(rawMessage, "314159", m.code)
		if err := send(c, "noreply@senfi.test", m.to, body); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"111111", "333333"} {
		if got := srv.Code(t, "a@x.test"); got != want {
			t.Errorf("Code = %s, want %s", got, want)
		}
	}
	if got := srv.Code(t, "b@x.test"); got != "222222" {
		t.Errorf("Code(b) = %s", got)
	}

	late := dial(t, srv, false)
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(20 * time.Millisecond)
		if err := send(late, "noreply@senfi.test", "a@x.test", strings.ReplaceAll(rawMessage, "314159", "444444")); err != nil {
			t.Error(err)
		}
	})
	if got := srv.Code(t, "a@x.test"); got != "444444" {
		t.Errorf("late Code = %s", got)
	}
	wg.Wait()
	if n := len(srv.Messages()); n != 4 {
		t.Errorf("Messages holds %d", n)
	}
}

// fatalRecorder is a testing.TB whose Fatal stops only the goroutine, so
// that a test can observe that a helper fails.
type fatalRecorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.msg = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func expectFatal(t *testing.T, f func(tb testing.TB)) string {
	t.Helper()
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msg == "" {
		t.Fatal("the helper did not fail")
	}
	return r.msg
}

func TestWaitForTimesOut(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	msg := expectFatal(t, func(tb testing.TB) { srv.WaitFor(tb, "nobody@x.test", 30*time.Millisecond) })
	if !strings.Contains(msg, "nobody@x.test") {
		t.Errorf("failure message %q does not name the recipient", msg)
	}

	c := dial(t, srv, false)
	if err := send(c, "noreply@senfi.test", "a@x.test", strings.ReplaceAll(rawMessage, "314159", "12345")); err != nil {
		t.Fatal(err)
	}
	msg = expectFatal(t, func(tb testing.TB) { srv.Code(tb, "a@x.test") })
	if !strings.Contains(msg, "no 6-digit code") {
		t.Errorf("Code without a code: %q", msg)
	}
}

func TestFindCode(t *testing.T) {
	cases := []struct {
		text, want string
		ok         bool
	}{
		{"Your verification code is: 042517\n", "042517", true},
		{"code 123456 and again 123456.", "123456", true},
		{"کد تأیید شما:123456", "123456", true},
		{"1234567 is too long, 12345 too short", "", false},
		{"a123456 and 123456_ are joined to words", "", false},
		{"two codes 123456 and 654321", "", false},
		{"Persian digits ۱۲۳۴۵۶ are not the code", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		got, err := mailtest.FindCode(tc.text)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("FindCode(%q) = %q, %v; want %q, ok %v", tc.text, got, err, tc.want, tc.ok)
		}
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name, raw string
		subject   string
		text      string
		wantErr   bool
	}{
		{
			name: "base64 body, B-encoded subject",
			raw: "From: a@x.test\r\nTo: b@x.test\r\nSubject: =?utf-8?B?2qnYryDYqtij24zbjNiv?=\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				"2qnYryDYqtij\r\n24zbjNivOiAx\r\nMjM0NTY=\r\n",
			subject: "کد تأیید",
			text:    "کد تأیید: 123456",
		},
		{
			name: "quoted-printable soft line breaks",
			raw: "From: a@x.test\r\nTo: b@x.test\r\nSubject: hi\r\n" +
				"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
				"a long line that was =\r\nfolded, and =3D sign\r\n",
			subject: "hi",
			text:    "a long line that was folded, and = sign\n",
		},
		{
			name:    "no Content-Type means US-ASCII text",
			raw:     "From: a@x.test\r\nTo: b@x.test\r\nSubject: hi\r\n\r\nplain\r\n",
			subject: "hi",
			text:    "plain\n",
		},
		{
			name: "multipart: the text/plain part",
			raw: "From: a@x.test\r\nTo: b@x.test\r\nSubject: hi\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/alternative; boundary=XX\r\n\r\n" +
				"--XX\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n" +
				"--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
				"caf=C3=A9\r\n--XX--\r\n",
			subject: "hi",
			text:    "café",
		},
		{
			name: "other charsets are refused",
			raw: "From: a@x.test\r\nTo: b@x.test\r\nSubject: hi\r\n" +
				"Content-Type: text/plain; charset=windows-1256\r\n\r\nx\r\n",
			wantErr: true,
		},
		{
			name:    "HTML only has no text",
			raw:     "From: a@x.test\r\nTo: b@x.test\r\nSubject: hi\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n",
			wantErr: true,
		},
		{
			name:    "no From",
			raw:     "To: b@x.test\r\nSubject: hi\r\n\r\nx\r\n",
			wantErr: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := mailtest.Decode([]byte(tc.raw))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Decode accepted it: %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Subject != tc.subject || r.Text != tc.text {
				t.Errorf("Subject %q, Text %q; want %q, %q", r.Subject, r.Text, tc.subject, tc.text)
			}
		})
	}
}
