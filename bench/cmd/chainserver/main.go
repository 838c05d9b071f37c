// Command chainserver serves the trivial handler of the senfi benchmarks
// over real TCP connections, for load generators such as wrk: bare, behind
// the example application's full middleware chain, and behind the peer
// libraries' chain, each on its own port (see package chain for what each
// chain holds). bench/load.sh builds it, starts it and drives it.
//
// Usage:
//
//	chainserver [flags]
//
//	-bare ADDR          bare net/http listener (default 127.0.0.1:8081)
//	-senfi ADDR         senfi chain, revocation in memory (default 127.0.0.1:8082)
//	-peers ADDR         peer chain (default 127.0.0.1:8083)
//	-senfi-sqlite ADDR  senfi chain with revocation in SQLite, as the example
//	                    without Redis (default off)
//	-headers ADDR       bare, but answering with the senfi chain's response
//	                    header fields (default off): what sending them costs
//	-pprof ADDR         net/http/pprof listener (default off)
//	-dir DIR            security log and SQLite files (default: a new
//	                    temporary directory, removed at exit)
//	-token-file FILE    where to write a Bearer token both chains accept
//	                    (mode 0600; default DIR/token)
//	-origin ORIGIN      the CORS origin allowed (default http://localhost:3000)
//
// Any listener can be turned off with an empty address. Before it prints
// "ready" and writes the token file, it checks every listener over a real
// connection: an authenticated GET /v1/items must get 200 "ok" with the
// chain's headers, and an anonymous one 401 from the chains (200 from
// bare). The hosts allowed are localhost, 127.0.0.1 and ::1, as in the
// example's development mode; no proxy is trusted, so the client address is
// the peer's. Rate limits are set far above what one client address can
// send, so that no request is refused.
//
// On SIGINT or SIGTERM it stops accepting, closes the security log and
// verifies its HMAC chain, printing how many requests it holds: a run whose
// log does not verify exits with status 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/senfi-sharif/senfi/bench/cmd/chainserver/chain"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "chainserver:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	bare, senfi, peers, senfiSQLite, headers, pprof string
	dir, tokenFile, origin                          string
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("chainserver", flag.ContinueOnError)
	fs.StringVar(&c.bare, "bare", "127.0.0.1:8081", "bare net/http listener (empty: off)")
	fs.StringVar(&c.senfi, "senfi", "127.0.0.1:8082", "senfi chain, revocation in memory (empty: off)")
	fs.StringVar(&c.peers, "peers", "127.0.0.1:8083", "peer chain (empty: off)")
	fs.StringVar(&c.senfiSQLite, "senfi-sqlite", "", "senfi chain, revocation in SQLite (empty: off)")
	fs.StringVar(&c.headers, "headers", "", "bare with the senfi chain's response headers (empty: off)")
	fs.StringVar(&c.pprof, "pprof", "", "net/http/pprof listener (empty: off)")
	fs.StringVar(&c.dir, "dir", "", "directory for the security log and SQLite (empty: a temporary one)")
	fs.StringVar(&c.tokenFile, "token-file", "", "file receiving the Bearer token (empty: DIR/token)")
	fs.StringVar(&c.origin, "origin", "http://localhost:3000", "CORS origin allowed")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, nil
}

// target is one listener and what it serves.
type target struct {
	name, addr  string
	ln          net.Listener
	handler     http.Handler
	connContext func(context.Context, net.Conn) context.Context
}

// server is one run of the command.
type server struct {
	cfg     config
	opts    chain.Options
	targets []*target // the listeners that are on
	senfis  []*senfiRun
	servers []*http.Server
	errc    chan error
	token   string // the Bearer token of every request
}

// run serves until ctx is done or a listener fails, then shuts down and
// verifies the security logs.
func run(ctx context.Context, args []string, out io.Writer) (err error) {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "chainserver-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.dir)
	}
	if c.tokenFile == "" {
		c.tokenFile = filepath.Join(c.dir, "token")
	}
	s := &server{cfg: c, opts: chain.Options{
		Hosts:  []string{"localhost", "127.0.0.1", "::1"},
		Origin: c.origin,
		Secret: chain.NewSecret(),
	}}
	// Closing runs in reverse: servers, then the security logs (which
	// must see no more requests), then listeners never served.
	defer func() { err = errors.Join(err, s.closeLogs(out)) }()
	defer s.closeServers()
	if err := s.listen(); err != nil {
		return err
	}
	if err := s.build(ctx); err != nil {
		return err
	}
	if err := s.start(ctx, out); err != nil {
		return err
	}
	select {
	case err = <-s.errc:
	case <-ctx.Done():
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		err = errors.Join(err, srv.Shutdown(shutdown))
	}
	s.servers = nil
	return err
}

// listen opens every listener that is on, so that the peers' Host check
// can be told their ports before it is built.
func (s *server) listen() error {
	all := []*target{{name: "bare", addr: s.cfg.bare}, {name: "senfi", addr: s.cfg.senfi},
		{name: "peers", addr: s.cfg.peers}, {name: "senfi-sqlite", addr: s.cfg.senfiSQLite},
		{name: "headers", addr: s.cfg.headers}}
	for _, t := range all {
		if t.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", t.addr)
		if err != nil {
			return fmt.Errorf("-%s: %w", t.name, err)
		}
		t.ln = ln
		s.targets = append(s.targets, t)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		s.opts.Ports = append(s.opts.Ports, port)
	}
	if len(s.targets) == 0 {
		return errors.New("every listener is off: give at least one of -bare, -senfi, -peers, -senfi-sqlite, -headers")
	}
	return nil
}

// build makes each target's handler and the token of the requests.
func (s *server) build(ctx context.Context) error {
	var floor []*target
	for _, t := range s.targets {
		switch t.name {
		case "bare":
			t.handler = chain.Bare()
		case "peers":
			h, err := chain.Peers(s.opts)
			if err != nil {
				return err
			}
			t.handler = h
		case "senfi", "senfi-sqlite":
			r, err := newSenfiRun(s.opts, filepath.Join(s.cfg.dir, t.name), t.name == "senfi-sqlite")
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			s.senfis = append(s.senfis, r)
			t.handler, t.connContext = r.Handler(), r.ConnContext
		case "headers":
			floor = append(floor, t)
		}
	}
	header, err := s.sample(ctx)
	for _, t := range floor {
		t.handler = chain.HeaderFloor(header)
	}
	return err
}

// sample issues the Bearer token of every request and returns the senfi
// chain's response header for an authenticated request, from the first
// senfi chain or from a throw-away one when none is on. Every chain
// accepts the token (they share the secret, issuer and audience).
func (s *server) sample(ctx context.Context) (http.Header, error) {
	var c *chain.Senfi
	if len(s.senfis) > 0 {
		c = s.senfis[0].Senfi
	} else {
		r, err := newSenfiRun(s.opts, filepath.Join(s.cfg.dir, "sample"), false)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		c = r.Senfi
	}
	var err error
	if s.token, err = c.Token(ctx); err != nil {
		return nil, err
	}
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://localhost"+chain.Path, nil)
	r.Header.Set("Origin", s.cfg.origin)
	r.Header.Set("Authorization", "Bearer "+s.token)
	return chain.ResponseHeader(c.Handler(), r), nil
}

// start serves every target, checks each answers as its chain must, writes
// the token file and opens the pprof listener.
func (s *server) start(ctx context.Context, out io.Writer) error {
	s.errc = make(chan error, len(s.targets)+1)
	for _, t := range s.targets {
		srv := newServer(t.handler, t.connContext)
		s.servers = append(s.servers, srv)
		go func() { s.errc <- srv.Serve(t.ln) }()
	}
	for _, t := range s.targets {
		if err := probe(ctx, t, s.token, s.cfg.origin); err != nil {
			return err
		}
		fmt.Fprintf(out, "chainserver: %s on http://%s%s\n", t.name, t.ln.Addr(), chain.Path)
	}
	if err := os.WriteFile(s.cfg.tokenFile, []byte(s.token+"\n"), 0o600); err != nil {
		return err
	}
	if s.cfg.pprof != "" {
		ln, err := net.Listen("tcp", s.cfg.pprof)
		if err != nil {
			return fmt.Errorf("-pprof: %w", err)
		}
		srv := &http.Server{Handler: pprofMux(), ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		go func() { s.errc <- srv.Serve(ln) }()
		fmt.Fprintf(out, "chainserver: pprof on http://%s/debug/pprof/\n", ln.Addr())
	}
	fmt.Fprintf(out, "chainserver: token in %s; ready\n", s.cfg.tokenFile)
	return nil
}

// closeServers closes what is still open: the servers, and the listeners
// (a listener a server already closed just reports it).
func (s *server) closeServers() {
	for _, srv := range s.servers {
		_ = srv.Close()
	}
	for _, t := range s.targets {
		_ = t.ln.Close()
	}
	s.servers = nil
}

// closeLogs closes and verifies every senfi chain's security log.
func (s *server) closeLogs(out io.Writer) error {
	var errs []error
	for _, r := range s.senfis {
		errs = append(errs, r.close(out, s.opts.Secret))
	}
	return errors.Join(errs...)
}

var expects = map[string]chain.Expect{
	"bare": chain.ExpectBare, "peers": chain.ExpectPeers,
	"senfi": chain.ExpectSenfi, "senfi-sqlite": chain.ExpectSenfi,
	"headers": chain.ExpectHeaders,
}

// probe sends t an authenticated and an anonymous GET, as wrk will, and
// checks the answers.
func probe(ctx context.Context, t *target, token, origin string) error {
	get := func(auth bool) (chain.Answer, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.ln.Addr().String()+chain.Path, nil)
		if err != nil {
			return chain.Answer{}, err
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Accept", "application/json")
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return chain.Answer{}, fmt.Errorf("%s: %w", t.name, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return chain.Answer{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}, err
	}
	authed, err := get(true)
	if err != nil {
		return err
	}
	anonymous, err := get(false)
	if err != nil {
		return err
	}
	return expects[t.name].Check(authed, anonymous)
}

// newServer returns the http.Server every listener uses: the example's
// timeouts and header limit.
func newServer(h http.Handler, connContext func(context.Context, net.Conn) context.Context) *http.Server {
	return &http.Server{
		Handler:           h,
		ConnContext:       connContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(slog.NewTextHandler(os.Stderr, nil), slog.LevelWarn),
	}
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// senfiRun is one senfi chain.
type senfiRun struct {
	*chain.Senfi
	name string
}

func newSenfiRun(opts chain.Options, dir string, sqlite bool) (*senfiRun, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	opts.Dir, opts.SQLite = dir, sqlite
	s, err := chain.NewSenfi(opts)
	if err != nil {
		return nil, err
	}
	return &senfiRun{Senfi: s, name: filepath.Base(dir)}, nil
}

// close closes the security log, verifies it and reports what it holds.
func (r *senfiRun) close(out io.Writer, secret []byte) error {
	if err := r.Close(); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	rep, err := r.VerifyLog(secret)
	if err != nil {
		return fmt.Errorf("%s: security log: %w", r.name, err)
	}
	fmt.Fprintf(out, "chainserver: %s security log %s\n", r.name, rep)
	return nil
}
