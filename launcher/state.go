package launcher

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hasync/launcher/launcher/disk"
	"github.com/hasync/launcher/launcher/preflight"
)

// processStart is as close to the process's start as Go lets us get: the
// startup timeline is measured from here, on the monotonic clock.
var processStart = time.Now()

// Supervision states, as /status reports them.
const (
	StateStarting   = "starting"   // preflight, spawning
	StateRunning    = "running"    // the child is up, not ready yet
	StateReady      = "ready"      // the child answered readiness
	StateRestarting = "restarting" // stopping the child for a restart, or waiting out the backoff
	StateStopping   = "stopping"   // a stop was asked for
	StateStopped    = "stopped"    // ended cleanly
	StateFailed     = "failed"     // ended: preflight failed, restarts given up, or start failed
)

// Snapshot is the supervisor's state, published for the health server.
// A published Snapshot is never changed: readers may keep it.
type Snapshot struct {
	Version   string              `json:"version"`
	State     string              `json:"state"`
	Node      *preflight.NodeInfo `json:"node"`
	Preflight *preflight.Report   `json:"preflight"`
	Startup   Startup             `json:"startup"`
	Child     ChildState          `json:"child"`
	Launcher  LauncherState       `json:"launcher"`
	Container ContainerState      `json:"container"`

	// SignalsForwarded counts forwarded signals by name.
	SignalsForwarded map[string]int64 `json:"signals_forwarded"`
}

// Startup is the timeline of the first start: milliseconds from the
// launcher's start to the end of each phase; nil until reached.
type Startup struct {
	PreflightMS *float64 `json:"preflight_ms"`
	SpawnMS     *float64 `json:"spawn_ms"`
	ReadyMS     *float64 `json:"ready_ms"`
	// NodeStart is where node's first start went, once it is ready.
	NodeStart *NodeStart `json:"node_start"`
}

// ChildState is the current child and its history. What is the current
// child's (its pid, start, readiness, figures) is null while none runs.
type ChildState struct {
	PID          *int       `json:"pid"`
	StartedAt    *time.Time `json:"started_at"`
	Ready        bool       `json:"ready"`
	ReadySeconds *float64   `json:"ready_seconds"` // spawn to readiness of the current child
	Restarts     int        `json:"restarts"`
	// NextStartAt is when the restart delay ends and the child starts
	// again; null unless a restart is waiting.
	NextStartAt *time.Time `json:"next_start_at"`
	LastExit    *ExitInfo  `json:"last_exit"`
	RSSBytes    *uint64    `json:"rss_bytes"`
	VMSBytes    *uint64    `json:"vms_bytes"`
	CPUSeconds  *float64   `json:"cpu_seconds"`
	OpenFDs     *int32     `json:"open_fds"`
	Threads     *int32     `json:"threads"`
	// Listening is where the child listens ("0.0.0.0:8099"), read when
	// /status is asked (health), never published: null without a child.
	Listening []string `json:"listening"`
}

// ExitInfo is how the last child ended.
type ExitInfo struct {
	Code   int       `json:"code"`
	Signal string    `json:"signal"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Stderr []string  `json:"stderr_tail"`
	// Stack is the app's frames of Stderr in its sources, by the source
	// maps its compiler wrote: "at loadConfig (/app/src/config.ts:19:11)";
	// for a child restarted stuck, those of StuckAt; null when none maps.
	Stack []string `json:"stack_in_sources"`
	// StuckAt is where the child's main thread was, busy, when its health
	// route stopped answering (node's inspector paused it): "at spin
	// (/app/dist/work.js:3:9)", innermost first; null when it was not
	// looked at.
	StuckAt []string `json:"stuck_at"`
	// Diagnoses are why it failed, as the log told them (a cause and its
	// fix): what was seen before its end (a start not ready: where node
	// listens instead; where node was when it stopped answering, a verdict
	// without a fix of its own), then what its last words tell, read
	// against the container a moment after the exit; null when none is
	// known.
	Diagnoses []preflight.Diagnosis `json:"diagnoses"`
}

// LauncherState is the launcher's own figures.
type LauncherState struct {
	RSSBytes *uint64 `json:"rss_bytes"`
	Reaped   int64   `json:"reaped"`
}

// ContainerState is the container's memory, from its cgroup, and the disk
// under the add-on's data folder.
type ContainerState struct {
	MemoryLimitBytes *uint64    `json:"memory_limit_bytes"`
	MemoryUsageBytes *uint64    `json:"memory_usage_bytes"`
	Data             *DiskState `json:"data"`
}

// DiskState is the disk under the add-on's data folder (/data), as statfs
// tells at the last sample.
type DiskState struct {
	Path      string `json:"path"`
	SizeBytes uint64 `json:"size_bytes"`
	// FreeBytes is what a writer other than root may still take (df's
	// Avail).
	FreeBytes uint64 `json:"free_bytes"`
	ReadOnly  bool   `json:"read_only"`
}

// Healthy is /healthz: the launcher supervises, and the child is up or
// inside a restart backoff the policy allows.
func (s *Snapshot) Healthy() bool {
	switch s.State {
	case StateRunning, StateReady, StateRestarting:
		return true
	}
	return false
}

// Started reports whether the child has been ready since the launcher
// started: for a HEALTHCHECK, the end of the container's start.
func (s *Snapshot) Started() bool { return s.Startup.ReadyMS != nil }

// StateStore holds the latest Snapshot. The supervisor updates it; readers
// load it without ever blocking the supervisor (an atomic pointer).
type StateStore struct {
	mu     sync.Mutex // serialises writers only
	cur    atomic.Pointer[Snapshot]
	reaped atomic.Pointer[func() int64]
}

// CountReaped makes Reaped read the reaper's live count.
func (s *StateStore) CountReaped(count func() int64) { s.reaped.Store(&count) }

// Reaped is how many orphaned descendants have been reaped so far.
func (s *StateStore) Reaped() int64 {
	if f := s.reaped.Load(); f != nil {
		return (*f)()
	}
	return 0
}

// NewStateStore starts in state starting.
func NewStateStore(version string) *StateStore {
	s := &StateStore{}
	s.cur.Store(&Snapshot{Version: version, State: StateStarting, SignalsForwarded: map[string]int64{}})
	return s
}

// Load returns the current snapshot; never nil.
func (s *StateStore) Load() *Snapshot { return s.cur.Load() }

// Update publishes a copy of the snapshot changed by fn. fn must replace,
// not modify, the maps, slices and pointed-to values it changes.
func (s *StateStore) Update(fn func(*Snapshot)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := *s.cur.Load()
	fn(&next)
	s.cur.Store(&next)
}

func ptr[T any](v T) *T { return &v }

func msSince(t time.Time) *float64 { return ptr(ms(time.Since(t))) }

// ms is d in milliseconds, as the log's and /status's fields are, to the
// microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ProcessSample is one sample of the child's resources.
type ProcessSample struct {
	RSS, VMS   uint64
	CPUSeconds float64
	OpenFDs    int32
	Threads    int32
}

// HostSample is one sample of the launcher and its container.
type HostSample struct {
	LauncherRSS uint64
	// MemoryLimit is the cgroup's limit; 0 when there is none.
	MemoryLimit uint64
	MemoryUsage uint64
	// OOMKills counts the kernel's OOM kills in the container's cgroup.
	OOMKills uint64
	// Data is the disk under the add-on's data folder; nil when unknown.
	Data *disk.Usage
}

// Sampler reads resource figures; package health provides the real one
// (gopsutil and the cgroup files) and main hands it in.
type Sampler interface {
	Process(pid int) (ProcessSample, error)
	Host() HostSample
	// OOMKills is HostSample.OOMKills alone: one small read, for the start
	// path.
	OOMKills() uint64
}
