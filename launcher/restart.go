package launcher

import (
	"fmt"
	"strings"
	"time"

	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/plural"
)

// stableUptime is how long a child must stay in good health (ready) for
// the backoff to start again from LAUNCHER_RESTART_DELAY (a variable for
// the tests alone).
var stableUptime = 60 * time.Second

// Restart reasons: why a child ended, as logged and published.
const (
	ReasonExit      = "exit"      // it exited by itself, or died of a signal
	ReasonStop      = "stop"      // the launcher was asked to stop
	ReasonReadiness = "readiness" // no readiness within LAUNCHER_READY_TIMEOUT
	ReasonLiveness  = "liveness"  // LAUNCHER_LIVENESS_FAILURES failed probes in a row
	ReasonMemory    = "memory"    // resident memory above LAUNCHER_MEMORY_LIMIT
	ReasonOOM       = "oom"       // the kernel's OOM killer, as the cgroup counts it
	ReasonResources = "resources" // it could not be checked or started: descriptors, processes or memory ran short
)

// Backoff decides whether and when a child that ended is started again:
// the restart policy, a delay doubling from base to max per consecutive
// failure (reset after stableUptime ready), and at most limit restarts
// within window.
type Backoff struct {
	Policy      config.RestartPolicy
	Limit       int
	Window      time.Duration
	Base, Max   time.Duration
	history     []time.Time // restarts within the window
	consecutive int         // restarts since the last stable run
}

// NewBackoff takes its settings from the configuration.
func NewBackoff(cfg *config.Config) *Backoff {
	return &Backoff{
		Policy: cfg.Restart, Limit: cfg.RestartLimit, Window: cfg.RestartWindow,
		Base: cfg.RestartDelay, Max: cfg.RestartDelayMax,
	}
}

// Decision is what follows a child's end.
type Decision struct {
	Restart bool
	Delay   time.Duration
	// Why explains the decision for the log.
	Why string
}

// Decide is called once per child end with the time, how long the child
// was in good health (ready) before it ended, how it ended, and why (one
// of the Reason constants).
func (b *Backoff) Decide(now time.Time, healthy time.Duration, status ExitStatus, reason string) Decision {
	failed := !status.Success() || reason != ReasonExit
	switch {
	case b.Policy == config.RestartNever:
		return Decision{Why: "restart policy is never"}
	case b.Policy == config.RestartOnFailure && !failed:
		return Decision{Why: "it exited with code 0 and the restart policy is on-failure"}
	}
	if healthy >= stableUptime {
		b.consecutive = 0
	}
	kept := b.history[:0]
	for _, t := range b.history {
		if now.Sub(t) < b.Window {
			kept = append(kept, t)
		}
	}
	b.history = kept
	if len(b.history) >= b.Limit {
		return Decision{Why: fmt.Sprintf("%d %s within %s (LAUNCHER_RESTART_LIMIT)", len(b.history), plural.Of(len(b.history), "restart"), HumanDuration(b.Window))}
	}
	delay := b.Base
	for i := 0; i < b.consecutive && delay < b.Max; i++ {
		delay *= 2
	}
	delay = min(delay, b.Max)
	b.consecutive++
	b.history = append(b.history, now)
	return Decision{
		Restart: true,
		Delay:   delay,
		Why:     fmt.Sprintf("restart %d of %d within %s", len(b.history), b.Limit, HumanDuration(b.Window)),
	}
}

// HumanDuration prints d without Go's trailing zero units: 10m, 1m30s, 250ms.
func HumanDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
