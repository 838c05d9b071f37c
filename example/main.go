// Command example is the Senfi backend — campaigns and signatures for Sharif
// University's student guild — assembled from the senfi kit. It serves the
// API of ../shared/spec/senfi-api.md so that the existing Senfi frontend keeps
// working, and carries the original's management commands.
//
// Usage:
//
//	go run ./example [command] [flags]
//
// Commands:
//
//	serve                     serve the API (the default)
//	migrate                   apply the database migrations and exit
//	createsuperuser [--email E] [--password P]
//	                          create a superadmin (prompts for what is missing)
//	resetuserpass EMAIL [PASSWORD]
//	                          set a user's password (prompts when PASSWORD is
//	                          omitted) and end all their sessions
//	backup create [--force] | list [--detailed] [--json] | verify NAME |
//	       restore NAME [--no-confirm] | stats | cleanup
//	                          backups of the database in SENFI_BACKUP_DIR
//	                          (aliases backup_db, restore_db, list_backups)
//	monitor [--interval 60] [--duration 3600] [--save]
//	                          sample the system, print a table, save CSV/JSON
//	                          (alias monitor_performance)
//	audit verify [FILE] [--checkpoints FILE]
//	                          check the security log's HMAC chain
//	version                   print the version
//
// With no environment at all, `go run ./example` serves on :8000 with SQLite
// (senfi.db in the working directory), development settings, and a secret it
// generates once and keeps in .senfi-secret; it prints what it did and how to
// change it. Every setting is an environment variable (SENFI_*, with the
// Django deployment's names as aliases): see README.md.
//
// Exit codes: 0 success, 1 failure, 2 usage error.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/senfi-sharif/senfi/example/internal/app"
	"github.com/senfi-sharif/senfi/example/internal/config"
	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/jwtauth/password"
)

// usageError is a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: example [command] [flags]

commands:
  serve                                  serve the API (default)
  migrate                                apply database migrations
  createsuperuser [--email E] [--password P]
  resetuserpass EMAIL [PASSWORD]
  backup create [--force] | list [--detailed] [--json] | verify NAME
         | restore NAME [--no-confirm] | stats | cleanup
         (the original's backup_db, restore_db, list_backups work too)
  monitor [--interval 60] [--duration 3600] [--save]   (alias monitor_performance)
  audit verify [FILE] [--checkpoints FILE]
  version                                print the version
`

func main() {
	env := environment{
		args: os.Args[1:], lookup: os.LookupEnv,
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
	}
	os.Exit(env.run())
}

// environment is what a command sees of the process (tests replace it).
type environment struct {
	args           []string
	lookup         func(string) (string, bool)
	stdin          io.Reader
	stdout, stderr io.Writer
	// ready, if set, receives the listening server's address (tests).
	ready func(addr string)
	// stop, if set, ends serve instead of a signal (tests).
	stop <-chan struct{}
}

func (e environment) run() int {
	err := e.dispatch()
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(e.stderr, "senfi:", err)
		fmt.Fprint(e.stderr, usage)
		return 2
	default:
		fmt.Fprintln(e.stderr, "senfi:", err)
		return 1
	}
}

func (e environment) dispatch() error {
	cmd, args := "serve", e.args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "runserver":
		return e.serve(args)
	case "migrate":
		return e.migrate(args)
	case "createsuperuser":
		return e.createSuperuser(args)
	case "resetuserpass":
		return e.resetUserPass(args)
	case "backup":
		if len(args) == 0 {
			return usageError{"backup takes a command: create, list, verify, restore, stats or cleanup"}
		}
		return e.backupCmd(args[0], args[1:])
	case "backup_db":
		return e.backupCmd("create", args)
	case "restore_db":
		return e.backupCmd("restore", args)
	case "list_backups":
		return e.backupCmd("list", args)
	case "audit":
		return e.auditCmd(args)
	case "monitor", "monitor_performance":
		return e.monitorCmd(args)
	case "version", "--version":
		fmt.Fprintln(e.stdout, "senfi", app.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// open loads the configuration and opens the database (migrated), the
// token store and the backup manager, for the maintenance commands.
func (e environment) open(ctx context.Context) (*app.App, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, app.Options{Logger: e.logger(), Stdout: e.stdout, Progress: e.stderr})
}

func (e environment) config() (config.Config, error) {
	return config.Load(e.lookup)
}

func (e environment) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func noArgs(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageError{name + " takes no arguments"}
	}
	return nil
}

func (e environment) serve(args []string) error {
	if err := noArgs("serve", args); err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, app.Options{Stdout: e.stdout, Logger: e.logger()})
	if err != nil {
		return err
	}
	e.startupNotes(cfg)
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           a.Handler,
		ConnContext:       a.ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ln, err := listen(cfg.Addr)
	if err != nil {
		_ = a.Close(ctx)
		return err
	}
	fmt.Fprintf(e.stdout, "senfi: serving on http://%s (Ctrl-C stops)\n", ln.Addr())
	if e.ready != nil {
		e.ready(ln.Addr().String())
	}
	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	backupCtx, stopBackups := context.WithCancel(ctx)
	backupsDone := make(chan struct{})
	go func() {
		defer close(backupsDone)
		if err := a.RunBackups(backupCtx); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(e.stderr, "senfi: automatic backups stopped:", err)
		}
	}()
	stopAll := func() { stopBackups(); <-backupsDone }
	var metrics *http.Server
	if cfg.MetricsAddr != "off" {
		mln, err := listen(cfg.MetricsAddr)
		if err != nil {
			_ = srv.Close()
			stopAll()
			_ = a.Close(ctx)
			return fmt.Errorf("SENFI_METRICS_ADDR: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.Metrics)
		metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		fmt.Fprintf(e.stdout, "senfi: Prometheus metrics on http://%s/metrics (not on the public listener)\n", mln.Addr())
		go func() { errc <- metrics.Serve(mln) }()
	}
	select {
	case err := <-errc:
		_ = srv.Close()
		stopAll()
		_ = a.Close(ctx)
		return err
	case <-sigCtx.Done():
	case <-e.stop:
	}
	fmt.Fprintln(e.stdout, "senfi: shutting down: finishing in-flight requests")
	shutdown, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	if metrics != nil {
		err = errors.Join(err, metrics.Shutdown(shutdown))
	}
	stopAll()
	return errors.Join(err, a.Close(shutdown))
}

// startupNotes tells what was generated and how to change it.
func (e environment) startupNotes(cfg config.Config) {
	out := e.stdout
	mode := "development"
	if cfg.Production {
		mode = "production"
	}
	target, _ := data.ParseURL(cfg.DatabaseURL, cfg.DataDir)
	db := "PostgreSQL"
	if target.Engine == data.SQLite {
		db = "SQLite " + target.Path
	}
	fmt.Fprintf(out, "senfi %s: %s mode, database %s\n", app.Version, mode, db)
	if cfg.SecretGenerated {
		fmt.Fprintf(out, "senfi: generated a development secret and saved it in %s; set SENFI_SECRET_KEY (openssl rand -hex 32) to use your own\n", cfg.SecretFile)
	} else if cfg.SecretFile != "" {
		fmt.Fprintf(out, "senfi: using the development secret in %s (set SENFI_SECRET_KEY to replace it)\n", cfg.SecretFile)
	}
	if cfg.RedisURL == "" {
		fmt.Fprintln(out, "senfi: rate limits and lockouts are in this process's memory; set SENFI_REDIS_URL to share them between replicas")
	}
	if cfg.BackupInterval > 0 {
		fmt.Fprintf(out, "senfi: automatic backups every %s into %s, keeping %d (SENFI_BACKUP_INTERVAL=0 turns them off)\n", cfg.BackupInterval, cfg.BackupDir, cfg.BackupKeep)
	}
	fmt.Fprintf(out, "senfi: security log %s (HMAC-chained; check it with `go run ./example audit verify`)\n", cfg.AuditLog)
	if cfg.SMTP.Host == "" {
		fmt.Fprintln(out, "senfi: no SMTP server: mails (verification codes) are printed here; set SENFI_SMTP_HOST to send them")
	}
	if !cfg.Production {
		fmt.Fprintln(out, "senfi: development settings: plain HTTP, no HSTS, hosts localhost/127.0.0.1/::1, CORS for http://localhost:3000")
		fmt.Fprintln(out, "senfi: create an admin with `go run ./example createsuperuser`; for production set SENFI_ENV=production (README.md lists every variable)")
	}
}

func (e environment) migrate(args []string) error {
	if err := noArgs("migrate", args); err != nil {
		return err
	}
	ctx := context.Background()
	a, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close(ctx)
	v, err := a.DB.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "senfi: database is at schema version %d\n", v)
	return nil
}

func (e environment) createSuperuser(args []string) error {
	fs := flag.NewFlagSet("createsuperuser", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "e-mail address")
	pw := fs.String("password", "", "password (prompted when omitted)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageError{"createsuperuser takes --email and --password"}
	}
	ctx := context.Background()
	a, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close(ctx)
	in := bufio.NewReader(e.stdin)
	if *email == "" {
		if *email, err = e.prompt(in, "Email: ", false); err != nil {
			return err
		}
	}
	addr := strings.ToLower(strings.TrimSpace(*email))
	if !strings.Contains(addr, "@") || len(addr) > 254 {
		return usageError{fmt.Sprintf("%q is not an e-mail address", *email)}
	}
	if *pw == "" {
		if *pw, err = e.newPassword(in); err != nil {
			return err
		}
	}
	if err := checkPolicy(a.Policy, *pw, addr); err != nil {
		return err
	}
	hash, err := a.Hasher.Hash(ctx, *pw)
	if err != nil {
		return err
	}
	u, err := a.DB.CreateUser(ctx, data.User{Email: addr, Password: hash, Role: "superadmin"})
	if errors.Is(err, data.ErrDuplicate) {
		return fmt.Errorf("an account with the e-mail %s already exists", addr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "senfi: superadmin %s created (id %d)\n", u.Email, u.ID)
	return nil
}

func (e environment) resetUserPass(args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return usageError{"resetuserpass takes EMAIL and an optional PASSWORD"}
	}
	ctx := context.Background()
	a, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close(ctx)
	u, err := a.DB.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(args[0])))
	if errors.Is(err, data.ErrNotFound) {
		return fmt.Errorf("no user with the e-mail %s", args[0])
	}
	if err != nil {
		return err
	}
	var pw string
	if len(args) == 2 {
		pw = args[1]
		fmt.Fprintln(e.stderr, "senfi: warning: a password on the command line can be read from the shell history and the process list; omit it to be prompted")
	} else if pw, err = e.newPassword(bufio.NewReader(e.stdin)); err != nil {
		return err
	}
	if err := checkPolicy(a.Policy, pw, u.Email); err != nil {
		return err
	}
	hash, err := a.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := a.DB.SetPassword(ctx, u.ID, hash); err != nil {
		return err
	}
	if err := a.Auth.RevokeSubject(ctx, strconv.FormatInt(u.ID, 10)); err != nil {
		return fmt.Errorf("password changed, but the sessions could not be ended: %w", err)
	}
	fmt.Fprintf(e.stdout, "senfi: password of %s changed; all their sessions are ended\n", u.Email)
	return nil
}

// checkPolicy applies the password policy, listing every violation.
func checkPolicy(p password.Policy, pw, email string) error {
	err := p.Validate(pw, password.Attribute{Name: "email", Value: email})
	var ve *password.ValidationError
	if errors.As(err, &ve) {
		msgs := make([]string, len(ve.Violations))
		for i, v := range ve.Violations {
			msgs[i] = v.String()
		}
		return fmt.Errorf("password refused by the policy: %s", strings.Join(msgs, "; "))
	}
	return err
}

// newPassword asks for a password twice (without echo on a terminal).
func (e environment) newPassword(in *bufio.Reader) (string, error) {
	pw, err := e.prompt(in, "Password: ", true)
	if err != nil {
		return "", err
	}
	again, err := e.prompt(in, "Password (again): ", true)
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the two passwords differ")
	}
	return pw, nil
}

// prompt reads one line; secret input is not echoed on a terminal.
func (e environment) prompt(in *bufio.Reader, label string, secret bool) (string, error) {
	fmt.Fprint(e.stderr, label)
	if f, ok := e.stdin.(*os.File); ok && secret && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no input for %q: %w", strings.TrimSpace(label), err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
