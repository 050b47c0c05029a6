package health

import (
	"bytes"
	"fmt"
	"io"
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
		e.counter("launcher_child_cpu_seconds_total", *c.CPUSeconds)
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
	e.set.WritePrometheus(w)
}
