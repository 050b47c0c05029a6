package launcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hasync/launcher/launcher/bytesize"
	"github.com/hasync/launcher/launcher/inspector"
	"github.com/hasync/launcher/launcher/listeners"
	"github.com/hasync/launcher/launcher/plural"
	"github.com/hasync/launcher/launcher/sourcemap"
	"golang.org/x/sys/unix"
)

// stuck is where node's main thread was when it stopped answering: the
// frames node's inspector paused it in, as Error.stack prints them, and
// those of the app's own files in its sources.
type stuck struct {
	frames    []string
	inSources []string
	why       string // the verdict the log told, kept for the exit's diagnoses
}

// busyWatch is how long node's main thread is watched before it is taken
// as busy: at least half of it on a CPU.
const busyWatch = 200 * time.Millisecond

// stuckLookTimeout bounds the look at a node that stopped answering, the
// watch, the inspector's start and the pause together; the restart waits
// for it. An emulated node (qemu) starts its inspector in a few hundred
// milliseconds.
const stuckLookTimeout = 5 * time.Second

// stackFrames is how many frames are told: V8's own default
// (Error.stackTraceLimit).
const stackFrames = 10

// lookStuck tells where node is when it does not answer (the liveness
// probes timed out; or its start was not ready in time, its probe's
// connection taken and not answered, or no listen() yet), before it is
// restarted: a main
// thread busy on a CPU is running JavaScript (a loop, a large synchronous
// computation) or native code, and node's inspector, opened by SIGUSR1 as
// `kill -USR1` would, pauses it and gives the frames; a main thread that is
// not busy is waiting, and its state says on what. Without
// LAUNCHER_INSPECT_STUCK, and for a command other than node (looksStuck),
// it looks at nothing. The inspector listens on loopback (127.0.0.1:9229 unless node's
// options say otherwise) until node is restarted.
func (s *Supervisor) lookStuck(outer context.Context, c *Child) (st stuck) {
	s.fenced("the look at where "+s.name+" is", s.name+" is restarted without it", func() { st = s.look(outer, c) })
	return st
}

// look is lookStuck's look.
func (s *Supervisor) look(outer context.Context, c *Child) stuck {
	if !s.looksStuck() {
		return stuck{}
	}
	ctx, cancel := context.WithTimeout(outer, stuckLookTimeout)
	defer cancel()
	before, ok := mainThread(c.PID)
	readBefore := readBytes(c.PID)
	if !ok || !wait(ctx, busyWatch) {
		return stuck{}
	}
	after, ok := mainThread(c.PID)
	if !ok {
		return stuck{}
	}
	used := after.cpu - before.cpu
	ran := fmt.Sprintf("%d ms of CPU in %d ms", used.Milliseconds(), busyWatch.Milliseconds())
	if used < busyWatch/2 {
		// A disk that reads, however slowly, is not one that stopped: one
		// that held the thread in D is watched longer for its reads.
		watch := time.Duration(0)
		if after.state == 'D' {
			watch = diskWatch
		}
		reading := s.reading(ctx, c, readBefore, watch)
		if outer.Err() != nil {
			return stuck{}
		}
		switch {
		case after.state == 'D' && reading != "":
			return s.toldStuck("%s's main thread is waiting on the disk (state D, %s): %s; the app is held until its reads end, and a slow or worn SD card reads so", s.name, ran, reading)
		case after.state == 'D':
			return s.toldStuck("%s's main thread is waiting in the kernel (state D, %s): a read or write that does not end holds its event loop; a failing disk or SD card does this", s.name, ran)
		case after.state == 'T' || after.state == 't':
			return s.toldStuck("%s is stopped (state %c, %s): a SIGSTOP or a debugger holds it", s.name, after.state, ran)
		case reading != "":
			return s.toldStuck("%s's main thread is not busy (state %c, %s), and %s: the app waits on its reads from the disk, and a slow or worn SD card reads so", s.name, after.state, ran, reading)
		}
		if on := waitsOn(c.PID); on != "" {
			return s.toldStuck("%s's main thread is not busy (state %c, %s): its event loop is free, and %s waits on the network: %s; a machine that is off or behind a firewall that drops, a DNS server that does not answer, or no network yet at the machine's start holds the app so", s.name, after.state, ran, s.name, on)
		}
		return s.toldStuck("%s's main thread is not busy (state %c, %s): its event loop is free, yet the app does not answer; it waits on something that does not come (a database lock, a network connection, a promise never settled, the libuv thread pool busy with bcrypt or the disk)", s.name, after.state, ran)
	}
	frames, err := s.pause(ctx, c)
	if outer.Err() != nil {
		return stuck{} // node is being stopped: what is left of the look is moot
	}
	// node opens its inspector, and V8 pauses, between two steps of
	// JavaScript: a main thread in native code takes neither.
	const native = "a synchronous call into native code holds it (a long better-sqlite3 query, bcrypt's hashSync, a zlib or crypto *Sync call)"
	switch {
	case errors.Is(err, errNoInspector):
		return s.toldStuck("%s's main thread is busy (%s) and did not open node's inspector on SIGUSR1 within %s: %s; or node runs with --disable-sigusr1, or the app handles SIGUSR1 itself", s.name, ran, HumanDuration(stuckLookTimeout), native)
	case errors.Is(err, context.DeadlineExceeded):
		return s.toldStuck("%s's main thread is busy (%s) outside JavaScript: node's inspector could not pause it within %s; %s", s.name, ran, HumanDuration(stuckLookTimeout), native)
	case err != nil:
		return s.toldStuck("%s's main thread is busy (%s), and where could not be seen: %v", s.name, ran, err)
	}
	var st stuck
	for _, f := range frames[:min(len(frames), stackFrames)] {
		st.frames = append(st.frames, f.String())
	}
	app := sourcemap.App{Root: s.spec.Dir}
	st.inSources = app.Stack(st.frames)
	s.log.Warn().Str(logKeyStack, strings.Join(st.frames, "\n")+"\n").Msgf("%s's main thread is busy (%s) and does not answer: node's inspector paused it here", s.name, ran)
	top := st.frames
	if len(st.inSources) > 0 {
		s.log.Warn().Str(logKeyStack, strings.Join(st.inSources, "\n")+"\n").Msgf("%s's stack in the app's sources (by their source maps)", s.name)
		top = st.inSources
	}
	if len(top) > 0 {
		st.why = fmt.Sprintf("%s's main thread is busy (%s) and does not answer: node's inspector paused it %s", s.name, ran, top[0])
	}
	return st
}

// toldStuck logs a verdict on where node is, and keeps it for the exit's
// diagnoses: whoever reads /status or `launcher status` after the restart
// finds why it came.
func (s *Supervisor) toldStuck(format string, args ...any) stuck {
	why := fmt.Sprintf(format, args...)
	s.log.Warn().Msg(why)
	return stuck{why: why}
}

// waitsOn says what on the network node's process tree waits on, as the
// kernel's socket tables tell: "its DNS server 172.30.32.3:53 has not
// answered a lookup; its connection to 203.0.113.5:443 has had no answer
// (sent again 3 times)"; of a connection established, "its connection to
// 172.30.32.1:8123 has had no acknowledgement of the 420B it sent (sent
// again 5 times)"; "" when nothing, or the tables cannot be read.
func waitsOn(pid int) string {
	waits, _, err := listeners.Waits(append([]int{pid}, descendants(pid)...))
	if err != nil {
		return ""
	}
	var said []string
	for _, w := range waits {
		switch {
		case w.DNS:
			said = append(said, fmt.Sprintf("its DNS server %s has not answered a lookup", w.Remote))
		case w.Unacked > 0:
			// Established, then silent: the other end went away without
			// closing (switched off, its network gone); the kernel sends
			// again for up to about 15 minutes (net.ipv4.tcp_retries2).
			said = append(said, fmt.Sprintf("its connection to %s has had no acknowledgement of the %s it sent (sent again %d %s)", w.Remote, bytesize.Format(int64(w.Unacked)), w.Tries, plural.Of(w.Tries, "time")))
		case w.Tries == 0:
			said = append(said, fmt.Sprintf("its connection to %s is not answered yet", w.Remote))
		default:
			// How long that took is the kernel's: its SYN timeouts are
			// linear first, then doubling, by net.ipv4 settings.
			said = append(said, fmt.Sprintf("its connection to %s has had no answer (sent again %d %s)", w.Remote, w.Tries, plural.Of(w.Tries, "time")))
		}
	}
	return strings.Join(said, "; ")
}

// diskWatch is how much longer than busyWatch a main thread held in the
// kernel (state D) is watched for its disk to read on. Reads go to the
// disk in bursts (a readahead of 128 KiB or more at a time): a card that
// reads 1 MiB/s can show nothing read for most of a second.
const diskWatch = 2 * time.Second

// diskPoll is how often node's reads are read during diskWatch.
const diskPoll = 50 * time.Millisecond

// reading says how node reads the disk, when it read from it since before
// (its read_bytes when the watch began, busyWatch ago), waiting up to
// watch more for a first read: "node reads the disk at 1MiB/s (200KiB in
// 200 ms; 2.3MiB since it started)"; "" when it read nothing, its reads
// are unknown, or ctx ended.
func (s *Supervisor) reading(ctx context.Context, c *Child, before int64, watch time.Duration) string {
	if before < 0 {
		return ""
	}
	began := time.Now().Add(-busyWatch)
	now := readBytes(c.PID)
	for deadline := time.Now().Add(watch); now <= before && time.Now().Before(deadline); now = readBytes(c.PID) {
		if !wait(ctx, diskPoll) {
			return ""
		}
	}
	if now <= before {
		return ""
	}
	n, took := now-before, time.Since(began)
	rate := int64(float64(n)/took.Seconds()) &^ (1<<10 - 1) // whole KiB: "700KiB/s"
	return fmt.Sprintf("%s reads the disk at %s/s (%s in %d ms; %s since it started)", s.name,
		bytesize.Format(max(rate, 1<<10)), bytesize.Format(n), took.Milliseconds(), bytesize.Format(now-max(c.base.read, 0)))
}

// looksStuck says whether a child that does not answer is looked at
// (lookStuck): node (childIsNode), with LAUNCHER_INSPECT_STUCK. A program
// that runs node would not pass SIGUSR1 on.
func (s *Supervisor) looksStuck() bool { return s.cfg.InspectStuck && s.childIsNode() }

// childIsNode says whether the child is node itself: the app's node, or
// under `run -- CMD` a CMD that is node (`run -- node dist/index.js`), not
// a program that runs it (npm, a shell), whose process is not node's.
func (s *Supervisor) childIsNode() bool { return s.name == "node" }

// inspectorPoll is how often node's stderr is read for its inspector's
// address after SIGUSR1.
const inspectorPoll = 20 * time.Millisecond

var errNoInspector = errors.New("node did not open its inspector on SIGUSR1")

// pause opens node's inspector (SIGUSR1, to node alone), waits for node to
// say where it listens, and pauses its JavaScript there.
func (s *Supervisor) pause(ctx context.Context, c *Child) ([]inspector.Frame, error) {
	if err := unix.Kill(c.PID, unix.SIGUSR1); err != nil {
		return nil, fmt.Errorf("SIGUSR1 to open its inspector: %w", err)
	}
	t := time.NewTicker(inspectorPoll)
	defer t.Stop()
	for {
		url, failed := inspector.Listening(c.stderr.Inspector())
		switch {
		case url != "":
			frames, err := inspector.Pause(ctx, url)
			if err == nil && len(frames) == 0 {
				err = fmt.Errorf("node's inspector paused in no frame")
			}
			return frames, err
		case failed != "":
			return nil, fmt.Errorf("node's inspector did not start: %s", failed)
		}
		select {
		case <-ctx.Done():
			return nil, errNoInspector
		case <-t.C:
		}
	}
}

// wait waits d, or until ctx ends: it reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
