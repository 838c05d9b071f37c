package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/senfi-sharif/senfi/audit"
	"github.com/senfi-sharif/senfi/example/internal/app"
	"github.com/senfi-sharif/senfi/perf"
)

// auditCmd: `audit verify [FILE] [--checkpoints FILE]` checks the security
// log's HMAC chain (the key is derived from SENFI_SECRET_KEY, as the server
// does). Exit 1 when the log was tampered with.
func (e environment) auditCmd(args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{"audit takes the subcommand verify: audit verify [FILE] [--checkpoints FILE]"}
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cpFile := fs.String("checkpoints", "", "a file holding the chain's checkpoint records (e.g. the captured stdout)")
	if err := fs.Parse(reorder(args[1:], map[string]bool{"checkpoints": true})); err != nil || fs.NArg() > 1 {
		return usageError{"usage: audit verify [FILE] [--checkpoints FILE]"}
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	path := cfg.AuditLog
	if fs.NArg() == 1 {
		path = fs.Arg(0)
	}
	files, err := audit.LogFiles(path)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no security log at %s (nor rotated files next to it)", path)
	}
	opts := audit.VerifyOptions{Key: app.AuditKey(cfg.Secret)}
	if *cpFile != "" {
		f, err := os.Open(*cpFile)
		if err != nil {
			return err
		}
		opts.Checkpoints, err = audit.ReadCheckpoints(f, "security")
		f.Close()
		if err != nil {
			return fmt.Errorf("read checkpoints: %w", err)
		}
	}
	rep, err := audit.Verify(files, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, rep.String())
	if !rep.OK() {
		return errors.New("the security log failed verification")
	}
	return nil
}

// monitorCmd: `monitor [--interval 60] [--duration 3600] [--save]`, the
// original's monitor_performance: samples the system, prints a table, and
// with --save writes performance_<time>.csv and .json to SENFI_DATA_DIR.
// Intervals are seconds, or Go durations ("30s", "5m").
func (e environment) monitorCmd(args []string) error {
	fs := flag.NewFlagSet("monitor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	interval := fs.String("interval", "60", "seconds between samples")
	duration := fs.String("duration", "3600", "seconds to monitor")
	save := fs.Bool("save", false, "save the samples as CSV and JSON in SENFI_DATA_DIR")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return usageError{"usage: monitor [--interval SECONDS] [--duration SECONDS] [--save]"}
	}
	iv, err := seconds(*interval)
	if err != nil {
		return usageError{"--interval: " + err.Error()}
	}
	dur, err := seconds(*duration)
	if err != nil {
		return usageError{"--duration: " + err.Error()}
	}
	if iv < perf.MinSampleInterval {
		return usageError{fmt.Sprintf("--interval must be at least %s", perf.MinSampleInterval)}
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	sampler, err := perf.NewSampler(perf.SamplerOptions{DataDir: cfg.DataDir, Interval: iv})
	if err != nil {
		return err
	}
	opts := perf.MonitorOptions{Sampler: sampler, Interval: iv, Duration: dur, Table: e.stdout}
	var files []*os.File
	if *save {
		stamp := time.Now().UTC().Format("20060102_150405")
		for _, ext := range []string{"csv", "json"} {
			f, err := os.OpenFile(filepath.Join(cfg.DataDir, "performance_"+stamp+"."+ext), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
			if err != nil {
				return err
			}
			defer f.Close()
			files = append(files, f)
		}
		opts.CSV, opts.JSON = files[0], files[1]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if e.stop != nil {
		go func() {
			select {
			case <-e.stop:
				stop()
			case <-ctx.Done():
			}
		}()
	}
	if _, _, err := perf.Monitor(ctx, opts); err != nil {
		return err
	}
	for _, f := range files {
		if err := f.Sync(); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "senfi: saved", f.Name())
	}
	return nil
}

// seconds reads "60" as 60 s, or a Go duration.
func seconds(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0, errors.New("must be positive")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a number of seconds or a duration", v)
	}
	return d, nil
}

// reorder moves flags after positional arguments to the front, so that
// `verify FILE --checkpoints X` parses as well as `verify --checkpoints X
// FILE`; valued names the flags that take a value.
func reorder(args []string, valued map[string]bool) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if valued[name] && !strings.Contains(a, "=") && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}
