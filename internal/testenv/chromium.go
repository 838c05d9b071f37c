package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvChromium names the Chromium (or Chrome) executable for browser tests.
const EnvChromium = "SENFI_TEST_CHROMIUM"

// DefaultChromium is where Debian's chromium package installs the browser.
const DefaultChromium = "/usr/bin/chromium"

// ChromiumPath returns the browser executable for browser tests: the value
// of SENFI_TEST_CHROMIUM, or DefaultChromium. It fails when that file is
// not an executable; it does not check that the browser starts.
func ChromiumPath() (string, error) {
	path := env(EnvChromium, DefaultChromium)
	fi, err := os.Stat(path)
	if err != nil {
		return path, err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return path, errors.New("not an executable file")
	}
	return path, nil
}

// profileRemoveTimeout bounds how long removeProfile waits for Chromium's
// helper processes to stop writing to the profile.
const profileRemoveTimeout = 10 * time.Second

// removeProfile removes dir, trying again until timeout while something
// still creates files in it.
func removeProfile(dir string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := os.RemoveAll(dir)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// chromiumFlags are the command-line flags the browser runs with: headless,
// no sandbox (test containers often lack the user namespaces it needs), no
// GPU, and none of the background traffic a fresh profile would start
// (component updates, sync, field trials, QUIC probes), so that a test
// talks only to its own servers. A fresh --user-data-dir is added per
// test.
func chromiumFlags() []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
	}
}

// Chromium starts a new headless browser and returns a chromedp context
// for a tab of it: the executable of ChromiumPath, with chromiumFlags, a
// 1280×900 window and a new, empty profile directory. The browser is
// stopped and its profile removed when the test ends. When no browser is installed the test is
// skipped, or failed when RequireServices; a browser that is installed
// but does not start fails the test. The browser is already running, so
// per-step timeouts can be derived from the returned context with
// context.WithTimeout (a timeout on the context of chromedp's first run
// would stop the browser with it).
func Chromium(t testing.TB) context.Context {
	t.Helper()
	path, err := ChromiumPath()
	if err != nil {
		skipOrFail(t, fmt.Sprintf("Chromium not found at %s: %v: install it (apt-get install chromium) or set %s; %s=1 turns this skip into a failure",
			path, err, EnvChromium, EnvRequireServices))
	}
	// Not t.TempDir: Chromium's helper processes may still write to the
	// profile for a moment after the browser exits, which fails the
	// test's own clean-up; removeProfile waits for them.
	profile, err := os.MkdirTemp("", "senfi-chromium-")
	if err != nil {
		t.Fatalf("testenv: Chromium profile directory: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		// Let the process write to the test's log only through chromedp,
		// not to the terminal.
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) { cmd.Stdout, cmd.Stderr = nil, nil }),
	}
	for _, f := range chromiumFlags() {
		opts = append(opts, chromedp.Flag(f[2:], true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser process to exit
		if err := removeProfile(profile, profileRemoveTimeout); err != nil {
			t.Errorf("testenv: remove Chromium profile: %v", err)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("testenv: start Chromium %s: %v", path, err)
	}
	return ctx
}
