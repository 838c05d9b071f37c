package mailtest_test

import (
	"fmt"

	"github.com/senfi-sharif/senfi/example/internal/mailtest"
)

// Decode shows a message as a mail client would: the encoded subject and
// the quoted-printable body come back as text, from which FindCode takes
// the verification code. In a test the server does this for every message
// it accepts, and Server.Code(t, to) returns the code directly.
func ExampleDecode() {
	raw := "From: Senfi <noreply@senfi.test>\r\n" +
		"To: <ali@sharif.edu>\r\n" +
		"Subject: =?UTF-8?q?=DA=A9=D8=AF_=D8=AA=D8=A3=DB=8C=DB=8C=D8=AF?=\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"Your verification code is: 042517\r\n" +
		"=DA=A9=D8=AF =D8=AA=D8=A3=DB=8C=DB=8C=D8=AF =D8=B4=D9=85=D8=A7: 042517\r\n"
	m, err := mailtest.Decode([]byte(raw))
	if err != nil {
		panic(err)
	}
	fmt.Println("to:", m.To)
	fmt.Println("subject:", m.Subject)
	fmt.Print(m.Text)
	code, err := mailtest.FindCode(m.Text)
	fmt.Println("code:", code, err)
	// Output:
	// to: [ali@sharif.edu]
	// subject: کد تأیید
	// Your verification code is: 042517
	// کد تأیید شما: 042517
	// code: 042517 <nil>
}
