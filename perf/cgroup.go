package perf

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CgroupStats are the limits and usage of the cgroup (v2) the process runs
// in: what a container may use, beside what the host has. Limits are 0
// when none is set ("max").
type CgroupStats struct {
	// Dir is the cgroup's directory, e.g. /sys/fs/cgroup inside a
	// container with its own cgroup namespace.
	Dir string `json:"dir"`
	// MemoryLimit is memory.max in bytes (0: none); MemoryUsage is
	// memory.current.
	MemoryLimit uint64 `json:"memory_limit"`
	MemoryUsage uint64 `json:"memory_usage"`
	// MemoryPercent is MemoryUsage as a percentage of MemoryLimit (0
	// without a limit).
	MemoryPercent float64 `json:"memory_percent"`
	// SwapLimit is memory.swap.max (0: none); SwapUsage memory.swap.current.
	SwapLimit uint64 `json:"swap_limit"`
	SwapUsage uint64 `json:"swap_usage"`
	// CPULimit is the CPU quota in cores (cpu.max quota/period; 0: none).
	CPULimit float64 `json:"cpu_limit_cores"`
	// CPUPercent is the cgroup's CPU use since the previous sample, as a
	// percentage of CPULimit, or of one core without a limit.
	CPUPercent float64 `json:"cpu_percent"`
	// CPUUsageSeconds is cpu.stat usage_usec, cumulative.
	CPUUsageSeconds float64 `json:"cpu_usage_seconds"`
	// ThrottledPeriods and ThrottledSeconds are cpu.stat nr_throttled and
	// throttled_usec, cumulative: how often the quota stopped the cgroup.
	ThrottledPeriods uint64  `json:"throttled_periods"`
	ThrottledSeconds float64 `json:"throttled_seconds"`
	// PidsLimit is pids.max (0: none); PidsCurrent pids.current.
	PidsLimit   uint64 `json:"pids_limit"`
	PidsCurrent uint64 `json:"pids_current"`
	// OOMKills is memory.events oom_kill, cumulative.
	OOMKills uint64 `json:"oom_kills"`
}

// errNoCgroup2 means the process is not in a cgroup v2 hierarchy.
var errNoCgroup2 = errors.New("perf: no cgroup v2 hierarchy")

// maxCgroupFile bounds what is read from one cgroup or proc file.
const maxCgroupFile = 1 << 20

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(&limitReader{f, maxCgroupFile})
	return buf.Bytes(), err
}

type limitReader struct {
	f *os.File
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("perf: file larger than 1 MiB")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// findCgroupDir returns the directory of the process's cgroup v2, from
// /proc/self/cgroup and /proc/self/mountinfo under procDir.
func findCgroupDir(procDir string) (string, error) {
	cg, err := readSmall(filepath.Join(procDir, "self", "cgroup"))
	if err != nil {
		return "", err
	}
	path, ok := parseProcCgroup(cg)
	if !ok {
		return "", errNoCgroup2
	}
	mi, err := readSmall(filepath.Join(procDir, "self", "mountinfo"))
	if err != nil {
		return "", err
	}
	root, mountPoint, ok := parseMountInfo(mi)
	if !ok {
		return "", errNoCgroup2
	}
	return cgroupDir(root, mountPoint, path), nil
}

// parseProcCgroup returns the path of the unified (v2) hierarchy from the
// contents of /proc/<pid>/cgroup: the line "0::<path>".
func parseProcCgroup(data []byte) (string, bool) {
	for line := range bytes.Lines(data) {
		line = bytes.TrimRight(line, "\r\n")
		if rest, ok := bytes.CutPrefix(line, []byte("0::")); ok && len(rest) > 0 && rest[0] == '/' {
			return string(rest), true
		}
	}
	return "", false
}

// parseMountInfo returns the root and mount point of the first cgroup2
// mount in the contents of /proc/<pid>/mountinfo (proc(5)): fields are
// "id parent major:minor root mount-point options [optional...] - fstype
// source super-options", with spaces in paths escaped as \040.
func parseMountInfo(data []byte) (root, mountPoint string, ok bool) {
	for line := range bytes.Lines(data) {
		fields := strings.Fields(string(line))
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 6 || sep+1 >= len(fields) || fields[sep+1] != "cgroup2" {
			continue
		}
		root, rok := unescapeMountPath(fields[3])
		mp, mok := unescapeMountPath(fields[4])
		if !rok || !mok {
			continue
		}
		return root, mp, true
	}
	return "", "", false
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space,
// \011, \012, \134) and requires an absolute path.
func unescapeMountPath(s string) (string, bool) {
	if !strings.HasPrefix(s, "/") {
		return "", false
	}
	if !strings.Contains(s, `\`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')*64 + (s[i+2]-'0')*8 + (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), true
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// cgroupDir joins a cgroup path to the cgroup2 mount that shows it. Inside
// a container with its own cgroup namespace both the path and the mount
// root are "/". A path outside the mount's root (a mount of a sub-tree
// that does not contain the process) falls back to the mount point.
func cgroupDir(root, mountPoint, path string) string {
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(path))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return mountPoint
	}
	return filepath.Join(mountPoint, rel)
}

// parseMax parses a cgroup limit file (memory.max, pids.max, ...): a
// decimal number, or "max" for no limit (returned as 0, true).
func parseMax(data []byte) (v uint64, unlimited bool, err error) {
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, true, nil
	}
	v, err = strconv.ParseUint(s, 10, 64)
	return v, false, err
}

// parseCPUMax parses cpu.max, "$MAX $PERIOD" ("max 100000" for no limit),
// into a limit in cores (0 for none).
func parseCPUMax(data []byte) (cores float64, err error) {
	fields := strings.Fields(string(data))
	if len(fields) == 0 || len(fields) > 2 {
		return 0, errors.New("perf: cpu.max: want \"$MAX [$PERIOD]\"")
	}
	period := uint64(100_000) // the kernel's default when only $MAX is written
	if len(fields) == 2 {
		p, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil || p == 0 {
			return 0, errors.New("perf: cpu.max: bad period")
		}
		period = p
	}
	if fields[0] == "max" {
		return 0, nil
	}
	quota, err := strconv.ParseUint(fields[0], 10, 64)
	if err != nil {
		return 0, errors.New("perf: cpu.max: bad quota")
	}
	return float64(quota) / float64(period), nil
}

// parseFlatKeyed parses a flat keyed cgroup file (cpu.stat, memory.events:
// "key value" lines) and returns the values of the keys asked for; keys
// absent from data are left out. Malformed lines are skipped.
func parseFlatKeyed(data []byte, keys ...string) map[string]uint64 {
	out := make(map[string]uint64, len(keys))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxCgroupFile)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		for _, want := range keys {
			if k == want {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
					out[k] = n
				}
			}
		}
	}
	return out
}

// cgroupReader reads the figures of one cgroup directory.
type cgroupReader struct {
	dir       string
	lastUsage float64 // cpu usage_usec at the previous read, in seconds
	lastAt    float64 // monotonic seconds of the previous read
	primed    bool
}

// read returns the cgroup's figures at monotonic time nowSeconds. Files
// missing from the directory (the root cgroup has no memory.max;
// controllers may be disabled) leave their figures at 0. It fails only
// when neither memory nor CPU figures can be read.
func (c *cgroupReader) read(nowSeconds float64) (*CgroupStats, error) {
	s := &CgroupStats{Dir: c.dir}
	file := func(name string) ([]byte, error) { return readSmall(filepath.Join(c.dir, name)) }
	found := false
	if b, err := file("memory.current"); err == nil {
		if v, _, err := parseMax(b); err == nil {
			s.MemoryUsage, found = v, true
		}
	}
	if b, err := file("memory.max"); err == nil {
		if v, unlimited, err := parseMax(b); err == nil && !unlimited {
			s.MemoryLimit = v
		}
	}
	if s.MemoryLimit > 0 {
		s.MemoryPercent = float64(s.MemoryUsage) / float64(s.MemoryLimit) * 100
	}
	if b, err := file("memory.swap.current"); err == nil {
		s.SwapUsage, _, _ = parseMax(b)
	}
	if b, err := file("memory.swap.max"); err == nil {
		if v, unlimited, err := parseMax(b); err == nil && !unlimited {
			s.SwapLimit = v
		}
	}
	if b, err := file("memory.events"); err == nil {
		s.OOMKills = parseFlatKeyed(b, "oom_kill")["oom_kill"]
	}
	if b, err := file("cpu.max"); err == nil {
		s.CPULimit, _ = parseCPUMax(b)
	}
	if b, err := file("cpu.stat"); err == nil {
		st := parseFlatKeyed(b, "usage_usec", "nr_throttled", "throttled_usec")
		if usage, ok := st["usage_usec"]; ok {
			found = true
			s.CPUUsageSeconds = float64(usage) / 1e6
			if c.primed && nowSeconds > c.lastAt {
				used := (s.CPUUsageSeconds - c.lastUsage) / (nowSeconds - c.lastAt)
				s.CPUPercent = max(used/orDefault(s.CPULimit, 1)*100, 0)
			}
			c.lastUsage, c.lastAt, c.primed = s.CPUUsageSeconds, nowSeconds, true
		}
		s.ThrottledPeriods = st["nr_throttled"]
		s.ThrottledSeconds = float64(st["throttled_usec"]) / 1e6
	}
	if b, err := file("pids.current"); err == nil {
		s.PidsCurrent, _, _ = parseMax(b)
	}
	if b, err := file("pids.max"); err == nil {
		if v, unlimited, err := parseMax(b); err == nil && !unlimited {
			s.PidsLimit = v
		}
	}
	if !found {
		return nil, errNoCgroup2
	}
	if math.IsNaN(s.CPUPercent) || math.IsInf(s.CPUPercent, 0) {
		s.CPUPercent = 0
	}
	return s, nil
}
