package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestServesEveryChainAndVerifiesTheLogs(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// run writes to a file that the test reads while run writes.
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	output := func() string {
		b, _ := os.ReadFile(out.Name())
		return string(b)
	}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-bare", "127.0.0.1:0", "-senfi", "127.0.0.1:0", "-peers", "127.0.0.1:0",
			"-senfi-sqlite", "127.0.0.1:0", "-headers", "127.0.0.1:0", "-pprof", "127.0.0.1:0", "-dir", dir}, out)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(output(), "ready") {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 30 s:\n%s", output())
		}
	}
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	urls := map[string]string{}
	for _, m := range regexp.MustCompile(`chainserver: (\S+) on (http://\S+)`).FindAllStringSubmatch(output(), -1) {
		urls[m[1]] = m[2]
	}
	if len(urls) != 6 {
		t.Fatalf("listeners %v, want bare, senfi, peers, senfi-sqlite, headers and pprof:\n%s", urls, output())
	}
	const n = 3
	for _, name := range []string{"bare", "senfi", "peers", "senfi-sqlite", "headers"} {
		for range n {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, urls[name], nil)
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
			req.Header.Set("Origin", "http://localhost:3000")
			if status, body := do(t, req); status != http.StatusOK || body != "ok\n" {
				t.Errorf("%s: %d %q", name, status, body)
			}
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, urls["pprof"], nil)
	if status, _ := do(t, req); status != http.StatusOK {
		t.Errorf("pprof index: %d", status)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, output())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	// Each senfi chain logged the two requests of the start-up check and
	// the n above; the first one also the request whose header the
	// headers listener copies.
	for name, records := range map[string]string{"senfi": "6", "senfi-sqlite": "5"} {
		if want := "chainserver: " + name + " security log OK: " + records + " records"; !strings.Contains(output(), want) {
			t.Errorf("output lacks %q:\n%s", want, output())
		}
	}
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestRefusesBadSetUps(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown flag": {[]string{"-bogus"}, "bogus"},
		"argument":     {[]string{"extra"}, "unexpected arguments"},
		"all off":      {[]string{"-bare", "", "-senfi", "", "-peers", ""}, "every listener is off"},
		"port taken":   {[]string{"-bare", busy.Addr().String(), "-senfi", "", "-peers", ""}, "-bare:"},
		"empty origin": {[]string{"-bare", "127.0.0.1:0", "-senfi", "", "-peers", "", "-origin", ""}, "Origin"},
	} {
		err := run(context.Background(), append(tc.args, "-dir", t.TempDir()), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
	}
}
