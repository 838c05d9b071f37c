package mail

import (
	"context"
	"errors"
	"fmt"
)

// Sentinel errors. Match them with errors.Is; turn them into text for a
// client with [Describe] or [DescribePersian], never with Error (which, for
// the SMTP kinds, carries server details meant for the log).
var (
	// ErrInvalidMessage: [Message.Validate] refused the message. Sending it
	// again cannot help.
	ErrInvalidMessage = errors.New("mail: invalid message")

	// ErrConnect: the mail server could not be reached, did not greet, or
	// dropped the connection. Temporary.
	ErrConnect = errors.New("mail: could not connect to the mail server")

	// ErrTLS: the server does not offer STARTTLS although it is required, or
	// the TLS handshake failed (for example its certificate is not trusted or
	// not for the configured host). A configuration problem, not retried.
	ErrTLS = errors.New("mail: TLS handshake with the mail server failed")

	// ErrAuth: the server refused the credentials, or offers neither PLAIN
	// nor LOGIN. Not retried, so that a wrong password cannot lock the
	// mailbox.
	ErrAuth = errors.New("mail: authentication with the mail server failed")

	// ErrTimeout: the conversation did not finish within
	// [SMTPConfig.Timeout] or the caller's deadline. Temporary.
	ErrTimeout = errors.New("mail: the mail server did not answer in time")

	// ErrRejected: the server answered the message (MAIL, RCPT or DATA) with
	// an error reply. Temporary when the reply code is 4xx.
	ErrRejected = errors.New("mail: the mail server refused the message")

	// ErrQueueFull: [Queue.Enqueue] found the queue full. An HTTP handler
	// answers 503 with Retry-After.
	ErrQueueFull = errors.New("mail: the delivery queue is full")

	// ErrQueueClosed: [Queue.Enqueue] was called after [Queue.Close], or a
	// queued message was dropped because Close's context ended first.
	ErrQueueClosed = errors.New("mail: the delivery queue is closed")
)

// Error is what [SMTP] returns when a conversation fails: which kind of
// failure (one of the sentinels above), the server's reply code when it gave
// one, and the cause.
//
// Error() is for the log: it holds the cause, which may name the server,
// its address or its reply text. Clients get [Describe] instead. Neither
// ever holds the message body or the password; the recipient address is kept
// out of send failures as well.
type Error struct {
	// Kind is ErrConnect, ErrTLS, ErrAuth, ErrTimeout or ErrRejected.
	Kind error
	// Code is the SMTP reply code (for example 451 or 535), or 0 when the
	// failure happened below SMTP (network, TLS, timeout).
	Code int
	// Err is the cause, for the log.
	Err error
}

// Error returns the kind, the reply code and the cause, for the log.
func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("%v (reply %d): %v", e.Kind, e.Code, e.Err)
	}
	return fmt.Sprintf("%v: %v", e.Kind, e.Err)
}

// Unwrap returns the kind and the cause, so errors.Is matches both
// (errors.Is(err, mail.ErrAuth), errors.Is(err, context.DeadlineExceeded)).
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Temporary reports whether sending the same message later may succeed: a
// 4xx reply, or (without a reply) a connection failure or timeout. A 5xx
// reply, a TLS failure and an authentication failure are permanent.
func (e *Error) Temporary() bool {
	switch {
	case e.Code >= 400 && e.Code < 500:
		return true
	case e.Code >= 500:
		return false
	}
	return e.Kind == ErrConnect || e.Kind == ErrTimeout
}

// Temporary reports whether a [Queue] should try err's message again. An
// [*Error] decides with its Temporary method; [ErrInvalidMessage] and a
// cancelled context are final; any other error (from a [Sender] this package
// does not know) is assumed temporary, so that the retry budget still
// applies to it.
func Temporary(err error) bool {
	if err == nil || errors.Is(err, ErrInvalidMessage) || errors.Is(err, context.Canceled) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Temporary()
	}
	return true
}

// The texts for errors no sentinel matches, and for nil.
const (
	genericEN = "sending the mail failed"
	genericFA = "ارسال ایمیل ناموفق بود"
	okEN      = "the mail server accepted the connection"
	okFA      = "سرور ایمیل اتصال را پذیرفت"
)

// Describe returns a short English description of err that is safe to show a
// client: it names the step that failed ("could not connect to the mail
// server", "authentication with the mail server failed", "TLS handshake with
// the mail server failed", "the mail server did not answer in time", ...)
// and never the server's address, reply text or any other detail of the
// cause, which belong in the log. An unknown error gives "sending the mail
// failed"; nil gives a success sentence.
func Describe(err error) string {
	en, _ := describe(err)
	return en
}

// DescribePersian is [Describe] in Persian, for responses whose detail is
// Persian.
func DescribePersian(err error) string {
	_, fa := describe(err)
	return fa
}

func describe(err error) (en, fa string) {
	switch {
	case err == nil:
		return okEN, okFA
	case errors.Is(err, ErrTimeout):
		return "the mail server did not answer in time", "سرور ایمیل به‌موقع پاسخ نداد"
	case errors.Is(err, ErrTLS):
		return "TLS handshake with the mail server failed", "برقراری اتصال امن (TLS) با سرور ایمیل ناموفق بود"
	case errors.Is(err, ErrAuth):
		return "authentication with the mail server failed", "احراز هویت در سرور ایمیل ناموفق بود"
	case errors.Is(err, ErrConnect):
		return "could not connect to the mail server", "اتصال به سرور ایمیل برقرار نشد"
	case errors.Is(err, ErrRejected):
		return "the mail server refused the message", "سرور ایمیل پیام را نپذیرفت"
	case errors.Is(err, ErrInvalidMessage):
		return "the message is not valid", "پیام معتبر نیست"
	case errors.Is(err, ErrQueueFull):
		return "too many mails are waiting; try again later", "صف ارسال ایمیل پر است؛ کمی بعد دوباره تلاش کنید"
	case errors.Is(err, ErrQueueClosed):
		return "mail delivery is shutting down", "ارسال ایمیل در حال توقف است"
	}
	return genericEN, genericFA
}
