// Package app assembles the Senfi backend from the kit: it opens the database
// and, when configured, Redis; builds the token authenticator, password
// hasher, rate limiters, login lockout and mail queue; and puts the API behind
// the middleware chain in the order DESIGN.md gives:
//
//	client IP → perf → audit (recover, request log) → secure headers/CORS/hosts
//	→ ratelimit → jwtauth → routes
//
// The ratelimit layer in the chain is one generous per-address limit on
// everything (GLOBAL); the contract's per-route limits (LOGIN, SIGN, ...) sit
// on their routes, after authentication, because some are keyed by user.
//
// Without SENFI_REDIS_URL, rate limits and lockouts live in this process's
// memory and token revocation in the database (so it survives restarts and
// is shared by replicas on one PostgreSQL). With it, all three live in Redis,
// shared by every replica.
package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/justinas/alice"
	"github.com/redis/go-redis/v9"

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/backup"
	"github.com/senfi-sharif/senfi/example/internal/api"
	"github.com/senfi-sharif/senfi/example/internal/config"
	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/example/internal/mail"
	"github.com/senfi-sharif/senfi/internal/problem"
	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/password"
	jwtredis "github.com/senfi-sharif/senfi/jwtauth/redisstore"
	"github.com/senfi-sharif/senfi/jwtauth/sqlstore"
	"github.com/senfi-sharif/senfi/perf"
	"github.com/senfi-sharif/senfi/ratelimit"
	rlredis "github.com/senfi-sharif/senfi/ratelimit/redisstore"
	"github.com/senfi-sharif/senfi/secure"
)

// Version is the application version reported by `version` and the API root.
var Version = "1.0.0"

// Options are start-up choices that do not come from the environment.
type Options struct {
	// Stdout receives development mails and start-up notes. Zero value:
	// os.Stdout.
	Stdout io.Writer
	// Logger receives operational logs. Zero value: slog.Default().
	Logger *slog.Logger
	// SMTPTLS, when set, is the TLS configuration for the SMTP server (tests
	// use it to trust their server's self-signed certificate).
	SMTPTLS *tls.Config
	// Event, when set, receives every security event besides the log
	// (tests).
	Event api.EventFunc
	// Progress receives the progress of long backup operations (a bar on
	// a terminal, plain lines otherwise). Zero value: none.
	Progress io.Writer
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// App is one running instance of the backend.
type App struct {
	// Config is the configuration it was built from.
	Config config.Config
	// DB is the application database.
	DB *data.DB
	// Auth issues and verifies tokens.
	Auth *jwtauth.Authenticator
	// Hasher hashes passwords (the CLI uses it too).
	Hasher *password.Hasher
	// Policy is the password policy.
	Policy password.Policy
	// API holds the routes.
	API *api.Server
	// Handler is the API behind the whole middleware chain.
	Handler http.Handler
	// ConnContext must be the server's ConnContext: it gives every
	// connection its client address (secure's fast path) and the problem
	// shape, so that neither costs a request copy. Without it the handler
	// still works, at four allocations more per request.
	ConnContext func(context.Context, net.Conn) context.Context
	// Audit is the security log (the file at SENFI_AUDIT_LOG, HMAC-chained,
	// with checkpoints on stdout).
	Audit *audit.Logger
	// Perf records per-route figures; Sampler samples the system.
	Perf    *perf.Recorder
	Sampler *perf.Sampler
	// Backups manages the database backups (SENFI_BACKUP_DIR); nil for an
	// in-memory SQLite database.
	Backups *backup.Manager
	// Metrics serves Prometheus /metrics; serve it on SENFI_METRICS_ADDR
	// only, never on the public listener.
	Metrics http.Handler

	redis   *redis.Client
	queue   *mail.Queue
	event   api.EventFunc // set by build; nil during Open
	log     *slog.Logger
	closers []func(context.Context) error

	// privacy holds the pseudonymisers (SENFI_LOG_IP_MODE, user IDs) and
	// the security log the data export reads; auditFile is that log's
	// file, rotated daily by EnforceRetention.
	privacy   *api.Privacy
	auditFile *audit.FileSink
	now       func() time.Time
}

// Open connects to the database (and Redis) and applies the migrations; it
// builds no HTTP handler. The CLI's maintenance commands use it; New calls
// it.
func Open(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	a := &App{Config: cfg, log: o.Logger, now: o.Now}
	if a.now == nil {
		a.now = time.Now
	}
	target, err := data.ParseURL(cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("SENFI_DATABASE_URL: %w", err)
	}
	db, err := data.Open(ctx, target)
	if err != nil {
		return nil, err
	}
	if o.Now != nil {
		db.SetClock(o.Now)
	}
	a.DB = db
	a.closers = append(a.closers, func(context.Context) error { return db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		_ = a.Close(ctx)
		return nil, err
	}
	if cfg.RedisURL != "" {
		ro, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			_ = a.Close(ctx)
			return nil, fmt.Errorf("SENFI_REDIS_URL: %w", err)
		}
		ro.ContextTimeoutEnabled = true
		a.redis = redis.NewClient(ro)
		a.closers = append(a.closers, func(context.Context) error { return a.redis.Close() })
		if err := a.redis.Ping(ctx).Err(); err != nil {
			_ = a.Close(ctx)
			return nil, fmt.Errorf("SENFI_REDIS_URL: cannot reach Redis: %w", err)
		}
	}
	if err := a.buildAuth(o); err != nil {
		_ = a.Close(ctx)
		return nil, err
	}
	if err := a.openBackups(ctx, o.Progress); err != nil {
		_ = a.Close(ctx)
		return nil, err
	}
	return a, nil
}

// derive makes an independent key for one purpose from the secret.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("senfi/" + purpose))
	return m.Sum(nil)
}

func (a *App) buildAuth(o Options) error {
	cfg := a.Config
	var store jwtauth.Store
	if a.redis != nil {
		s, err := jwtredis.New(a.redis, jwtredis.Options{Prefix: cfg.RedisPrefix + "jwtauth:"})
		if err != nil {
			return err
		}
		store = s
	} else {
		s, err := sqlstore.New(a.DB.X(), sqlstore.Options{})
		if err != nil {
			return err
		}
		if err := s.Migrate(context.Background()); err != nil {
			return fmt.Errorf("migrate the token tables: %w", err)
		}
		stop := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { s.RunSweeper(ctx, 10*time.Minute); close(stop) }()
		a.closers = append(a.closers, func(context.Context) error { cancel(); <-stop; return s.Close() })
		store = s
	}
	// The sessions table follows every revocation (GET /api/auth/sessions).
	store, err := api.SessionStore(store, a.DB)
	if err != nil {
		return err
	}
	auth, err := jwtauth.New(jwtauth.Options{
		Keys:            []jwtauth.Key{{ID: "senfi-1", Algorithm: jwtauth.HS256, Secret: derive(cfg.Secret, "jwt")}},
		Issuer:          "senfi",
		Audience:        "senfi-api",
		AccessTTL:       cfg.AccessTTL,
		RefreshTTL:      cfg.RefreshTTL,
		SessionLifetime: cfg.SessionTTL,
		// The frontend may fire two refreshes at once from two tabs.
		ReuseGrace: 0,
		Store:      store,
		ErrorHandler: api.ForbiddenHandler("api", func(r *http.Request, name string, attrs ...slog.Attr) {
			if a.event != nil {
				a.event(r, name, "failure", attrs...)
			}
		}),
		OnStoreError: func(ctx context.Context, err error) {
			a.log.ErrorContext(ctx, "jwtauth store failure", "err", err)
		},
		OnReuse: func(ctx context.Context, c *jwtauth.Claims) {
			if a.event != nil {
				a.event(requestFromContext(ctx), string(audit.AuthnTokenReuse), "failure",
					slog.String(audit.KeyUserID, c.Subject), slog.String("family", c.Family))
			}
		},
		Now: o.Now,
	})
	if err != nil {
		return err
	}
	a.Auth = auth
	a.Policy = password.NIST()
	if cfg.PasswordPolicy == "legacy" {
		a.Policy = password.SenfiLegacy()
	}
	a.Hasher, err = password.New(password.Options{})
	return err
}

// userKey is the rate-limit key of authenticated routes.
func userKey(r *http.Request) (string, bool) {
	c, ok := jwtauth.FromContext(r.Context())
	if !ok {
		return "", false
	}
	return c.Subject, true
}

// failClosed are the limits that refuse (503) rather than let requests
// through when their store is down: the ones guarding credentials and mail.
var failClosed = map[string]bool{
	"LOGIN": true, "REGISTER": true, "SEND_CODE": true, "SEND_CODE_EMAIL": true,
	"VERIFY_CODE": true, "PASSWORD_RESET": true, "CHANGE_PASSWORD": true,
	"SEND_MOBILE_CODE": true, "VERIFY_MOBILE_CODE": true, "DELETE_ACCOUNT": true,
}

// userLimits are keyed by the authenticated user.
var userLimits = map[string]bool{"SUBMIT": true, "SIGN": true, "CHANGE_PASSWORD": true, "POLL_CREATE": true, "VOTE": true, "BLOG_CREATE": true,
	"EXPORT": true, "DELETE_ACCOUNT": true}

// New builds the whole application.
func New(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	a, err := Open(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	if err := a.build(o); err != nil {
		_ = a.Close(ctx)
		return nil, err
	}
	return a, nil
}

func (a *App) build(o Options) error {
	cfg := a.Config
	if err := a.buildPrivacy(); err != nil {
		return err
	}
	if err := a.buildAudit(o); err != nil {
		return err
	}
	event := a.eventFunc(o.Event)
	a.event = event

	// Rate limits and lockout share one store.
	var rlStore ratelimit.Store
	var lockStore ratelimit.LockoutStore
	if a.redis != nil {
		s, err := rlredis.New(a.redis, rlredis.Options{Prefix: cfg.RedisPrefix + "ratelimit:"})
		if err != nil {
			return err
		}
		rlStore, lockStore = s, s
	} else {
		s := ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})
		rlStore, lockStore = s, s
	}
	limits := make(map[string]*ratelimit.Limiter, len(cfg.Rates))
	for name, p := range cfg.Rates {
		if name == "GLOBAL" {
			continue // the chain's own limiter, below
		}
		key := ratelimit.KeyByIP()
		switch {
		case name == "SEND_CODE_EMAIL":
			key = api.EmailKey
		case userLimits[name]:
			key = ratelimit.KeyByUser(userKey)
		}
		l, err := ratelimit.New(ratelimit.Options{
			Name:     "senfi_" + strings.ToLower(name),
			Policy:   p,
			Key:      key,
			Store:    rlStore,
			FailOpen: !failClosed[name],
			OnLimited: func(r *http.Request, d ratelimit.Decision) {
				event(r, api.EvRateLimitBlocked, "failure", slog.String("limit", name))
			},
			OnStoreError: func(r *http.Request, err error) {
				a.log.ErrorContext(r.Context(), "rate limit store failure", "limit", name, "err", err)
			},
			Now: o.Now,
		})
		if err != nil {
			return fmt.Errorf("SENFI_RATE_%s: %w", name, err)
		}
		limits[name] = l
	}
	lockout, err := ratelimit.NewLockout(ratelimit.LockoutOptions{
		Store: lockStore,
		OnLock: func(ctx context.Context, e ratelimit.LockEvent) {
			event(requestFromContext(ctx), api.EvLoginLock, "failure", slog.String("scope", e.Scope), slog.Time("until", e.Until), slog.Int("locks", e.Locks))
		},
		Now: o.Now,
	})
	if err != nil {
		return err
	}

	// Mail: SMTP when configured, stdout otherwise; always through a queue
	// so that no request waits on the mail server.
	var sender mail.Sender
	var check func(context.Context) error
	if cfg.SMTP.Host != "" {
		s, err := mail.NewSMTP(mail.SMTPConfig{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
			From: cfg.SMTP.From, TLS: cfg.SMTP.TLS, TLSConfig: o.SMTPTLS,
		})
		if err != nil {
			return err
		}
		sender, check = s, s.Check
	} else {
		w, err := mail.NewWriter(o.Stdout)
		if err != nil {
			return err
		}
		sender = w
	}
	queue, err := mail.NewQueue(sender, mail.QueueOptions{Retries: 3, Logger: a.log})
	if err != nil {
		return err
	}
	a.queue = queue
	a.closers = append(a.closers, queue.Close)

	srv, err := api.New(api.Options{
		DB: a.DB, Auth: a.Auth, Hasher: a.Hasher, Policy: a.Policy, Lockout: lockout, Limits: limits,
		Mailer: queue, CheckMail: check, DescribeMailError: mail.Describe,
		EmailDomains: cfg.EmailDomains, CodeKey: derive(cfg.Secret, "verification-codes"), RememberTTL: cfg.RememberTTL,
		Privacy: a.privacy, Event: event, Logger: a.log, Now: o.Now,
	})
	if err != nil {
		return err
	}
	a.API = srv
	a.routes(srv.Mux())
	if err := a.mountDocs(srv.Mux()); err != nil {
		return err
	}

	guard, err := secure.New(cfg.Secure)
	if err != nil {
		return err
	}
	global, err := ratelimit.New(ratelimit.Options{
		Name: "senfi_global", Policy: cfg.Rates["GLOBAL"], Store: rlStore, FailOpen: true, Now: o.Now,
		OnLimited: func(r *http.Request, d ratelimit.Decision) {
			event(r, api.EvRateLimitBlocked, "failure", slog.String("limit", "GLOBAL"))
		},
		OnStoreError: func(r *http.Request, err error) {
			a.log.ErrorContext(r.Context(), "rate limit store failure", "limit", "GLOBAL", "err", err)
		},
	})
	if err != nil {
		return err
	}
	if err := a.buildPerf(srv.Mux()); err != nil {
		return err
	}
	a.Handler = alice.New(
		guard.ClientIP,
		a.Perf.Handler,
		withProblemShape,
		a.Audit.Requests,
		a.Audit.Recover,
		guard.Handler,
		global.Handler,
		a.Auth.Authenticate,
		a.reportUser,
	).Then(reportRoute(methodAware(srv.Mux())))
	a.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return guard.ConnContext(problem.WithExtensions(ctx, problemShape), c)
	}
	a.startRetention()
	return nil
}

// problemShape is the extension every problem body of the app carries: the
// DRF-era frontend reads "success".
var problemShape = map[string]any{"success": false}

// withProblemShape makes every layer's problem responses carry
// "success": false. App.ConnContext puts the extension in the connection's
// context, which every request of the connection inherits, so this copies a
// request only when the handler is served without it.
func withProblemShape(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !problem.HasExtensions(r.Context()) {
			r = r.WithContext(problem.WithExtensions(r.Context(), problemShape))
		}
		next.ServeHTTP(w, r)
	})
}

// requestFromContext gives the callbacks that receive only a context (the
// lockout's OnLock, jwtauth's OnReuse) a request carrying it, for the event
// function: the audit log reads the request ID, client and user from the
// context. Built only when such an event happens.
func requestFromContext(ctx context.Context) *http.Request {
	r, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/", nil)
	return r
}

// eventFunc is where security events go: the audit log (and o.Event in
// tests). A user_id attribute reaches the log as the user's pseudonym.
func (a *App) eventFunc(extra api.EventFunc) api.EventFunc {
	return func(r *http.Request, name, outcome string, attrs ...slog.Attr) {
		a.Audit.Log(r.Context(), audit.Event(name), audit.Outcome(outcome), a.pseudonymise(attrs)...)
		if extra != nil {
			extra(r, name, outcome, attrs...)
		}
	}
}

// routes adds the project routes of the contract §5 to the API mux.
func (a *App) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"message": "Senfi API", "version": Version,
			"endpoints": map[string]string{"api": "/api/", "health": "/health/", "docs": "/api/docs/", "schema": "/api/schema/"},
		})
	})
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "OK")
	}
	mux.HandleFunc("GET /health/{$}", ok)
	mux.HandleFunc("GET /health", ok)
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.Ready(ctx); err != nil {
			a.log.WarnContext(r.Context(), "not ready", "err", err)
			w.Header().Set("Retry-After", "5")
			problem.Write(w, r, problem.New(http.StatusServiceUnavailable, "not ready: "+readyDetail(err)))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
	})
}

type readyErr struct{ what string }

func (e readyErr) Error() string { return e.what + " unreachable" }

func readyDetail(err error) string {
	var re readyErr
	if errors.As(err, &re) {
		return re.Error()
	}
	return "dependency unreachable"
}

// Ready reports whether the database (and Redis) answer.
func (a *App) Ready(ctx context.Context) error {
	if err := a.DB.Ping(ctx); err != nil {
		return errors.Join(readyErr{"database"}, err)
	}
	if a.redis != nil {
		if err := a.redis.Ping(ctx).Err(); err != nil {
			return errors.Join(readyErr{"redis"}, err)
		}
	}
	return nil
}

// Close stops the mail queue (delivering what is queued) and closes the
// stores, in reverse order of opening.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i](ctx))
	}
	a.closers = nil
	return errors.Join(errs...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonEncode(w, v)
}

// methodAware answers unmatched requests: 405 with Allow when the path
// exists for other methods, 404 otherwise; both problem+json.
func methodAware(mux *http.ServeMux) http.Handler {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		probe := *r // mux.Handler only reads the request: one shallow copy serves every method
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe.Method = m
			if _, pattern := mux.Handler(&probe); pattern != "/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			list := strings.Join(allow, ", ")
			w.Header().Set("Allow", list)
			problem.Write(w, r, problem.New(http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; allowed: "+list))
			return
		}
		problem.Write(w, r, problem.New(http.StatusNotFound, "no API route matches "+r.Method+" "+r.URL.Path))
	})
	return mux
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
