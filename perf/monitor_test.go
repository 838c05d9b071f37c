package perf_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/perf"
)

func TestMonitor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sampler := newSampler(t, perf.SamplerOptions{CgroupDir: filepath.Join("testdata", "cgroup", "limited")})
		var table, csvOut, jsonOut bytes.Buffer
		start := time.Now()
		samples, sum, err := perf.Monitor(context.Background(), perf.MonitorOptions{
			Sampler: sampler, Interval: time.Minute, Duration: 5 * time.Minute,
			Table: &table, CSV: &csvOut, JSON: &jsonOut,
		})
		require.NoError(t, err)
		require.Len(t, samples, 5, "at 0, 1, 2, 3 and 4 minutes")
		for i, s := range samples {
			assert.Equal(t, start.Add(time.Duration(i)*time.Minute), s.Time)
		}
		assert.Equal(t, 4*time.Minute, time.Since(start), "no sleep after the last sample")
		assert.Equal(t, 5, sum.Samples)
		assert.False(t, sum.Stopped)
		assert.NotEqual(t, perf.HealthUnknown, sum.Worst)
		assert.GreaterOrEqual(t, sum.CPUMax, sum.CPUAverage)
		assert.Positive(t, sum.MemoryMax)

		lines := strings.Split(strings.TrimSpace(table.String()), "\n")
		require.Len(t, lines, 1+5+3, "header, rows, blank line and two summary lines")
		assert.True(t, strings.HasPrefix(lines[0], "time "))
		assert.Contains(t, lines[1], start.UTC().Format(time.RFC3339))
		assert.Contains(t, lines[1], "25.0", "the cgroup's memory use")
		assert.Contains(t, lines[7], "5 samples from")

		rows, err := csv.NewReader(&csvOut).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 6)
		assert.Equal(t, "timestamp", rows[0][0])
		assert.Equal(t, "cgroup_memory_percent", rows[0][16])
		assert.Equal(t, "25", rows[1][16])
		for _, r := range rows {
			assert.Len(t, r, len(rows[0]))
		}

		var saved struct {
			Samples []map[string]any `json:"samples"`
			Summary perf.MonitorSummary
		}
		require.NoError(t, json.Unmarshal(jsonOut.Bytes(), &saved))
		assert.Len(t, saved.Samples, 5)
		requireKeys(t, saved.Samples[0], originalSystemKeys...)
		assert.Equal(t, 5, saved.Summary.Samples)
	})
}

func TestMonitorStopsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sampler := newSampler(t, perf.SamplerOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
		defer cancel()
		var jsonOut bytes.Buffer
		samples, sum, err := perf.Monitor(ctx, perf.MonitorOptions{Sampler: sampler, JSON: &jsonOut})
		require.NoError(t, err)
		assert.Len(t, samples, 3, "at 0, 60 and 120 s of the default 60 s interval")
		assert.True(t, sum.Stopped)
		assert.Contains(t, jsonOut.String(), `"stopped": true`, "the JSON is written all the same")
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestMonitorReportsErrors(t *testing.T) {
	_, _, err := perf.Monitor(context.Background(), perf.MonitorOptions{Interval: time.Millisecond, Duration: -1})
	require.Error(t, err)
	for _, field := range []string{"Sampler", "Interval", "Duration"} {
		assert.Contains(t, err.Error(), field)
	}
	synctest.Test(t, func(t *testing.T) {
		sampler := newSampler(t, perf.SamplerOptions{})
		_, _, err := perf.Monitor(context.Background(), perf.MonitorOptions{Sampler: sampler, Duration: time.Minute, CSV: failingWriter{}})
		assert.ErrorContains(t, err, "disk full")
	})
}
