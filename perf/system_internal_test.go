package perf

import (
	"math"
	"runtime/metrics"
	"testing"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/stretchr/testify/assert"
)

func TestHealthThresholds(t *testing.T) {
	tests := []struct {
		name string
		s    SystemSample
		want Health
	}{
		{"idle", SystemSample{CPUPercent: 5, MemoryPercent: 30, DiskPercent: 40}, HealthHealthy},
		{"at the warning line", SystemSample{CPUPercent: 70, MemoryPercent: 70, DiskPercent: 80}, HealthHealthy},
		{"busy CPU", SystemSample{CPUPercent: 71}, HealthWarning},
		{"memory", SystemSample{MemoryPercent: 85}, HealthWarning},
		{"disk", SystemSample{DiskPercent: 81}, HealthWarning},
		{"CPU saturated", SystemSample{CPUPercent: 95}, HealthCritical},
		{"disk nearly full", SystemSample{DiskPercent: 96}, HealthCritical},
		{"container memory near its limit", SystemSample{MemoryPercent: 10, Cgroup: &CgroupStats{MemoryPercent: 93}}, HealthCritical},
		{"container CPU at its quota", SystemSample{CPUPercent: 10, Cgroup: &CgroupStats{CPULimit: 0.5, CPUPercent: 75}}, HealthWarning},
		{"unlimited container CPU does not count", SystemSample{CPUPercent: 10, Cgroup: &CgroupStats{CPUPercent: 300}}, HealthHealthy},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, healthOf(&tt.s), tt.name)
	}
}

func TestHistQuantile(t *testing.T) {
	h := &metrics.Float64Histogram{
		Counts:  []uint64{0, 50, 40, 9, 1},
		Buckets: []float64{math.Inf(-1), 0.001, 0.002, 0.004, 0.008, math.Inf(1)},
	}
	assert.Equal(t, 0.002, histQuantile(h, 0.5))
	assert.Equal(t, 0.004, histQuantile(h, 0.9))
	assert.Equal(t, 0.008, histQuantile(h, 0.99))
	assert.Equal(t, 0.008, histQuantile(h, 1), "the unbounded bucket reports its lower bound")
	assert.Zero(t, histQuantile(&metrics.Float64Histogram{Counts: []uint64{0}, Buckets: []float64{0, 1}}, 0.5))
}

func TestCPUBusy(t *testing.T) {
	a := cpu.TimesStat{User: 100, System: 50, Idle: 800, Iowait: 50}
	b := cpu.TimesStat{User: 130, System: 60, Idle: 850, Iowait: 60, Guest: 1000}
	assert.InDelta(t, 40.0, cpuBusy(a, b), 1e-9, "40 busy of 100; guest time is inside user time")
	assert.Zero(t, cpuBusy(b, a), "a counter going back gives 0, not a negative share")
	assert.Zero(t, cpuBusy(a, a))
}

func TestThin(t *testing.T) {
	s := make([]SystemSample, 10)
	for i := range s {
		s[i].CPUs = i
	}
	got := thin(s, 3)
	assert.Len(t, got, 3)
	assert.Equal(t, 9, got[2].CPUs, "the newest is kept")
	for i := 1; i < len(got); i++ {
		assert.Less(t, got[i-1].CPUs, got[i].CPUs, "oldest first")
	}
	assert.Equal(t, s, thin(s, 0))
	assert.Equal(t, s, thin(s, 20))
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0B", 1023: "1023B", 1024: "1.0KiB", 19608371: "18.7MiB", 3 << 40: "3.0TiB", math.MaxUint64: "16384.0PiB"} {
		assert.Equal(t, want, humanBytes(n), "%d", n)
	}
}
