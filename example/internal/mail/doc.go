// Package mail sends the Senfi backend's mails: the verification code of
// send-code and the password-reset code.
//
// The Django original sent them synchronously inside the request with a
// 30-second SMTP timeout, returned the SMTP exception text to the client,
// printed the server settings to stdout and exposed a public endpoint that
// logged into the real mailbox. This package replaces that with:
//
//   - [SMTP]: delivery over SMTP with mandatory STARTTLS or implicit TLS,
//     authentication only over TLS, one bounded conversation per message,
//     and failures classified by the step that failed ([ErrConnect],
//     [ErrTLS], [ErrAuth], [ErrTimeout], [ErrRejected]);
//   - [Describe] and [DescribePersian]: the only text a client sees about a
//     failure ("could not connect to the mail server"), while the full
//     error goes to the log;
//   - [Queue]: a bounded in-memory queue with workers, so handlers return at
//     once (503 on [ErrQueueFull]) and temporary failures are retried with
//     backoff; Close drains it on shutdown;
//   - [Writer]: the development sender, which prints the mail to stdout,
//     marked as not sent, when no SMTP server is configured.
//
// # Use
//
//	smtp, err := mail.NewSMTP(mail.SMTPConfig{
//		Host: "smtp.example.com", // SENFI_SMTP_HOST
//		Username: user, Password: pass, // SENFI_SMTP_USERNAME, SENFI_SMTP_PASSWORD
//		From: "Senfi <noreply@example.com>", // SENFI_SMTP_FROM
//		// TLS "" = "starttls" on port 587 (SENFI_SMTP_TLS, SENFI_SMTP_PORT)
//	})
//	if err != nil {
//		return err // names the variable to fix
//	}
//	q, err := mail.NewQueue(smtp, mail.QueueOptions{Retries: 3, Logger: logger})
//	...
//	defer q.Close(shutdownCtx) // delivers what is queued
//
//	// in the send-code handler:
//	switch err := q.Enqueue(mail.VerificationCode(email, code)); {
//	case errors.Is(err, mail.ErrQueueFull):
//		// 503 with Retry-After
//	case err != nil:
//		// 400: the address was refused
//	}
//
// The admin-only test-email endpoint calls [SMTP.Check] and answers with
// [Describe] of its result.
//
// # Safe defaults
//
// The zero TLS mode is "starttls", and it is mandatory: a server (or an
// attacker stripping the capability) that does not offer STARTTLS is
// refused, never downgraded to plain text. Certificates are verified
// against the system roots (or [SMTPConfig.TLSConfig]'s RootCAs);
// InsecureSkipVerify is refused. A username with TLS "none" is refused, so
// a password never crosses the network in clear. [Message.Validate] refuses
// anything but one bare recipient address and single-line subjects, so
// request input cannot add headers or recipients. Nothing here logs a
// message body, a subject or a full recipient address (codes are in the
// body; logs get the recipient's domain), and [SMTPConfig] prints and logs
// without its password.
//
// # Limits
//
// Messages are plain text, one recipient each, at most [MaxTextLength]
// bytes. The queue lives in memory: messages waiting when the process dies
// are lost (a user asks for a new code). Each message opens its own SMTP
// connection; that is plenty for verification mails, not for newsletters.
// Addresses must be ASCII (no SMTPUTF8 local parts).
package mail
