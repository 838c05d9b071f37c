// Package chain builds the HTTP handlers that the end-to-end comparison of
// the senfi kit measures, so that BenchmarkChain (in-process) and the
// chainserver command (over real connections, driven by wrk from
// bench/load.sh) serve exactly the same thing:
//
//   - [Bare]: the trivial final handler behind an http.ServeMux, nothing else;
//   - [Senfi]: the same mux behind the full middleware chain of the example
//     application (example/internal/app), rebuilt from the kit's public
//     packages in the example's order: secure client IP → perf Recorder →
//     problem shape → audit Requests → audit Recover →
//     secure headers/hosts/CORS → global ratelimit → jwtauth Authenticate →
//     user and route reported to the outer layers;
//   - [Peers]: the same mux behind the libraries the kit is compared with:
//     unrolled/secure → rs/cors → go-chi/httprate → golang-jwt;
//   - [HeaderFloor]: Bare, answering with the header fields the senfi chain
//     sends, to tell what sending them costs from what the chain's work
//     costs.
//
// The example's packages are internal to it, so the chain is rebuilt here
// rather than imported; [Senfi.Layers] lists it layer by layer, with the
// same names the benchmarks use when they add the layers one at a time.
//
// The configuration is the example's development configuration (plain
// HTTP, no HSTS, every other security header on, CORS for one frontend
// origin with credentials, JSON-only bodies of at most 1 MiB), its security
// log (a JSON-lines file made tamper-evident by an HMAC-SHA-256 chain, with
// checkpoints in a second file, delivered synchronously) and its token
// settings (HS256, revocation checked on every request). The rate limits are
// set so high that a benchmark never meets them: a refused request is a
// cheaper response and would flatter every chain.
//
// The package is importable (it is not under internal/) only so that the
// bench package's tests can use it; it is no API of the kit.
package chain

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/internal/problem"
	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/sqlstore"
	"github.com/senfi-sharif/senfi/perf"
	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/secure"
)

// The route every chain serves, and the claims of the token the requests
// carry.
const (
	// Path is the path of the one route.
	Path = "/v1/items"
	// Pattern is its ServeMux pattern, the label perf and audit record.
	Pattern = "GET " + Path
	// Issuer and Audience are the iss and aud of the tokens; both chains
	// require them.
	Issuer   = "senfi-bench"
	Audience = "senfi-bench-api"
	// Subject is the sub of the token [Senfi.Token] issues.
	Subject = "42"
)

// DefaultLimit is the per-client limit, per minute, of both chains' rate
// limiters when Options.Limit is zero: one request per microsecond (the
// finest rate ratelimit accepts), far more than one client address sends
// in any benchmark here, so that no request is refused.
const DefaultLimit = 60_000_000

// okBody is what the final handler writes.
var okBody = []byte("ok\n")

// Final is the trivial handler every chain ends in: status 200 and a
// three-byte body.
var Final http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(okBody)
})

// newMux returns a ServeMux serving h at Pattern.
func newMux(h http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(Pattern, h)
	return mux
}

// Bare returns the baseline: [Final] at [Pattern] in a ServeMux, with no
// middleware at all.
func Bare() http.Handler { return newMux(Final) }

// Options configures [NewSenfi] and [Peers] alike.
type Options struct {
	// Hosts are the allowed Host names (any port). Required.
	Hosts []string
	// Origin is the one frontend origin allowed by CORS, with credentials,
	// e.g. "http://localhost:3000". Required.
	Origin string
	// Secret is the HS256 key of the tokens, at least
	// jwtauth.MinSecretBytes long. Required.
	Secret []byte
	// Dir receives the senfi chain's security log (security.log) and its
	// checkpoints (checkpoints.log). Required by NewSenfi.
	Dir string
	// SQLite keeps the senfi chain's token revocations in SQLite, in
	// Dir/tokens.db (jwtauth/sqlstore, WAL, a pool of 8 connections), as
	// the example does without Redis: every authenticated request then
	// reads the database. Zero value: false, a jwtauth.MemoryStore.
	SQLite bool
	// Limit is the per-client limit per minute of both chains. Zero value:
	// DefaultLimit.
	Limit int
	// Ports are the ports the peers' unrolled/secure must accept in the
	// Host header besides the bare host names (it compares Host exactly;
	// senfi ignores the port). Zero value: none, for requests whose Host
	// has no port.
	Ports []string
}

func (o *Options) validate() error {
	var errs []error
	if len(o.Hosts) == 0 {
		errs = append(errs, errors.New("chain: Options.Hosts is empty: list the Host names the requests use"))
	}
	if o.Origin == "" {
		errs = append(errs, errors.New("chain: Options.Origin is empty: give the frontend origin the requests send"))
	}
	if len(o.Secret) < jwtauth.MinSecretBytes {
		errs = append(errs, fmt.Errorf("chain: Options.Secret has %d bytes, want at least %d", len(o.Secret), jwtauth.MinSecretBytes))
	}
	if o.Limit < 0 || o.Limit > DefaultLimit {
		errs = append(errs, fmt.Errorf("chain: Options.Limit %d is outside 1..%d (0 means %d)", o.Limit, DefaultLimit, DefaultLimit))
	}
	return errors.Join(errs...)
}

func (o *Options) limit() int {
	if o.Limit == 0 {
		return DefaultLimit
	}
	return o.Limit
}

// NewSecret returns a random HS256 key for Options.Secret.
func NewSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

// secureOptions is the example's development configuration
// (example/internal/config with SENFI_ENV=development), for o's hosts and
// origin.
func (o *Options) secureOptions() secure.Options {
	opts := secure.Development()
	opts.AllowedHosts = o.Hosts
	opts.CORS = secure.CORSOptions{
		AllowedOrigins:   []string{o.Origin},
		AllowCredentials: true,
		AllowedHeaders:   corsAllowed,
		ExposedHeaders:   CORSExposed,
	}
	opts.RequireJSON = true
	opts.MaxBodyBytes = 1 << 20
	return opts
}

// The example's CORS header lists; the methods and max age are the
// secure package's defaults.
var (
	corsAllowed = []string{"Authorization", "Content-Type", "X-Request-ID"}
	// CORSExposed and CORSMethods are the example's exposed headers and
	// secure's default methods, also the peers' and BenchmarkSecure's.
	CORSExposed = []string{"X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy"}
	CORSMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
)

// Layer is one middleware of the senfi chain.
type Layer struct {
	// Name is the short name benchmarks use ("clientip", "perf", ...).
	Name string
	// Wrap is the middleware.
	Wrap func(http.Handler) http.Handler
}

// Senfi is the example application's middleware chain around [Final].
// Build it with [NewSenfi] and Close it when done.
type Senfi struct {
	// Guard resolves client addresses and writes the security headers.
	Guard *secure.Guard
	// Perf records per-route figures.
	Perf *perf.Recorder
	// Audit is the security log: requests and panics.
	Audit *audit.Logger
	// Limiter is the global per-client rate limit.
	Limiter *ratelimit.Limiter
	// Auth verifies the Bearer tokens and checks their revocation.
	Auth *jwtauth.Authenticator

	logPath, checkpoints string
	cp                   *os.File // the checkpoints file
	db                   *sqlx.DB // with Options.SQLite
	layers               []Layer
}

// NewSenfi builds the chain. The security log is written to
// o.Dir/security.log, its checkpoints to o.Dir/checkpoints.log.
func NewSenfi(o Options) (*Senfi, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Dir == "" {
		return nil, errors.New("chain: Options.Dir is empty: give a directory for the security log")
	}
	s := &Senfi{logPath: filepath.Join(o.Dir, "security.log"), checkpoints: filepath.Join(o.Dir, "checkpoints.log")}
	var err error
	if s.Guard, err = secure.New(o.secureOptions()); err != nil {
		return nil, err
	}
	if s.Perf, err = perf.New(perf.Options{}); err != nil {
		return nil, err
	}
	if s.Audit, s.cp, err = openAudit(s.logPath, s.checkpoints, o.Secret); err != nil {
		return nil, err
	}
	event := func(r *http.Request, name audit.Event, attrs ...slog.Attr) {
		s.Audit.Log(r.Context(), name, audit.Failure, attrs...)
	}
	s.Limiter, err = ratelimit.New(ratelimit.Options{
		Name:     "senfi_global",
		Policy:   ratelimit.Policy{Limit: o.limit(), Period: time.Minute},
		Store:    ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{}),
		FailOpen: true,
		OnLimited: func(r *http.Request, _ ratelimit.Decision) {
			event(r, audit.ExcessRateLimitExceeded, slog.String("limit", "GLOBAL"))
		},
	})
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	var store jwtauth.Store = jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{})
	if o.SQLite {
		st, db, err := openSQLiteStore(context.Background(), o.Dir)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		store, s.db = st, db
	}
	s.Auth, err = jwtauth.New(jwtauth.Options{
		Keys:      []jwtauth.Key{{ID: "bench-1", Algorithm: jwtauth.HS256, Secret: o.Secret}},
		Issuer:    Issuer,
		Audience:  Audience,
		AccessTTL: time.Hour,
		Store:     store,
		OnReuse: func(ctx context.Context, c *jwtauth.Claims) {
			s.Audit.Log(ctx, audit.AuthnTokenReuse, audit.Failure, slog.String(audit.KeyUserID, c.Subject))
		},
	})
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.layers = []Layer{
		{"clientip", s.Guard.ClientIP},
		{"perf", s.Perf.Handler},
		{"problem", withProblemShape},
		{"audit", s.Audit.Requests},
		{"recover", s.Audit.Recover},
		{"secure", s.Guard.Handler},
		{"ratelimit", s.Limiter.Handler},
		{"jwtauth", s.Auth.Authenticate},
		{"report", report},
	}
	return s, nil
}

// openAudit opens the example's security log: a file sink, HMAC-chained
// under a key derived from secret, checkpoints every minute to a second
// file (returned: the Logger does not close it), synchronous delivery, the
// user from the token.
func openAudit(path, checkpoints string, secret []byte) (*audit.Logger, *os.File, error) {
	file, err := audit.NewFileSink(audit.FileOptions{Path: path})
	if err != nil {
		return nil, nil, err
	}
	cp, err := os.OpenFile(checkpoints, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		_ = file.Close()
		return nil, nil, err
	}
	chained, err := audit.NewChain(file, audit.ChainOptions{
		Key:                AuditKey(secret),
		Name:               "security",
		Checkpoints:        audit.NewWriterSink("checkpoints", cp),
		CheckpointInterval: time.Minute,
	})
	if err == nil {
		var log *audit.Logger
		if log, err = audit.New(audit.Options{Sinks: []audit.Sink{chained}, User: tokenUser}); err == nil {
			return log, cp, nil
		}
		_ = chained.Close()
	} else {
		_ = file.Close()
	}
	_ = cp.Close()
	return nil, nil, err
}

// tokenUser is the acting user of the records the security log writes
// from a request context: the token's subject.
func tokenUser(ctx context.Context) (id, email string) {
	if c, ok := jwtauth.FromContext(ctx); ok {
		return c.Subject, ""
	}
	return "", ""
}

// AuditKey is the security log's HMAC key, derived from the secret as the
// example derives it (so that the token key and the log key differ).
func AuditKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("senfi/audit-chain"))
	return m.Sum(nil)
}

// Layers returns the chain's middleware, outermost first.
func (s *Senfi) Layers() []Layer { return s.layers }

// Handler returns the whole chain around the mux serving [Final].
func (s *Senfi) Handler() http.Handler { return s.Upto(len(s.layers)) }

// Upto returns the first n layers (outermost first) around the mux. The
// route requires a token (jwtauth's Require, as the example's
// /api/auth/user does) once the jwtauth layer is among them; before that
// it serves Final to anyone.
func (s *Senfi) Upto(n int) http.Handler {
	n = min(max(n, 0), len(s.layers))
	route := Final
	for _, l := range s.layers[:n] {
		if l.Name == "jwtauth" {
			route = s.Auth.Require(Final)
		}
	}
	h := http.Handler(newMux(route))
	for i := n - 1; i >= 0; i-- {
		h = s.layers[i].Wrap(h)
	}
	return h
}

// ConnContext must be the http.Server's ConnContext: the client-IP layer
// then allocates nothing for a request straight from its peer, and the
// problem shape needs no request copy.
func (s *Senfi) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return s.Guard.ConnContext(problem.WithExtensions(ctx, problemShape), c)
}

// Token issues an access token for [Subject] that both chains accept.
func (s *Senfi) Token(ctx context.Context) (string, error) {
	p, err := s.Auth.Issue(ctx, jwtauth.IssueOptions{Subject: Subject, Role: "student"})
	return p.AccessToken, err
}

// Close flushes and closes the security log (writing a last checkpoint)
// and closes the SQLite database of Options.SQLite.
func (s *Senfi) Close() error {
	err := errors.Join(s.Audit.Close(), s.cp.Close())
	if s.db != nil {
		err = errors.Join(err, s.db.Close())
	}
	return err
}

// VerifyLog checks the security log's HMAC chain against its checkpoints
// (call it after Close, which writes the last one) and returns the
// report: it shows that every request was logged and none was lost.
func (s *Senfi) VerifyLog(secret []byte) (*audit.Report, error) {
	f, err := os.Open(s.checkpoints)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cps, err := audit.ReadCheckpoints(f, "security")
	if err != nil {
		return nil, err
	}
	rep, err := audit.Verify([]string{s.logPath}, audit.VerifyOptions{Key: AuditKey(secret), Checkpoints: cps})
	if err != nil {
		return nil, err
	}
	return rep, rep.Err()
}

// problemShape is the extension the example adds to every problem body.
var problemShape = map[string]any{"success": false}

// withProblemShape makes every layer's problem responses carry
// "success": false, as the example does.
// Like the example, it finds the extension in the connection's context
// ([Senfi.ConnContext]) and copies the request only when it is missing.
func withProblemShape(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !problem.HasExtensions(r.Context()) {
			r = r.WithContext(problem.WithExtensions(r.Context(), problemShape))
		}
		next.ServeHTTP(w, r)
	})
}

// report is the example's reportUser and reportRoute: it tells the request
// log and the recorder who the user is and, once the mux has matched,
// which route served the request. It allocates nothing. One difference:
// it reports the token's subject as is, where the example reports the
// user's pseudonym (an HMAC-SHA256 per authenticated request and one
// allocation: example/internal/api's TestUserPseudonymAllocs), which the
// example's packages, internal to it, cannot lend to this one.
func report(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := jwtauth.FromContext(r.Context()); ok {
			audit.SetUser(w, c.Subject, "")
			perf.SetUser(w, c.Subject)
		}
		mux.ServeHTTP(w, r)
		if pattern := strings.TrimSuffix(r.Pattern, "/{$}"); pattern != "" && pattern != "/" {
			audit.SetRoute(w, pattern)
			perf.SetRoute(w, pattern)
		}
	})
}

// openSQLiteStore opens (creating it) the SQLite database dir/tokens.db
// with the example's settings and returns a migrated jwtauth revocation
// store on it.
func openSQLiteStore(ctx context.Context, dir string) (*sqlstore.Store, *sqlx.DB, error) {
	dsn := "file:" + filepath.Join(dir, "tokens.db") +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sqlx.Open("sqlite", dsn)
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxOpenConns(8)
	st, err := sqlstore.New(db, sqlstore.Options{})
	if err == nil {
		err = st.Migrate(ctx)
	}
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return st, db, nil
}

// ResponseHeader returns the header h answers r with, but for the fields
// net/http writes itself (Date, Content-Length, Content-Type).
func ResponseHeader(h http.Handler, r *http.Request) http.Header {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	out := rec.Result().Header
	for _, k := range []string{"Date", "Content-Length", "Content-Type"} {
		delete(out, k)
	}
	return out
}

// HeaderFloor returns the mux serving Final after copying header into
// each response (the value slices are shared, not copied): a response as
// large as the senfi chain's, with none of its work. What it costs over
// [Bare] is what sending those header fields costs net/http (and the
// client), whatever middleware sets them.
//
// A request whose query is "fields=N" gets only the first N fields of
// header in name order (N from 0 to len(header)), so that a load generator
// can measure how the cost grows with the number of fields: net/http keeps
// a response's header in a Go map, which leaves its small one-group form
// past eight entries, and clones and sorts the map when it writes the
// header. Any other query is answered 400.
func HeaderFloor(header http.Header) http.Handler {
	keys := slices.Sorted(maps.Keys(header))
	return newMux(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(keys)
		if r.URL.RawQuery != "" {
			v, ok := strings.CutPrefix(r.URL.RawQuery, "fields=")
			m, err := strconv.Atoi(v)
			if !ok || err != nil || m < 0 || m > len(keys) {
				http.Error(w, fmt.Sprintf("query: want fields=N with N from 0 to %d", len(keys)), http.StatusBadRequest)
				return
			}
			n = m
		}
		h := w.Header()
		for _, k := range keys[:n] {
			h[k] = header[k]
		}
		Final.ServeHTTP(w, r)
	}))
}
