package chain

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/perf"
)

const testOrigin = "http://localhost:3000"

func testOptions(t *testing.T) Options {
	return Options{
		Hosts:  []string{"api.example.com"},
		Origin: testOrigin,
		Secret: NewSecret(),
		Dir:    t.TempDir(),
	}
}

func newTestSenfi(t *testing.T, o Options) *Senfi {
	t.Helper()
	s, err := NewSenfi(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// withSQLite returns o with revocation in SQLite, in a directory of its
// own.
func withSQLite(t *testing.T, o Options) Options {
	o.Dir, o.SQLite = t.TempDir(), true
	return o
}

// get serves a cross-origin GET of Path for host through h, with the token
// when it is not empty.
func get(h http.Handler, host, token string) Answer {
	r := httptest.NewRequest(http.MethodGet, "http://"+host+Path, nil)
	r.Header.Set("Origin", testOrigin)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return Answer{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
}

func TestChainsAnswerAsExpected(t *testing.T) {
	ctx := context.Background()
	o := testOptions(t)
	s := newTestSenfi(t, o)
	token, err := s.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sqlSenfi := newTestSenfi(t, withSQLite(t, o))
	peers, err := Peers(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		h    http.Handler
		want Expect
	}{
		{Bare(), ExpectBare},
		{s.Handler(), ExpectSenfi},
		{sqlSenfi.Handler(), ExpectSenfi},
		{peers, ExpectPeers},
	} {
		host := o.Hosts[0]
		if err := tc.want.Check(get(tc.h, host, token), get(tc.h, host, "")); err != nil {
			t.Error(err)
		}
		if tc.want.Name == "bare" {
			continue
		}
		// unrolled/secure's default answer to a bad Host is 500.
		wantHost := map[bool]int{false: http.StatusBadRequest, true: http.StatusInternalServerError}[tc.want.Name == "peers"]
		if a := get(tc.h, "evil.example", token); a.Status != wantHost {
			t.Errorf("%s: a request for another host got %d, want %d", tc.want.Name, a.Status, wantHost)
		}
		if a := get(tc.h, host, token+"x"); a.Status != http.StatusUnauthorized {
			t.Errorf("%s: a request with a forged token got %d, want 401", tc.want.Name, a.Status)
		}
	}
}

func TestHeaderFloorSendsTheChainsHeaders(t *testing.T) {
	o := testOptions(t)
	s := newTestSenfi(t, o)
	token, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "http://"+o.Hosts[0]+Path, nil)
	r.Header.Set("Origin", testOrigin)
	r.Header.Set("Authorization", "Bearer "+token)
	want := ResponseHeader(s.Handler(), r)
	if len(want) < 15 {
		t.Fatalf("the chain answered with only %d header fields: %v", len(want), want)
	}
	floor := HeaderFloor(want)
	if err := ExpectHeaders.Check(get(floor, o.Hosts[0], ""), get(floor, o.Hosts[0], "")); err != nil {
		t.Fatal(err)
	}
	if got := ResponseHeader(floor, r); len(got) != len(want) {
		t.Errorf("the floor sends %v, the chain %v", got, want)
	}
	for _, n := range []int{0, 1, 9, len(want)} {
		r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("http://%s%s?fields=%d", o.Hosts[0], Path, n), nil)
		if got := ResponseHeader(floor, r); len(got) != n {
			t.Errorf("fields=%d: the floor sends %d fields: %v", n, len(got), got)
		}
	}
	for _, q := range []string{"fields=-1", fmt.Sprintf("fields=%d", len(want)+1), "fields=x", "n=3"} {
		rec := httptest.NewRecorder()
		floor.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://"+o.Hosts[0]+Path+"?"+q, nil))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("?%s: status %d, want 400", q, rec.Code)
		}
	}
}

func TestSenfiChecksRevocationOnEveryRequest(t *testing.T) {
	ctx := context.Background()
	o := testOptions(t)
	s := newTestSenfi(t, o)
	for name, c := range map[string]*Senfi{"memory": s, "sqlite": newTestSenfi(t, withSQLite(t, o))} {
		token, err := c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if a := get(c.Handler(), o.Hosts[0], token); a.Status != http.StatusOK {
			t.Fatalf("%s: before revocation: status %d", name, a.Status)
		}
		if err := c.Auth.RevokeSubject(ctx, Subject); err != nil {
			t.Fatal(err)
		}
		if a := get(c.Handler(), o.Hosts[0], token); a.Status != http.StatusUnauthorized {
			t.Errorf("%s: a revoked (cached) token got %d, want 401", name, a.Status)
		}
	}
}

func TestSenfiLogsAndMeasuresEveryRequest(t *testing.T) {
	o := testOptions(t)
	s, err := NewSenfi(o)
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const n = 25
	for range n {
		if a := get(s.Handler(), o.Hosts[0], token); a.Status != http.StatusOK {
			t.Fatalf("status %d", a.Status)
		}
	}
	st, err := s.Perf.Endpoint(Pattern, perf.SinceStart)
	if err != nil {
		t.Fatal(err)
	}
	if st.Count != n || st.ByClass[2] != n {
		t.Errorf("perf counted %d requests (%d 2xx) under %s, want %d", st.Count, st.ByClass[2], Pattern, n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := s.VerifyLog(o.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != n || rep.CheckpointsMatched == 0 {
		t.Errorf("security log: %v; want %d records and the closing checkpoint", rep, n)
	}
	if _, err := s.VerifyLog(NewSecret()); err == nil {
		t.Error("the security log verified under another key")
	}
}

func TestUptoAddsLayersInOrder(t *testing.T) {
	o := testOptions(t)
	s := newTestSenfi(t, o)
	var names []string
	for _, l := range s.Layers() {
		names = append(names, l.Name)
	}
	want := "clientip perf problem audit recover secure ratelimit jwtauth report"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("layers %q, want %q", got, want)
	}
	// Upto(n) holds the first n layers: a layer at index i is in for n > i.
	at := func(name string) int { return slices.Index(names, name) }
	for n := 0; n <= len(names)+1; n++ {
		a := get(s.Upto(n), o.Hosts[0], "")
		authenticated := n > at("jwtauth")
		if want := map[bool]int{false: http.StatusOK, true: http.StatusUnauthorized}[authenticated]; a.Status != want {
			t.Errorf("Upto(%d), anonymous: status %d, want %d", n, a.Status, want)
		}
		if got, want := a.Header.Get("X-Request-Id") != "", n > at("audit"); got != want {
			t.Errorf("Upto(%d): X-Request-Id present %v, want %v", n, got, want)
		}
		if got, want := a.Header.Get("X-Frame-Options") != "", n > at("secure"); got != want {
			t.Errorf("Upto(%d): X-Frame-Options present %v, want %v", n, got, want)
		}
	}
}

func TestOptionsAreValidated(t *testing.T) {
	good := testOptions(t)
	for name, edit := range map[string]func(*Options){
		"no hosts":     func(o *Options) { o.Hosts = nil },
		"no origin":    func(o *Options) { o.Origin = "" },
		"short secret": func(o *Options) { o.Secret = []byte("short") },
		"limit":        func(o *Options) { o.Limit = DefaultLimit + 1 },
		"no dir":       func(o *Options) { o.Dir = "" },
	} {
		o := good
		edit(&o)
		if s, err := NewSenfi(o); err == nil {
			_ = s.Close()
			t.Errorf("%s: NewSenfi accepted %+v", name, o)
		}
		if name == "no dir" {
			continue // the peers write no log
		}
		if _, err := Peers(o); err == nil {
			t.Errorf("%s: Peers accepted the options", name)
		}
	}
}

// TestOuterLayersAllocateNothing: with the server's ConnContext, the layers
// before the request log (client IP, perf, problem shape) allocate nothing
// per request; the example relies on the same ConnContext.
func TestOuterLayersAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool (perf's) drop items, which then allocates")
	}
	o := testOptions(t)
	s := newTestSenfi(t, o)
	n := slices.IndexFunc(s.Layers(), func(l Layer) bool { return l.Name == "problem" }) + 1
	if n == 0 {
		t.Fatalf("no layer named problem in %v", s.Layers())
	}
	h := s.Upto(n)
	r := httptest.NewRequest(http.MethodGet, "http://"+o.Hosts[0]+Path, nil)
	r = r.WithContext(s.ConnContext(context.Background(), peerConn{r.RemoteAddr}))
	w := &discard{h: make(http.Header)}
	if a := testing.AllocsPerRun(200, func() { clear(w.h); h.ServeHTTP(w, r) }); a != 0 {
		t.Errorf("the first %d layers allocate %.1f times per request, want 0", n, a)
	}
}

// peerConn is a net.Conn that only reports its remote address.
type peerConn struct{ remote string }

func (peerConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (peerConn) Write(p []byte) (int, error) { return len(p), nil }
func (peerConn) Close() error                { return nil }
func (peerConn) LocalAddr() net.Addr         { return &net.TCPAddr{} }
func (c peerConn) RemoteAddr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(c.remote))
}
func (peerConn) SetDeadline(time.Time) error      { return nil }
func (peerConn) SetReadDeadline(time.Time) error  { return nil }
func (peerConn) SetWriteDeadline(time.Time) error { return nil }

// discard is a ResponseWriter that keeps headers only.
type discard struct{ h http.Header }

func (w *discard) Header() http.Header         { return w.h }
func (w *discard) Write(p []byte) (int, error) { return len(p), nil }
func (w *discard) WriteHeader(int)             {}
