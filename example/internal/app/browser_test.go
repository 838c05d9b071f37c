package app_test

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/app"
	"github.com/senfi-sharif/senfi/example/internal/config"
	"github.com/senfi-sharif/senfi/example/internal/openapi"
	"github.com/senfi-sharif/senfi/internal/testenv"
	"github.com/senfi-sharif/senfi/secure"
)

// recordViolations runs in every document before its own scripts and
// keeps the page's Content-Security-Policy violations where the test can
// read them (the browser also logs them to the console).
const recordViolations = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline'));
});`

// tab is a browser tab that records its console and CSP violations; on
// failure the test's log gets the console.
type tab struct {
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newTab opens a tab of browser with a 60 s budget.
func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	ctx, closeTab := chromedp.NewContext(browser)
	t.Cleanup(closeTab)
	require.NoError(t, chromedp.Do(ctx)) // open the tab before setting a deadline
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	tb := &tab{ctx: ctx}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m)
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			for _, m := range tb.messages() {
				t.Logf("browser console: %s", m)
			}
		}
	})
	require.NoError(t, chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordViolations})
		return err
	})))
	return tb
}

func (tb *tab) messages() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := make([]string, len(tb.console))
	for i, m := range tb.console {
		out[i] = string(m.Type) + " " + m.Source + ": " + m.Text
	}
	return out
}

// problems are the console's errors, exceptions and CSP reports.
func (tb *tab) problems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, m := range tb.console {
		if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, string(m.Type)+" "+m.Source+": "+m.Text)
		}
	}
	return out
}

// violations reads the page's recorded CSP violations.
func (tb *tab) violations(t *testing.T) []string {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`window.__cspViolations || ['recorder missing']`))
	require.NoError(t, err)
	return v
}

// screenshot saves the page under the test's artifact directory.
func (tb *tab) screenshot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	require.NoError(t, err)
	path := filepath.Join(t.ArtifactDir(), name)
	require.NoError(t, os.WriteFile(path, png, 0o600))
	t.Logf("screenshot: %s", path)
}

// poll waits until the expression is true in the page.
func (tb *tab) poll(t *testing.T, expr, what string) {
	t.Helper()
	_, err := chromedp.Run(tb.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(t, err, what)
}

// TestSwaggerUIInChromium opens /api/docs/ of a running app in headless
// Chromium: Swagger UI renders every documented operation from the
// embedded files under the page's CSP and the app's other security
// headers, and "Try it out" → Execute on GET /api/campaigns/approved shows
// the server's 200. No CSP violation, console error or exception occurs.
func TestSwaggerUIInChromium(t *testing.T) {
	browser := testenv.Chromium(t)
	s := start(t, backend{name: "sqlite", env: map[string]string{"SENFI_DATABASE_URL": "sqlite://" + t.TempDir() + "/senfi.db"}}, options{})
	head := s.admin("head@sharif.edu", "head")
	s.campaign(head, head, nil)

	tb := newTab(t, browser)
	res, err := chromedp.RunResponse(tb.ctx, chromedp.Navigate(s.http.URL+"/api/docs/"))
	require.NoError(t, err)
	assert.Equal(t, int64(200), res.Status)
	assert.Equal(t, openapi.SwaggerUICSP, res.Headers["Content-Security-Policy"])
	assert.Equal(t, "DENY", res.Headers["X-Frame-Options"])
	assert.Equal(t, "require-corp", res.Headers["Cross-Origin-Embedder-Policy"])

	ops := len(contract.doc.Routes())
	tb.poll(t, `document.querySelectorAll('.opblock').length > 0`, "Swagger UI rendered no operation")
	rendered, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll('.opblock').length`))
	require.NoError(t, err)
	assert.Equal(t, ops, rendered, "every documented operation is rendered")
	title, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector('.info .title').textContent`))
	require.NoError(t, err)
	assert.Contains(t, title, "Senfi API")

	const op = `#operations-campaigns-listApprovedCampaigns`
	require.NoError(t, chromedp.Do(tb.ctx,
		chromedp.ScrollIntoView(chromedp.CSS(op)),
		chromedp.Click(chromedp.CSS(op+` .opblock-summary-control`)),
		chromedp.WaitVisible(chromedp.CSS(op+` .try-out__btn`)),
		chromedp.Click(chromedp.CSS(op+` .try-out__btn`)),
		chromedp.WaitVisible(chromedp.CSS(op+` .btn.execute`)),
		chromedp.Click(chromedp.CSS(op+` .btn.execute`)),
	))
	tb.poll(t, `(document.querySelector('`+op+` .live-responses-table .response .response-col_status') || {}).textContent === '200'`,
		"Execute did not show a 200")
	body, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector('`+op+` .live-responses-table .response-col_description pre').textContent`))
	require.NoError(t, err)
	assert.Contains(t, body, `"success": true`)
	assert.Contains(t, body, "بهبود غذای سلف", "the campaign the server holds")
	tb.screenshot(t, "swagger-ui.png")

	assert.Empty(t, tb.violations(t), "no Content-Security-Policy violation")
	assert.Empty(t, tb.problems(), "no console error")
}

// redocStub stands in for ReDoc's bundle, which this machine cannot
// fetch from the CDN: it does what ReDoc needs its page's policy to allow
// (fetch the document from spec-url, inject a style element, start a
// worker from a blob: URL) and renders the document's title, then tries
// what the policy must refuse (an inline script).
const redocStub = `(() => {
  const el = document.querySelector('redoc');
  const style = document.createElement('style');
  style.textContent = 'redoc h1 { font-family: sans-serif; }';
  document.head.appendChild(style);
  const worker = new Worker(URL.createObjectURL(new Blob(['onmessage = (e) => postMessage(e.data + 1);'], {type: 'text/javascript'})));
  worker.onmessage = (e) => { document.body.dataset.worker = String(e.data); };
  worker.postMessage(41);
  fetch(el.getAttribute('spec-url')).then((r) => r.json()).then((doc) => {
    const h = document.createElement('h1');
    h.textContent = doc.info.title + ' ' + doc.info.version;
    el.appendChild(h);
    document.body.dataset.paths = String(Object.keys(doc.paths).length);
    const inline = document.createElement('script');
    inline.textContent = 'window.__injected = true;';
    document.body.appendChild(inline);
    document.body.dataset.loaded = 'true';
  });
})();`

// TestReDocPage: the app's ReDoc page points at the schema and at ReDoc's
// CDN (asserted on the served HTML: this machine cannot reach the CDN).
// In Chromium, with the bundle URL (and its integrity hash) configured to
// a server of the test's on another origin, the page loads exactly that
// bundle under its policy and the app's security headers, and the bundle
// can do what ReDoc does — while an injected inline script is refused.
func TestReDocPage(t *testing.T) {
	s := start(t, backend{name: "sqlite", env: map[string]string{"SENFI_DATABASE_URL": "sqlite://" + t.TempDir() + "/senfi.db"}}, options{})
	r := s.expect(200, "GET", "/api/redoc/", "", nil)
	html := string(r.Raw)
	assert.Contains(t, html, `<redoc spec-url="/api/schema/?format=json"></redoc>`)
	assert.Contains(t, html, `<script src="https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"></script>`)
	assert.Contains(t, r.Header.Get("Content-Security-Policy"), "script-src https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js;")
	assert.Equal(t, "credentialless", r.Header.Get("Cross-Origin-Embedder-Policy"))
	assert.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))

	browser := testenv.Chromium(t)
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Header().Set("Access-Control-Allow-Origin", "*") // as cdn.redoc.ly; needed for the integrity check
		_, _ = w.Write([]byte(redocStub))                  // every path: the policy must pick the one file
	}))
	defer cdn.Close()
	bundle := cdn.URL + "/redoc/v2/redoc.standalone.js"
	digest := sha512.Sum384([]byte(redocStub))
	h, err := openapi.NewHandlers(openapi.HandlerOptions{
		Document: contract.doc, RedocBundleURL: bundle,
		RedocBundleIntegrity: "sha384-" + base64.StdEncoding.EncodeToString(digest[:]),
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	require.NoError(t, h.Register(mux))
	env := map[string]string{"SENFI_SECRET_KEY": "test-secret-key-0123456789abcdef-0123456789", "SENFI_DATA_DIR": t.TempDir()}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok }) // the app's default security settings
	require.NoError(t, err)
	guard, err := secure.New(cfg.Secure)
	require.NoError(t, err)
	docs := httptest.NewServer(guard.Handler(mux))
	defer docs.Close()

	tb := newTab(t, browser)
	res, err := chromedp.RunResponse(tb.ctx, chromedp.Navigate(docs.URL+"/api/redoc/"))
	require.NoError(t, err)
	assert.Equal(t, int64(200), res.Status)
	assert.Contains(t, res.Headers["Content-Security-Policy"], "script-src "+bundle+";")
	tb.poll(t, `document.body.dataset.loaded === 'true' && document.body.dataset.worker === '42'`, "the bundle did not run")
	heading, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector('redoc h1').textContent`))
	require.NoError(t, err)
	assert.Equal(t, "Senfi API "+app.Version, heading)
	paths, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body.dataset.paths`))
	require.NoError(t, err)
	assert.NotEqual(t, "0", paths)
	injected, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`window.__injected === true`))
	require.NoError(t, err)
	assert.False(t, injected, "an inline script must not run")
	assert.Equal(t, []string{"script-src-elem blocked inline"}, tb.violations(t), "only the inline script is refused")
	tb.screenshot(t, "redoc-stub.png")
}
