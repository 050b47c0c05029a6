package launcher

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExitStatus is how a process ended: an exit code, or the signal that killed it.
type ExitStatus struct {
	Code   int
	Signal syscall.Signal // non-zero when killed by a signal
}

func exitStatusOf(ws unix.WaitStatus) ExitStatus {
	if ws.Signaled() {
		return ExitStatus{Signal: ws.Signal()}
	}
	return ExitStatus{Code: ws.ExitStatus()}
}

// Shell is the code a shell would report: the exit code, or 128+S for a
// death by signal S.
func (s ExitStatus) Shell() int {
	if s.Signal != 0 {
		return 128 + int(s.Signal)
	}
	return s.Code
}

// Success reports an exit with code 0.
func (s ExitStatus) Success() bool { return s.Signal == 0 && s.Code == 0 }

func (s ExitStatus) String() string {
	if s.Signal != 0 {
		return fmt.Sprintf("killed by %s (%d)", SignalName(s.Signal), s.Shell())
	}
	return fmt.Sprintf("exited with code %d", s.Code)
}

// SignalName is the signal's constant name, SIGTERM, or SIGRTMIN+n.
func SignalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	if sig >= 34 && sig <= 64 {
		return fmt.Sprintf("SIGRTMIN+%d", int(sig)-34)
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// forwardedSignals are the signals the launcher catches and passes to the
// child's process group. Left out, with tini: SIGCHLD (reaping), SIGURG (the
// Go runtime's preemption signal), SIGPIPE (caught apart so a closed log
// reader cannot kill PID 1), the synchronous SIGSEGV, SIGBUS, SIGFPE, SIGILL,
// SIGTRAP, SIGSYS, which the Go runtime must keep, and SIGTTIN/SIGTTOU, which
// the terminal sends to the launcher itself when node is in the foreground:
// passing them on would stop node.
var forwardedSignals = func() []os.Signal {
	sigs := []os.Signal{
		unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGABRT, unix.SIGUSR1, unix.SIGUSR2,
		unix.SIGALRM, unix.SIGTERM, unix.SIGSTKFLT, unix.SIGCONT, unix.SIGTSTP,
		unix.SIGXCPU, unix.SIGXFSZ, unix.SIGVTALRM, unix.SIGPROF, unix.SIGWINCH,
		unix.SIGIO, unix.SIGPWR,
	}
	for s := 34; s <= 64; s++ { // real-time signals
		sigs = append(sigs, syscall.Signal(s))
	}
	return sigs
}()

// forwardedSignalsBut is forwardedSignals without the given ones.
func forwardedSignalsBut(except ...syscall.Signal) []os.Signal {
	out := make([]os.Signal, 0, len(forwardedSignals))
	for _, s := range forwardedSignals {
		keep := true
		for _, e := range except {
			if s == e {
				keep = false
			}
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

// CatchSIGPIPE makes writes to a closed stdout or stderr fail with EPIPE
// instead of killing the launcher: without a Notify for SIGPIPE the Go
// runtime dies of it (and as PID 1, where the kernel ignores the signal,
// exits 2). Caught, not ignored, because node would inherit SIG_IGN.
// Nobody reads the channel; being subscribed is what counts. It lasts the
// process's life: undone, a write to a closed log on the way out could end
// the process with the runtime's default instead of its exit code.
func CatchSIGPIPE() {
	signal.Notify(make(chan os.Signal, 1), unix.SIGPIPE)
}

// Signals are the launcher's subscriptions to the signals it takes: the
// stops (SIGTERM, SIGINT), which have a channel of their own so that a
// flood of the others never crowds one out, and the 47 it forwards to the
// child.
type Signals struct {
	stops, forwarded chan os.Signal
	subscribed       chan struct{} // closed once forwarded is subscribed
}

// CatchSignals subscribes the signals the launcher takes: the stops at
// once, the others from a goroutine of its own, since the runtime enables
// each signal with a round trip to its signal thread (the 47 take 1.5 to
// 3.5 ms). The program calls it first thing, before its configuration and
// its first line of log: until a signal is subscribed, the Go runtime's
// default for it ends the process, SIGTERM, SIGINT and SIGHUP with exit 2
// for PID 1 (whom the kernel spares the signal's own default), SIGQUIT
// and SIGABRT with a dump of every goroutine, and without a line of log.
// What is left is the runtime's own start and the packages'
// initialisation, a millisecond or two; before the runtime installs its
// handlers, the kernel drops a signal sent to PID 1, as it does for tini
// before its first instruction.
func CatchSignals() *Signals {
	s := &Signals{stops: make(chan os.Signal, 4), forwarded: make(chan os.Signal, 64), subscribed: make(chan struct{})}
	signal.Notify(s.stops, unix.SIGTERM, unix.SIGINT)
	go func() {
		defer close(s.subscribed)
		signal.Notify(s.forwarded, forwardedSignalsBut(unix.SIGTERM, unix.SIGINT)...)
	}()
	return s
}

// stop undoes the subscriptions, without holding up its caller
// (unsubscribe).
func (s *Signals) stop() { unsubscribe(s.subscribed, s.forwarded, s.stops) }

// unsubscribe undoes signal.Notify for chs, once ready is closed (nil: at
// once), without holding up its caller. The runtime disables each signal
// with a round trip to its signal thread, and os/signal serializes every
// Stop: the 49 signals the supervisor forwards take 3 to 4 ms, which, waited
// for on the way out, would lengthen every container's stop. The program's
// Supervisor (MainThread) does not unsubscribe at all: the process ends.
func unsubscribe(ready <-chan struct{}, chs ...chan<- os.Signal) {
	go func() {
		if ready != nil {
			<-ready
		}
		for _, ch := range chs {
			signal.Stop(ch)
		}
	}()
}

// isStopSignal reports whether sig begins a stop.
func isStopSignal(sig syscall.Signal) bool {
	return sig == unix.SIGTERM || sig == unix.SIGINT
}
