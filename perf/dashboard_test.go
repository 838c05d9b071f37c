package perf_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/internal/testenv"
)

// hourOfTraffic spreads requests over an hour of s's clock, minute by
// minute, with a load and a latency that vary, a few errors, and a slow
// report now and then; the clock ends in the hour's last minute.
func hourOfTraffic(t testing.TB, s *site) {
	t.Helper()
	start := s.clock.Now()
	for m := range 60 {
		s.clock.ns.Store(start.Add(time.Duration(m) * time.Minute).UnixNano())
		for i := range 5 + m%7*3 {
			serve(s.handler, http.MethodGet, "/api/campaigns/"+strconv.Itoa(i))
		}
		if m%4 == 0 {
			serve(s.handler, http.MethodPost, "/api/campaigns/1/sign")
		}
		if m%15 == 0 {
			serve(s.handler, http.MethodGet, "/api/report")
		}
	}
	s.clock.Advance(30 * time.Second) // into the last minute, as a live server would be
	_, err := s.sampler.Sample(context.Background())
	require.NoError(t, err)
}

// pageState is what the test reads from the rendered dashboard.
type pageState struct {
	Status       string   `json:"status"`
	Health       string   `json:"health"`
	Paths        []string `json:"paths"`   // d of #chart-rate's lines
	Latency      []string `json:"latency"` // data-series of #chart-latency's lines
	ErrorLines   int      `json:"errorLines"`
	Gauges       []string `json:"gauges"`
	Endpoints    []string `json:"endpoints"` // first cell of each row
	Slow         []string `json:"slow"`      // second cell of each row
	Cards        []string `json:"cards"`
	Extra        []string `json:"extra"`
	ExtraHidden  bool     `json:"extraHidden"`
	Resources    []string `json:"resources"`
	TokenVisible bool     `json:"tokenVisible"`
}

const readPage = `(() => {
  const texts = (sel) => Array.from(document.querySelectorAll(sel), (e) => e.textContent);
  return {
    status: document.getElementById('status').textContent,
    health: document.getElementById('health').textContent,
    paths: Array.from(document.querySelectorAll('#chart-rate path.line'), (p) => p.getAttribute('d')),
    latency: Array.from(document.querySelectorAll('#chart-latency path.line'), (p) => p.dataset.series),
    errorLines: document.querySelectorAll('#chart-errors path.line').length,
    gauges: Array.from(document.querySelectorAll('#gauges rect.gauge'), (r) => r.dataset.gauge),
    endpoints: texts('#endpoints tbody tr td:first-child'),
    slow: texts('#slow tbody tr td:nth-child(2)'),
    cards: texts('#cards .card-value'),
    extra: texts('#extra dt'),
    extraHidden: document.getElementById('extra-section').hidden,
    resources: performance.getEntriesByType('resource').map((r) => r.name),
    tokenVisible: !document.getElementById('token-form').hidden,
  };
})()`

// TestDashboardInChromium loads the dashboard from a running server in
// headless Chromium and checks that its script, under the page's CSP,
// fetched the data and drew it: charts with an hour of points, gauges,
// tables, live refresh, and the token prompt when the data is protected.
func TestDashboardInChromium(t *testing.T) {
	browser := testenv.Chromium(t)
	s := newSite(t)
	hourOfTraffic(t, s)
	srv := httptest.NewServer(s.handler)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/api/performance/dashboard?refresh=2")))
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
		`document.body.dataset.loaded === 'true' && document.querySelectorAll('#chart-rate path.line').length > 0`,
		chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(t, err, "the dashboard did not render")

	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](readPage))
	require.NoError(t, err)
	assert.Equal(t, "live", st.Status)
	assert.Contains(t, []string{"healthy", "warning", "critical"}, st.Health)
	require.Len(t, st.Paths, 1)
	assert.Equal(t, 59, strings.Count(st.Paths[0], "L"), "a point per minute of the last hour: %s", st.Paths[0])
	assert.Equal(t, []string{"p50", "p95", "p99"}, st.Latency)
	assert.Equal(t, 2, st.ErrorLines)
	assert.Subset(t, st.Gauges, []string{"CPU", "Memory", "Swap", "Disk"})
	// By count; the dashboard's own requests follow.
	require.GreaterOrEqual(t, len(st.Endpoints), 3)
	assert.Equal(t, []string{"GET /api/campaigns/{id}", "POST /api/campaigns/{id}/sign", "GET /api/report"}, st.Endpoints[:3])
	assert.Contains(t, st.Endpoints, "GET /api/performance/dashboard", "the page's own request was recorded")
	require.NotEmpty(t, st.Slow)
	assert.Equal(t, "POST /api/campaigns/{id}/sign", st.Slow[0], "newest first: minute 56's signature")
	assert.Contains(t, st.Slow, "GET /api/report")
	assert.Equal(t, []string{"backup_age_seconds"}, st.Extra)
	assert.False(t, st.ExtraHidden)
	assert.False(t, st.TokenVisible)
	for _, r := range st.Resources {
		assert.True(t, strings.HasPrefix(r, srv.URL+"/"), "every resource comes from the server itself: %s", r)
	}
	requests := st.Cards[0]

	// Live refresh: new traffic shows within a couple of refreshes.
	for range 10 {
		serve(s.handler, http.MethodGet, "/api/campaigns/9")
	}
	_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
		`document.querySelector('#cards .card-value').textContent !== `+strconv.Quote(requests),
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(t, err, "the page did not refresh")

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	require.NoError(t, err)
	shot := filepath.Join(t.ArtifactDir(), "dashboard.png")
	require.NoError(t, os.WriteFile(shot, png, 0o600))
	t.Logf("dashboard screenshot: %s", shot)

	t.Run("asks for a token", func(t *testing.T) {
		const token = "s3cret-admin-token"
		guarded := newSite(t)
		hourOfTraffic(t, guarded)
		h, err := perfHandlers(guarded)
		require.NoError(t, err)
		mux := http.NewServeMux()
		require.NoError(t, h.Register(mux, "/api/performance", func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer "+token {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				next.ServeHTTP(w, r)
			})
		}))
		srv := httptest.NewServer(mux)
		defer srv.Close()

		tab, closeTab := chromedp.NewContext(browser)
		defer closeTab()
		require.NoError(t, chromedp.Do(tab)) // open the tab before setting a deadline
		ctx, cancel := context.WithTimeout(tab, 60*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/api/performance/dashboard"),
			chromedp.WaitVisible(chromedp.ID("token-form")),
			chromedp.SendKeys(chromedp.ID("token"), token),
			chromedp.Click(chromedp.CSS("#token-form button")),
		))
		_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.body.dataset.loaded === 'true'`,
			chromedp.WithPollingInterval(50*time.Millisecond)))
		require.NoError(t, err)
		st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](readPage))
		require.NoError(t, err)
		assert.False(t, st.TokenVisible)
		assert.Equal(t, "live", st.Status)
		assert.Len(t, st.Paths, 1)
		stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem('auth_token')`))
		require.NoError(t, err)
		assert.Equal(t, token, stored)
	})
}
