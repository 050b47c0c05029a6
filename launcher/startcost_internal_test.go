package launcher

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The story of a start names what node's main thread did with it, and
// which share was the largest, with what that likely was.
func TestStartCost_Story(t *testing.T) {
	const s, ms = time.Second, time.Millisecond
	for _, tc := range []struct {
		name       string
		took, disk time.Duration
		c          startCost
		want       string
	}{
		{"on a CPU", 2 * s, 0, startCost{cpu: 1500 * ms, cpuWait: 10 * ms, read: 0},
			"node's start took 2s: its main thread ran 1.5s on a CPU, waited 10ms for one, and node read nothing from the disk; 75% of it on a CPU, compiling and running the app's code before it answered"},
		{"waiting for a CPU", 4 * s, 0, startCost{cpu: 1 * s, cpuWait: 2500 * ms, read: 512 << 10},
			"node's start took 4s: its main thread ran 1s on a CPU, waited 2.5s for one, and node read 512KiB from the disk; 62% of it waiting for a CPU, which other programs held"},
		{"on the disk", 20 * s, 12 * s, startCost{cpu: 3 * s, cpuWait: 1 * s, read: 5 << 20},
			"node's start took 20s: its main thread ran 3s on a CPU, waited 1s for one, about 12s on the disk, and node read 5MiB from the disk; 60% of it waiting on the disk, reading what it loads: a slow disk (an SD card) reads so"},
		// Off the CPU, not on the disk, however much node read meanwhile
		// (its thread pool's reads do not hold the main thread).
		{"on the network", 12 * s, 1 * s, startCost{cpu: 1 * s, cpuWait: 0, read: 40 << 20},
			"node's start took 12s: its main thread ran 1s on a CPU, waited 0s for one, about 1s on the disk, and node read 40MiB from the disk; 83% of it waiting off the CPU, not on a read of its own: on the network"},
		// A start too short to be looked at, a kernel without schedstat,
		// and node another user's without CAP_SYS_PTRACE: what is not
		// known is not told.
		{"unknown", 5 * s, -1, startCost{cpu: 1 * s, cpuWait: -1, read: -1},
			"node's start took 5s: its main thread ran 1s on a CPU; 80% of it waiting off the CPU: on the disk, the network"},
		{"under a second", 340 * ms, -1, startCost{cpu: 300 * ms, cpuWait: 0, read: 0},
			"node's start took 340ms: its main thread ran 300ms on a CPU, waited 0s for one, and node read nothing from the disk; 88% of it on a CPU"},
		// The counters began at the gate's opening, a little before the
		// clock did: a share is never more than the whole, the disk's not
		// more than the time off the CPU.
		{"counters ahead of the clock", 100 * ms, 50 * ms, startCost{cpu: 104 * ms, cpuWait: 0, read: 0}, "waited 0s for one, and node read nothing from the disk; 100% of it on a CPU"},
		{"no time at all", 0, -1, startCost{cpu: 0, cpuWait: 0, read: 0}, "node's start took 0s: its main thread ran 0s on a CPU"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := "node's start took " + roundDuration(tc.took) + ": " + tc.c.story(tc.took, tc.disk); !strings.Contains(got, tc.want) {
				t.Errorf("story:\n got %s\nwant %s…", got, tc.want)
			}
		})
	}
}

// The time on the disk is the share of the looks that found node's main
// thread in state D; unknown without a look.
func TestStartLooks_DiskWait(t *testing.T) {
	for _, tc := range []struct {
		l    startLooks
		want time.Duration
	}{
		{startLooks{}, -1},
		{startLooks{looks: 30, inD: 0}, 0},
		{startLooks{looks: 30, inD: 12}, 1200 * time.Millisecond},
		{startLooks{looks: 30, inD: 30}, 3 * time.Second},
	} {
		if got := tc.l.diskWait(3 * time.Second); got != tc.want {
			t.Errorf("%+v over 3s: %v, want %v", tc.l, got, tc.want)
		}
	}
}

// The counters of a real process read, and grow as it runs; what is
// unknown at either end of a stretch stays unknown. The process is a
// shell in a loop: this one's main thread (the one costOf reads) need not
// run the test's goroutine.
func TestStartCost_Counters(t *testing.T) {
	spin := exec.Command("sh", "-c", "while :; do :; done")
	if err := spin.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = spin.Process.Kill(); _ = spin.Wait() })
	before, ok := costOf(spin.Process.Pid)
	if !ok || before.cpuWait < 0 || before.read < 0 {
		t.Fatalf("costOf(shell) = %+v, %v: schedstat and io unread", before, ok)
	}
	var after startCost
	for deadline := time.Now().Add(10 * time.Second); ; {
		after, _ = costOf(spin.Process.Pid)
		if after.cpu > before.cpu || time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}
	if d := after.since(before); d.cpu <= 0 || d.cpuWait < 0 || d.read < 0 {
		t.Errorf("since: %+v of a shell in a loop", d)
	}
	if d := after.since(startCost{cpuWait: -1, read: -1}); d.cpuWait != -1 || d.read != -1 {
		t.Errorf("since an unknown base: %+v, want both unknown", d)
	}
	if _, ok := costOf(1 << 30); ok {
		t.Error("costOf a process that does not exist reads")
	}
}

// What readiness pays to tell where a start went (costOf, once), beside
// the one read of a thread's stat the stuck look makes (mainThread).
func BenchmarkCostOf(b *testing.B) {
	pid := os.Getpid()
	b.Run("costOf", func(b *testing.B) {
		for b.Loop() {
			costOf(pid)
		}
	})
	b.Run("mainThread", func(b *testing.B) {
		for b.Loop() {
			mainThread(pid)
		}
	})
}
