package health

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/VictoriaMetrics/metrics"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/preflight"
)

// exposition keeps one metrics.Set whose values are set from a single
// snapshot at each scrape; a value not known yet is left out rather than
// written as 0.
type exposition struct {
	mu    sync.Mutex
	store *launcher.StateStore
	set   *metrics.Set
	// The last rendering and what it was rendered from: snapshots are
	// immutable, so the same snapshot and count give the same bytes, and a
	// scraper polling faster than the state changes costs only the copy.
	cached       []byte
	cachedSnap   *launcher.Snapshot
	cachedReaped int64
}

func newExposition(store *launcher.StateStore) *exposition {
	metrics.ExposeMetadata(true)
	e := &exposition{store: store, set: metrics.NewSet()}
	e.set.GetOrCreateGauge(fmt.Sprintf(`launcher_build_info{version=%q,goversion=%q}`, store.Load().Version, runtime.Version()), nil).Set(1)
	return e
}

func (e *exposition) gauge(name string, v *float64) {
	if v == nil {
		e.set.UnregisterMetric(name)
		return
	}
	e.set.GetOrCreateGauge(name, nil).Set(*v)
}

func (e *exposition) counter(name string, v float64) {
	e.set.GetOrCreateFloatCounter(name).Set(v)
}

func f64[T int | int32 | int64 | uint64 | float64](v *T) *float64 {
	if v == nil {
		return nil
	}
	f := float64(*v)
	return &f
}

func boolValue(b bool) *float64 {
	v := 0.0
	if b {
		v = 1
	}
	return &v
}

// write sets every value from one snapshot and writes the exposition.
func (e *exposition) write(w io.Writer) {
	snap, reaped := e.store.Load(), e.store.Reaped()
	e.mu.Lock()
	defer e.mu.Unlock()
	if snap != e.cachedSnap || reaped != e.cachedReaped || e.cached == nil {
		var buf bytes.Buffer
		e.render(&buf, snap, reaped)
		e.cached, e.cachedSnap, e.cachedReaped = buf.Bytes(), snap, reaped
	}
	_, _ = w.Write(e.cached)
}

func (e *exposition) render(w io.Writer, snap *launcher.Snapshot, reaped int64) {
	ms := func(v *float64) *float64 {
		if v == nil {
			return nil
		}
		s := *v / 1000
		return &s
	}
	e.gauge(`launcher_startup_seconds{phase="preflight"}`, ms(snap.Startup.PreflightMS))
	e.gauge(`launcher_startup_seconds{phase="spawn"}`, ms(snap.Startup.SpawnMS))
	e.gauge(`launcher_startup_seconds{phase="ready"}`, ms(snap.Startup.ReadyMS))

	c := snap.Child
	e.gauge("launcher_child_up", boolValue(c.PID != nil))
	e.gauge("launcher_child_ready", boolValue(c.Ready))
	var start *float64
	if c.StartedAt != nil {
		v := float64(c.StartedAt.UnixNano()) / 1e9
		start = &v
	}
	e.gauge("launcher_child_start_time_seconds", start)
	e.gauge("launcher_child_ready_seconds", c.ReadySeconds)
	e.counter("launcher_child_restarts_total", float64(c.Restarts))
	var lastExit *float64
	if c.LastExit != nil {
		v := float64(c.LastExit.Code)
		lastExit = &v
	}
	e.gauge("launcher_child_last_exit_code", lastExit)
	e.gauge("launcher_child_resident_memory_bytes", f64(c.RSSBytes))
	e.gauge("launcher_child_virtual_memory_bytes", f64(c.VMSBytes))
	if c.CPUSeconds != nil {
		// Clock ticks summed as floats (0.21000000000000002): whole microseconds.
		e.counter("launcher_child_cpu_seconds_total", math.Round(*c.CPUSeconds*1e6)/1e6)
	}
	e.gauge("launcher_child_open_fds", f64(c.OpenFDs))
	e.gauge("launcher_child_threads", f64(c.Threads))

	e.gauge("launcher_resident_memory_bytes", f64(snap.Launcher.RSSBytes))
	e.counter("launcher_reaped_processes_total", float64(reaped))
	for sig, n := range snap.SignalsForwarded {
		e.counter(fmt.Sprintf(`launcher_signals_forwarded_total{signal=%q}`, sig), float64(n))
	}
	e.gauge("launcher_container_memory_limit_bytes", f64(snap.Container.MemoryLimitBytes))
	e.gauge("launcher_container_memory_usage_bytes", f64(snap.Container.MemoryUsageBytes))
	if snap.Preflight != nil {
		for _, ch := range snap.Preflight.Checks {
			e.gauge(fmt.Sprintf(`launcher_preflight_check_success{check=%q}`, ch.Name), boolValue(ch.Status != preflight.StatusFail))
		}
	}
	var raw bytes.Buffer
	e.set.WritePrometheus(&raw)
	writeWithHelp(w, raw.Bytes())
}

// help says what each metric measures: the library writes "# HELP name"
// with no text, so the text is added here.
var help = map[string]string{
	"launcher_build_info":                   "The launcher's version and Go version, as labels; always 1.",
	"launcher_startup_seconds":              "Seconds from the launcher's start to the end of each phase of the first start: preflight, spawn, ready.",
	"launcher_child_up":                     "1 while the child (node) runs.",
	"launcher_child_ready":                  "1 while the child is ready (its ready URL answered 2xx, or it sent ready over IPC).",
	"launcher_child_start_time_seconds":     "When the current child started, in seconds since the Unix epoch.",
	"launcher_child_ready_seconds":          "Seconds from the current child's spawn to its readiness.",
	"launcher_child_restarts_total":         "Restarts of the child since the launcher started.",
	"launcher_child_last_exit_code":         "The last child's exit code as a shell reports it (128+N for a death by signal N).",
	"launcher_child_resident_memory_bytes":  "The child's resident memory (RSS), at the last sample.",
	"launcher_child_virtual_memory_bytes":   "The child's virtual memory size, at the last sample.",
	"launcher_child_cpu_seconds_total":      "CPU time the current child used, user and system, at the last sample.",
	"launcher_child_open_fds":               "File descriptors the child holds open, at the last sample.",
	"launcher_child_threads":                "The child's threads, at the last sample.",
	"launcher_resident_memory_bytes":        "The launcher's own resident memory, at the last sample.",
	"launcher_reaped_processes_total":       "Orphaned processes the launcher reaped (not its own child).",
	"launcher_signals_forwarded_total":      "Signals forwarded to the child, by signal.",
	"launcher_container_memory_limit_bytes": "The container's memory limit, from its cgroup; absent when there is none.",
	"launcher_container_memory_usage_bytes": "The container's memory usage, from its cgroup.",
	"launcher_preflight_check_success":      "1 when the last preflight's check passed or warned, 0 when it failed, by check.",
}

// writeWithHelp copies the exposition, giving each "# HELP name" line
// its text.
func writeWithHelp(w io.Writer, raw []byte) {
	for _, line := range bytes.SplitAfter(raw, []byte("\n")) {
		if name, ok := bytes.CutPrefix(bytes.TrimRight(line, "\n"), []byte("# HELP ")); ok && !bytes.ContainsRune(name, ' ') {
			if text := help[string(name)]; text != "" {
				fmt.Fprintf(w, "# HELP %s %s\n", name, text)
				continue
			}
		}
		_, _ = w.Write(line)
	}
}
