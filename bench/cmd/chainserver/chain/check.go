package chain

import (
	"fmt"
	"net/http"
)

// Answer is a response as [Expect.Check] sees it.
type Answer struct {
	Status int
	Header http.Header
	Body   string
}

// Expect is what a chain must answer, so that no measurement silently
// times a refusal (a 400 for a Host, a 401 for a token, a 429), which is a
// cheaper response than the real one.
type Expect struct {
	// Name names the chain in errors.
	Name string
	// Headers must be present on the authenticated answer.
	Headers []string
	// Anonymous is the status of the same request without its
	// Authorization header.
	Anonymous int
}

// What each chain must answer to an authenticated cross-origin GET of Path.
var (
	ExpectBare  = Expect{Name: "bare", Anonymous: http.StatusOK}
	ExpectSenfi = Expect{Name: "senfi", Anonymous: http.StatusUnauthorized, Headers: []string{
		"X-Request-Id", "Access-Control-Allow-Origin", "X-Frame-Options", "Content-Security-Policy",
		"Cache-Control", "Ratelimit-Policy", "Ratelimit",
	}}
	ExpectPeers = Expect{Name: "peers", Anonymous: http.StatusUnauthorized, Headers: []string{
		"Access-Control-Allow-Origin", "X-Frame-Options", "Content-Security-Policy", "X-Ratelimit-Limit",
	}}
)

// Check reports an error unless authed is 200 with Final's body and every
// header of e, and anonymous has status e.Anonymous.
func (e Expect) Check(authed, anonymous Answer) error {
	if authed.Status != http.StatusOK || authed.Body != string(okBody) {
		return fmt.Errorf("%s: authenticated request: status %d, body %q; want 200 %q (headers %v)",
			e.Name, authed.Status, authed.Body, okBody, authed.Header)
	}
	for _, h := range e.Headers {
		if authed.Header.Get(h) == "" {
			return fmt.Errorf("%s: authenticated request: no %s header (headers %v)", e.Name, h, authed.Header)
		}
	}
	if anonymous.Status != e.Anonymous {
		return fmt.Errorf("%s: anonymous request: status %d, want %d", e.Name, anonymous.Status, e.Anonymous)
	}
	return nil
}

// ExpectHeaders is what [HeaderFloor] must answer: the senfi chain's
// headers, to anyone.
var ExpectHeaders = Expect{Name: "headers", Anonymous: http.StatusOK, Headers: ExpectSenfi.Headers}
