package launcher

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Outside the wait, the waiting thread blocks only the wake-up stop sends
// it. Blocking the whole set there cost a wake-up of another thread for
// many of the signals taken: the kernel restores the waiter's mask before
// it takes the signal off the queue, and hands a queued signal the mask
// now blocks to a thread that does not (docs/BENCHMARKS.md, "Twentieth
// pass"). The thread's mask is read where the waiter hands a signal on,
// between two waits. The waiter runs on a thread of its own here, not the
// test binary's main one, and is sent its signal thread-directed.
func TestMainThreadWaiter_BlocksOnlyItsWakeUpBetweenWaits(t *testing.T) {
	w := newMainThreadWaiter([]os.Signal{unix.SIGUSR2, unix.SIGCHLD, waiterWake})
	tid := make(chan int, 1)
	blocked := make(chan uint64, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // left locked: the thread ends with the goroutine, mask and all
		tid <- unix.Gettid()
		done <- w.wait(func(sig syscall.Signal) {
			if sig == unix.SIGUSR2 {
				blocked <- sigBlk(t)
			}
		})
	}()
	waiter := <-tid
	// Sent before the first wait, SIGUSR2 would take the runtime's path
	// (nobody subscribed: dropped), so it goes once the waiter waits.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/syscall", waiter))
		if f := strings.Fields(string(b)); err == nil && len(f) > 0 && f[0] == strconv.Itoa(unix.SYS_RT_SIGTIMEDWAIT) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the waiter never waited in rt_sigtimedwait (/proc: %q, %v)", b, err)
		}
	}
	if err := unix.Tgkill(os.Getpid(), waiter, unix.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	var mask uint64
	select {
	case mask = <-blocked:
	case err := <-done:
		t.Fatalf("the wait ended (%v) before it handed SIGUSR2 on", err)
	case <-time.After(10 * time.Second):
		t.Fatal("SIGUSR2 never reached the waiter")
	}
	has := func(sig syscall.Signal) bool { return mask&(1<<(sig-1)) != 0 }
	for _, sig := range []syscall.Signal{unix.SIGUSR2, unix.SIGCHLD} {
		if has(sig) {
			t.Errorf("between waits the waiter blocks %s (SigBlk %016x): taking one, the kernel wakes another thread for nothing", unix.SignalName(sig), mask)
		}
	}
	if !has(waiterWake) {
		t.Errorf("between waits the waiter does not block its wake-up %s (SigBlk %016x): one sent then would be lost", unix.SignalName(waiterWake), mask)
	}
	w.stopping.Store(true) // stop's, sent to this waiter's thread and not the main one
	if err := unix.Tgkill(os.Getpid(), waiter, waiterWake); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stop did not end the wait")
	}
}

// sigBlk is the calling thread's blocked set, as /proc shows it.
func sigBlk(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		t.Error(err)
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigBlk:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Error(err)
			}
			return n
		}
	}
	t.Error("no SigBlk in /proc/thread-self/status")
	return 0
}
