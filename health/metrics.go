package health

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/preflight"
)

// exposition writes the Prometheus text format from a single snapshot at
// each scrape; a value not known yet is left out rather than written as 0.
type exposition struct {
	mu        sync.Mutex
	store     *launcher.StateStore
	buildInfo string // the launcher_build_info series, fixed at start
	// The last rendering and what it was rendered from: snapshots are
	// immutable, so the same snapshot and count give the same bytes, and a
	// scraper polling faster than the state changes costs only the copy.
	cached       []byte
	cachedSnap   *launcher.Snapshot
	cachedReaped int64
}

func newExposition(store *launcher.StateStore) *exposition {
	return &exposition{store: store, buildInfo: series("launcher_build_info",
		label("version", store.Load().Version), label("goversion", runtime.Version()))}
}

// sample is one series and its value.
type sample struct {
	series string // name{labels}
	value  float64
}

// samples gathers a rendering's series; nil values are left out.
type samples []sample

func (ss *samples) add(series string, v *float64) {
	if v != nil {
		*ss = append(*ss, sample{series, *v})
	}
}

// series is name{labels}, or name alone without labels.
func series(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	return name + "{" + strings.Join(labels, ",") + "}"
}

// labelValue escapes as the text format asks: backslash, quote, newline.
var labelValue = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func label(name, value string) string {
	return name + `="` + labelValue.Replace(value) + `"`
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

func value(v float64) *float64 { return &v }

// current is the exposition of the current snapshot. The caller must not
// change it: it is kept for the next scrape.
func (e *exposition) current() []byte {
	snap, reaped := e.store.Load(), e.store.Reaped()
	e.mu.Lock()
	defer e.mu.Unlock()
	if snap != e.cachedSnap || reaped != e.cachedReaped || e.cached == nil {
		e.cached, e.cachedSnap, e.cachedReaped = e.render(snap, reaped), snap, reaped
	}
	return e.cached
}

func (e *exposition) render(snap *launcher.Snapshot, reaped int64) []byte {
	ms := func(v *float64) *float64 {
		if v == nil {
			return nil
		}
		s := *v / 1000
		return &s
	}
	var ss samples
	ss.add(e.buildInfo, value(1))
	ss.add(series("launcher_startup_seconds", label("phase", "preflight")), ms(snap.Startup.PreflightMS))
	ss.add(series("launcher_startup_seconds", label("phase", "spawn")), ms(snap.Startup.SpawnMS))
	ss.add(series("launcher_startup_seconds", label("phase", "ready")), ms(snap.Startup.ReadyMS))

	c := snap.Child
	ss.add("launcher_child_up", boolValue(c.PID != nil))
	ss.add("launcher_child_ready", boolValue(c.Ready))
	if c.StartedAt != nil {
		ss.add("launcher_child_start_time_seconds", value(float64(c.StartedAt.UnixNano())/1e9))
	}
	ss.add("launcher_child_ready_seconds", c.ReadySeconds)
	ss.add("launcher_child_restarts_total", value(float64(c.Restarts)))
	if c.LastExit != nil {
		ss.add("launcher_child_last_exit_code", value(float64(c.LastExit.Code)))
	}
	ss.add("launcher_child_resident_memory_bytes", f64(c.RSSBytes))
	ss.add("launcher_child_virtual_memory_bytes", f64(c.VMSBytes))
	if c.CPUSeconds != nil {
		// Clock ticks summed as floats (0.21000000000000002): whole microseconds.
		ss.add("launcher_child_cpu_seconds_total", value(math.Round(*c.CPUSeconds*1e6)/1e6))
	}
	ss.add("launcher_child_open_fds", f64(c.OpenFDs))
	ss.add("launcher_child_threads", f64(c.Threads))

	ss.add("launcher_resident_memory_bytes", f64(snap.Launcher.RSSBytes))
	ss.add("launcher_reaped_processes_total", value(float64(reaped)))
	for sig, n := range snap.SignalsForwarded {
		ss.add(series("launcher_signals_forwarded_total", label("signal", sig)), value(float64(n)))
	}
	ss.add("launcher_container_memory_limit_bytes", f64(snap.Container.MemoryLimitBytes))
	ss.add("launcher_container_memory_usage_bytes", f64(snap.Container.MemoryUsageBytes))
	if d := snap.Container.Data; d != nil {
		ss.add("launcher_data_disk_size_bytes", value(float64(d.SizeBytes)))
		ss.add("launcher_data_disk_free_bytes", value(float64(d.FreeBytes)))
	}
	if snap.Preflight != nil {
		for _, ch := range snap.Preflight.Checks {
			ss.add(series("launcher_preflight_check_success", label("check", ch.Name)), boolValue(ch.Status != preflight.StatusFail))
		}
		ss.add("launcher_preflight_recalled", boolValue(!snap.Preflight.Recorded.IsZero()))
	}
	return ss.text()
}

// text is the exposition: families sorted by name, each under one HELP
// and TYPE line, its series sorted. A name ending in _total is a counter,
// every other a gauge, as Prometheus' naming rules have it.
func (ss samples) text() []byte {
	name := func(s sample) string { n, _, _ := strings.Cut(s.series, "{"); return n }
	sort.Slice(ss, func(i, j int) bool {
		if ni, nj := name(ss[i]), name(ss[j]); ni != nj {
			return ni < nj
		}
		return ss[i].series < ss[j].series
	})
	var b []byte
	family := ""
	for _, s := range ss {
		name := name(s)
		if name != family {
			family = name
			kind := "gauge"
			if strings.HasSuffix(name, "_total") {
				kind = "counter"
			}
			b = fmt.Appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help[name], name, kind)
		}
		b = append(append(b, s.series...), ' ')
		// Whole numbers as integers (46493696, not 4.6493696e+07).
		if s.value == math.Trunc(s.value) && math.Abs(s.value) < 1<<53 {
			b = strconv.AppendInt(b, int64(s.value), 10)
		} else {
			b = strconv.AppendFloat(b, s.value, 'g', -1, 64)
		}
		b = append(b, '\n')
	}
	return b
}

// help says what each metric measures, for its HELP line.
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
	"launcher_data_disk_size_bytes":         "The size of the disk under the add-on's data folder (/data), at the last sample.",
	"launcher_data_disk_free_bytes":         "What the disk under the add-on's data folder (/data) has free for a writer other than root (df's Avail), at the last sample.",
	"launcher_preflight_check_success":      "1 when the last preflight's check passed or warned, 0 when it failed, by check.",
	"launcher_preflight_recalled":           "1 when the last preflight's report was recalled from its record (nothing it read had changed), 0 when its checks ran.",
}
