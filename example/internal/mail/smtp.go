package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// TLS modes of [SMTPConfig.TLS] (SENFI_SMTP_TLS).
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS before
	// anything else is said. Mandatory: a server that does not offer
	// STARTTLS is refused with [ErrTLS]; there is no silent fallback to
	// plain text. Default port 587.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte ("SMTPS"). Default port 465.
	TLSImplicit = "tls"
	// TLSNone is plain text, for a relay on the same host (a local Postfix
	// on localhost:25). The example allows it in production only for a
	// loopback host; credentials are never sent without TLS. Default port 25.
	TLSNone = "none"
)

// DefaultSMTPTimeout bounds one whole SMTP conversation (connect, TLS,
// authentication, message) when [SMTPConfig.Timeout] is zero.
const DefaultSMTPTimeout = 15 * time.Second

// SMTPConfig says how to reach the mail server. Each field is read by the
// example from the environment variable named in its comment; the Django
// seed's EMAIL_* names are aliases.
//
// SMTPConfig implements fmt.Stringer and slog.LogValuer without the
// password, so printing or logging it is safe.
type SMTPConfig struct {
	// Host is the server's name or IP (SENFI_SMTP_HOST). Required. It is
	// also the name the server's certificate must carry.
	Host string
	// Port (SENFI_SMTP_PORT); zero means the TLS mode's standard port:
	// 587 for starttls, 465 for tls, 25 for none.
	Port int
	// Username (SENFI_SMTP_USERNAME) turns SMTP authentication on; empty
	// means none. The mechanism is PLAIN, or LOGIN when the server offers
	// only that; either is used only over TLS.
	Username string
	// Password (SENFI_SMTP_PASSWORD) goes with Username.
	Password string
	// From is the sender (SENFI_SMTP_FROM): "noreply@example.com" or
	// "Senfi <noreply@example.com>". Required. Its address is also the
	// envelope sender, and its domain names the Message-IDs.
	From string
	// TLS is the transport security (SENFI_SMTP_TLS): "starttls" (the
	// default when empty), "tls" or "none"; see [TLSStartTLS],
	// [TLSImplicit], [TLSNone].
	TLS string
	// Timeout bounds one whole conversation; zero means
	// [DefaultSMTPTimeout]. The caller's context can cut it shorter.
	Timeout time.Duration
	// TLSConfig, when set, is used (cloned) for STARTTLS and implicit TLS:
	// for example to trust a private CA through RootCAs, as the tests do
	// with a self-signed certificate. Nil means the system roots, TLS 1.2
	// or later, and ServerName = Host. InsecureSkipVerify is refused.
	TLSConfig *tls.Config
}

// Validate reports the first problem with c, naming the environment
// variable to fix (SENFI_SMTP_HOST, SENFI_SMTP_PORT, SENFI_SMTP_TLS,
// SENFI_SMTP_USERNAME, SENFI_SMTP_PASSWORD, SENFI_SMTP_FROM) or the field
// when no variable sets it.
func (c SMTPConfig) Validate() error {
	switch {
	case strings.TrimSpace(c.Host) == "":
		return errors.New("mail: SENFI_SMTP_HOST is empty: set it to the mail server's host name")
	case strings.ContainsAny(c.Host, " \t\r\n/@:") && net.ParseIP(c.Host) == nil:
		return fmt.Errorf("mail: SENFI_SMTP_HOST %q is not a host name: give the name alone, the port goes in SENFI_SMTP_PORT", c.Host)
	case c.Port < 0 || c.Port > 65535:
		return fmt.Errorf("mail: SENFI_SMTP_PORT %d is out of range: use 1-65535, or leave it unset for the TLS mode's standard port", c.Port)
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return fmt.Errorf("mail: SENFI_SMTP_TLS %q is not a TLS mode: use starttls (port 587), tls (port 465) or none (local relay only)", c.TLS)
	}
	switch {
	case c.Username != "" && c.TLS == TLSNone:
		return errors.New("mail: SENFI_SMTP_USERNAME is set but SENFI_SMTP_TLS is none: the password would cross the network in clear; use starttls or tls")
	case c.Username != "" && c.Password == "":
		return errors.New("mail: SENFI_SMTP_PASSWORD is empty but SENFI_SMTP_USERNAME is set: set both, or neither for a server without authentication")
	case c.Username == "" && c.Password != "":
		return errors.New("mail: SENFI_SMTP_PASSWORD is set but SENFI_SMTP_USERNAME is empty: set the user name too")
	case strings.ContainsAny(c.Username, "\r\n") || strings.ContainsAny(c.Password, "\r\n"):
		return errors.New("mail: SENFI_SMTP_USERNAME or SENFI_SMTP_PASSWORD holds a line break")
	case c.Timeout < 0:
		return fmt.Errorf("mail: SMTPConfig.Timeout %v is negative: use a positive duration, or zero for %v", c.Timeout, DefaultSMTPTimeout)
	case c.TLSConfig != nil && c.TLSConfig.InsecureSkipVerify:
		return errors.New("mail: SMTPConfig.TLSConfig has InsecureSkipVerify: trust the server's certificate through RootCAs instead")
	}
	if _, err := parseFrom(c.From); err != nil {
		return err
	}
	return nil
}

// parseFrom parses SENFI_SMTP_FROM.
func parseFrom(from string) (*mail.Address, error) {
	if strings.TrimSpace(from) == "" {
		return nil, errors.New("mail: SENFI_SMTP_FROM is empty: set the sender address, such as Senfi <noreply@example.com>")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil || validateAddress(addr.Address) != nil {
		return nil, fmt.Errorf("mail: SENFI_SMTP_FROM %q is not one address such as Senfi <noreply@example.com>", from)
	}
	return addr, nil
}

// String describes c without its password.
func (c SMTPConfig) String() string {
	user := ""
	if c.Username != "" {
		user = c.Username + "@"
	}
	return fmt.Sprintf("smtp://%s%s tls=%s from=%q password_set=%t",
		user, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.TLS, c.From, c.Password != "")
}

// LogValue logs c without its password.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("tls", c.TLS),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.String("from", c.From),
	)
}

// withDefaults fills the zero fields that have defaults.
func (c SMTPConfig) withDefaults() SMTPConfig {
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		switch c.TLS {
		case TLSImplicit:
			c.Port = 465
		case TLSNone:
			c.Port = 25
		default:
			c.Port = 587
		}
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultSMTPTimeout
	}
	return c
}

// SMTP is the [Sender] that delivers through a mail server. Each Send opens
// its own connection (TLS as configured, then authentication, then the
// message, then QUIT), so an SMTP is safe for concurrent use and holds no
// connection between mails. HTTP handlers should not call it directly:
// put a [Queue] in front so that a slow server never holds a request.
//
// The protocol and the MIME message (UTF-8, quoted-printable body, RFC 2047
// subject) come from github.com/wneessen/go-mail; SMTP drives the steps of
// the conversation itself so that a failure is classified by the step it
// happened in ([ErrConnect], [ErrTLS], [ErrAuth], [ErrTimeout],
// [ErrRejected]) rather than by parsing error text.
type SMTP struct {
	cfg      SMTPConfig
	addr     string         // host:port
	from     *mail.Address  // parsed SMTPConfig.From
	idDomain string         // right-hand side of Message-IDs
	tls      *tls.Config    // for STARTTLS and implicit TLS
	helo     string         // our name in EHLO
	client   *gomail.Client // writes messages over connections this package opened
}

// NewSMTP validates cfg and returns an SMTP sender. It does not connect:
// call [SMTP.Check] to test the settings.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	from, err := parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
		if tc.MinVersion == 0 {
			tc.MinVersion = tls.VersionTLS12
		}
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	helo, err := os.Hostname()
	if err != nil || smtpLineUnsafe(helo) {
		helo = "localhost"
	}
	// The go-mail client is used only for the message transaction (MAIL,
	// RCPT, DATA) over connections opened below; its timeout bounds each
	// of those steps, inside the overall deadline of a conversation.
	client, err := gomail.NewClient(cfg.Host, gomail.WithTimeout(cfg.Timeout))
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return &SMTP{
		cfg:      cfg,
		addr:     net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		from:     from,
		idDomain: recipientDomain(from.Address),
		tls:      tc,
		helo:     helo,
		client:   client,
	}, nil
}

// smtpLineUnsafe reports whether s cannot be sent as an EHLO argument.
func smtpLineUnsafe(s string) bool {
	return s == "" || strings.ContainsAny(s, " \t\r\n")
}

// Send validates m, builds the MIME message and delivers it in one
// conversation. On failure it returns an [*Error] (see its Kind) or an error
// wrapping [ErrInvalidMessage]; when ctx is cancelled, an error wrapping
// context.Canceled.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	return s.converse(ctx, func(c *smtp.Client) (error, error) {
		err := s.client.SendWithSMTPClient(c, msg)
		if err == nil {
			return nil, nil
		}
		return sendFailure(err)
	})
}

// Check connects, negotiates TLS, authenticates and says QUIT, without
// sending anything: the admin-only test-email endpoint's job. The result is
// nil or an [*Error]; show a client [Describe] of it, and log the error
// itself.
//
// Check logs in with the real mailbox credentials, so each call counts
// against the server's login limits: keep the endpoint admin-only and rate
// limited.
func (s *SMTP) Check(ctx context.Context) error {
	return s.converse(ctx, nil)
}

// build turns m into a go-mail message. Headers are set through go-mail's
// checked setters on values Validate has already accepted.
func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("%w: To is not an address", ErrInvalidMessage)
	}
	msg.Subject(strings.Trim(m.Subject, " ")) // header unfolding would drop them anyway
	msg.SetDate()
	msg.SetMessageIDWithValue(messageID(s.idDomain))
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

// messageID returns a random Message-ID left part @ domain.
func messageID(domain string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:]) + "@" + domain
}

// converse runs one conversation: connect, TLS, authentication, then step
// (nil for Check), then QUIT. step returns the failure kind and cause.
func (s *SMTP) converse(ctx context.Context, step func(*smtp.Client) (kind, cause error)) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	c, kind, err := s.open(ctx)
	if err != nil {
		return s.failure(parent, ctx, kind, err)
	}
	// A context that ends mid-conversation interrupts the blocked read or
	// write at once instead of waiting for the per-step timeout.
	conn := c.Text
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer func() { _ = c.Close() }()

	if step != nil {
		if kind, err := step(c); err != nil {
			return s.failure(parent, ctx, kind, err)
		}
	}
	// The message is accepted once DATA is; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// open dials, reads the greeting, says EHLO, negotiates TLS and logs in.
// On failure it returns the kind of the failed step and the cause.
func (s *SMTP) open(ctx context.Context) (_ *smtp.Client, kind, cause error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, ErrConnect, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = conn.Close()
		}
	}()
	if dl, has := ctx.Deadline(); has {
		_ = conn.SetDeadline(dl)
	}
	if s.cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, ErrTLS, err
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return nil, ErrConnect, fmt.Errorf("greeting: %w", err)
	}
	if err := c.Hello(s.helo); err != nil {
		return nil, ErrConnect, fmt.Errorf("EHLO: %w", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if has, _ := c.Extension("STARTTLS"); !has {
			return nil, ErrTLS, errors.New("the server does not offer STARTTLS, which SENFI_SMTP_TLS=starttls requires")
		}
		if err := c.StartTLS(s.tls); err != nil {
			return nil, ErrTLS, fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if s.cfg.Username != "" {
		if kind, err := s.auth(c); err != nil {
			return nil, kind, err
		}
	}
	ok = true
	return c, nil, nil
}

// auth logs in with PLAIN, or LOGIN when the server offers only that.
func (s *SMTP) auth(c *smtp.Client) (kind, cause error) {
	has, mechs := c.Extension("AUTH")
	if !has {
		return ErrAuth, errors.New("the server does not offer AUTH, but SENFI_SMTP_USERNAME is set")
	}
	var a smtp.Auth
	switch offered := strings.Fields(strings.ToUpper(mechs)); {
	case containsWord(offered, "PLAIN"):
		a = smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host, false)
	case containsWord(offered, "LOGIN"):
		a = smtp.LoginAuth(s.cfg.Username, s.cfg.Password, s.cfg.Host, false)
	default:
		return ErrAuth, fmt.Errorf("the server offers AUTH %s, neither PLAIN nor LOGIN", mechs)
	}
	if err := c.Auth(a); err != nil {
		// A refusal (535, 454, ...) or a mechanism that would not run is an
		// authentication failure; a broken connection is not.
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			return ErrConnect, fmt.Errorf("AUTH: %w", err)
		}
		return ErrAuth, fmt.Errorf("AUTH: %w", err)
	}
	return nil, nil
}

func containsWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// sendFailure classifies an error of go-mail's message transaction. A
// SendError's text lists the recipients, so only its step, reply code and
// enhanced status code are kept.
func sendFailure(err error) (kind, cause error) {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return ErrConnect, err
	}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		return ErrInvalidMessage, errors.New(se.Reason.String())
	}
	code := se.ErrorCode()
	cause = &replyError{step: se.Reason.String(), code: code, status: se.EnhancedStatusCode()}
	if code == 0 {
		return ErrConnect, cause
	}
	return ErrRejected, cause
}

// replyError is a send failure without the recipient list.
type replyError struct {
	step   string
	code   int
	status string
}

func (e *replyError) Error() string {
	s := e.step
	if e.code != 0 {
		s += ": reply " + strconv.Itoa(e.code)
	}
	if e.status != "" {
		s += " " + e.status
	}
	return s
}

// failure builds the error for a failed step. ctx is the conversation's
// context, parent the caller's.
func (s *SMTP) failure(parent, ctx context.Context, kind, cause error) error {
	if kind == ErrInvalidMessage {
		return fmt.Errorf("%w: %v", ErrInvalidMessage, cause)
	}
	if parent.Err() != nil && errors.Is(parent.Err(), context.Canceled) {
		return fmt.Errorf("mail: sending cancelled: %w", context.Cause(parent))
	}
	code := 0
	var tp *textproto.Error
	var re *replyError
	switch {
	case errors.As(cause, &tp):
		code = tp.Code
	case errors.As(cause, &re):
		code = re.code
	}
	if code == 0 && (ctx.Err() != nil || isTimeout(cause)) {
		kind = ErrTimeout
		if ctx.Err() != nil {
			cause = fmt.Errorf("%w (after %v)", cause, s.cfg.Timeout)
		}
	}
	return &Error{Kind: kind, Code: code, Err: cause}
}

// isTimeout reports whether err is a network or context timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}
