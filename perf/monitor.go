package perf

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Defaults of MonitorOptions: the Django original's monitor_performance.
const (
	// DefaultMonitorInterval is the time between samples: 60 s.
	DefaultMonitorInterval = 60 * time.Second
	// DefaultMonitorDuration is how long to monitor: 1 h.
	DefaultMonitorDuration = time.Hour
)

// MonitorOptions configures Monitor.
type MonitorOptions struct {
	// Sampler takes the samples. Required.
	Sampler *Sampler
	// Interval is the time between samples. Zero value:
	// DefaultMonitorInterval (60 s); at least MinSampleInterval.
	Interval time.Duration
	// Duration is how long to monitor: samples are taken at 0, Interval,
	// 2·Interval, ... while less than Duration has passed. Zero value:
	// DefaultMonitorDuration (1 h).
	Duration time.Duration
	// Table receives a header, a row per sample as it is taken, and a
	// summary at the end. Zero value: no table.
	Table io.Writer
	// CSV receives a header and a row per sample as it is taken. Zero
	// value: no CSV.
	CSV io.Writer
	// JSON receives {"samples": [...], "summary": {...}} when monitoring
	// ends, including when ctx ends it early. Zero value: no JSON.
	JSON io.Writer
}

// MonitorSummary sums up a monitoring run.
type MonitorSummary struct {
	// Samples is the number of samples taken.
	Samples int `json:"samples"`
	// StartedAt and EndedAt bound the run.
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	// Stopped is true when ctx ended the run before Duration.
	Stopped bool `json:"stopped"`
	// Worst is the worst Health seen.
	Worst Health `json:"worst_health"`
	// Host CPU and memory use (average and maximum over the samples) and
	// the fullest the data directory's disk was, in percent.
	CPUAverage    float64 `json:"cpu_percent_avg"`
	CPUMax        float64 `json:"cpu_percent_max"`
	MemoryAverage float64 `json:"memory_percent_avg"`
	MemoryMax     float64 `json:"memory_percent_max"`
	DiskMax       float64 `json:"disk_percent_max"`
}

// Monitor samples the system every Interval for Duration (the original's
// monitor_performance command), writing a table, CSV and JSON as asked,
// and returns the samples and their summary. When ctx ends first it stops,
// still writes the JSON, and reports Stopped; its error is then nil. The
// error reports bad options or a failed write.
func Monitor(ctx context.Context, opts MonitorOptions) ([]SystemSample, MonitorSummary, error) {
	var sum MonitorSummary
	if err := opts.validate(); err != nil {
		return nil, sum, err
	}
	interval := orDefault(opts.Interval, DefaultMonitorInterval)
	duration := orDefault(opts.Duration, DefaultMonitorDuration)
	out := &monitorOutput{table: opts.Table}
	if opts.CSV != nil {
		out.csv = csv.NewWriter(opts.CSV)
	}
	out.header()

	start := time.Now()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var samples []SystemSample
	sum.StartedAt = opts.Sampler.now()
loop:
	for {
		smp, err := opts.Sampler.Sample(ctx)
		if err != nil {
			sum.Stopped = true
			break
		}
		samples = append(samples, smp)
		out.row(&smp)
		if time.Since(start)+interval >= duration {
			break // the next sample would fall outside the run (so no deadline timer is needed)
		}
		select {
		case <-ctx.Done():
			sum.Stopped = true
			break loop
		case <-ticker.C:
		}
	}
	sum = summarise(samples, sum)
	sum.EndedAt = opts.Sampler.now()
	out.summary(&sum)
	if opts.JSON != nil && out.err == nil {
		enc := json.NewEncoder(opts.JSON)
		enc.SetIndent("", "  ")
		out.err = enc.Encode(struct {
			Samples []SystemSample `json:"samples"`
			Summary MonitorSummary `json:"summary"`
		}{orEmpty(samples), sum})
	}
	if out.err != nil {
		return samples, sum, fmt.Errorf("perf: monitor output: %w", out.err)
	}
	return samples, sum, nil
}

func orEmpty(s []SystemSample) []SystemSample {
	if s == nil {
		return []SystemSample{}
	}
	return s
}

func (o MonitorOptions) validate() error {
	var errs []error
	if o.Sampler == nil {
		errs = append(errs, errors.New("perf: MonitorOptions.Sampler is required"))
	}
	if o.Interval != 0 && o.Interval < MinSampleInterval {
		errs = append(errs, fmt.Errorf("perf: MonitorOptions.Interval %v is below %v", o.Interval, MinSampleInterval))
	}
	if o.Duration < 0 {
		errs = append(errs, errors.New("perf: MonitorOptions.Duration is negative"))
	}
	return errors.Join(errs...)
}

// summarise fills sum from samples.
func summarise(samples []SystemSample, sum MonitorSummary) MonitorSummary {
	sum.Samples = len(samples)
	sum.Worst = HealthUnknown
	rank := map[Health]int{HealthUnknown: 0, HealthHealthy: 1, HealthWarning: 2, HealthCritical: 3}
	for _, s := range samples {
		if rank[s.Health] > rank[sum.Worst] {
			sum.Worst = s.Health
		}
		sum.CPUAverage += s.CPUPercent / float64(len(samples))
		sum.MemoryAverage += s.MemoryPercent / float64(len(samples))
		sum.CPUMax = max(sum.CPUMax, s.CPUPercent)
		sum.MemoryMax = max(sum.MemoryMax, s.MemoryPercent)
		sum.DiskMax = max(sum.DiskMax, s.DiskPercent)
	}
	return sum
}

// monitorOutput writes the table and the CSV, keeping the first error.
type monitorOutput struct {
	table io.Writer
	csv   *csv.Writer
	err   error
}

const (
	tableHeader = "%-20s  %-8s  %6s  %6s  %6s  %6s  %6s  %6s  %9s  %5s  %10s  %9s\n"
	tableRow    = "%-20s  %-8s  %6.1f  %6.1f  %6.1f  %6.1f  %6s  %6.2f  %9s  %5d  %10d  %9s\n"
)

// csvHeader returns the CSV columns, one per field row writes.
func csvHeader() []string {
	return []string{
		"timestamp", "health", "cpu_percent", "memory_percent", "memory_available", "swap_percent",
		"disk_percent", "disk_free", "load1", "load5", "load15", "process_rss", "process_open_fds",
		"process_cpu_percent", "goroutines", "gc_pause_p99_seconds", "cgroup_memory_percent", "cgroup_cpu_percent",
	}
}

func (o *monitorOutput) printf(format string, args ...any) {
	if o.table != nil && o.err == nil {
		_, o.err = fmt.Fprintf(o.table, format, args...)
	}
}

func (o *monitorOutput) csvRow(rec []string) {
	if o.csv != nil && o.err == nil {
		if o.err = o.csv.Write(rec); o.err == nil {
			o.csv.Flush()
			o.err = o.csv.Error()
		}
	}
}

func (o *monitorOutput) header() {
	o.printf(tableHeader, "time", "health", "cpu%", "mem%", "swap%", "disk%", "cg mem", "load1", "rss", "fds", "goroutines", "gc p99")
	o.csvRow(csvHeader())
}

func (o *monitorOutput) row(s *SystemSample) {
	cgMem, cgMemCSV, cgCPUCSV := "-", "", ""
	if cg := s.Cgroup; cg != nil {
		cgCPUCSV = fmtFloat(cg.CPUPercent)
		if cg.MemoryLimit > 0 {
			cgMem, cgMemCSV = strconv.FormatFloat(cg.MemoryPercent, 'f', 1, 64), fmtFloat(cg.MemoryPercent)
		}
	}
	o.printf(tableRow, s.Time.UTC().Format(time.RFC3339), s.Health, s.CPUPercent, s.MemoryPercent, s.SwapPercent,
		s.DiskPercent, cgMem, s.Load1, humanBytes(s.Process.RSS), s.Process.OpenFDs, s.Go.Goroutines,
		time.Duration(s.Go.GCPauseP99*float64(time.Second)).Round(time.Microsecond).String())
	o.csvRow([]string{
		s.Time.UTC().Format(time.RFC3339Nano), string(s.Health), fmtFloat(s.CPUPercent), fmtFloat(s.MemoryPercent),
		strconv.FormatUint(s.MemoryAvailable, 10), fmtFloat(s.SwapPercent), fmtFloat(s.DiskPercent),
		strconv.FormatUint(s.DiskFree, 10), fmtFloat(s.Load1), fmtFloat(s.Load5), fmtFloat(s.Load15),
		strconv.FormatUint(s.Process.RSS, 10), strconv.Itoa(s.Process.OpenFDs), fmtFloat(s.Process.CPUPercent),
		strconv.Itoa(s.Go.Goroutines), fmtFloat(s.Go.GCPauseP99), cgMemCSV, cgCPUCSV,
	})
}

func (o *monitorOutput) summary(s *MonitorSummary) {
	stopped := ""
	if s.Stopped {
		stopped = " (stopped early)"
	}
	o.printf("\n%d samples from %s to %s%s; worst health: %s\n", s.Samples,
		s.StartedAt.UTC().Format(time.RFC3339), s.EndedAt.UTC().Format(time.RFC3339), stopped, s.Worst)
	o.printf("cpu avg %.1f%% max %.1f%%; memory avg %.1f%% max %.1f%%; disk max %.1f%%\n",
		s.CPUAverage, s.CPUMax, s.MemoryAverage, s.MemoryMax, s.DiskMax)
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// humanBytes formats n with a binary unit, e.g. "18.7MiB".
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + "B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + string("KMGTP"[exp]) + "iB"
}
