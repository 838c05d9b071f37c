// Command example serves the Senfi backend assembled from the senfi kit.
//
// This is the foundation release: it serves the API root and health checks
// behind the secure package's middleware, configured from the environment as
// the full backend will be. The campaigns, signatures and authentication API
// arrive with the packages they need.
//
// Usage:
//
//	go run ./example            # development settings on :8000
//	SENFI_ENV=production SENFI_ALLOWED_HOSTS=api.example.com go run ./example
//
// Every option of secure.FromEnv is read with the SENFI_ prefix, and the
// Django variable names of the original deployment are accepted as aliases.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/justinas/alice"

	"github.com/senfi-sharif/senfi/internal/problem"
	"github.com/senfi-sharif/senfi/secure"
)

// config is what the example reads from the environment.
type config struct {
	production bool
	addr       string
	secure     secure.Options
}

// loadConfig reads the configuration. lookup is os.LookupEnv outside tests.
func loadConfig(lookup func(string) (string, bool)) (config, error) {
	get := func(k, def string) string {
		if v, ok := lookup(k); ok && v != "" {
			return v
		}
		return def
	}
	cfg := config{addr: get("SENFI_ADDR", ":8000")}
	switch env := get("SENFI_ENV", "development"); env {
	case "development":
	case "production":
		cfg.production = true
	default:
		return cfg, fmt.Errorf("SENFI_ENV: %q must be development or production", env)
	}
	base := secure.Options{}
	if !cfg.production {
		base = secure.Development()
		base.CORS.AllowedOrigins = []string{"http://localhost:3000", "http://127.0.0.1:3000"}
		base.CORS.AllowCredentials = true
	}
	base.RequireJSON = true
	opts, err := secure.FromEnvLookup("SENFI_", base, lookup)
	if err != nil {
		return cfg, err
	}
	if cfg.production {
		var errs []error
		if len(opts.AllowedHosts) == 0 && !opts.AllowAnyHost {
			errs = append(errs, errors.New("SENFI_ALLOWED_HOSTS must be set in production (comma list of host names)"))
		}
		if opts.DisableSSLRedirect && len(opts.TrustedProxies) == 0 {
			slog.Warn("SSL redirect is off and no trusted proxy is configured: make sure TLS is enforced in front of this server")
		}
		if err := errors.Join(errs...); err != nil {
			return cfg, err
		}
	}
	cfg.secure = opts
	return cfg, nil
}

// newHandler builds the application: its routes behind the middleware chain,
// and the ConnContext hook the server should use.
func newHandler(cfg config) (http.Handler, func(context.Context, net.Conn) context.Context, error) {
	guard, err := secure.New(cfg.secure)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"name":    "Senfi API",
			"version": "1.0.0",
			"health":  "/health/",
		})
	})
	health := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "OK")
	}
	mux.HandleFunc("GET /health/", health)
	mux.HandleFunc("GET /healthz", health)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.New(http.StatusNotFound, "no API route matches "+r.Method+" "+r.URL.Path))
	})
	return alice.New(guard.ClientIP, guard.Handler).Then(mux), guard.ConnContext, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonEncoder(w).Encode(v)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "senfi:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	h, connContext, err := newHandler(cfg)
	if err != nil {
		return err
	}
	mode := "development"
	if cfg.production {
		mode = "production"
	}
	fmt.Printf("senfi: %s mode, listening on %s\n", mode, cfg.addr)
	if !cfg.production {
		fmt.Println("senfi: development settings: plain HTTP, no HSTS, hosts localhost/127.0.0.1/::1, CORS for http://localhost:3000.")
		fmt.Println("senfi: set SENFI_ENV=production and SENFI_ALLOWED_HOSTS=<your host> for production; see README.md for every variable.")
	}
	srv := &http.Server{
		Addr:              cfg.addr,
		Handler:           h,
		ConnContext:       connContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
