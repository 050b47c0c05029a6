package launcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// Reaper owns every wait for a child of this process. On each SIGCHLD it
// drains wait4(-1, WNOHANG); the status of a process started through Start
// goes to that process's channel, any other (an orphan re-parented to PID 1
// or to the subreaper) is counted and dropped.
//
// Nothing else in the process may wait: exec.Cmd.Wait, Output and Run would
// race the drain and lose the status (docs/DESIGN.md, "PID 1 in Go"). Start holds the
// lock the drain takes, so a child that exits at once is still registered
// before its status is collected.
type Reaper struct {
	log     zerolog.Logger
	sigchld chan os.Signal

	mu       sync.Mutex
	waiting  map[int]chan ExitStatus
	children bool          // false once wait4 said ECHILD
	drained  chan struct{} // closed and replaced after every drain

	orphans atomic.Int64
}

// NewReaper subscribes to SIGCHLD at once, so no exit is missed between
// construction and Run.
func NewReaper(log zerolog.Logger) *Reaper {
	r := &Reaper{
		log:      log.With().Str(logKeyComponent, "reaper").Logger(),
		sigchld:  make(chan os.Signal, 1),
		waiting:  make(map[int]chan ExitStatus),
		children: true,
		drained:  make(chan struct{}),
	}
	signal.Notify(r.sigchld, unix.SIGCHLD)
	return r
}

// Run reaps until ctx ends. It is the one goroutine that waits.
func (r *Reaper) Run(ctx context.Context) {
	defer unsubscribe(nil, r.sigchld)
	r.drain()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.sigchld:
			r.drain()
		}
	}
}

func (r *Reaper) drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.ECHILD) {
			r.children = false
			break
		}
		if err != nil || pid <= 0 {
			r.children = true
			break
		}
		if ws.Stopped() || ws.Continued() {
			continue
		}
		status := exitStatusOf(ws)
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- status // buffered: never blocks
			continue
		}
		r.orphans.Add(1)
		if ev := r.log.Debug(); ev.Enabled() { // status.String formats, even for a line not written
			ev.Int(logKeyPID, pid).Str("status", status.String()).Msg("reaped orphan")
		}
	}
	close(r.drained)
	r.drained = make(chan struct{})
}

// Start starts cmd and registers it; its status arrives on the channel.
// The caller must never call cmd.Wait. It calls cmd.Process.Release once
// the status arrived.
func (r *Reaper) Start(cmd *exec.Cmd) (<-chan ExitStatus, error) {
	_, done, err := r.Spawn(func() (int, error) {
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	})
	return done, err
}

// Spawn runs start, which starts a process and returns its pid, and
// registers that pid; its status arrives on the channel. The reaper waits
// meanwhile, so the status of a process that ends at once is not taken for
// an orphan's.
func (r *Reaper) Spawn(start func() (pid int, err error)) (int, <-chan ExitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := start()
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan ExitStatus, 1)
	r.waiting[pid] = ch
	r.children = true
	return pid, ch, nil
}

// Output runs cmd to its end and returns its standard output, like
// exec.Cmd.Output but with the wait left to the reaper. When cmd fails, the
// error is an *OutputError with the head of what cmd wrote to its standard
// error, as exec.ExitError keeps it: the loader's line that says why node
// cannot run. Standard error is drained to its end meanwhile, so a command
// that floods it never blocks.
func (r *Reaper) Output(ctx context.Context, cmd *exec.Cmd) ([]byte, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	er, ew, err := os.Pipe()
	if err != nil {
		pw.Close()
		return nil, err
	}
	// Closing it ends the reading below, should a descendant of cmd keep
	// the write end open past cmd's end.
	defer er.Close()
	cmd.Stdout, cmd.Stderr = pw, ew
	done, err := r.Start(cmd)
	pw.Close()
	ew.Close()
	if err != nil {
		return nil, err
	}
	defer cmd.Process.Release()
	said := make(chan []byte, 1)
	go func() { said <- readHead(er, maxStderrHead) }()
	out, readErr := readAllContext(ctx, pr, cmd)
	var status ExitStatus
	select {
	case status = <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return out, ctx.Err()
	}
	if readErr != nil {
		return out, readErr
	}
	if !status.Success() {
		e := &OutputError{Path: cmd.Path, Status: status}
		select {
		case e.stderr = <-said:
		case <-ctx.Done():
		}
		return out, e
	}
	return out, nil
}

// maxStderrHead is how much of a failed command's standard error Output
// keeps.
const maxStderrHead = 4 << 10

// OutputError is a command run by Output that did not succeed.
type OutputError struct {
	Path   string
	Status ExitStatus
	stderr []byte
}

func (e *OutputError) Error() string { return fmt.Sprintf("%s %s", e.Path, e.Status) }

// Stderr is the head of what the command wrote to its standard error.
func (e *OutputError) Stderr() []byte { return e.stderr }

// ExitCode is the command's exit code, -1 when a signal killed it (as
// exec.ExitError's).
func (e *OutputError) ExitCode() int {
	if e.Status.Signal != 0 {
		return -1
	}
	return e.Status.Code
}

// readHead reads r to its end and returns its first n bytes.
func readHead(r io.Reader, n int64) []byte {
	var head bytes.Buffer
	_, _ = io.Copy(&head, io.LimitReader(r, n))
	_, _ = io.Copy(io.Discard, r)
	return head.Bytes()
}

// readAllContext reads r to its end, killing cmd when ctx ends first.
func readAllContext(ctx context.Context, r io.Reader, cmd *exec.Cmd) ([]byte, error) {
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
	defer stop()
	var buf bytes.Buffer
	_, err := io.Copy(&buf, io.LimitReader(r, 1<<20))
	return buf.Bytes(), err
}

// HasChildren reports whether this process had children at the last
// drain. With none, it has no descendants either: every descendant's line
// of parents ends at one of its children.
func (r *Reaper) HasChildren() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.children
}

// Orphans is how many processes not started through Start were reaped.
func (r *Reaper) Orphans() int64 { return r.orphans.Load() }

// WaitNoChildren blocks until this process has no children left or ctx
// ends. It only watches the drains; it never waits itself. It first asks
// for a drain and waits for it, so the answer is never older than the
// call: a child started outside Start since the last drain is seen.
func (r *Reaper) WaitNoChildren(ctx context.Context) error {
	r.mu.Lock()
	drained := r.drained
	r.mu.Unlock()
	r.Poke()
	select {
	case <-drained:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		r.mu.Lock()
		children, drained := r.children, r.drained
		r.mu.Unlock()
		if !children {
			return nil
		}
		select {
		case <-drained:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Poke asks for a drain now, even if no SIGCHLD is pending.
func (r *Reaper) Poke() {
	select {
	case r.sigchld <- unix.SIGCHLD:
	default:
	}
}
