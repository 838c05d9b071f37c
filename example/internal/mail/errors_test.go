package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestTemporary pins which failures a Queue retries.
func TestTemporary(t *testing.T) {
	cause := errors.New("cause")
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&Error{Kind: ErrConnect, Err: cause}, true},
		{&Error{Kind: ErrTimeout, Err: cause}, true},
		{&Error{Kind: ErrTLS, Err: cause}, false},
		{&Error{Kind: ErrAuth, Err: cause}, false},
		{&Error{Kind: ErrAuth, Code: 454, Err: cause}, true},
		{&Error{Kind: ErrRejected, Code: 451, Err: cause}, true},
		{&Error{Kind: ErrRejected, Code: 550, Err: cause}, false},
		{&Error{Kind: ErrConnect, Code: 554, Err: cause}, false},
		{fmt.Errorf("wrapped: %w", &Error{Kind: ErrRejected, Code: 421, Err: cause}), true},
		{fmt.Errorf("%w: To is empty", ErrInvalidMessage), false},
		{fmt.Errorf("mail: sending cancelled: %w", context.Canceled), false},
		{errors.New("a custom Sender's failure"), true},
	}
	for _, tc := range cases {
		if got := Temporary(tc.err); got != tc.want {
			t.Errorf("Temporary(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestDescribe: every kind has its own text in both languages, wrapped
// errors are recognised, and the cause never shows.
func TestDescribe(t *testing.T) {
	secret := errors.New("dial tcp 10.1.2.3:587: mailer@internal")
	errs := []error{nil, fmt.Errorf("handler: %w", secret)}
	for _, kind := range []error{ErrConnect, ErrTLS, ErrAuth, ErrTimeout, ErrRejected} {
		errs = append(errs, fmt.Errorf("handler: %w", &Error{Kind: kind, Code: 421, Err: secret}))
	}
	for _, sentinel := range []error{ErrInvalidMessage, ErrQueueFull, ErrQueueClosed} {
		errs = append(errs, fmt.Errorf("handler: %w: %w", sentinel, secret))
	}
	seen := map[string]bool{}
	for _, err := range errs {
		en, fa := Describe(err), DescribePersian(err)
		if en == "" || fa == "" || en == fa || seen[en] || seen[fa] {
			t.Errorf("%v: descriptions %q / %q are empty, the same, or not specific", err, en, fa)
		}
		seen[en], seen[fa] = true, true
		for _, leak := range []string{"10.1.2.3", "587", "mailer", "421", "internal", "tcp"} {
			if strings.Contains(en+fa, leak) {
				t.Errorf("%v: description leaks %q: %q / %q", err, leak, en, fa)
			}
		}
	}
}

// TestBackoff: the wait doubles per attempt within ±20 % and stops growing
// at a minute.
func TestBackoff(t *testing.T) {
	q := &Queue{opts: QueueOptions{Backoff: time.Second}}
	for attempt, base := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		for range 50 {
			d := q.backoff(attempt + 1)
			if d < base*8/10 || d > base*12/10 {
				t.Fatalf("attempt %d: wait %v outside %v ±20%%", attempt+1, d, base)
			}
		}
	}
	if d := q.backoff(MaxRetries); d > maxBackoff*12/10 {
		t.Errorf("attempt %d: wait %v, want at most about %v", MaxRetries, d, maxBackoff)
	}
	long := &Queue{opts: QueueOptions{Backoff: 2 * time.Minute}}
	if d := long.backoff(3); d < 2*time.Minute*8/10 || d > 2*time.Minute*12/10 {
		t.Errorf("a Backoff above the cap is kept as is: got %v", d)
	}
}
