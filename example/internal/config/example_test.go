package config_test

import (
	"fmt"
	"os"

	"github.com/senfi-sharif/senfi/example/internal/config"
)

// Production refuses settings that are only safe on a developer's machine,
// naming every variable to fix at once; the Django deployment's names work.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "senfi-config")
	defer os.RemoveAll(dir)
	env := map[string]string{
		"SENFI_ENV":           "production",
		"SENFI_DATA_DIR":      dir,
		"DJANGO_SECRET_KEY":   "0123456789abcdef0123456789abcdef-from-the-old-deployment",
		"SENFI_ALLOWED_HOSTS": "api.senfi-sharif.ir",
	}
	_, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	fmt.Println(err)

	env["SENFI_CORS_ALLOWED_ORIGINS"] = "https://senfi-sharif.ir"
	env["EMAIL_SERVER"] = "mail.senfi-sharif.ir"
	env["EMAIL_USER"] = "admin@senfi-sharif.ir"
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	fmt.Println(err, cfg.SMTP.Host, cfg.SMTP.TLS, cfg.Rates["LOGIN"])
	// Output:
	// SENFI_SMTP_HOST: must be set in production (verification codes are mailed); development prints mails to stdout instead
	// SENFI_CORS_ALLOWED_ORIGINS: must be set in production (the frontend's origin, e.g. https://senfi.sharif.ir)
	// <nil> mail.senfi-sharif.ir starttls 5/m
}
