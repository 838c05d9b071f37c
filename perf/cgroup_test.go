package perf

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindCgroupDir(t *testing.T) {
	tests := []struct {
		proc string
		want string
	}{
		{"container", "/sys/fs/cgroup"}, // own cgroup namespace
		{"hybrid", "/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-2.scope"}, // v1 + unified
		{"nested", "/mnt/cgroup v2/pod1/ctr"},                                           // mount of a sub-tree, escaped space
	}
	for _, tt := range tests {
		t.Run(tt.proc, func(t *testing.T) {
			dir, err := findCgroupDir(filepath.Join("testdata", "proc", tt.proc))
			require.NoError(t, err)
			assert.Equal(t, tt.want, dir)
		})
	}
	_, err := findCgroupDir(filepath.Join("testdata", "proc", "v1only"))
	assert.ErrorIs(t, err, errNoCgroup2)
	_, err = findCgroupDir(filepath.Join("testdata", "proc", "absent"))
	assert.Error(t, err)
}

func TestCgroupDir(t *testing.T) {
	assert.Equal(t, "/sys/fs/cgroup", cgroupDir("/", "/sys/fs/cgroup", "/"))
	assert.Equal(t, "/sys/fs/cgroup/a/b", cgroupDir("/", "/sys/fs/cgroup", "/a/b"))
	assert.Equal(t, "/m", cgroupDir("/x", "/m", "/y/z"), "a path outside the mount's root")
	assert.Equal(t, "/m", cgroupDir("/x", "/m", "/x/../.."), "no escape above the mount")
}

func TestParsers(t *testing.T) {
	v, unlimited, err := parseMax([]byte("max\n"))
	require.NoError(t, err)
	assert.True(t, unlimited)
	assert.Zero(t, v)
	v, unlimited, err = parseMax([]byte(" 4096\n"))
	require.NoError(t, err)
	assert.False(t, unlimited)
	assert.Equal(t, uint64(4096), v)
	for _, bad := range []string{"", "-1", "1e3", "max max", "18446744073709551616"} {
		_, _, err := parseMax([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}

	for in, want := range map[string]float64{"max 100000": 0, "50000 100000": 0.5, "200000 100000\n": 2, "250000": 2.5, "max": 0} {
		got, err := parseCPUMax([]byte(in))
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "1 2 3", "x 100000", "100 0", "100 x", "-5 100"} {
		_, err := parseCPUMax([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}

	got := parseFlatKeyed([]byte("usage_usec 10\nbroken\nnr_throttled x\nthrottled_usec 7\nother 1\n"), "usage_usec", "nr_throttled", "throttled_usec")
	assert.Equal(t, map[string]uint64{"usage_usec": 10, "throttled_usec": 7}, got)

	path, ok := parseProcCgroup([]byte("1:cpu:/a\r\n0::/b/c\r\n"))
	assert.True(t, ok)
	assert.Equal(t, "/b/c", path)
	_, ok = parseProcCgroup([]byte("0::relative\n"))
	assert.False(t, ok)

	p, ok := unescapeMountPath(`/a\040b\134c\011d\999`)
	assert.True(t, ok)
	assert.Equal(t, "/a b\\c\td\\999", p)
	_, ok = unescapeMountPath("relative")
	assert.False(t, ok)
}

// copyDir copies the fixture directory src into a new temporary one.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600))
	}
	return dst
}

func TestCgroupReader(t *testing.T) {
	t.Run("limited", func(t *testing.T) {
		dir := copyDir(t, filepath.Join("testdata", "cgroup", "limited"))
		r := &cgroupReader{dir: dir}
		s, err := r.read(10)
		require.NoError(t, err)
		assert.Equal(t, &CgroupStats{
			Dir: dir, MemoryLimit: 512 << 20, MemoryUsage: 128 << 20, MemoryPercent: 25,
			CPULimit: 1.5, CPUUsageSeconds: 5, ThrottledPeriods: 7, ThrottledSeconds: 0.35,
			PidsLimit: 256, PidsCurrent: 12, OOMKills: 1,
		}, s, "the first read has no CPU percentage yet")

		// 3 s of CPU in 2 s with a 1.5-core quota: 100 %.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "cpu.stat"), []byte("usage_usec 8000000\n"), 0o600))
		s, err = r.read(12)
		require.NoError(t, err)
		assert.InDelta(t, 100, s.CPUPercent, 1e-9)
	})
	t.Run("unlimited", func(t *testing.T) {
		dir := copyDir(t, filepath.Join("testdata", "cgroup", "unlimited"))
		r := &cgroupReader{dir: dir}
		s, err := r.read(0)
		require.NoError(t, err)
		assert.Zero(t, s.MemoryLimit)
		assert.Zero(t, s.MemoryPercent)
		assert.Zero(t, s.CPULimit)
		assert.Zero(t, s.PidsLimit)
		assert.Equal(t, uint64(1<<20), s.MemoryUsage)
		// Without a quota the percentage is of one core.
		require.NoError(t, os.WriteFile(filepath.Join(dir, "cpu.stat"), []byte("usage_usec 3000000\n"), 0o600))
		s, err = r.read(1)
		require.NoError(t, err)
		assert.InDelta(t, 50, s.CPUPercent, 1e-9)
	})
	t.Run("nothing readable", func(t *testing.T) {
		r := &cgroupReader{dir: t.TempDir()}
		_, err := r.read(0)
		assert.ErrorIs(t, err, errNoCgroup2)
	})
	t.Run("oversized file", func(t *testing.T) {
		dir := t.TempDir()
		big := make([]byte, maxCgroupFile+10)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "memory.current"), big, 0o600))
		_, err := readSmall(filepath.Join(dir, "memory.current"))
		assert.Error(t, err)
	})
}
