package perf

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// The dashboard: one page, its script and its style sheet, all served
// from the binary. The page loads nothing from elsewhere (no CDN, no
// fonts); the charts are drawn by app.js as SVG.
//
//go:embed dashboard/index.html dashboard/app.js dashboard/app.css
var dashboardFS embed.FS

// DashboardCSP is the Content-Security-Policy the dashboard is served
// with: scripts, styles and data from its own origin only, no inline
// script or style, no framing, no forms, no base URL changes.
const DashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type asset struct {
	body  []byte
	ctype string
	etag  string
}

// loadAssets reads the embedded dashboard files, by the name they are
// served under ("" is the page).
func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	for name, file := range map[string]struct{ path, ctype string }{
		"":        {"dashboard/index.html", "text/html; charset=utf-8"},
		"app.js":  {"dashboard/app.js", "text/javascript; charset=utf-8"},
		"app.css": {"dashboard/app.css", "text/css; charset=utf-8"},
	} {
		b, err := dashboardFS.ReadFile(file.path)
		if err != nil {
			return nil, fmt.Errorf("perf: embedded dashboard: %w", err)
		}
		sum := sha256.Sum256(b)
		out[name] = asset{body: b, ctype: file.ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	return out, nil
}

// Dashboard serves the dashboard page, and its app.js and app.css when
// the {asset} path wildcard names them (Register mounts it at
// prefix/dashboard and prefix/dashboard/{asset}). Everything is served
// with DashboardCSP, nosniff, no referrer, no framing, and an ETag, so
// browsers revalidate cheaply. The page holds no data: its script fetches
// the JSON handlers next to it with the token in sessionStorage.auth_token
// (or one the visitor pastes), and refreshes every 5 seconds
// (?refresh=N, 2–300, changes that).
func (h *Handlers) Dashboard() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.assets[r.PathValue("asset")]
		if !ok {
			problem.Write(w, r, problem.New(http.StatusNotFound, "the dashboard has app.js and app.css only"))
			return
		}
		hd := w.Header()
		hd.Set("Content-Security-Policy", DashboardCSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cache-Control", "no-cache")
		hd.Set("Content-Type", a.ctype)
		hd.Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}
