// Package mailtest runs a real SMTP server inside a test, so that the
// Senfi backend's mail code is tested through a real SMTP conversation
// (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA) instead of a fake Sender.
//
//	srv := mailtest.Start(t, mailtest.Options{STARTTLS: true, Username: "u", Password: "p"})
//	sender, err := mail.NewSMTP(mail.SMTPConfig{
//		Host: srv.Host(), Port: srv.Port(), TLSConfig: srv.TLSConfig(),
//		Username: "u", Password: "p", From: "noreply@senfi.test",
//	})
//	...
//	// the app mails a verification code to ali@sharif.edu; the test reads it:
//	code := srv.Code(t, "ali@sharif.edu")
//
// The server listens on 127.0.0.1 on a free port and closes in t.Cleanup.
// Options choose STARTTLS or implicit TLS (with a fresh self-signed
// certificate that [Server.TLSConfig] trusts), AUTH PLAIN with one
// username and password, and a fail mode that refuses the first RCPT
// commands with a 4xx or 5xx reply, for retry tests. Every accepted message
// is decoded as a mail client would (RFC 2047 headers, quoted-printable or
// base64 bodies) into a [Received]; [Server.WaitFor] and [Server.Code] wait
// for the next one to a recipient.
//
// Messages are kept in memory for the life of the test. Only UTF-8 and
// US-ASCII text bodies are decoded; a message that does not decode fails
// the test, since the code under test wrote it.
package mailtest
