package mail

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits that [Message.Validate] enforces. They are far above what the
// Senfi mails need and far below what would let a caller turn a mail into a
// bulk payload.
const (
	// MaxAddressLength is the longest recipient address accepted, in bytes
	// (RFC 5321's path limit minus the angle brackets).
	MaxAddressLength = 254
	// MaxSubjectLength is the longest subject accepted, in Unicode code points.
	MaxSubjectLength = 200
	// MaxTextLength is the largest body accepted, in bytes of UTF-8.
	MaxTextLength = 64 << 10
)

// Message is one plain-text mail to one recipient. The sender address is not
// part of it: it belongs to the [Sender] (for SMTP, [SMTPConfig.From]), so a
// handler cannot send mail in someone else's name.
//
// Build the Senfi mails with [VerificationCode] and [PasswordReset]; every
// Sender checks a Message with [Message.Validate] before it touches the
// network.
type Message struct {
	// To is the recipient: a bare address such as "ali@sharif.edu", without a
	// display name. It usually comes from a request body, so it is checked,
	// never trusted.
	To string
	// Subject is one line of text (Unicode allowed; it is encoded as an
	// RFC 2047 word on the wire). Spaces around it are dropped.
	Subject string
	// Text is the plain-text body, UTF-8, with "\n" line ends.
	Text string
}

// Validate reports whether m can be sent safely. It refuses, with an error
// that wraps [ErrInvalidMessage] and names the field:
//
//   - a To that is not exactly one bare ASCII address (display names,
//     comments, lists, CR or LF, internationalised addresses), or longer than
//     [MaxAddressLength];
//   - an empty Subject, one with control characters (CR and LF included: a
//     header line cannot be split to inject another header), one holding
//     "=?" (readers would decode it as an RFC 2047 word), or one longer than
//     [MaxSubjectLength];
//   - an empty Text, one that is not UTF-8, holds NUL, or is larger than
//     [MaxTextLength].
//
// The error text repeats no field value, so it may be logged.
func (m Message) Validate() error {
	if err := validateAddress(m.To); err != nil {
		return fmt.Errorf("%w: To %s", ErrInvalidMessage, err)
	}
	if err := validateSubject(m.Subject); err != nil {
		return fmt.Errorf("%w: Subject %s", ErrInvalidMessage, err)
	}
	if err := validateText(m.Text); err != nil {
		return fmt.Errorf("%w: Text %s", ErrInvalidMessage, err)
	}
	return nil
}

// validateAddress checks a recipient; the returned text follows "To ".
func validateAddress(addr string) error {
	switch {
	case addr == "":
		return errString("is empty")
	case len(addr) > MaxAddressLength:
		return fmt.Errorf("is longer than %d bytes", MaxAddressLength)
	}
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c <= ' ' || c >= 0x7f {
			return errString("holds a space, a control or a non-ASCII character")
		}
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Name != "" || parsed.Address != addr {
		return errString("is not a single bare address such as name@example.com")
	}
	return nil
}

// validateSubject checks a subject; the returned text follows "Subject ".
func validateSubject(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errString("is empty")
	case !utf8.ValidString(s):
		return errString("is not valid UTF-8")
	case utf8.RuneCountInString(s) > MaxSubjectLength:
		return fmt.Errorf("is longer than %d characters", MaxSubjectLength)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errString("holds a control character (CR and LF included)")
		}
	}
	if strings.Contains(s, "=?") {
		// Mail readers would decode it as an RFC 2047 word: the subject
		// shown would not be the subject sent.
		return errString("holds \"=?\", the start of an encoded word")
	}
	return nil
}

// validateText checks a body; the returned text follows "Text ".
func validateText(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errString("is empty")
	case len(s) > MaxTextLength:
		return fmt.Errorf("is larger than %d bytes", MaxTextLength)
	case !utf8.ValidString(s):
		return errString("is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return errString("holds a NUL byte")
	}
	return nil
}

// errString is a constant-text error for the validators above.
type errString string

func (e errString) Error() string { return string(e) }

// recipientDomain returns the part of addr after the last "@", lower-cased,
// or "" when there is none. Logs carry this instead of the address.
func recipientDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}

// Subjects of the Senfi mails. VerificationSubject is the Django original's,
// kept so that users' mail filters keep matching.
const (
	VerificationSubject  = "Sharif Verification Code"
	PasswordResetSubject = "Sharif Password Reset Code"
)

// VerificationCode is the mail that send-code delivers: the Django
// original's subject and first line ("Your verification code is: <code>"),
// then the code's 10-minute validity and what to do if the mail was not
// asked for, in English and in Persian. The code appears in ASCII digits in
// both languages, so that it can be copied (and found by tests) as is.
func VerificationCode(to, code string) Message {
	return Message{
		To:      to,
		Subject: VerificationSubject,
		Text: "Your verification code is: " + code + "\n" +
			"It is valid for 10 minutes. If you did not ask for it, ignore this email.\n" +
			"\n" +
			"کد تأیید شما: " + code + "\n" +
			"این کد ۱۰ دقیقه اعتبار دارد. اگر آن را درخواست نکرده‌اید، این ایمیل را نادیده بگیرید.\n",
	}
}

// PasswordReset is the mail that password-reset/request delivers when the
// account exists: the reset code, its 10-minute validity, and the assurance
// that ignoring the mail leaves the password unchanged, in English and in
// Persian (code in ASCII digits in both).
func PasswordReset(to, code string) Message {
	return Message{
		To:      to,
		Subject: PasswordResetSubject,
		Text: "Your password reset code is: " + code + "\n" +
			"It is valid for 10 minutes. If you did not ask to reset your password, " +
			"ignore this email: your password stays unchanged.\n" +
			"\n" +
			"کد بازنشانی رمز عبور شما: " + code + "\n" +
			"این کد ۱۰ دقیقه اعتبار دارد. اگر درخواست بازنشانی رمز عبور نداده‌اید، " +
			"این ایمیل را نادیده بگیرید؛ رمز عبور شما تغییر نمی‌کند.\n",
	}
}
