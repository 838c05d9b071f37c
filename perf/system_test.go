package perf_test

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/perf"
)

func newSampler(t testing.TB, opts perf.SamplerOptions) *perf.Sampler {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := perf.NewSampler(opts)
	require.NoError(t, err)
	return s
}

func TestSamplerReadsTheRealSystem(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	s := newSampler(t, perf.SamplerOptions{
		DataDir:   dir,
		CgroupDir: filepath.Join("testdata", "cgroup", "limited"),
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		Extra: func(context.Context) map[string]any {
			return map[string]any{"backup_age_seconds": 3600.0, "backup_last_failure": nil}
		},
	})
	_, ok := s.Latest()
	assert.False(t, ok)
	assert.Nil(t, s.Extra())
	runtime.GC() // so that there is a GC pause to report

	smp, err := s.Sample(context.Background())
	require.NoError(t, err)
	assert.Empty(t, smp.Errors, "every part of a Linux sample is readable; logs: %s", logs.String())
	assert.WithinDuration(t, time.Now(), smp.Time, time.Minute)
	assert.NotEqual(t, perf.HealthUnknown, smp.Health)
	assert.Positive(t, smp.CPUs)
	assert.Positive(t, smp.MemoryTotal)
	assert.Positive(t, smp.MemoryAvailable)
	assert.InDelta(t, 50, smp.MemoryPercent, 50)
	assert.Equal(t, dir, smp.DiskPath)
	assert.Positive(t, smp.DiskTotal)
	assert.InDelta(t, 50, smp.DiskPercent, 50)
	assert.Equal(t, os.Getpid(), smp.Process.PID)
	assert.Positive(t, smp.Process.RSS)
	assert.Positive(t, smp.Process.OpenFDs)
	assert.Positive(t, smp.Process.Threads)
	assert.GreaterOrEqual(t, smp.Process.CPUPercent, 0.0)
	assert.Positive(t, smp.Go.Goroutines)
	assert.Equal(t, runtime.GOMAXPROCS(0), smp.Go.GOMAXPROCS)
	assert.Positive(t, smp.Go.HeapBytes)
	assert.Positive(t, smp.Go.GCCycles)
	assert.Positive(t, smp.Go.GCPauseMax)
	assert.LessOrEqual(t, smp.Go.GCPauseP50, smp.Go.GCPauseP99)
	require.NotNil(t, smp.Cgroup)
	assert.Equal(t, uint64(512<<20), smp.Cgroup.MemoryLimit)

	latest, ok := s.Latest()
	assert.True(t, ok)
	assert.Equal(t, smp, latest)
	assert.Equal(t, map[string]any{"backup_age_seconds": 3600.0, "backup_last_failure": nil}, s.Extra())
	assert.Equal(t, []perf.SystemSample{smp}, s.History(time.Time{}))
	assert.Empty(t, s.History(smp.Time))
	assert.Equal(t, dir, s.DataDir())
	assert.Equal(t, perf.DefaultSampleInterval, s.Interval())
}

func TestSamplerHistoryIsBounded(t *testing.T) {
	clock := newClock()
	s := newSampler(t, perf.SamplerOptions{History: 3, Now: clock.Now, CgroupDir: t.TempDir()})
	var times []time.Time
	for range 5 {
		clock.Advance(time.Minute)
		smp, err := s.Sample(context.Background())
		require.NoError(t, err)
		times = append(times, smp.Time)
		assert.Contains(t, smp.Errors[0], "cgroup", "an empty cgroup directory is reported, not fatal")
	}
	h := s.History(time.Time{})
	require.Len(t, h, 3)
	for i, smp := range h {
		assert.Equal(t, times[2+i], smp.Time)
	}
	assert.Len(t, s.History(times[3]), 1)
}

func TestSamplerRunStopsWithItsContext(t *testing.T) {
	s := newSampler(t, perf.SamplerOptions{Interval: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	require.Eventually(t, func() bool { _, ok := s.Latest(); return ok }, 10*time.Second, time.Millisecond)
	cancel()
	assert.NoError(t, <-done)
	_, err := s.Sample(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestSamplerSurvivesAPanickingExtra(t *testing.T) {
	var logs bytes.Buffer
	s := newSampler(t, perf.SamplerOptions{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Extra:  func(context.Context) map[string]any { panic("backup dir vanished") },
	})
	_, err := s.Sample(context.Background())
	require.NoError(t, err)
	assert.Nil(t, s.Extra())
	assert.Contains(t, logs.String(), "backup dir vanished")
}

func TestSamplerDropsExtraThatIsNotJSON(t *testing.T) {
	var logs bytes.Buffer
	s := newSampler(t, perf.SamplerOptions{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Extra:  func(context.Context) map[string]any { return map[string]any{"ratio": math.NaN()} },
	})
	_, err := s.Sample(context.Background())
	require.NoError(t, err)
	assert.Nil(t, s.Extra())
	assert.Contains(t, logs.String(), "cannot be encoded as JSON")
}

func TestNewSamplerValidates(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := perf.NewSampler(perf.SamplerOptions{Interval: time.Millisecond, History: -1, DataDir: file})
	require.Error(t, err)
	for _, field := range []string{"Interval", "History", "DataDir"} {
		assert.Contains(t, err.Error(), field)
	}
	_, err = perf.NewSampler(perf.SamplerOptions{DataDir: filepath.Join(t.TempDir(), "missing")})
	assert.ErrorContains(t, err, "must be an existing directory")
}
