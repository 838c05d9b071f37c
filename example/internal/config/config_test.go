package config_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/config"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

const goodSecret = "0123456789abcdef0123456789abcdef0123456789abcdef"

func prod(extra map[string]string) map[string]string {
	env := map[string]string{
		"SENFI_ENV":                  "production",
		"SENFI_SECRET_KEY":           goodSecret,
		"SENFI_ALLOWED_HOSTS":        "api.senfi.ir",
		"SENFI_CORS_ALLOWED_ORIGINS": "https://senfi.sharif.ir",
		"SENFI_SMTP_HOST":            "mail.senfi-sharif.ir",
		"SENFI_SMTP_FROM":            "admin@senfi-sharif.ir",
	}
	for k, v := range extra {
		if v == "" {
			delete(env, k)
			continue
		}
		env[k] = v
	}
	return env
}

func TestDevelopmentDefaults(t *testing.T) {
	dir := t.TempDir()
	c, err := config.Load(lookup(map[string]string{"SENFI_DATA_DIR": dir}))
	require.NoError(t, err)
	assert.False(t, c.Production)
	assert.Equal(t, ":8000", c.Addr)
	assert.Equal(t, "sqlite://senfi.db", c.DatabaseURL)
	assert.Equal(t, []string{"sharif.edu"}, c.EmailDomains)
	assert.Equal(t, 60*time.Minute, c.AccessTTL)
	assert.Equal(t, 168*time.Hour, c.RefreshTTL)
	assert.Equal(t, 14*24*time.Hour, c.RememberTTL)
	assert.Equal(t, 30*24*time.Hour, c.SessionTTL)
	assert.True(t, c.SecretGenerated)
	assert.GreaterOrEqual(t, len(c.Secret), 32)
	assert.Equal(t, filepath.Join(dir, "backups"), c.BackupDir)
	assert.Equal(t, filepath.Join(dir, "logs", "security.log"), c.AuditLog)
	assert.Equal(t, 5, c.Rates["LOGIN"].Limit)
	info, err := os.Stat(c.SecretFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	// The next start reuses the secret (tokens survive a restart).
	c2, err := config.Load(lookup(map[string]string{"SENFI_DATA_DIR": dir}))
	require.NoError(t, err)
	assert.False(t, c2.SecretGenerated)
	assert.Equal(t, c.Secret, c2.Secret)
}

// TestSessionLifetimesFollowRefreshTTL: a SENFI_REFRESH_TTL above the
// remember-me and session defaults raises them rather than failing.
func TestSessionLifetimesFollowRefreshTTL(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{"SENFI_DATA_DIR": t.TempDir(), "SENFI_REFRESH_TTL": "1000h"}))
	require.NoError(t, err)
	assert.Equal(t, 1000*time.Hour, c.RememberTTL)
	assert.Equal(t, 1000*time.Hour, c.SessionTTL)
}

// TestDebugInDevelopmentKeepsTheAppsSettings: the seed's development
// settings set DJANGO_DEBUG=True; that must not reset the app's CORS and
// JSON settings to secure's bare development preset.
func TestDebugInDevelopmentKeepsTheAppsSettings(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{"SENFI_DATA_DIR": t.TempDir(), "DJANGO_DEBUG": "True", "SENFI_DEVELOPMENT": "yes"}))
	require.NoError(t, err)
	assert.Contains(t, c.Secure.CORS.AllowedOrigins, "http://localhost:3000")
	assert.True(t, c.Secure.CORS.AllowCredentials)
	assert.True(t, c.Secure.RequireJSON)
	assert.True(t, c.Secure.DisableSSLRedirect)
}

// TestSessionTTLAlone: a shorter SENFI_SESSION_TTL alone pulls the
// remember-me default down with it instead of failing.
func TestSessionTTLAlone(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{"SENFI_DATA_DIR": t.TempDir(), "SENFI_SESSION_TTL": "168h"}))
	require.NoError(t, err)
	assert.Equal(t, 168*time.Hour, c.RememberTTL)
	assert.Equal(t, 168*time.Hour, c.SessionTTL)
}

// TestBadRefreshTTLNamesOnlyItself: the session defaults that follow
// SENFI_REFRESH_TTL do not add errors of their own.
func TestBadRefreshTTLNamesOnlyItself(t *testing.T) {
	_, err := config.Load(lookup(map[string]string{"SENFI_DATA_DIR": t.TempDir(), "SENFI_REFRESH_TTL": "2200h"}))
	require.ErrorContains(t, err, "SENFI_REFRESH_TTL")
	assert.NotContains(t, err.Error(), "SENFI_REMEMBER_TTL")
	assert.NotContains(t, err.Error(), "SENFI_SESSION_TTL")
}

func TestAliases(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{
		"SENFI_DATA_DIR":         t.TempDir(),
		"DJANGO_SECRET_KEY":      goodSecret,
		"EMAIL_SERVER":           "mail.example.org",
		"EMAIL_PORT":             "2525",
		"EMAIL_USER":             "admin@example.org",
		"EMAIL_PASS":             "pw",
		"EMAIL_USE_SSL":          "True",
		"DJANGO_X_FRAME_OPTIONS": "SAMEORIGIN",
	}))
	require.NoError(t, err)
	assert.Equal(t, goodSecret, string(c.Secret))
	assert.Equal(t, config.SMTP{Host: "mail.example.org", Port: 2525, Username: "admin@example.org", Password: "pw", From: "admin@example.org", TLS: "tls"}, c.SMTP)
	assert.Equal(t, "SAMEORIGIN", c.Secure.FrameOptions)

	// A SENFI_ name wins over its alias.
	c, err = config.Load(lookup(map[string]string{
		"SENFI_DATA_DIR": t.TempDir(), "DJANGO_SECRET_KEY": goodSecret, "SENFI_SECRET_KEY": goodSecret + "-senfi",
	}))
	require.NoError(t, err)
	assert.Equal(t, goodSecret+"-senfi", string(c.Secret))
}

func TestProductionAccepted(t *testing.T) {
	c, err := config.Load(lookup(prod(nil)))
	require.NoError(t, err)
	assert.True(t, c.Production)
	assert.Equal(t, "starttls", c.SMTP.TLS)
	assert.Zero(t, c.SMTP.Port, "unset: the mail package picks the TLS mode's port")
	assert.False(t, c.Secure.DisableSSLRedirect)
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad env", map[string]string{"SENFI_ENV": "staging"}, "SENFI_ENV"},
		{"no secret", prod(map[string]string{"SENFI_SECRET_KEY": ""}), "SENFI_SECRET_KEY"},
		{"short secret", prod(map[string]string{"SENFI_SECRET_KEY": "short"}), "SENFI_SECRET_KEY"},
		{"short alias", prod(map[string]string{"SENFI_SECRET_KEY": "", "DJANGO_SECRET_KEY": "your-secure-secret-key"}), "DJANGO_SECRET_KEY"},
		{"placeholder", prod(map[string]string{"SENFI_SECRET_KEY": "django-insecure-0123456789abcdef0123456789"}), "placeholder"},
		{"debug", prod(map[string]string{"DJANGO_DEBUG": "True"}), "DJANGO_DEBUG"},
		{"debug on", prod(map[string]string{"DJANGO_DEBUG": "on"}), "DJANGO_DEBUG"},
		{"development yes", prod(map[string]string{"SENFI_DEVELOPMENT": "yes"}), "SENFI_DEVELOPMENT"},
		{"bad debug", map[string]string{"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"},
		{"no hosts", prod(map[string]string{"SENFI_ALLOWED_HOSTS": ""}), "SENFI_ALLOWED_HOSTS"},
		{"no origins", prod(map[string]string{"SENFI_CORS_ALLOWED_ORIGINS": ""}), "SENFI_CORS_ALLOWED_ORIGINS"},
		{"no smtp", prod(map[string]string{"SENFI_SMTP_HOST": ""}), "SENFI_SMTP_HOST"},
		{"clear smtp", prod(map[string]string{"SENFI_SMTP_TLS": "none"}), "SENFI_SMTP_TLS"},
		{"login in clear", map[string]string{"SENFI_SMTP_HOST": "m.example.org", "SENFI_SMTP_FROM": "a@example.org", "SENFI_SMTP_TLS": "none", "SENFI_SMTP_USERNAME": "u"}, "SENFI_SMTP_TLS"},
		{"bad smtp tls", map[string]string{"SENFI_SMTP_TLS": "ssl3"}, "SENFI_SMTP_TLS"},
		{"bad port", map[string]string{"SENFI_SMTP_PORT": "http"}, "SENFI_SMTP_PORT"},
		{"bad from", map[string]string{"SENFI_SMTP_HOST": "m.example.org", "SENFI_SMTP_FROM": "not an address"}, "SENFI_SMTP_FROM"},
		{"bad rate", map[string]string{"SENFI_RATE_LOGIN": "five a minute"}, "SENFI_RATE_LOGIN"},
		{"zero rate", map[string]string{"SENFI_RATE_SIGN": "0/m"}, "SENFI_RATE_SIGN"},
		{"bad global rate", map[string]string{"SENFI_RATE_GLOBAL": "3000"}, "SENFI_RATE_GLOBAL"},
		{"bad ttl", map[string]string{"SENFI_ACCESS_TTL": "forever"}, "SENFI_ACCESS_TTL"},
		{"remember below refresh", map[string]string{"SENFI_REMEMBER_TTL": "24h"}, "SENFI_REMEMBER_TTL"},
		{"remember fraction", map[string]string{"SENFI_REMEMBER_TTL": "200h30m0.5s"}, "SENFI_REMEMBER_TTL"},
		{"session below remember", map[string]string{"SENFI_SESSION_TTL": "200h", "SENFI_REMEMBER_TTL": "300h"}, "SENFI_SESSION_TTL"},
		{"session below refresh", map[string]string{"SENFI_SESSION_TTL": "100h"}, "SENFI_SESSION_TTL"},
		{"session too long", map[string]string{"SENFI_SESSION_TTL": "3000h"}, "SENFI_SESSION_TTL"},
		{"tiny ttl", map[string]string{"SENFI_ACCESS_TTL": "1s"}, "SENFI_ACCESS_TTL"},
		{"refresh under access", map[string]string{"SENFI_REFRESH_TTL": "10m"}, "SENFI_REFRESH_TTL"},
		{"bad addr", map[string]string{"SENFI_ADDR": "8000"}, "SENFI_ADDR"},
		{"bad domain", map[string]string{"SENFI_EMAIL_DOMAINS": "@sharif"}, "SENFI_EMAIL_DOMAINS"},
		{"bad policy", map[string]string{"SENFI_PASSWORD_POLICY": "strong"}, "SENFI_PASSWORD_POLICY"},
		{"bad secure variable", map[string]string{"SENFI_HSTS_SECONDS": "a year"}, "SENFI_HSTS_SECONDS"},
		{"bad metrics addr", map[string]string{"SENFI_METRICS_ADDR": "everywhere"}, "SENFI_METRICS_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SENFI_DATA_DIR": t.TempDir()}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := config.Load(lookup(env))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
