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
//
// A failure for want of the network (End.Unreached: Home Assistant
// restarting, a DNS server not up yet at the machine's start) is not
// counted toward the limit while such failures have lasted less than a
// window: the limit is there to end a crash loop, and this is a wait for
// what node connects to, which takes minutes when it is Home Assistant
// restarting on a Raspberry Pi, longer than the default limit's 31 s of
// delays. Past the window they count: a wrong address does not restart
// forever.
type Backoff struct {
	Policy      config.RestartPolicy
	Limit       int
	Window      time.Duration
	Base, Max   time.Duration
	history     []time.Time // restarts within the window
	consecutive int         // restarts since the last stable run
	unreached   time.Time   // the first of the failures in a row for want of the network; zero when the last end was none
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

// End is how a child ended, as the restart policy weighs it.
type End struct {
	Status ExitStatus
	Reason string // one of the Reason constants
	// Healthy is how long the child was in good health (ready) before it
	// ended.
	Healthy time.Duration
	// Unreached: it failed for want of something on the network that may
	// come back (preflight.Diagnosis.Unreached, said of all its failure's
	// diagnoses).
	Unreached bool
}

// Decide is called once per child end with the time and how it ended.
func (b *Backoff) Decide(now time.Time, end End) Decision {
	failed := !end.Status.Success() || end.Reason != ReasonExit
	switch {
	case b.Policy == config.RestartNever:
		return Decision{Why: "restart policy is never"}
	case b.Policy == config.RestartOnFailure && !failed:
		return Decision{Why: "it exited with code 0 and the restart policy is on-failure"}
	}
	if end.Healthy >= stableUptime {
		b.consecutive = 0
	}
	if !end.Unreached || !failed {
		b.unreached = time.Time{}
	} else if b.unreached.IsZero() || end.Healthy >= stableUptime {
		b.unreached = now
	}
	kept := b.history[:0]
	for _, t := range b.history {
		if now.Sub(t) < b.Window {
			kept = append(kept, t)
		}
	}
	b.history = kept
	waited := now.Sub(b.unreached)
	if !b.unreached.IsZero() && waited < b.Window {
		why := "for want of the network"
		if waited >= time.Second {
			why += ", " + HumanDuration(waited.Round(time.Second)) + " so far"
		}
		return Decision{
			Restart: true,
			Delay:   b.next(),
			Why:     fmt.Sprintf("%s: not counted toward LAUNCHER_RESTART_LIMIT until such failures have lasted %s", why, HumanDuration(b.Window)),
		}
	}
	counted := ""
	if !b.unreached.IsZero() {
		counted = fmt.Sprintf("; failures for want of the network count once they have lasted %s", HumanDuration(b.Window))
	}
	if len(b.history) >= b.Limit {
		return Decision{Why: fmt.Sprintf("%d %s within %s (LAUNCHER_RESTART_LIMIT)%s", len(b.history), plural.Of(len(b.history), "restart"), HumanDuration(b.Window), counted)}
	}
	b.history = append(b.history, now)
	return Decision{
		Restart: true,
		Delay:   b.next(),
		Why:     fmt.Sprintf("restart %d of %d within %s%s", len(b.history), b.Limit, HumanDuration(b.Window), counted),
	}
}

// next is the delay before the next restart, doubled from Base per
// consecutive failure up to Max, and counts this one.
func (b *Backoff) next() time.Duration {
	delay := b.Base
	for i := 0; i < b.consecutive && delay < b.Max; i++ {
		delay *= 2
	}
	b.consecutive++
	return min(delay, b.Max)
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
