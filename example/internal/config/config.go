// Package config reads the Senfi backend's settings from the environment:
// the SENFI_* variables of the API contract (§2), the Django-era names of the
// original deployment as aliases (a SENFI_ name wins), and the secure
// package's variables through secure.FromEnvLookup.
//
// Every invalid value stops start-up with an error naming the variable.
// Production (SENFI_ENV=production) also refuses settings that are only safe
// on a developer's machine: no secret or a short one, DEBUG relaxations, no
// allowed hosts, no CORS origins, no SMTP server.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/secure"
)

// DefaultRates are the rate-limit names (SENFI_RATE_<NAME>) and their
// defaults: the API contract's §6, plus REFRESH, the limits of the routes
// added after it (the e-mail-code login, polls, blog, export, account
// deletion) and GLOBAL, the per-address limit every route shares. Which are
// per user and which fail closed is set in package app.
var DefaultRates = map[string]string{
	"LOGIN":           "5/m",
	"REGISTER":        "3/h",
	"SEND_CODE":       "5/h",
	"SEND_CODE_EMAIL": "3/10m",
	"VERIFY_CODE":     "10/m",
	"CHECK_EMAIL":     "30/m",
	"PASSWORD_RESET":  "5/h",
	"REFRESH":         "30/m",
	"SUBMIT":          "3/h",
	"SIGN":            "10/m",
	"CHANGE_PASSWORD": "3/h",
	// HEAD's limits (reference §9.3), as 429 rather than its 403.
	"SEND_MOBILE_CODE":   "5/h",
	"VERIFY_MOBILE_CODE": "10/m",
	"POLL_CREATE":        "2/h",
	"VOTE":               "5/m",
	"BLOG_CREATE":        "2/h",
	// Privacy (issue 11), per user: the data export reads the whole
	// security log; account deletion checks a password.
	"EXPORT":         "3/h",
	"DELETE_ACCOUNT": "5/h",
	// Every route, per client address, on top of its own limit: a bound
	// on what one address can make the server do. Raise it when many
	// users share one address (a campus NAT) or the app sits behind a
	// proxy that is not in SENFI_TRUSTED_PROXIES.
	"GLOBAL": "3000/m",
}

// SMTP is the outgoing mail server. Host empty means no server: development
// prints mails to stdout.
type SMTP struct {
	Host string
	// Port is 0 when unset: the mail package's default for the TLS mode.
	Port     int
	Username string
	Password string
	From     string
	// TLS is "none", "starttls" or "tls".
	TLS string
}

// Config is everything the server needs to start.
type Config struct {
	// Production is SENFI_ENV=production.
	Production bool
	// Addr is the listen address (SENFI_ADDR, default :8000).
	Addr string
	// DataDir holds the SQLite file, the development secret, logs and
	// backups by default (SENFI_DATA_DIR, default ".").
	DataDir string
	// Secret is the HMAC key material (SENFI_SECRET_KEY, alias
	// DJANGO_SECRET_KEY), at least 32 bytes.
	Secret []byte
	// SecretFile is set when the secret was generated for development and
	// kept in this file.
	SecretFile string
	// SecretGenerated reports that SecretFile was created by this start.
	SecretGenerated bool
	// DatabaseURL is sqlite://... or postgres://... (SENFI_DATABASE_URL).
	DatabaseURL string
	// RedisURL, when set, shares rate limits, lockouts and revocation
	// between replicas (SENFI_REDIS_URL).
	RedisURL string
	// RedisPrefix starts every key the app writes in Redis
	// (SENFI_REDIS_PREFIX, default "senfi:"), so that several deployments
	// can share one server.
	RedisPrefix string
	// Secure configures headers, CORS, hosts and proxies.
	Secure secure.Options
	// EmailDomains may register (SENFI_EMAIL_DOMAINS, default sharif.edu).
	EmailDomains []string
	// SMTP is the mail server.
	SMTP SMTP
	// AccessTTL and RefreshTTL are token lifetimes; RememberTTL is the
	// refresh-token lifetime of a login with "remember_me": true; SessionTTL
	// caps a session however often it is refreshed.
	AccessTTL, RefreshTTL, RememberTTL, SessionTTL time.Duration
	// PasswordPolicy is "nist" (default) or "legacy" (the original's rules).
	PasswordPolicy string
	// Rates are the rate-limit policies by name (see DefaultRates).
	Rates map[string]ratelimit.Policy
	// BackupDir, AuditLog and MetricsAddr: see the contract §2.
	BackupDir, AuditLog, MetricsAddr string
	// BackupInterval is the time between automatic backups in serve
	// (SENFI_BACKUP_INTERVAL, default 24h; 0 turns them off), BackupKeep how
	// many of the newest are kept (SENFI_BACKUP_KEEP, default 14; the newest
	// good backup is always kept).
	BackupInterval time.Duration
	BackupKeep     int
	// BackupRecipients encrypt backups with age (SENFI_BACKUP_RECIPIENTS,
	// comma list of age1... public keys); BackupIdentityFile holds the
	// matching secret key, needed by verify and restore
	// (SENFI_BACKUP_IDENTITY_FILE). Keep the identity off the server.
	BackupRecipients   []string
	BackupIdentityFile string
	// RedocURL is where the ReDoc page loads its bundle from
	// (SENFI_REDOC_URL, default ReDoc's CDN); RedocIntegrity its Subresource
	// Integrity hash (SENFI_REDOC_INTEGRITY, e.g. sha384-...), which pins the
	// file. The URL is checked when the app starts.
	RedocURL, RedocIntegrity string

	// LogIPMode is how client addresses are written to the security log
	// and the sessions table (SENFI_LOG_IP_MODE): "truncate" (default: the
	// /24 network of an IPv4 address, the /48 of an IPv6 one), "hmac" (a
	// keyed hash, linkable but not readable without the secret) or "full".
	LogIPMode string
	// AuditRetentionDays is how long security-log records are kept
	// (SENFI_AUDIT_RETENTION_DAYS, default 180): the log is rotated daily
	// and rotated files whose newest record is older are deleted.
	AuditRetentionDays int
	// BackupRetentionDays caps the age of backups
	// (SENFI_BACKUP_RETENTION_DAYS, default 30), on top of SENFI_BACKUP_KEEP:
	// older backups are deleted, except the newest good one. A deleted
	// account survives in backups at most this long.
	BackupRetentionDays int
}

// maxSessionTTL bounds every token and session lifetime: 90 days.
const maxSessionTTL = 90 * 24 * time.Hour

// Load reads the configuration; lookup is os.LookupEnv outside tests.
func Load(lookup func(string) (string, bool)) (Config, error) {
	r := reader{lookup: lookup}
	c := Config{
		Addr:           r.str("SENFI_ADDR", "", ":8000"),
		DataDir:        r.str("SENFI_DATA_DIR", "", "."),
		DatabaseURL:    r.str("SENFI_DATABASE_URL", "DATABASE_URL", "sqlite://senfi.db"),
		RedisURL:       r.str("SENFI_REDIS_URL", "", ""),
		RedisPrefix:    r.str("SENFI_REDIS_PREFIX", "", "senfi:"),
		PasswordPolicy: r.str("SENFI_PASSWORD_POLICY", "", "nist"),
		AccessTTL:      r.duration("SENFI_ACCESS_TTL", 60*time.Minute),
		RefreshTTL:     r.duration("SENFI_REFRESH_TTL", 168*time.Hour),
	}
	switch env := r.str("SENFI_ENV", "", "development"); env {
	case "development":
	case "production":
		c.Production = true
	default:
		r.fail("SENFI_ENV", "%q must be development or production", env)
	}
	if c.PasswordPolicy != "nist" && c.PasswordPolicy != "legacy" {
		r.fail("SENFI_PASSWORD_POLICY", "%q must be nist or legacy", c.PasswordPolicy)
	}
	if c.AccessTTL < time.Minute || c.AccessTTL > 24*time.Hour {
		r.fail("SENFI_ACCESS_TTL", "%s must be between 1m and 24h", c.AccessTTL)
	}
	if c.RefreshTTL < c.AccessTTL || c.RefreshTTL > maxSessionTTL {
		r.fail("SENFI_REFRESH_TTL", "%s must be at least SENFI_ACCESS_TTL and at most 2160h", c.RefreshTTL)
	}
	c.RememberTTL, c.SessionTTL = r.sessionTTLs(c.RefreshTTL)
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		r.fail("SENFI_ADDR", "%q is not host:port (e.g. :8000)", c.Addr)
	}
	c.BackupDir = r.path("SENFI_BACKUP_DIR", c.DataDir, "backups")
	c.AuditLog = r.path("SENFI_AUDIT_LOG", c.DataDir, filepath.Join("logs", "security.log"))
	c.BackupInterval = r.duration("SENFI_BACKUP_INTERVAL", 24*time.Hour)
	if c.BackupInterval < 0 || (c.BackupInterval > 0 && c.BackupInterval < time.Minute) {
		r.fail("SENFI_BACKUP_INTERVAL", "%s must be 0 (off) or at least 1m", c.BackupInterval)
	}
	if v := r.str("SENFI_BACKUP_KEEP", "", "14"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			r.fail("SENFI_BACKUP_KEEP", "%q must be a number from 1 to 10000", v)
		}
		c.BackupKeep = n
	}
	c.BackupRecipients = splitList(r.str("SENFI_BACKUP_RECIPIENTS", "", ""))
	c.RedocURL = r.str("SENFI_REDOC_URL", "", "")
	c.RedocIntegrity = r.str("SENFI_REDOC_INTEGRITY", "", "")
	if v := r.str("SENFI_BACKUP_IDENTITY_FILE", "", ""); v != "" {
		c.BackupIdentityFile = v
	}
	c.LogIPMode = r.str("SENFI_LOG_IP_MODE", "", "truncate")
	switch c.LogIPMode {
	case "truncate", "hmac", "full":
	default:
		r.fail("SENFI_LOG_IP_MODE", "%q must be truncate, hmac or full", c.LogIPMode)
	}
	c.AuditRetentionDays = r.days("SENFI_AUDIT_RETENTION_DAYS", 180)
	c.BackupRetentionDays = r.days("SENFI_BACKUP_RETENTION_DAYS", 30)
	c.MetricsAddr = r.str("SENFI_METRICS_ADDR", "", "127.0.0.1:9100")
	if c.MetricsAddr != "off" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			r.fail("SENFI_METRICS_ADDR", "%q is not host:port (or off)", c.MetricsAddr)
		}
	}

	c.EmailDomains = splitList(strings.ToLower(r.str("SENFI_EMAIL_DOMAINS", "", "sharif.edu")))
	for _, d := range c.EmailDomains {
		if strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") {
			r.fail("SENFI_EMAIL_DOMAINS", "%q is not a domain name (e.g. sharif.edu)", d)
		}
	}
	if len(c.EmailDomains) == 0 {
		r.fail("SENFI_EMAIL_DOMAINS", "must name at least one domain")
	}

	c.Rates = make(map[string]ratelimit.Policy, len(DefaultRates))
	for name, def := range DefaultRates {
		v := r.str("SENFI_RATE_"+name, "", def)
		p, err := ratelimit.ParsePolicy(v)
		if err != nil {
			r.fail("SENFI_RATE_"+name, "%q: %v", v, err)
			continue
		}
		c.Rates[name] = p
	}

	r.smtp(&c)
	r.secret(&c)
	r.secure(&c)
	if err := errors.Join(r.errs...); err != nil {
		return c, err
	}
	return c, nil
}

func (r *reader) smtp(c *Config) {
	s := SMTP{
		Host:     r.str("SENFI_SMTP_HOST", "EMAIL_SERVER", ""),
		Username: r.str("SENFI_SMTP_USERNAME", "EMAIL_USER", ""),
		Password: r.str("SENFI_SMTP_PASSWORD", "EMAIL_PASS", ""),
	}
	if s.Host == "" {
		s.Host = r.str("", "EMAIL_HOST", "")
	}
	s.From = r.str("SENFI_SMTP_FROM", "DEFAULT_FROM_EMAIL", s.Username)
	tlsMode := r.str("SENFI_SMTP_TLS", "", "")
	if tlsMode == "" {
		switch {
		case r.boolean("EMAIL_USE_SSL", false):
			tlsMode = "tls"
		case r.boolean("EMAIL_USE_TLS", true):
			tlsMode = "starttls"
		default:
			tlsMode = "none"
		}
	}
	s.TLS = tlsMode
	switch tlsMode {
	case "none", "starttls", "tls":
	default:
		r.fail("SENFI_SMTP_TLS", "%q must be none, starttls or tls", tlsMode)
	}
	// Unset, the port stays 0 and the mail package picks the mode's own
	// (587 starttls, 465 tls, 25 none).
	if v := r.str("SENFI_SMTP_PORT", "EMAIL_PORT", ""); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			r.fail("SENFI_SMTP_PORT", "must be a port number")
		}
		s.Port = port
	}
	if s.Host != "" && s.TLS == "none" && s.Username != "" {
		r.fail("SENFI_SMTP_TLS", "none with SENFI_SMTP_USERNAME would send the SMTP password in clear text: use starttls or tls")
	}
	if s.Host != "" {
		if s.From == "" {
			r.fail("SENFI_SMTP_FROM", "must be set when SENFI_SMTP_HOST is (the sender address)")
		} else if _, err := mail.ParseAddress(s.From); err != nil {
			r.fail("SENFI_SMTP_FROM", "%q is not an e-mail address", s.From)
		}
	}
	if c.Production {
		switch {
		case s.Host == "":
			r.fail("SENFI_SMTP_HOST", "must be set in production (verification codes are mailed); development prints mails to stdout instead")
		case s.TLS == "none" && s.Host != "localhost" && s.Host != "127.0.0.1":
			r.fail("SENFI_SMTP_TLS", "none sends the SMTP password in clear text: use starttls or tls in production (none is allowed only for a relay on localhost)")
		}
	}
	c.SMTP = s
}

func (r *reader) secret(c *Config) {
	v := r.str("SENFI_SECRET_KEY", "DJANGO_SECRET_KEY", "")
	switch {
	case v != "":
		if len(v) < jwtauth.MinSecretBytes {
			r.fail(r.from("SENFI_SECRET_KEY", "DJANGO_SECRET_KEY"), "is %d bytes; use at least %d random bytes (e.g. `openssl rand -hex 32`)", len(v), jwtauth.MinSecretBytes)
			return
		}
		if c.Production && (strings.Contains(v, "insecure") || strings.Contains(v, "secret-key") || strings.Contains(v, "change-me")) {
			r.fail(r.from("SENFI_SECRET_KEY", "DJANGO_SECRET_KEY"), "looks like a placeholder; use `openssl rand -hex 32`")
			return
		}
		c.Secret = []byte(v)
	case c.Production:
		r.fail("SENFI_SECRET_KEY", "must be set in production to at least %d random bytes (e.g. `openssl rand -hex 32`)", jwtauth.MinSecretBytes)
	default:
		path := filepath.Join(c.DataDir, ".senfi-secret")
		b, err := os.ReadFile(path)
		if err == nil && len(strings.TrimSpace(string(b))) >= jwtauth.MinSecretBytes {
			c.Secret = []byte(strings.TrimSpace(string(b)))
			c.SecretFile = path
			return
		}
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		s := hex.EncodeToString(raw)
		if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
			r.fail("SENFI_DATA_DIR", "cannot create %s: %v", c.DataDir, err)
			return
		}
		if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
			r.fail("SENFI_SECRET_KEY", "unset, and the development secret cannot be saved in %s: %v", path, err)
			return
		}
		c.Secret, c.SecretFile, c.SecretGenerated = []byte(s), path, true
	}
}

func (r *reader) secure(c *Config) {
	base := secure.Options{}
	if !c.Production {
		base = secure.Development()
		base.CORS.AllowedOrigins = []string{"http://localhost:3000", "http://127.0.0.1:3000"}
	}
	base.CORS.AllowCredentials = true
	base.CORS.AllowedHeaders = []string{"Authorization", "Content-Type", "X-Request-ID"}
	base.CORS.ExposedHeaders = []string{"X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy"}
	base.RequireJSON = true
	base.MaxBodyBytes = 1 << 20
	// SENFI_ENV picks the base above. secure would read SENFI_DEVELOPMENT
	// (alias DJANGO_DEBUG, which the seed's development settings set) as
	// "start from Development() instead of base", dropping the app's CORS
	// and JSON settings, so they are read here instead: refused when true in
	// production, no-ops in development.
	debug := r.boolean("DJANGO_DEBUG", false)
	dev := r.boolean("SENFI_DEVELOPMENT", false)
	opts, err := secure.FromEnvLookup("SENFI_", base, func(k string) (string, bool) {
		if k == "SENFI_DEVELOPMENT" || k == "DJANGO_DEBUG" {
			return "", false
		}
		return r.lookup(k)
	})
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	if c.Production {
		if debug {
			r.fail("DJANGO_DEBUG", "is true: debug relaxations are refused in production (unset it or set SENFI_ENV=development)")
		}
		if dev {
			r.fail("SENFI_DEVELOPMENT", "is true: development relaxations are refused in production")
		}
		if len(opts.AllowedHosts) == 0 && !opts.AllowAnyHost {
			r.fail("SENFI_ALLOWED_HOSTS", "must be set in production (comma list of host names)")
		}
		if len(opts.CORS.AllowedOrigins) == 0 {
			r.fail("SENFI_CORS_ALLOWED_ORIGINS", "must be set in production (the frontend's origin, e.g. https://senfi.sharif.ir)")
		}
		for _, o := range opts.CORS.AllowedOrigins {
			if o == "*" {
				r.fail("SENFI_CORS_ALLOWED_ORIGINS", "* is refused in production: list the frontend's origins")
			}
		}
	}
	c.Secure = opts
}

// reader collects errors while reading variables.
type reader struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
}

func (r *reader) get(name, alias string) (string, bool) {
	if name != "" {
		if v, ok := r.lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), true
		}
	}
	if alias != "" {
		if v, ok := r.lookup(alias); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// from names the variable a value came from, for messages.
func (r *reader) from(name, alias string) string {
	if v, ok := r.lookup(name); ok && strings.TrimSpace(v) != "" {
		return name
	}
	return alias
}

func (r *reader) str(name, alias, def string) string {
	if v, ok := r.get(name, alias); ok {
		return v
	}
	return def
}

func (r *reader) boolean(name string, def bool) bool {
	v, ok := r.get(name, "")
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		return true
	case "0", "f", "false", "no", "n", "off":
		return false
	}
	r.fail(name, "%q is not a boolean (use true or false)", v)
	return def
}

// days reads a retention period in whole days, 1 to 3650.
func (r *reader) days(name string, def int) int {
	v := r.str(name, "", strconv.Itoa(def))
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 3650 {
		r.fail(name, "%q must be a number of days from 1 to 3650", v)
		return def
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v, ok := r.get(name, "")
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, "%q is not a duration (e.g. 60m, 168h)", v)
		return def
	}
	return d
}

// sessionTTLs reads SENFI_REMEMBER_TTL and SENFI_SESSION_TTL. Only values
// the operator set are checked against the others; an unset one defaults
// to what fits them: remember-me sessions 14 days (at least refresh, at most
// an explicit session lifetime), sessions 30 days (at least remember).
func (r *reader) sessionTTLs(refresh time.Duration) (remember, session time.Duration) {
	const maxTTL = maxSessionTTL
	_, rememberSet := r.get("SENFI_REMEMBER_TTL", "")
	_, sessionSet := r.get("SENFI_SESSION_TTL", "")
	remember = r.duration("SENFI_REMEMBER_TTL", 0)
	session = r.duration("SENFI_SESSION_TTL", 0)
	if sessionSet && (session < max(refresh, remember) || session > maxTTL) {
		r.fail("SENFI_SESSION_TTL", "%s must be at least SENFI_REFRESH_TTL and SENFI_REMEMBER_TTL, and at most 2160h", session)
		sessionSet = false
	}
	if rememberSet && (remember < refresh || remember > maxTTL || remember%time.Second != 0) {
		r.fail("SENFI_REMEMBER_TTL", "%s must be whole seconds, at least SENFI_REFRESH_TTL and at most 2160h", remember)
		rememberSet = false
	}
	if !rememberSet {
		remember = max(14*24*time.Hour, refresh)
		if sessionSet {
			remember = min(remember, session)
		}
		remember = min(remember, maxTTL).Truncate(time.Second)
	}
	if !sessionSet {
		session = min(max(30*24*time.Hour, remember), maxTTL)
	}
	return remember, session
}

// path reads a path variable; relative paths are under dataDir.
func (r *reader) path(name, dataDir, def string) string {
	v := r.str(name, "", def)
	if filepath.IsAbs(v) {
		return v
	}
	return filepath.Join(dataDir, v)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
