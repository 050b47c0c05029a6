package launcher

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mainThreadWaiter takes signals on the process's main thread, the way
// tini does: blocked in rt_sigtimedwait, it wakes once per signal and
// handles it from there (Supervisor.take: forward it, hand a stop to the
// loop, or drain the Reaper).
//
// Why the main thread: the kernel offers a signal sent to a process to its
// main thread first, and takes it as long as that thread does not block
// it; only otherwise does it pick another thread. A thread waiting in
// rt_sigtimedwait does not block the signals it waits for, so while the
// main thread waits, every such signal comes to it, without the Go
// runtime's path (a handler on whichever thread, then a wake-up of the
// runtime's signal goroutine, then one of the goroutine that receives from
// the channel: two to three thread wake-ups, 70 to 100 µs here).
//
// Outside the wait (while it handles the previous one) a signal takes the
// runtime's path: its handler, on the main thread or another, delivers it
// to the os/signal channels as before (the forwarder's, the loop's stops,
// the Reaper's): every signal still arrives once, by one of the two paths,
// and both handle it the same way.
//
// The main thread leaves the set unblocked outside the wait, but for the
// wake-up stop sends it. Blocked (before docs/BENCHMARKS.md's "Twentieth
// pass"), each signal taken woke another thread for nothing: the kernel
// restores the waiter's mask before it takes the signal off the queue,
// sees a queued signal that the mask now blocks, and wakes a thread that
// does not (retarget_shared_pending); the Go runtime's threads never block
// SIGCHLD, so sysmon woke, found nothing, and slept again, once for about
// every third forwarded signal and orphan. The wake-up stays blocked so
// that one sent while the main thread is busy is still pending when it
// waits again, and ends that wait.
//
// SIGCHLD is in the set too, and the handler drains the Reaper there. An
// orphan re-parented to the launcher is the main thread's child, so its
// SIGCHLD comes to the main thread first: taken in the wait, it costs one
// wake-up and the wait4 calls, as in tini. A child's own SIGCHLD goes to
// the thread that started it (the spawner's) and takes the runtime's path
// to the Reaper; both paths drain under the Reaper's lock. Left out of the
// set but unblocked (before docs/BENCHMARKS.md's "Thirteenth pass"), each
// orphan's SIGCHLD ended the wait with EINTR and handed the main thread's P
// back and forth; blocked and left to the runtime's path (that pass to the
// fourteenth), it took the handler, the signal goroutine and the Reaper's.
// Reaping 1,000 orphans cost 0.67 s of CPU, then about 0.38 s, then about
// 0.31 s (tini's: 0.09 s), on a machine of slower wake-ups than today's;
// what is left is the runtime's own: its sysmon thread wakes each time the
// main thread takes its P back.
//
// It needs the calling goroutine to be on the main thread for good
// (runtime.LockOSThread in cmd/launcher's init); Run uses it only when
// Supervisor.MainThread says so, because in a process with several
// Supervisors (the tests) one of them would take every signal.
type mainThreadWaiter struct {
	set      unix.Sigset_t
	stopping atomic.Bool
}

// waiterWake is the signal stop sends the main thread to end the wait; it
// must be one of the set waited for.
const waiterWake = unix.SIGWINCH

func newMainThreadWaiter(sigs []os.Signal) *mainThreadWaiter {
	w := &mainThreadWaiter{}
	for _, s := range sigs {
		addSignal(&w.set, s.(syscall.Signal))
	}
	return w
}

func addSignal(set *unix.Sigset_t, sig syscall.Signal) {
	n := int(sig) - 1
	set.Val[n/64] |= 1 << (uint(n) % 64)
}

// onMainThread reports whether the calling goroutine runs on the process's
// main thread; the caller must have it locked there.
func onMainThread() bool { return unix.Gettid() == unix.Getpid() }

// wait passes each signal in the set to handle until stop is called. The
// caller is locked to the main thread.
func (w *mainThreadWaiter) wait(handle func(syscall.Signal)) error {
	var wake, old unix.Sigset_t
	addSignal(&wake, waiterWake)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &wake, &old); err != nil {
		return err
	}
	defer func() { _ = unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil) }()
	for {
		var info unix.Siginfo
		// The kernel's signal set is 8 bytes, not the 128 of Sigset_t.
		r, _, errno := syscall.Syscall6(unix.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&w.set)),
			uintptr(unsafe.Pointer(&info)), 0, 8, 0, 0)
		if errno == unix.EINTR || errno == unix.EAGAIN {
			continue // a signal the runtime handles (a preemption, a stop) interrupted the wait
		}
		if errno != 0 {
			return errno
		}
		if w.stopping.Load() && syscall.Signal(r) != unix.SIGCHLD {
			return nil // supervision is over: there is no child left to give it to (orphans still are reaped)
		}
		handle(syscall.Signal(r))
	}
}

// stop ends wait, from any goroutine.
func (w *mainThreadWaiter) stop() {
	w.stopping.Store(true)
	_ = unix.Tgkill(unix.Getpid(), unix.Getpid(), waiterWake)
}
