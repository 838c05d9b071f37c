package secure_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"

	"github.com/justinas/alice"

	"github.com/senfi-sharif/senfi/secure"
)

// A Guard in an alice chain: ClientIP first, Handler before the application.
func ExampleNew() {
	g, err := secure.New(secure.Options{
		AllowedHosts: []string{"api.example.com"},
		CORS: secure.CORSOptions{
			AllowedOrigins:   []string{"https://app.example.com"},
			AllowCredentials: true,
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello")
	})
	h := alice.New(g.ClientIP, g.Handler).Then(app)

	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	fmt.Println("Strict-Transport-Security:", rec.Header().Get("Strict-Transport-Security"))
	fmt.Println("X-Frame-Options:", rec.Header().Get("X-Frame-Options"))
	fmt.Println("Referrer-Policy:", rec.Header().Get("Referrer-Policy"))
	// Output:
	// 200 hello
	// Strict-Transport-Security: max-age=31536000; includeSubDomains
	// X-Frame-Options: DENY
	// Referrer-Policy: no-referrer
}

// New refuses dangerous configurations and says what to do instead.
func ExampleNew_refusal() {
	_, err := secure.New(secure.Options{
		AllowedHosts: []string{"api.example.com"},
		CORS: secure.CORSOptions{
			AllowedOrigins:   []string{"*"},
			AllowCredentials: true,
		},
	})
	fmt.Println(err)
	// Output:
	// secure: CORS.AllowedOrigins: "*" together with AllowCredentials would let every web site act with your users' credentials; list the origins of your frontends instead
}

// Behind a reverse proxy, list its addresses: only then is X-Forwarded-For
// believed, and only the part the proxy wrote.
func ExampleGuard_ClientIP() {
	g, _ := secure.New(secure.Options{
		AllowedHosts:   []string{"api.example.com"},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	show := g.ClientIP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, _ := secure.ClientIPFromContext(r.Context())
		fmt.Println(ip)
	}))

	// Through the proxy: the client forged "1.2.3.4", the proxy appended the
	// address it saw.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.5:41000"
	r.Header.Set("X-Forwarded-For", "1.2.3.4, 198.51.100.23")
	show.ServeHTTP(httptest.NewRecorder(), r)

	// Directly from the internet: the header is ignored.
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "203.0.113.9:52000"
	r.Header.Set("X-Forwarded-For", "1.2.3.4")
	show.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// 198.51.100.23
	// 203.0.113.9
}

// DecodeJSON refuses what encoding/json would accept silently, and
// WriteError turns the refusal into a problem+json response naming the field.
func ExampleDecodeJSON() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Email string `json:"email"`
			Age   int    `json:"age"`
		}
		if err := secure.DecodeJSON(r, &in, secure.JSONOptions{}); err != nil {
			secure.WriteError(w, r, err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	for _, body := range []string{
		`{"email":"a@sharif.edu","age":20}`,
		`{"email":"a@sharif.edu","age":"twenty"}`,
		`{"email":"a@sharif.edu","EMAIL":"b@sharif.edu"}`,
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 ok
	// 400 {"type":"https://pkg.go.dev/github.com/senfi-sharif/senfi/secure#ErrWrongType","title":"Bad Request","status":400,"detail":"the field \"age\" must be a whole number, not string","errors":[{"field":"age","message":"the field \"age\" must be a whole number, not string"}]}
	// 400 {"type":"https://pkg.go.dev/github.com/senfi-sharif/senfi/secure#ErrDuplicateKey","title":"Bad Request","status":400,"detail":"the key \"EMAIL\" appears more than once in one object (keys are compared ignoring case)","errors":[{"field":"EMAIL","message":"the key \"EMAIL\" appears more than once in one object (keys are compared ignoring case)"}]}
}

// FromEnv reads the options from the environment, accepting the Django
// names of the Senfi original.
func ExampleFromEnv() {
	os.Setenv("SENFI_ALLOWED_HOSTS", "api.example.com, www.example.com")
	os.Setenv("DJANGO_X_FRAME_OPTIONS", "SAMEORIGIN")
	defer os.Unsetenv("SENFI_ALLOWED_HOSTS")
	defer os.Unsetenv("DJANGO_X_FRAME_OPTIONS")

	opts, err := secure.FromEnv("SENFI_", secure.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(opts.AllowedHosts, opts.FrameOptions)
	// Output:
	// [api.example.com www.example.com] SAMEORIGIN
}

// Development keeps the production headers and relaxes only what a plain
// HTTP localhost server needs.
func ExampleDevelopment() {
	opts := secure.Development()
	fmt.Println(opts.AllowedHosts, opts.DisableSSLRedirect, opts.OmitHeaders)
	// Output:
	// [localhost 127.0.0.1 ::1] true [Strict-Transport-Security]
}
