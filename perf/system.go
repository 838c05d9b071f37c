package perf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sort"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/process"
)

// Health summarises a system sample, with the Django original's
// thresholds: critical above 90 % CPU, 90 % memory or 95 % disk; warning
// above 70 % CPU, 70 % memory or 80 % disk; healthy otherwise. Inside a
// cgroup with limits, its memory and CPU use against those limits count
// too.
type Health string

// The values of Health.
const (
	// HealthUnknown: no sample yet.
	HealthUnknown Health = "unknown"
	// HealthHealthy: every figure below its warning threshold.
	HealthHealthy Health = "healthy"
	// HealthWarning: a figure above its warning threshold.
	HealthWarning Health = "warning"
	// HealthCritical: a figure above its critical threshold.
	HealthCritical Health = "critical"
)

// Health thresholds, in percent.
const (
	warnCPU, warnMemory, warnDisk = 70, 70, 80
	critCPU, critMemory, critDisk = 90, 90, 95
)

// SystemSample is one reading of the host, the process, the Go runtime and
// the cgroup. Its JSON form keeps the Django original's keys (timestamp,
// cpu_percent, memory_percent, memory_available, disk_percent, disk_free)
// and adds the rest.
type SystemSample struct {
	// Time is when the sample was taken.
	Time time.Time `json:"timestamp"`
	// Health summarises the sample (see Health).
	Health Health `json:"health"`
	// CPUPercent is the host's CPU use, all CPUs, since the previous sample.
	CPUPercent float64 `json:"cpu_percent"`
	// CPUs is the number of logical CPUs of the host.
	CPUs int `json:"cpus"`
	// Load1, Load5 and Load15 are the host's load averages.
	Load1  float64 `json:"load1"`
	Load5  float64 `json:"load5"`
	Load15 float64 `json:"load15"`
	// Memory of the host, in bytes; MemoryPercent is used/total.
	MemoryTotal     uint64  `json:"memory_total"`
	MemoryAvailable uint64  `json:"memory_available"`
	MemoryUsed      uint64  `json:"memory_used"`
	MemoryPercent   float64 `json:"memory_percent"`
	// Swap of the host, in bytes.
	SwapTotal   uint64  `json:"swap_total"`
	SwapUsed    uint64  `json:"swap_used"`
	SwapPercent float64 `json:"swap_percent"`
	// Disk usage of the file system holding SamplerOptions.DataDir.
	DiskPath    string  `json:"disk_path"`
	DiskTotal   uint64  `json:"disk_total"`
	DiskFree    uint64  `json:"disk_free"`
	DiskUsed    uint64  `json:"disk_used"`
	DiskPercent float64 `json:"disk_percent"`
	// Process is this process.
	Process ProcessStats `json:"process"`
	// Go is the Go runtime of this process.
	Go GoStats `json:"go"`
	// Cgroup is the process's cgroup v2, when it has one that can be read.
	Cgroup *CgroupStats `json:"cgroup,omitempty"`
	// Errors names the parts that could not be read, e.g. "disk: ...".
	Errors []string `json:"errors,omitempty"`
}

// ProcessStats describe this process.
type ProcessStats struct {
	// PID is the process ID.
	PID int `json:"pid"`
	// RSS is the resident set size in bytes.
	RSS uint64 `json:"rss"`
	// OpenFDs is the number of open file descriptors (-1 if unknown).
	OpenFDs int `json:"open_fds"`
	// Threads is the number of OS threads.
	Threads int `json:"threads"`
	// CPUPercent is the process's CPU use since the previous sample, as a
	// percentage of one core (200 is two cores busy).
	CPUPercent float64 `json:"cpu_percent"`
	// UptimeSeconds is the time since the Sampler was made.
	UptimeSeconds float64 `json:"uptime_seconds"`
}

// GoStats describe the Go runtime, from runtime/metrics.
type GoStats struct {
	// Goroutines is the number of live goroutines.
	Goroutines int `json:"goroutines"`
	// GOMAXPROCS is the number of Ps: how many goroutines run at once.
	GOMAXPROCS int `json:"gomaxprocs"`
	// HeapBytes is the memory of live and not yet swept heap objects.
	HeapBytes uint64 `json:"heap_bytes"`
	// TotalBytes is all memory the runtime has mapped.
	TotalBytes uint64 `json:"total_bytes"`
	// GCCycles is the number of completed GC cycles.
	GCCycles uint64 `json:"gc_cycles"`
	// GC stop-the-world pause quantiles since the process started, in
	// seconds (upper bounds of the runtime's histogram buckets).
	GCPauseP50 float64 `json:"gc_pause_p50_seconds"`
	GCPauseP90 float64 `json:"gc_pause_p90_seconds"`
	GCPauseP99 float64 `json:"gc_pause_p99_seconds"`
	GCPauseMax float64 `json:"gc_pause_max_seconds"`
}

// Defaults and limits of SamplerOptions.
const (
	// DefaultSampleInterval is the time between background samples.
	DefaultSampleInterval = 15 * time.Second
	// MinSampleInterval bounds SamplerOptions.Interval and
	// MonitorOptions.Interval from below.
	MinSampleInterval = time.Second
	// MaxHistory bounds SamplerOptions.History.
	MaxHistory = 10_000
)

// SamplerOptions configures a Sampler. The zero value samples every 15 s,
// keeps a day of samples and measures the disk of the working directory.
type SamplerOptions struct {
	// Interval is the time between samples taken by Run. Zero value:
	// DefaultSampleInterval (15 s); at least MinSampleInterval.
	Interval time.Duration
	// History is the number of samples kept. Zero value: a day's worth at
	// Interval, at most MaxHistory. Each sample takes about 500 bytes.
	History int
	// DataDir is the directory whose file system's usage is reported (the
	// application's data directory). It must exist. Zero value: ".".
	DataDir string
	// Extra is called after each sample, in the background, for figures
	// the application adds (backup health, queue lengths, ...). The map
	// is served as "extra" by the summary and system-metrics handlers and
	// read by perf/promperf; it must not be changed after it is returned.
	// Calls are bounded by the context's 10 s timeout; figures that
	// cannot be encoded as JSON (NaN, channels, ...) and panics are logged
	// and the figures dropped. Zero value: none.
	Extra func(ctx context.Context) map[string]any
	// CgroupDir is the cgroup v2 directory to read. Zero value: the
	// process's own, found through /proc/self/cgroup and
	// /proc/self/mountinfo; none outside cgroup v2.
	CgroupDir string
	// Logger receives a warning the first time a part of the sample
	// cannot be read. Zero value: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// Sampler takes system samples in the background and keeps a bounded
// history of them, so that no request ever waits for one (the Django
// original measured CPU over a blocking second inside the request). Make
// it with NewSampler and start it with Run. It is safe for concurrent use.
type Sampler struct {
	interval time.Duration
	dataDir  string
	extraFn  func(ctx context.Context) map[string]any
	log      *slog.Logger
	now      func() time.Time
	started  time.Time // by now, for uptime
	// realStart is the real clock at NewSampler: CPU rates divide CPU
	// time by real elapsed time, whatever clock Options.Now is.
	realStart time.Time
	proc      *process.Process
	cgroup    *cgroupReader

	sampling sync.Mutex // one sample at a time; guards the fields below
	lastCPU  cpu.TimesStat
	cpuOK    bool
	lastProc float64 // process CPU seconds at the previous sample
	lastAt   float64 // monotonic() of the previous sample
	warned   map[string]bool
	rm       []metrics.Sample

	mu      sync.Mutex // guards history and extra
	history []SystemSample
	next, n int
	extra   map[string]any
}

// NewSampler validates opts and returns a Sampler. It reads the CPU times
// once, so that the first sample's CPU figures cover the time since.
func NewSampler(opts SamplerOptions) (*Sampler, error) {
	var errs []error
	interval := orDefault(opts.Interval, DefaultSampleInterval)
	if interval < MinSampleInterval {
		errs = append(errs, fmt.Errorf("perf: SamplerOptions.Interval %v is below %v", opts.Interval, MinSampleInterval))
	}
	if opts.History < 0 || opts.History > MaxHistory {
		errs = append(errs, fmt.Errorf("perf: SamplerOptions.History %d is outside 0–%d", opts.History, MaxHistory))
	}
	dir, err := filepath.Abs(orDefault(opts.DataDir, "."))
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(dir); err == nil && !fi.IsDir() {
			err = errors.New("not a directory")
		}
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("perf: SamplerOptions.DataDir %q must be an existing directory: %w", opts.DataDir, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	history := opts.History
	if history == 0 {
		history = min(int((24*time.Hour+interval-1)/interval), MaxHistory)
	}
	s := &Sampler{
		interval: interval,
		dataDir:  dir,
		extraFn:  opts.Extra,
		log:      opts.Logger,
		now:      opts.Now,
		history:  make([]SystemSample, history),
		warned:   map[string]bool{},
		rm: []metrics.Sample{
			{Name: "/sched/goroutines:goroutines"},
			{Name: "/sched/gomaxprocs:threads"},
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/memory/classes/total:bytes"},
			{Name: "/gc/cycles/total:gc-cycles"},
			{Name: "/sched/pauses/total/gc:seconds"},
		},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.started = s.now()
	s.realStart = time.Now()
	s.proc, _ = process.NewProcess(int32(os.Getpid())) // nil on error: process figures are then reported missing
	if s.proc != nil {
		if t, err := s.proc.Times(); err == nil {
			s.lastProc = t.User + t.System
		}
	}
	if t, err := cpu.Times(false); err == nil && len(t) > 0 {
		s.lastCPU, s.cpuOK = t[0], true
	}
	cgDir := opts.CgroupDir
	if cgDir == "" {
		cgDir, _ = findCgroupDir("/proc")
	}
	if cgDir != "" {
		s.cgroup = &cgroupReader{dir: cgDir}
		_, _ = s.cgroup.read(s.monotonic()) // prime the CPU figures
	}
	return s, nil
}

// Interval returns the time between samples taken by Run.
func (s *Sampler) Interval() time.Duration { return s.interval }

// DataDir returns the absolute path of the directory whose disk is
// measured.
func (s *Sampler) DataDir() string { return s.dataDir }

// monotonic returns the real seconds since NewSampler, for CPU rates.
func (s *Sampler) monotonic() float64 { return time.Since(s.realStart).Seconds() }

// Run samples now and then every Interval until ctx is done, and returns
// nil then. Run it in its own goroutine: go sampler.Run(ctx).
func (s *Sampler) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if _, err := s.Sample(ctx); err != nil {
			return nil // ctx is done
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sample takes a sample now, adds it to the history and returns it. Parts
// that cannot be read are named in SystemSample.Errors; the error is
// ctx's, when it is done.
func (s *Sampler) Sample(ctx context.Context) (SystemSample, error) {
	if err := ctx.Err(); err != nil {
		return SystemSample{}, err
	}
	s.sampling.Lock()
	defer s.sampling.Unlock()
	smp := s.take(ctx)
	if err := ctx.Err(); err != nil {
		return SystemSample{}, err
	}
	extra := s.callExtra(ctx)
	s.mu.Lock()
	s.history[s.next] = smp
	s.next = (s.next + 1) % len(s.history)
	s.n = min(s.n+1, len(s.history))
	if s.extraFn != nil {
		s.extra = extra
	}
	s.mu.Unlock()
	return smp, nil
}

// take reads every part of a sample. Callers hold s.sampling.
func (s *Sampler) take(ctx context.Context) SystemSample {
	now := s.now()
	smp := SystemSample{Time: now, CPUs: runtime.NumCPU(), DiskPath: s.dataDir}
	fail := func(part string, err error) {
		msg := part + ": " + err.Error()
		smp.Errors = append(smp.Errors, msg)
		if !s.warned[part] {
			s.warned[part] = true
			s.log.Warn("perf: cannot read a system figure; it is reported as missing", "part", part, "err", err)
		}
	}
	mono := s.monotonic()
	elapsed := mono - s.lastAt

	if t, err := cpu.TimesWithContext(ctx, false); err != nil || len(t) == 0 {
		fail("cpu", orDefault(err, error(errors.New("no CPU times"))))
	} else {
		if s.cpuOK {
			smp.CPUPercent = cpuBusy(s.lastCPU, t[0])
		}
		s.lastCPU, s.cpuOK = t[0], true
	}
	if n, err := cpu.CountsWithContext(ctx, true); err == nil && n > 0 {
		smp.CPUs = n
	}
	if l, err := load.AvgWithContext(ctx); err != nil {
		fail("load", err)
	} else {
		smp.Load1, smp.Load5, smp.Load15 = l.Load1, l.Load5, l.Load15
	}
	if m, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		fail("memory", err)
	} else {
		smp.MemoryTotal, smp.MemoryAvailable, smp.MemoryUsed, smp.MemoryPercent = m.Total, m.Available, m.Used, m.UsedPercent
	}
	if m, err := mem.SwapMemoryWithContext(ctx); err != nil {
		fail("swap", err)
	} else {
		smp.SwapTotal, smp.SwapUsed, smp.SwapPercent = m.Total, m.Used, m.UsedPercent
	}
	if d, err := disk.UsageWithContext(ctx, s.dataDir); err != nil {
		fail("disk", err)
	} else {
		smp.DiskTotal, smp.DiskFree, smp.DiskUsed, smp.DiskPercent = d.Total, d.Free, d.Used, d.UsedPercent
	}
	smp.Process = s.processStats(ctx, now, elapsed, fail)
	smp.Go = s.goStats()
	if s.cgroup != nil {
		if cg, err := s.cgroup.read(mono); err != nil {
			fail("cgroup", err)
		} else {
			smp.Cgroup = cg
		}
	}
	s.lastAt = mono
	smp.Health = healthOf(&smp)
	return smp
}

// cpuBusy returns the busy share of the CPU time between two readings, in
// percent. Guest time is already part of user time on Linux.
func cpuBusy(a, b cpu.TimesStat) float64 {
	total := func(t cpu.TimesStat) float64 {
		return t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	}
	dt := total(b) - total(a)
	idle := (b.Idle + b.Iowait) - (a.Idle + a.Iowait)
	if dt <= 0 {
		return 0
	}
	return math.Min(math.Max((dt-idle)/dt*100, 0), 100)
}

func (s *Sampler) processStats(ctx context.Context, now time.Time, elapsed float64, fail func(string, error)) ProcessStats {
	ps := ProcessStats{PID: os.Getpid(), OpenFDs: -1, UptimeSeconds: now.Sub(s.started).Seconds()}
	if s.proc == nil {
		fail("process", errors.New("process not found"))
		return ps
	}
	if m, err := s.proc.MemoryInfoWithContext(ctx); err != nil {
		fail("process memory", err)
	} else {
		ps.RSS = m.RSS
	}
	if n, err := s.proc.NumFDsWithContext(ctx); err != nil {
		fail("process fds", err)
	} else {
		ps.OpenFDs = int(n)
	}
	if n, err := s.proc.NumThreadsWithContext(ctx); err == nil {
		ps.Threads = int(n)
	}
	if t, err := s.proc.TimesWithContext(ctx); err != nil {
		fail("process cpu", err)
	} else {
		used := t.User + t.System
		if elapsed > 0 {
			ps.CPUPercent = math.Max((used-s.lastProc)/elapsed*100, 0)
		}
		s.lastProc = used
	}
	return ps
}

// goStats reads runtime/metrics. Callers hold s.sampling (s.rm is reused).
func (s *Sampler) goStats() GoStats {
	metrics.Read(s.rm)
	var g GoStats
	u := func(i int) uint64 {
		if s.rm[i].Value.Kind() == metrics.KindUint64 {
			return s.rm[i].Value.Uint64()
		}
		return 0
	}
	g.Goroutines, g.GOMAXPROCS = int(u(0)), int(u(1))
	g.HeapBytes, g.TotalBytes, g.GCCycles = u(2), u(3), u(4)
	if s.rm[5].Value.Kind() == metrics.KindFloat64Histogram {
		h := s.rm[5].Value.Float64Histogram()
		g.GCPauseP50 = histQuantile(h, 0.5)
		g.GCPauseP90 = histQuantile(h, 0.9)
		g.GCPauseP99 = histQuantile(h, 0.99)
		g.GCPauseMax = histQuantile(h, 1)
	}
	return g
}

// histQuantile returns the upper bound of the bucket of a runtime/metrics
// histogram that holds the q-quantile (its lower bound for the last,
// unbounded bucket), or 0 when the histogram is empty.
func histQuantile(h *metrics.Float64Histogram, q float64) float64 {
	i, ok := rankBucket(h.Counts, q)
	if !ok {
		return 0
	}
	if hi := h.Buckets[i+1]; !math.IsInf(hi, 0) {
		return hi
	}
	return math.Max(h.Buckets[i], 0)
}

// healthOf applies the Health thresholds to a sample.
func healthOf(s *SystemSample) Health {
	cpuPct, memPct, diskPct := s.CPUPercent, s.MemoryPercent, s.DiskPercent
	if cg := s.Cgroup; cg != nil {
		memPct = math.Max(memPct, cg.MemoryPercent)
		if cg.CPULimit > 0 {
			cpuPct = math.Max(cpuPct, cg.CPUPercent)
		}
	}
	switch {
	case cpuPct > critCPU || memPct > critMemory || diskPct > critDisk:
		return HealthCritical
	case cpuPct > warnCPU || memPct > warnMemory || diskPct > warnDisk:
		return HealthWarning
	}
	return HealthHealthy
}

// extraTimeout bounds a call of SamplerOptions.Extra.
const extraTimeout = 10 * time.Second

func (s *Sampler) callExtra(ctx context.Context) (extra map[string]any) {
	if s.extraFn == nil {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("perf: SamplerOptions.Extra panicked; its figures are dropped", "panic", fmt.Sprint(p))
			extra = nil
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, extraTimeout)
	defer cancel()
	extra = s.extraFn(ctx)
	// The handlers serve the map as JSON: refuse it now rather than fail
	// every response later.
	if _, err := json.Marshal(extra); err != nil {
		s.log.Error("perf: SamplerOptions.Extra returned figures that cannot be encoded as JSON; they are dropped", "err", err)
		return nil
	}
	return extra
}

// Latest returns the most recent sample, and false before the first.
func (s *Sampler) Latest() (SystemSample, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		return SystemSample{}, false
	}
	return s.history[mod(int64(s.next-1), len(s.history))], true
}

// History returns the samples taken after since, oldest first.
func (s *Sampler) History(since time.Time) []SystemSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SystemSample, 0, s.n)
	for i := range s.n {
		smp := s.history[mod(int64(s.next-s.n+i), len(s.history))]
		if smp.Time.After(since) {
			out = append(out, smp)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// Extra returns the figures SamplerOptions.Extra returned at the latest
// sample (nil before the first, or without Extra). Do not modify the map.
func (s *Sampler) Extra() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.extra
}
