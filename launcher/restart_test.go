package launcher_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

func TestBackoff_Schedule(t *testing.T) {
	b := &launcher.Backoff{Policy: config.RestartOnFailure, Limit: 10, Window: 10 * time.Minute,
		Base: time.Second, Max: 30 * time.Second}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	fail := launcher.ExitStatus{Code: 1}
	var got []time.Duration
	for i := 0; i < 7; i++ {
		d := b.Decide(now, time.Second, fail, launcher.ReasonExit)
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
	if d := b.Decide(now, time.Minute, fail, launcher.ReasonExit); d.Delay != time.Second {
		t.Errorf("after a stable run the delay is %s, want 1s", d.Delay)
	}
}

func TestBackoff_Limit(t *testing.T) {
	b := &launcher.Backoff{Policy: config.RestartAlways, Limit: 3, Window: time.Minute, Base: 0, Max: 0}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	killed := launcher.ExitStatus{Signal: syscall.SIGKILL}
	for i := 0; i < 3; i++ {
		if d := b.Decide(now, 0, killed, launcher.ReasonExit); !d.Restart {
			t.Fatalf("restart %d refused: %s", i+1, d.Why)
		}
	}
	if d := b.Decide(now, 0, killed, launcher.ReasonExit); d.Restart {
		t.Errorf("the 4th restart within the window must be refused")
	}
	// Outside the window the old restarts no longer count.
	if d := b.Decide(now.Add(time.Minute), 0, killed, launcher.ReasonExit); !d.Restart {
		t.Errorf("a restart after the window must be allowed: %s", d.Why)
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
		if d := b.Decide(time.Now(), 0, c.status, c.reason); d.Restart != c.restart {
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
