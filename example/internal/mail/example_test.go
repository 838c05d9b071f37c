package mail_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/senfi-sharif/senfi/example/internal/mail"
)

// Development without a mail server: the Writer prints the verification
// mail, marked as not sent, so the developer can read the code.
func Example() {
	w, err := mail.NewWriter(os.Stdout)
	if err != nil {
		panic(err)
	}
	err = w.Send(context.Background(), mail.VerificationCode("ali@sharif.edu", "042517"))
	fmt.Println("error:", err)
	// Output:
	// ----- mail NOT sent (development: no SMTP server configured) -----
	// To: ali@sharif.edu
	// Subject: Sharif Verification Code
	//
	// Your verification code is: 042517
	// It is valid for 10 minutes. If you did not ask for it, ignore this email.
	//
	// کد تأیید شما: 042517
	// این کد ۱۰ دقیقه اعتبار دارد. اگر آن را درخواست نکرده‌اید، این ایمیل را نادیده بگیرید.
	// ----- end of mail -----
	// error: <nil>
}

// A handler enqueues and returns at once; Close delivers what is queued
// before the process exits. A refused address never reaches the queue.
func ExampleQueue() {
	w, err := mail.NewWriter(os.Stdout)
	if err != nil {
		panic(err)
	}
	q, err := mail.NewQueue(w, mail.QueueOptions{Size: 10, Retries: 3})
	if err != nil {
		panic(err)
	}
	err = q.Enqueue(mail.PasswordReset("sara@sharif.edu\r\nBcc: x@evil.test", "118822"))
	fmt.Println("injected address:", errors.Is(err, mail.ErrInvalidMessage))

	if err := q.Enqueue(mail.PasswordReset("sara@sharif.edu", "118822")); err != nil {
		fmt.Println(mail.Describe(err)) // ErrQueueFull: answer 503
	}
	if err := q.Close(context.Background()); err != nil {
		fmt.Println("not all mail delivered:", err)
	}
	// Output:
	// injected address: true
	// ----- mail NOT sent (development: no SMTP server configured) -----
	// To: sara@sharif.edu
	// Subject: Sharif Password Reset Code
	//
	// Your password reset code is: 118822
	// It is valid for 10 minutes. If you did not ask to reset your password, ignore this email: your password stays unchanged.
	//
	// کد بازنشانی رمز عبور شما: 118822
	// این کد ۱۰ دقیقه اعتبار دارد. اگر درخواست بازنشانی رمز عبور نداده‌اید، این ایمیل را نادیده بگیرید؛ رمز عبور شما تغییر نمی‌کند.
	// ----- end of mail -----
}

// Describe turns a failure into text safe for a client; the error itself,
// with the server's details, is for the log.
func ExampleDescribe() {
	err := fmt.Errorf("test-email: %w", &mail.Error{
		Kind: mail.ErrAuth,
		Code: 535,
		Err:  errors.New("AUTH: 535 5.7.8 Authentication failed for mailer@smtp.internal:587"),
	})
	fmt.Println(mail.Describe(err))
	fmt.Println(mail.DescribePersian(err))
	fmt.Println("retry:", mail.Temporary(err))
	// Output:
	// authentication with the mail server failed
	// احراز هویت در سرور ایمیل ناموفق بود
	// retry: false
}
