package mailtest

import (
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// DefaultWait is how long [Server.Code] waits for a message.
const DefaultWait = 10 * time.Second

// Options configures a test [Server]. The zero value is a plain-text server
// without authentication that accepts every message.
type Options struct {
	// STARTTLS makes the server offer STARTTLS with a fresh self-signed
	// certificate for 127.0.0.1 and localhost; clients trust it through
	// [Server.TLSConfig]. Without it the server does not offer STARTTLS,
	// which is how a test shows that a client requiring it refuses to go on.
	STARTTLS bool
	// ImplicitTLS makes the server speak TLS from the first byte (SMTPS),
	// with the same kind of certificate. It excludes STARTTLS.
	ImplicitTLS bool
	// Username, when set, makes the server offer AUTH PLAIN (over TLS only,
	// as real servers do), accept exactly Username and Password (a wrong
	// pair gets 535), and refuse MAIL before a successful login (530, RFC 4954).
	Username string
	// Password goes with Username.
	Password string
	// RejectRcpt is how many RCPT commands, counting from the server's
	// first, are refused with RejectCode: the fail mode for retry tests.
	RejectRcpt int
	// RejectCode is the reply to a refused RCPT: a 4xx for a temporary
	// failure, a 5xx for a permanent one. Zero means 451.
	RejectCode int
}

// Received is one message the server accepted, decoded as a mail client
// would show it (see [Decode]).
type Received struct {
	// MailFrom is the envelope sender (MAIL FROM).
	MailFrom string
	// RcptTo is the envelope recipients (RCPT TO): where the mail goes.
	RcptTo []string
	// From is the address of the From header.
	From string
	// To is the addresses of the To header.
	To []string
	// Subject is the decoded Subject header.
	Subject string
	// Text is the decoded text/plain body, with "\n" line ends.
	Text string
	// Header is the message's header as received (not decoded).
	Header mail.Header
	// Raw is the message as received, after the SMTP dot-unstuffing.
	Raw []byte
	// TLS reports whether the message arrived over TLS (STARTTLS or
	// implicit).
	TLS bool
	// User is the name the client authenticated as, or "".
	User string
}

// Stats counts what the server saw.
type Stats struct {
	// Delivered counts the messages accepted.
	Delivered int
	// RejectedRcpt counts the RCPT commands refused by the fail mode.
	RejectedRcpt int
	// AuthSucceeded and AuthFailed count AUTH attempts by outcome.
	AuthSucceeded, AuthFailed int
}

// Server is an SMTP server on 127.0.0.1 for tests, built on
// github.com/emersion/go-smtp. It speaks real SMTP (EHLO, STARTTLS, AUTH,
// MAIL, RCPT, DATA), keeps every accepted message in memory, and closes when
// the test ends.
type Server struct {
	t         testing.TB
	opts      Options
	srv       *smtp.Server
	ln        net.Listener
	addr      *net.TCPAddr
	clientTLS *tls.Config   // trusts the server's certificate; nil without TLS
	served    chan struct{} // closed when Serve returns

	mu         sync.Mutex
	closed     bool
	msgs       []Received
	taken      map[string]int // recipient (lower case) → messages already returned by WaitFor
	changed    chan struct{}  // closed and replaced when a message arrives
	rejectLeft int
	stats      Stats
}

// Start starts a server with opts and stops it in t.Cleanup. It fails t if
// the options contradict each other or the server cannot listen.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	switch {
	case opts.STARTTLS && opts.ImplicitTLS:
		t.Fatal("mailtest: Options.STARTTLS and Options.ImplicitTLS exclude each other")
	case opts.Password != "" && opts.Username == "":
		t.Fatal("mailtest: Options.Password without Options.Username")
	case opts.RejectRcpt < 0:
		t.Fatal("mailtest: Options.RejectRcpt is negative")
	case opts.RejectCode == 0:
		opts.RejectCode = 451
	case opts.RejectCode < 400 || opts.RejectCode > 599:
		t.Fatalf("mailtest: Options.RejectCode %d is not a 4xx or 5xx reply", opts.RejectCode)
	}
	s := &Server{
		t:          t,
		opts:       opts,
		served:     make(chan struct{}),
		taken:      make(map[string]int),
		changed:    make(chan struct{}),
		rejectLeft: opts.RejectRcpt,
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	s.srv.Domain = "mailtest.localhost"
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.MaxRecipients = 10
	s.srv.ErrorLog = serverLog{s}

	if opts.STARTTLS || opts.ImplicitTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			t.Fatal(err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.clientTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listening: %v", err)
	}
	s.addr = ln.Addr().(*net.TCPAddr)
	if opts.ImplicitTLS {
		ln = tls.NewListener(ln, s.srv.TLSConfig)
	}
	s.ln = ln
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(s.close)
	return s
}

// close stops the server; later log lines from its goroutines are dropped,
// since t may no longer be used.
func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	_ = s.srv.Close()
	// go-smtp's Close closes only the listeners Serve has registered: a
	// server closed before its Serve goroutine ran would accept forever.
	_ = s.ln.Close()
	<-s.served
}

// Host returns the address the server listens on, "127.0.0.1".
func (s *Server) Host() string { return s.addr.IP.String() }

// Port returns the server's TCP port.
func (s *Server) Port() int { return s.addr.Port }

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr.String() }

// TLSConfig returns a client configuration that trusts the server's
// self-signed certificate (a fresh copy each call), or nil when the server
// was started without TLS.
func (s *Server) TLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns a copy of every message accepted so far, in order of
// arrival.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// WaitFor returns the next message addressed to to (an envelope recipient,
// compared case-insensitively) that WaitFor has not returned before, waiting
// up to timeout for it to arrive; it fails t when none does. Successive
// calls return successive messages, so a test that asks for two codes gets
// the first, then the second. Call it from the test's goroutine.
func (s *Server) WaitFor(t testing.TB, to string, timeout time.Duration) Received {
	t.Helper()
	key := strings.ToLower(to)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		seen := 0
		for _, m := range s.msgs {
			if !hasRecipient(m, key) {
				continue
			}
			if seen == s.taken[key] {
				s.taken[key]++
				s.mu.Unlock()
				return m
			}
			seen++
		}
		changed, total := s.changed, len(s.msgs)
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("mailtest: no new message to %s within %v (%d already returned, %d received in all)",
				to, timeout, seen, total)
		}
	}
}

// hasRecipient reports whether key (lower case) is among m's envelope
// recipients.
func hasRecipient(m Received, key string) bool {
	for _, r := range m.RcptTo {
		if strings.ToLower(r) == key {
			return true
		}
	}
	return false
}

// Code waits up to [DefaultWait] for the next message to to (as
// [Server.WaitFor]) and returns the 6-digit code in its body. It fails t
// when no message comes, or when the body holds no such code or two
// different ones.
func (s *Server) Code(t testing.TB, to string) string {
	t.Helper()
	m := s.WaitFor(t, to, DefaultWait)
	code, err := FindCode(m.Text)
	if err != nil {
		t.Fatalf("mailtest: message to %s: %v", to, err)
	}
	return code
}

// FindCode returns the 6-digit code in text: a run of exactly six ASCII
// digits not joined to other letters, digits or underscores. Every such run
// must be the same code (the Senfi mails repeat it once per language).
func FindCode(text string) (string, error) {
	var found string
	for i := 0; i < len(text); {
		if !isDigit(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isDigit(text[j]) {
			j++
		}
		if j-i == 6 && (i == 0 || !isWordByte(text[i-1])) && (j == len(text) || !isWordByte(text[j])) {
			switch run := text[i:j]; {
			case found == "":
				found = run
			case run != found:
				return "", fmt.Errorf("two different 6-digit codes in the body: %s and %s", found, run)
			}
		}
		i = j
	}
	if found == "" {
		return "", errors.New("no 6-digit code in the body")
	}
	return found, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isWordByte reports whether c is an ASCII letter, digit or underscore.
func isWordByte(c byte) bool {
	return isDigit(c) || c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// deliver stores an accepted message and wakes the waiters.
func (s *Server) deliver(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r)
	s.stats.Delivered++
	close(s.changed)
	s.changed = make(chan struct{})
}

// rejectRcpt reports whether the fail mode refuses this RCPT.
func (s *Server) rejectRcpt() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejectLeft == 0 {
		return false
	}
	s.rejectLeft--
	s.stats.RejectedRcpt++
	return true
}

// countAuth records an AUTH outcome.
func (s *Server) countAuth(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.stats.AuthSucceeded++
	} else {
		s.stats.AuthFailed++
	}
}

// report calls f with t unless the server is closed (t may then be done).
func (s *Server) report(f func(t testing.TB)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		f(s.t)
	}
}

// serverLog sends go-smtp's error log to the test log.
type serverLog struct{ s *Server }

func (l serverLog) Printf(format string, v ...any) {
	l.s.report(func(t testing.TB) { t.Logf("mailtest server: "+format, v...) })
}

func (l serverLog) Println(v ...any) {
	l.s.report(func(t testing.TB) { t.Log(append([]any{"mailtest server:"}, v...)...) })
}

// session is one SMTP session; go-smtp starts a new one after STARTTLS.
type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	rcpt []string
}

var _ smtp.AuthSession = (*session)(nil)

// AuthMechanisms offers PLAIN when a username is configured.
func (x *session) AuthMechanisms() []string {
	if x.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth checks PLAIN credentials in constant time.
func (x *session) Auth(mech string) (sasl.Server, error) {
	if x.s.opts.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		ok := (identity == "" || identity == user) &&
			subtle.ConstantTimeCompare([]byte(user), []byte(x.s.opts.Username)) == 1 &&
			subtle.ConstantTimeCompare([]byte(pass), []byte(x.s.opts.Password)) == 1
		x.s.countAuth(ok)
		if !ok {
			return smtp.ErrAuthFailed
		}
		x.user = user
		return nil
	}), nil
}

// Mail starts a transaction; it needs a login when a username is set.
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && x.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	x.from = from
	return nil
}

// Rcpt adds a recipient, unless the fail mode refuses it.
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.rejectRcpt() {
		code := x.s.opts.RejectCode
		enh := smtp.EnhancedCode{code / 100, 0, 0}
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: "mailtest: recipient refused by the fail mode"}
	}
	x.rcpt = append(x.rcpt, to)
	return nil
}

// Data reads, decodes and stores the message. A message that does not
// decode fails the test: the client under test wrote it.
func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := Decode(raw)
	if err != nil {
		x.s.report(func(t testing.TB) { t.Errorf("%v\n%s", err, raw) })
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest: message does not decode"}
	}
	m.MailFrom = x.from
	m.RcptTo = append([]string(nil), x.rcpt...)
	_, m.TLS = x.conn.TLSConnectionState()
	m.User = x.user
	x.s.deliver(m)
	return nil
}

// Reset ends a transaction (RSET, or after DATA).
func (x *session) Reset() {
	x.from = ""
	x.rcpt = nil
}

// Logout ends the session.
func (x *session) Logout() error { return nil }
