package testenv_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/internal/testenv"
)

func TestChromiumLoadsAPage(t *testing.T) {
	ctx := testenv.Chromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>t</title><p id="ua">%s</p>`, r.UserAgent())
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL)))
	ua, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("ua")))
	require.NoError(t, err)
	title, err := chromedp.Run(ctx, chromedp.Title())
	require.NoError(t, err)
	assert.Contains(t, ua, "HeadlessChrome")
	assert.Equal(t, "t", title)
}

func TestChromiumPath(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, nil, 0o600))
	exe := filepath.Join(dir, "exe")
	require.NoError(t, os.WriteFile(exe, nil, 0o700))

	for _, tt := range []struct {
		value string
		ok    bool
	}{
		{exe, true},
		{plain, false},
		{dir, false},
		{filepath.Join(dir, "missing"), false},
	} {
		t.Setenv(testenv.EnvChromium, tt.value)
		path, err := testenv.ChromiumPath()
		assert.Equal(t, tt.value, path)
		assert.Equal(t, tt.ok, err == nil, "%s: %v", tt.value, err)
	}
	t.Setenv(testenv.EnvChromium, "")
	path, _ := testenv.ChromiumPath()
	assert.Equal(t, testenv.DefaultChromium, path)
}

func TestRemoveProfileWaitsForLateWriters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "profile")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "Default"), 0o700))
	// A helper process that keeps writing for a while after the browser
	// exited.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5000 {
			_ = os.WriteFile(filepath.Join(dir, "Default", fmt.Sprint(i)), nil, 0o600)
		}
	}()
	require.NoError(t, testenv.RemoveProfileForTest(dir, 10*time.Second))
	<-done
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err))
}
