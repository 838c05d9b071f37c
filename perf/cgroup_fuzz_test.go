package perf

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzCgroupFiles feeds arbitrary contents to the parsers of the cgroup
// and proc files: they never panic and return only well-formed values.
func FuzzCgroupFiles(f *testing.F) {
	for _, s := range []string{
		"max\n", "536870912\n", "max 100000\n", "150000 100000", "0 0", "usage_usec 5\nnr_throttled 2\n",
		"0::/\n", "1:cpu:/a\n0::/b c\n", "0::relative", "\x00", "\\040",
		"618 617 0:29 / /sys/fs/cgroup ro - cgroup2 cgroup rw\n",
		"50 40 0:30 /k /mnt/cg\\040v2 rw - cgroup2 none rw\n",
		"1 2 3 4 5 6 - cgroup2", "1 2 3 / /m - cgroup2 x y", "- cgroup2 x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if v, unlimited, err := parseMax(data); err == nil {
			if unlimited != (strings.TrimSpace(string(data)) == "max") || (unlimited && v != 0) {
				t.Fatalf("parseMax(%q) = %d, %v", data, v, unlimited)
			}
			digits := strings.TrimLeft(strings.TrimSpace(string(data)), "0")
			if !unlimited && strconv.FormatUint(v, 10) != digits && !(v == 0 && digits == "") {
				t.Fatalf("parseMax(%q) = %d is not the number written", data, v)
			}
		}
		if cores, err := parseCPUMax(data); err == nil && (cores < 0 || math.IsNaN(cores) || math.IsInf(cores, 0)) {
			t.Fatalf("parseCPUMax(%q) = %v", data, cores)
		}
		for k, v := range parseFlatKeyed(data, "usage_usec", "nr_throttled", "oom_kill") {
			if !strings.Contains(string(data), k+" ") || !strings.Contains(string(data), strconv.FormatUint(v, 10)) {
				t.Fatalf("parseFlatKeyed(%q): %s = %d is not in the input", data, k, v)
			}
		}
		if path, ok := parseProcCgroup(data); ok && !strings.HasPrefix(path, "/") {
			t.Fatalf("parseProcCgroup(%q) = %q", data, path)
		}
		if root, mp, ok := parseMountInfo(data); ok {
			if !strings.HasPrefix(root, "/") || !strings.HasPrefix(mp, "/") {
				t.Fatalf("parseMountInfo(%q) = %q, %q", data, root, mp)
			}
			dir := cgroupDir(root, mp, "/"+string(data))
			if rel, err := filepath.Rel(filepath.Clean(mp), dir); err != nil || strings.HasPrefix(rel, "..") {
				t.Fatalf("cgroupDir(%q, %q, ...) = %q escapes the mount", root, mp, dir)
			}
		}
	})
}
