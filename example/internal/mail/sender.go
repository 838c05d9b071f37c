package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Sender delivers one [Message]. Implementations: [SMTP] (a real mail
// server), [Writer] (development: prints the mail) and [Queue] (hands the
// message to a background worker and returns at once).
//
// Send validates m first ([Message.Validate]) and returns an error wrapping
// [ErrInvalidMessage] without side effects when it is refused. It honours
// ctx's deadline and cancellation. It is safe to call from many goroutines.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Writer is the development [Sender]: it prints each message to an
// io.Writer (typically os.Stdout) between two lines that say it was not
// sent, so that a developer without a mail server can still read the
// verification code. Nothing leaves the machine.
//
// The printed mail holds the code: use Writer only where the output is the
// developer's own terminal, never in production (the example refuses to
// start there without SMTP settings).
type Writer struct {
	mu sync.Mutex // one message at a time, so concurrent mails do not interleave
	w  io.Writer
}

// NewWriter returns a Writer printing to w.
func NewWriter(w io.Writer) (*Writer, error) {
	if w == nil {
		return nil, errors.New("mail: NewWriter needs an io.Writer, such as os.Stdout")
	}
	return &Writer{w: w}, nil
}

// The lines around a printed message.
const (
	writerBegin = "----- mail NOT sent (development: no SMTP server configured) -----\n"
	writerEnd   = "----- end of mail -----\n"
)

// Send validates m and prints it:
//
//	----- mail NOT sent (development: no SMTP server configured) -----
//	To: ali@sharif.edu
//	Subject: Sharif Verification Code
//
//	Your verification code is: 123456
//	...
//	----- end of mail -----
//
// ctx is checked once, before printing.
func (s *Writer) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: not printed: %w", err)
	}
	var b strings.Builder
	b.WriteString(writerBegin)
	b.WriteString("To: " + m.To + "\n")
	b.WriteString("Subject: " + m.Subject + "\n\n")
	b.WriteString(m.Text)
	if !strings.HasSuffix(m.Text, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(writerEnd)

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		return fmt.Errorf("mail: printing the message: %w", err)
	}
	return nil
}
