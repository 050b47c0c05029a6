package launcher_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
	"github.com/rs/zerolog"
)

func TestBackoff_Schedule(t *testing.T) {
	b := &launcher.Backoff{Policy: config.RestartOnFailure, Limit: 10, Window: 10 * time.Minute,
		Base: time.Second, Max: 30 * time.Second}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	fail := launcher.ExitStatus{Code: 1}
	var got []time.Duration
	for i := 0; i < 7; i++ {
		d := b.Decide(now, launcher.End{Status: fail, Reason: launcher.ReasonExit, Healthy: time.Second})
		if !d.Restart {
			t.Fatalf("restart %d refused: %s", i+1, d.Why)
		}
		got = append(got, d.Delay)
		now = now.Add(d.Delay + time.Second)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Errorf("delay %d = %s, want %ds (schedule %v)", i+1, got[i], want[i], got)
		}
	}
	// A child that stayed up a whole minute starts the schedule over.
	if d := b.Decide(now, launcher.End{Status: fail, Reason: launcher.ReasonExit, Healthy: time.Minute}); d.Delay != time.Second {
		t.Errorf("after a stable run the delay is %s, want 1s", d.Delay)
	}
}

// The supervisor gives the backoff how long the child that ended was in
// good health: a child that failed twice at once, then ran a while, ready
// (at its spawn: no readiness is configured) for longer than the stable
// uptime (shortened here from a minute), is restarted after the first
// delay again, not after a third doubling. Real children, the real loop.
func TestSupervisor_RestartDelayStartsOverAfterAStableRun(t *testing.T) {
	defer launcher.StableUptime(time.Second)()
	runs := filepath.Join(t.TempDir(), "runs")
	// Runs 1 and 2 fail at once, run 3 after a stable run, run 4 exits 0.
	cfg, spec := genericChild(t, nil, "sh", "-c", `n=$(cat `+runs+` 2>/dev/null || echo 0); echo $((n+1)) > `+runs+`
case $n in 0|1) exit 1;; 2) sleep 1.5; exit 1;; esac; exit 0`)
	cfg.RestartDelay, cfg.RestartDelayMax, cfg.RestartLimit = 10*time.Millisecond, time.Second, 10
	var log lockedBuffer
	_, reaper := runReaper(t)
	sup := launcher.NewSupervisor(cfg, spec, reaper, launcher.NewStateStore("test"), zerolog.New(&log))
	code, err := sup.Run(context.Background())
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v\n%s", code, err, log.String())
	}
	if delays, want := restartDelays(log.String()), []string{"10ms", "20ms", "10ms"}; !slices.Equal(delays, want) {
		t.Errorf("restart delays %v, want %v: the delay did not start over after a run longer than the stable uptime\n%s", delays, want, log.String())
	}
}

// Good health is readiness: a child never ready, restarted at its ready
// timeout (longer than the stable uptime here, as the default minute is
// the stable uptime), was up long but never well, and its delay keeps
// doubling.
func TestSupervisor_RestartDelayKeepsDoublingForAStartNeverReady(t *testing.T) {
	defer launcher.StableUptime(100 * time.Millisecond)()
	cfg, spec := genericChild(t, nil, "sleep", "30")
	cfg.ReadyURL, cfg.ReadyTimeout = "http://"+freeAddr(t)+"/", 300*time.Millisecond
	cfg.RestartDelay, cfg.RestartDelayMax, cfg.RestartLimit = 10*time.Millisecond, time.Second, 3
	var log lockedBuffer
	_, reaper := runReaper(t)
	sup := launcher.NewSupervisor(cfg, spec, reaper, launcher.NewStateStore("test"), zerolog.New(&log))
	if code, err := sup.Run(context.Background()); err != nil || code != 1 {
		t.Fatalf("Run = %d, %v, want 1 (a failure; not the 143 of its last restart's SIGTERM) once the restarts are spent\n%s", code, err, log.String())
	}
	if got, want := restartDelays(log.String()), []string{"10ms", "20ms", "40ms"}; !slices.Equal(got, want) {
		t.Errorf("restart delays %v, want %v: a start never ready counted as good health\n%s", got, want, log.String())
	}
}

// freeAddr is a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// restartDelays are the delays of the restarts a log tells.
func restartDelays(log string) []string {
	var delays []string
	for _, m := range regexp.MustCompile(`"delay":"([^"]+)"`).FindAllStringSubmatch(log, -1) {
		delays = append(delays, m[1])
	}
	return delays
}

// lockedBuffer is a log the loop and the test may use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestBackoff_Limit(t *testing.T) {
	b := &launcher.Backoff{Policy: config.RestartAlways, Limit: 3, Window: time.Minute, Base: 0, Max: 0}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	killed := launcher.ExitStatus{Signal: syscall.SIGKILL}
	for i := 0; i < 3; i++ {
		if d := b.Decide(now, launcher.End{Status: killed, Reason: launcher.ReasonExit}); !d.Restart {
			t.Fatalf("restart %d refused: %s", i+1, d.Why)
		}
	}
	if d := b.Decide(now, launcher.End{Status: killed, Reason: launcher.ReasonExit}); d.Restart {
		t.Errorf("the 4th restart within the window must be refused")
	}
	// Outside the window the old restarts no longer count.
	if d := b.Decide(now.Add(time.Minute), launcher.End{Status: killed, Reason: launcher.ReasonExit}); !d.Restart {
		t.Errorf("a restart after the window must be allowed: %s", d.Why)
	}
}

// Failures for want of the network (Home Assistant restarting) are
// restarted past the limit, the delay still doubling to its cap, until they
// have lasted a window; then they count as any failure, so a wrong address
// ends in the limit too. Any other end starts the wait over.
func TestBackoff_FailuresForWantOfTheNetwork(t *testing.T) {
	b := &launcher.Backoff{Policy: config.RestartOnFailure, Limit: 2, Window: 10 * time.Minute, Base: time.Second, Max: 30 * time.Second}
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	unreached := launcher.End{Status: launcher.ExitStatus{Code: 1}, Reason: launcher.ReasonExit, Unreached: true}
	var delays []time.Duration
	for now.Before(time.Date(2026, 12, 7, 8, 10, 0, 0, time.UTC).Add(-30 * time.Second)) {
		d := b.Decide(now, unreached)
		if !d.Restart {
			t.Fatalf("after %s of failures for want of the network, restart %d refused: %s", now.Sub(time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)), len(delays)+1, d.Why)
		}
		if !strings.Contains(d.Why, "for want of the network") || !strings.Contains(d.Why, "not counted toward LAUNCHER_RESTART_LIMIT until such failures have lasted 10m") {
			t.Errorf("restart %d: why = %q", len(delays)+1, d.Why)
		}
		delays = append(delays, d.Delay)
		now = now.Add(d.Delay + time.Second)
	}
	if len(delays) < 20 || delays[0] != time.Second || delays[1] != 2*time.Second || delays[len(delays)-1] != 30*time.Second {
		t.Errorf("delays %v: want 20 or more, from 1s doubling to 30s", delays)
	}
	// Ten minutes on, they count: the limit's two restarts, then none.
	now = now.Add(time.Minute)
	for i := 1; i <= 2; i++ {
		if d := b.Decide(now, unreached); !d.Restart || !strings.HasPrefix(d.Why, fmt.Sprintf("restart %d of 2 within 10m; failures for want of the network count once they have lasted 10m", i)) {
			t.Errorf("counted restart %d: %+v", i, d)
		}
	}
	if d := b.Decide(now, unreached); d.Restart || d.Why != "2 restarts within 10m (LAUNCHER_RESTART_LIMIT); failures for want of the network count once they have lasted 10m" {
		t.Errorf("past the limit: %+v, want no restart", d)
	}
	// After a stable run (Home Assistant restarted again), a new wait.
	if d := b.Decide(now, launcher.End{Status: unreached.Status, Reason: unreached.Reason, Healthy: time.Minute, Unreached: true}); !d.Restart || d.Delay != time.Second {
		t.Errorf("after a stable run: %+v, want a new wait from the first delay", d)
	}

	// Another failure in between starts the wait over, and is counted.
	b = &launcher.Backoff{Policy: config.RestartOnFailure, Limit: 2, Window: 10 * time.Minute, Base: time.Second, Max: 30 * time.Second}
	now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	b.Decide(now, unreached)
	now = now.Add(9 * time.Minute)
	if d := b.Decide(now, launcher.End{Status: launcher.ExitStatus{Code: 1}, Reason: launcher.ReasonExit}); d.Why != "restart 1 of 2 within 10m" {
		t.Errorf("a failure of another kind: %+v, want it counted", d)
	}
	now = now.Add(5 * time.Minute)
	if d := b.Decide(now, unreached); !d.Restart || !strings.HasPrefix(d.Why, "for want of the network: not counted") {
		t.Errorf("the network's failure after another one: %+v, want a new wait", d)
	}
	// Under the policy never, nothing restarts.
	b = &launcher.Backoff{Policy: config.RestartNever, Limit: 2, Window: 10 * time.Minute}
	if d := b.Decide(now, unreached); d.Restart {
		t.Errorf("policy never: %+v", d)
	}
}

func TestBackoff_Policy(t *testing.T) {
	ok, bad := launcher.ExitStatus{}, launcher.ExitStatus{Code: 2}
	for _, c := range []struct {
		policy  config.RestartPolicy
		status  launcher.ExitStatus
		reason  string
		restart bool
	}{
		{config.RestartNever, bad, launcher.ReasonExit, false},
		{config.RestartNever, ok, launcher.ReasonLiveness, false},
		{config.RestartOnFailure, ok, launcher.ReasonExit, false},
		{config.RestartOnFailure, bad, launcher.ReasonExit, true},
		{config.RestartOnFailure, launcher.ExitStatus{Signal: syscall.SIGSEGV}, launcher.ReasonExit, true},
		{config.RestartOnFailure, ok, launcher.ReasonReadiness, true},
		{config.RestartOnFailure, ok, launcher.ReasonMemory, true},
		{config.RestartAlways, ok, launcher.ReasonExit, true},
	} {
		b := &launcher.Backoff{Policy: c.policy, Limit: 5, Window: time.Minute}
		if d := b.Decide(time.Now(), launcher.End{Status: c.status, Reason: c.reason}); d.Restart != c.restart {
			t.Errorf("%s, %v, %s: restart = %v, want %v (%s)", c.policy, c.status, c.reason, d.Restart, c.restart, d.Why)
		}
	}
}

func TestExitStatus_Shell(t *testing.T) {
	for _, c := range []struct {
		s    launcher.ExitStatus
		want int
	}{
		{launcher.ExitStatus{}, 0},
		{launcher.ExitStatus{Code: 255}, 255},
		{launcher.ExitStatus{Signal: syscall.SIGKILL}, 137},
		{launcher.ExitStatus{Signal: syscall.SIGTERM}, 143},
		{launcher.ExitStatus{Signal: syscall.SIGSEGV}, 139},
	} {
		if got := c.s.Shell(); got != c.want {
			t.Errorf("%v.Shell() = %d, want %d", c.s, got, c.want)
		}
	}
}
