package password_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/jwtauth/password"
)

// pwnedServer serves the Pwned Passwords range API format from a fixed
// corpus, with padding lines when the client asks for them, and records
// the requests it saw.
type pwnedServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func sha1Hex(pw string) string {
	sum := sha1.Sum([]byte(pw))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func newPwnedServer(t *testing.T, corpus map[string]int) *pwnedServer {
	t.Helper()
	byPrefix := map[string][]string{}
	for pw, n := range corpus {
		h := sha1Hex(pw)
		byPrefix[h[:5]] = append(byPrefix[h[:5]], fmt.Sprintf("%s:%d", h[5:], n))
	}
	s := &pwnedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.mu.Unlock()
		prefix, ok := strings.CutPrefix(r.URL.Path, "/range/")
		if !ok || len(prefix) != 5 {
			http.Error(w, "The hash prefix was not in a valid format", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		lines := append([]string(nil), byPrefix[prefix]...)
		// Real answers hold about 800 entries; padding adds fake ones
		// with count 0.
		for i := range 5 {
			lines = append(lines, fmt.Sprintf("%035X:1%d", i+1, i))
		}
		if r.Header.Get("Add-Padding") == "true" {
			for i := range 100 {
				lines = append(lines, fmt.Sprintf("%035X:0", 1000+i))
			}
		}
		fmt.Fprint(w, strings.Join(lines, "\r\n"))
	}))
	t.Cleanup(s.Close)
	return s
}

func newHIBP(t *testing.T, base string) *password.HIBP {
	t.Helper()
	c, err := password.NewHIBP(password.HIBPOptions{BaseURL: base})
	require.NoError(t, err)
	return c
}

func TestBreachedAgainstHTTPServer(t *testing.T) {
	srv := newPwnedServer(t, map[string]int{"password": 9_545_824, "correct horse battery staple": 384})
	hibp := newHIBP(t, srv.URL)
	ctx := t.Context()

	t.Run("breached", func(t *testing.T) {
		err := password.Breached(ctx, hibp, "password")
		vs := violations(t, err)
		assert.Equal(t, []password.Violation{{Rule: password.RuleBreached, Count: 9_545_824}}, vs)
	})
	t.Run("breached passphrase", func(t *testing.T) {
		vs := violations(t, password.Breached(ctx, hibp, "correct horse battery staple"))
		assert.Equal(t, int64(384), vs[0].Count)
	})
	t.Run("not breached", func(t *testing.T) {
		assert.NoError(t, password.Breached(ctx, hibp, "a passphrase nobody has used before"))
	})
	t.Run("exact password, spaces included", func(t *testing.T) {
		assert.NoError(t, password.Breached(ctx, hibp, " password"))
	})
	t.Run("request", func(t *testing.T) {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		require.NotEmpty(t, srv.requests)
		r := srv.requests[0]
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/range/"+sha1Hex("password")[:5], r.URL.Path, "only the 5-character prefix is sent")
		assert.Equal(t, "true", r.Header.Get("Add-Padding"))
		assert.Equal(t, password.DefaultHIBPUserAgent, r.Header.Get("User-Agent"))
		for _, r := range srv.requests {
			assert.NotContains(t, r.URL.String(), sha1Hex("password")[5:], "the suffix never leaves the process")
		}
	})
}

func TestHIBPRange(t *testing.T) {
	srv := newPwnedServer(t, map[string]int{"password": 3})
	hibp := newHIBP(t, srv.URL+"/") // a trailing slash is fine
	entries, err := hibp.Range(t.Context(), "5baa6")
	require.NoError(t, err)
	assert.Len(t, entries, 1+5+100)
	assert.Equal(t, password.RangeEntry{Suffix: sha1Hex("password")[5:], Count: 3}, entries[0])
	assert.Equal(t, int64(0), entries[len(entries)-1].Count, "padding entries are returned with count 0")

	for _, bad := range []string{"", "5BAA", "5BAA61", "5BAAG", "../x"} {
		_, err := hibp.Range(t.Context(), bad)
		assert.ErrorIs(t, err, password.ErrBreachUnavailable, "prefix %q", bad)
	}
}

func TestBreachedFailuresAreErrors(t *testing.T) {
	serve := func(t *testing.T, h http.HandlerFunc) *password.HIBP {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return newHIBP(t, srv.URL)
	}
	cases := []struct {
		name   string
		lookup func(t *testing.T) password.RangeLookup
	}{
		{"server error", func(t *testing.T) password.RangeLookup {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) })
		}},
		{"rate limited", func(t *testing.T) password.RangeLookup {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "slow down", http.StatusTooManyRequests) })
		}},
		{"malformed line", func(t *testing.T) password.RangeLookup {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<html>maintenance</html>") })
		}},
		{"malformed count", func(t *testing.T) password.RangeLookup {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprintf(w, "%035X:many\r\n", 1)
			})
		}},
		{"answer too large", func(t *testing.T) password.RangeLookup {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				fmt.Fprint(w, strings.Repeat(fmt.Sprintf("%035X:1\r\n", 1), 100))
			}))
			t.Cleanup(srv.Close)
			c, err := password.NewHIBP(password.HIBPOptions{BaseURL: srv.URL, MaxResponseBytes: 1000})
			require.NoError(t, err)
			return c
		}},
		{"connection refused", func(t *testing.T) password.RangeLookup {
			srv := httptest.NewServer(http.NotFoundHandler())
			srv.Close() // nothing listens any more
			return newHIBP(t, srv.URL)
		}},
		{"connection dropped", func(t *testing.T) password.RangeLookup {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close()
				}
			})
		}},
		{"custom lookup failure", func(*testing.T) password.RangeLookup {
			return password.RangeLookupFunc(func(context.Context, string) ([]password.RangeEntry, error) {
				return nil, errors.New("offline corpus not loaded")
			})
		}},
		{"nil lookup", func(*testing.T) password.RangeLookup { return nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := password.Breached(t.Context(), c.lookup(t), "password")
			require.ErrorIs(t, err, password.ErrBreachUnavailable)
			var ve *password.ValidationError
			assert.False(t, errors.As(err, &ve), "a failed check is not a verdict")
			assert.Equal(t, 1, strings.Count(err.Error(), "breached-password check unavailable"), "wrapped once: %v", err)
		})
	}
	t.Run("context cancelled", func(t *testing.T) {
		srv := newPwnedServer(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := password.Breached(ctx, newHIBP(t, srv.URL), "password")
		require.ErrorIs(t, err, password.ErrBreachUnavailable)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestNewHIBP(t *testing.T) {
	c, err := password.NewHIBP(password.HIBPOptions{})
	require.NoError(t, err, "the zero options use the public API")
	assert.NotNil(t, c)
	for _, bad := range []password.HIBPOptions{
		{BaseURL: "api.pwnedpasswords.com"},
		{BaseURL: "ftp://example.com"},
		{BaseURL: "https://example.com/?x=1"},
		{BaseURL: "https://user:pw@example.com"},
		{BaseURL: "https://example.com/#frag"},
		{BaseURL: "://"},
		{MaxResponseBytes: -1},
		{UserAgent: "x\r\nEvil: 1"},
	} {
		_, err := password.NewHIBP(bad)
		assert.ErrorIs(t, err, password.ErrInvalidOptions, "%+v", bad)
	}
}
