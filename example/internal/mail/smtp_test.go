package mail_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/example/internal/mail"
	"github.com/senfi-sharif/senfi/example/internal/mailtest"
)

const (
	testUser     = "senfi-mailer"
	testPassword = "s3cret-Mailbox-Pass"
	testFrom     = "Senfi <noreply@senfi.test>"
)

// config returns an SMTPConfig for srv with the given TLS mode; with auth it
// carries the test credentials.
func config(srv *mailtest.Server, mode string, auth bool) mail.SMTPConfig {
	cfg := mail.SMTPConfig{
		Host:      srv.Host(),
		Port:      srv.Port(),
		From:      testFrom,
		TLS:       mode,
		Timeout:   5 * time.Second,
		TLSConfig: srv.TLSConfig(),
	}
	if auth {
		cfg.Username, cfg.Password = testUser, testPassword
	}
	return cfg
}

func newSMTP(t *testing.T, cfg mail.SMTPConfig) *mail.SMTP {
	t.Helper()
	s, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s
}

// TestSMTPDelivers sends a verification code through each transport and
// reads it back from the server, as the end-to-end tests of the app do.
func TestSMTPDelivers(t *testing.T) {
	cases := []struct {
		name    string
		server  mailtest.Options
		mode    string
		auth    bool
		wantTLS bool
	}{
		{"plain", mailtest.Options{}, mail.TLSNone, false, false},
		{"starttls", mailtest.Options{STARTTLS: true}, mail.TLSStartTLS, false, true},
		{"starttls+auth", mailtest.Options{STARTTLS: true, Username: testUser, Password: testPassword}, mail.TLSStartTLS, true, true},
		{"implicit tls+auth", mailtest.Options{ImplicitTLS: true, Username: testUser, Password: testPassword}, mail.TLSImplicit, true, true},
		{"default mode is starttls", mailtest.Options{STARTTLS: true}, "", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.server)
			s := newSMTP(t, config(srv, tc.mode, tc.auth))
			const to, code = "ali.rezaei@sharif.edu", "042517"
			if err := s.Send(context.Background(), mail.VerificationCode(to, code)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got := srv.Code(t, to); got != code {
				t.Errorf("code = %q, want %q", got, code)
			}
			m := srv.Messages()[0]
			if m.TLS != tc.wantTLS {
				t.Errorf("TLS = %v, want %v", m.TLS, tc.wantTLS)
			}
			wantUser := ""
			if tc.auth {
				wantUser = testUser
			}
			if m.User != wantUser {
				t.Errorf("authenticated as %q, want %q", m.User, wantUser)
			}
			if m.Subject != mail.VerificationSubject || m.From != "noreply@senfi.test" || m.MailFrom != "noreply@senfi.test" {
				t.Errorf("Subject %q, From %q, MAIL FROM %q", m.Subject, m.From, m.MailFrom)
			}
			if len(m.To) != 1 || m.To[0] != to || len(m.RcptTo) != 1 || m.RcptTo[0] != to {
				t.Errorf("To %q, RCPT TO %q; want only %s", m.To, m.RcptTo, to)
			}
			if !strings.Contains(m.Text, "Your verification code is: "+code+"\n") {
				t.Errorf("body lacks the original's line:\n%s", m.Text)
			}
			for _, h := range []string{"User-Agent", "X-Mailer"} {
				if v := m.Header.Get(h); v != "" {
					t.Errorf("%s header %q tells the library and version", h, v)
				}
			}
			if id := m.Header.Get("Message-Id"); !strings.HasSuffix(id, "@senfi.test>") {
				t.Errorf("Message-ID %q is not in the sender's domain", id)
			}
		})
	}
}

// TestSMTPRefusesWithoutTLS: with starttls the client must not fall back to
// plain text when the server (or an attacker in the path) does not offer
// STARTTLS, nor trust a certificate it cannot verify.
func TestSMTPRefusesWithoutTLS(t *testing.T) {
	t.Run("no STARTTLS offered", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{Username: testUser, Password: testPassword})
		cfg := config(srv, mail.TLSStartTLS, true)
		cfg.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		err := newSMTP(t, cfg).Send(context.Background(), mail.VerificationCode("a@sharif.edu", "123456"))
		wantKind(t, err, mail.ErrTLS, 0, false)
		if st := srv.Stats(); st.AuthFailed+st.AuthSucceeded != 0 || st.Delivered != 0 {
			t.Errorf("server saw %+v; want no AUTH and no message over plain text", st)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{STARTTLS: true, Username: testUser, Password: testPassword})
		cfg := config(srv, mail.TLSStartTLS, true)
		cfg.TLSConfig = nil // system roots: the self-signed certificate is not trusted
		err := newSMTP(t, cfg).Check(context.Background())
		wantKind(t, err, mail.ErrTLS, 0, false)
		if st := srv.Stats(); st.AuthFailed+st.AuthSucceeded != 0 {
			t.Errorf("credentials reached a server whose certificate failed: %+v", st)
		}
	})
	t.Run("implicit TLS against a plain server", func(t *testing.T) {
		srv := mailtest.Start(t, mailtest.Options{})
		err := newSMTP(t, config(srv, mail.TLSImplicit, false)).Check(context.Background())
		wantKind(t, err, mail.ErrTLS, 0, false)
	})
}

// TestSMTPAuth: the right password delivers; a wrong one is ErrAuth with the
// 535 reply, permanent (a queue must not retry it into a mailbox lockout).
func TestSMTPAuth(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{STARTTLS: true, Username: testUser, Password: testPassword})
	if err := newSMTP(t, config(srv, mail.TLSStartTLS, true)).Check(context.Background()); err != nil {
		t.Fatalf("Check with the right password: %v", err)
	}
	cfg := config(srv, mail.TLSStartTLS, true)
	cfg.Password = "wrong-password"
	err := newSMTP(t, cfg).Send(context.Background(), mail.VerificationCode("a@sharif.edu", "123456"))
	wantKind(t, err, mail.ErrAuth, 535, false)
	if st := srv.Stats(); st.AuthSucceeded != 1 || st.AuthFailed != 1 || st.Delivered != 0 {
		t.Errorf("stats %+v, want one success (Check), one failure, nothing delivered", st)
	}

	t.Run("server requires a login the client lacks", func(t *testing.T) {
		err := newSMTP(t, config(srv, mail.TLSStartTLS, false)).Send(context.Background(), mail.VerificationCode("a@sharif.edu", "123456"))
		wantKind(t, err, mail.ErrRejected, 530, false)
	})
}

// TestCheckDescribe runs Check against each failure and asserts that
// Describe names the step and nothing of the server.
func TestCheckDescribe(t *testing.T) {
	authSrv := mailtest.Start(t, mailtest.Options{STARTTLS: true, Username: testUser, Password: testPassword})
	wrongPass := config(authSrv, mail.TLSStartTLS, true)
	wrongPass.Password = "not-" + testPassword

	plainSrv := mailtest.Start(t, mailtest.Options{})

	closedPort := freePort(t)
	refused := mail.SMTPConfig{Host: "127.0.0.1", Port: closedPort, From: testFrom, TLS: mail.TLSNone, Timeout: 5 * time.Second}

	silent := silentServer(t)
	slow := mail.SMTPConfig{Host: "127.0.0.1", Port: silent, From: testFrom, TLS: mail.TLSNone, Timeout: 300 * time.Millisecond}

	cases := []struct {
		name string
		cfg  mail.SMTPConfig
		want string
		kind error
	}{
		{"ok", config(authSrv, mail.TLSStartTLS, true), "the mail server accepted the connection", nil},
		{"wrong password", wrongPass, "authentication with the mail server failed", mail.ErrAuth},
		{"no STARTTLS", config(plainSrv, mail.TLSStartTLS, false), "TLS handshake with the mail server failed", mail.ErrTLS},
		{"connection refused", refused, "could not connect to the mail server", mail.ErrConnect},
		{"server never answers", slow, "the mail server did not answer in time", mail.ErrTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := newSMTP(t, tc.cfg).Check(context.Background())
			if tc.kind == nil && err != nil || tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Fatalf("Check: %v, want %v", err, tc.kind)
			}
			if elapsed := time.Since(start); elapsed > tc.cfg.Timeout+2*time.Second {
				t.Errorf("Check took %v with a %v timeout", elapsed, tc.cfg.Timeout)
			}
			got := mail.Describe(err)
			if got != tc.want {
				t.Errorf("Describe = %q, want %q", got, tc.want)
			}
			fa := mail.DescribePersian(err)
			for _, secret := range []string{tc.cfg.Host, strconv.Itoa(tc.cfg.Port), testUser, testPassword, wrongPass.Password, "535", "tcp"} {
				if strings.Contains(got, secret) || strings.Contains(fa, secret) {
					t.Errorf("Describe leaks %q: %q / %q", secret, got, fa)
				}
			}
			if err != nil {
				t.Logf("logged error: %v", err) // the full error, for the log only
			}
		})
	}
}

// TestSMTPRejectedRcpt: a 4xx reply is temporary, a 5xx permanent, and the
// error text (which goes to logs) does not name the recipient.
func TestSMTPRejectedRcpt(t *testing.T) {
	for _, code := range []int{451, 550} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.Options{RejectRcpt: 1, RejectCode: code})
			s := newSMTP(t, config(srv, mail.TLSNone, false))
			const to = "private.person@sharif.edu"
			err := s.Send(context.Background(), mail.VerificationCode(to, "123456"))
			wantKind(t, err, mail.ErrRejected, code, code < 500)
			if strings.Contains(err.Error(), "private.person") {
				t.Errorf("error names the recipient: %v", err)
			}
			// The next attempt goes through: the fail mode refused one RCPT.
			if err := s.Send(context.Background(), mail.VerificationCode(to, "654321")); err != nil {
				t.Fatalf("second Send: %v", err)
			}
			if got := srv.Code(t, to); got != "654321" {
				t.Errorf("code = %s", got)
			}
		})
	}
}

// TestSMTPContext: a cancelled context stops the conversation and is not a
// mail-server failure; a caller's deadline shorter than Timeout is a timeout.
func TestSMTPContext(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	s := newSMTP(t, config(srv, mail.TLSNone, false))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, mail.VerificationCode("a@sharif.edu", "123456"))
	if !errors.Is(err, context.Canceled) || mail.Temporary(err) {
		t.Errorf("cancelled Send: %v (temporary %v), want context.Canceled, final", err, mail.Temporary(err))
	}

	silent := silentServer(t)
	slow := newSMTP(t, mail.SMTPConfig{Host: "127.0.0.1", Port: silent, From: testFrom, TLS: mail.TLSNone, Timeout: time.Minute})
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = slow.Check(ctx)
	wantKind(t, err, mail.ErrTimeout, 0, true)
}

// TestSMTPUnicode: Persian subject and body (ZWNJ, Persian digits, long
// lines that quoted-printable must fold) arrive unchanged.
func TestSMTPUnicode(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{STARTTLS: true})
	s := newSMTP(t, config(srv, mail.TLSStartTLS, false))
	m := mail.Message{
		To:      "Zahra.Ahmadi@sharif.edu",
		Subject: "کد تأیید سنفی — Senfi ✓ «شورای صنفی دانشجویان»",
		Text: strings.Repeat("این یک متن آزمایشی بلند است که باید در چند خط شکسته شود؛ ", 6) + "\n" +
			"ارقام فارسی: ۰۱۲۳۴۵۶۷۸۹ و نیم‌فاصله در «می‌شود».\n" +
			"= sign, trailing space \nand tab\t\n",
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, "zahra.ahmadi@sharif.edu", 5*time.Second)
	if got.Subject != m.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, m.Subject)
	}
	if got.Text != m.Text {
		t.Errorf("Text =\n%q\nwant\n%q", got.Text, m.Text)
	}
	for _, line := range strings.Split(string(got.Raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("raw line of %d bytes exceeds RFC 5322's limit", len(line))
		}
	}
}

// TestHeaderInjection: CR/LF (and other ways to add a recipient or a
// header) in To or Subject are refused before anything is sent.
func TestHeaderInjection(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	s := newSMTP(t, config(srv, mail.TLSNone, false))
	q, err := mail.NewQueue(s, mail.QueueOptions{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close(context.Background()) })
	w, err := mail.NewWriter(&strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	ok := mail.VerificationCode("victim@sharif.edu", "123456")
	bad := map[string]mail.Message{
		"To CRLF Bcc":       withTo(ok, "victim@sharif.edu\r\nBcc: attacker@evil.test"),
		"To LF":             withTo(ok, "victim@sharif.edu\nBcc: attacker@evil.test"),
		"To two addresses":  withTo(ok, "victim@sharif.edu, attacker@evil.test"),
		"To display name":   withTo(ok, "Victim <victim@sharif.edu>"),
		"To group":          withTo(ok, "list: victim@sharif.edu, attacker@evil.test;"),
		"To comment":        withTo(ok, "victim@sharif.edu (hi)"),
		"To non-ASCII":      withTo(ok, "زهرا@sharif.edu"),
		"To empty":          withTo(ok, ""),
		"To too long":       withTo(ok, strings.Repeat("a", 250)+"@sharif.edu"),
		"Subject CRLF":      withSubject(ok, "Code\r\nBcc: attacker@evil.test"),
		"Subject LF":        withSubject(ok, "Code\nContent-Type: text/html"),
		"Subject CR":        withSubject(ok, "Code\rX-Injected: 1"),
		"Subject NEL":       withSubject(ok, "Code\u0085X-Injected: 1"),
		"Subject empty":     withSubject(ok, " "),
		"Subject too long":  withSubject(ok, strings.Repeat("ک", mail.MaxSubjectLength+1)),
		"Text NUL":          {To: ok.To, Subject: ok.Subject, Text: "a\x00b"},
		"Text invalid UTF8": {To: ok.To, Subject: ok.Subject, Text: "a\xffb"},
		"Text too large":    {To: ok.To, Subject: ok.Subject, Text: strings.Repeat("a", mail.MaxTextLength+1)},
	}
	for name, m := range bad {
		t.Run(name, func(t *testing.T) {
			for sender, err := range map[string]error{
				"Validate": m.Validate(),
				"SMTP":     s.Send(context.Background(), m),
				"Writer":   w.Send(context.Background(), m),
				"Queue":    q.Enqueue(m),
			} {
				if !errors.Is(err, mail.ErrInvalidMessage) {
					t.Errorf("%s: err = %v, want ErrInvalidMessage", sender, err)
				} else if m.To != "" && strings.Contains(err.Error(), m.To) {
					t.Errorf("%s: error repeats the input: %v", sender, err)
				}
			}
		})
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages from refused input", n)
	}
}

func withTo(m mail.Message, to string) mail.Message     { m.To = to; return m }
func withSubject(m mail.Message, s string) mail.Message { m.Subject = s; return m }

// TestSMTPConfigValidate: every refusal names the variable to fix.
func TestSMTPConfigValidate(t *testing.T) {
	good := mail.SMTPConfig{Host: "smtp.example.com", From: "Senfi <noreply@example.com>", Username: "u", Password: "p"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	cases := []struct {
		name string
		edit func(*mail.SMTPConfig)
		want string
	}{
		{"no host", func(c *mail.SMTPConfig) { c.Host = "" }, "SENFI_SMTP_HOST"},
		{"host with port", func(c *mail.SMTPConfig) { c.Host = "smtp.example.com:587" }, "SENFI_SMTP_HOST"},
		{"port range", func(c *mail.SMTPConfig) { c.Port = 70000 }, "SENFI_SMTP_PORT"},
		{"tls mode", func(c *mail.SMTPConfig) { c.TLS = "ssl" }, "SENFI_SMTP_TLS"},
		{"password in clear", func(c *mail.SMTPConfig) { c.TLS = mail.TLSNone }, "SENFI_SMTP_TLS"},
		{"user without password", func(c *mail.SMTPConfig) { c.Password = "" }, "SENFI_SMTP_PASSWORD"},
		{"password without user", func(c *mail.SMTPConfig) { c.Username = "" }, "SENFI_SMTP_USERNAME"},
		{"no from", func(c *mail.SMTPConfig) { c.From = "" }, "SENFI_SMTP_FROM"},
		{"bad from", func(c *mail.SMTPConfig) { c.From = "a@b.test, c@d.test" }, "SENFI_SMTP_FROM"},
		{"negative timeout", func(c *mail.SMTPConfig) { c.Timeout = -time.Second }, "Timeout"},
		{"skip verify", func(c *mail.SMTPConfig) { c.TLSConfig = &tls.Config{InsecureSkipVerify: true} }, "InsecureSkipVerify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.want)
			}
			if _, err := mail.NewSMTP(c); err == nil {
				t.Error("NewSMTP accepted what Validate refuses")
			}
		})
	}
}

// TestSMTPConfigHidesPassword: printing or logging the settings (what the
// original did on stdout) never shows the password.
func TestSMTPConfigHidesPassword(t *testing.T) {
	c := mail.SMTPConfig{Host: "smtp.example.com", Username: "mailer", Password: testPassword, From: testFrom}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("smtp settings", "smtp", c)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%v", &c), c.String(), logs.String()} {
		if strings.Contains(out, testPassword) {
			t.Errorf("password shown in %q", out)
		}
		if !strings.Contains(out, "mailer") {
			t.Errorf("settings not shown in %q", out)
		}
	}
}

// wantKind asserts that err is an *mail.Error of kind with code and
// temporariness.
func wantKind(t *testing.T, err, kind error, code int, temporary bool) {
	t.Helper()
	var e *mail.Error
	if !errors.As(err, &e) || !errors.Is(err, kind) {
		t.Fatalf("err = %v, want a *mail.Error of kind %v", err, kind)
	}
	if e.Code != code {
		t.Errorf("reply code = %d, want %d (%v)", e.Code, code, err)
	}
	if mail.Temporary(err) != temporary {
		t.Errorf("Temporary = %v, want %v (%v)", mail.Temporary(err), temporary, err)
	}
}

// freePort returns a port on 127.0.0.1 where nothing listens.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

// silentServer accepts connections and never says a word.
func silentServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return ln.Addr().(*net.TCPAddr).Port
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
