package launcher

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/preflight"
	"github.com/hasync/launcher/launcher/shortage"
	"golang.org/x/sys/unix"
)

// stderrTailLines is how many of the child's last stderr lines are kept.
const stderrTailLines = 50

// Child is one run of the supervised process.
type Child struct {
	PID     int
	Started time.Time
	done    <-chan ExitStatus
	stderr  *Tail
	relay   sync.WaitGroup // copies the child's stderr to ours
	ipc     *ipcChannel    // nil without LAUNCHER_READY_IPC
	mask    func(string) string
	// preload is the gate's preload file of a gated node, removed once
	// the child has ended (gate.go says why it lives that long).
	preload string
	// base is what the child's counters stood at when its start began:
	// zero from its exec, or as they were when the gate opened.
	base startCost
}

// ChildSpec is what to start and how.
type ChildSpec struct {
	Path       string // resolved executable
	Args       []string
	Dir        string
	Env        []string
	Credential *config.Credential
	// Foreground puts the child's process group in the foreground of the
	// terminal on stdin, so Ctrl-C reaches it, and only it.
	Foreground bool
	// IPC gives the child a Node IPC channel (NODE_CHANNEL_FD).
	IPC bool
	// Mask hides secrets in the child's stderr lines the launcher
	// republishes; nil republishes them as they are.
	Mask   func(string) string
	Stdin  *os.File
	Stdout *os.File
	Stderr io.Writer
}

// NewChildSpec builds the command from the configuration: `run -- CMD` or
// LAUNCHER_NODE LAUNCHER_NODE_ARGS LAUNCHER_ENTRY in LAUNCHER_APP_DIR.
// The error of a missing or unusable command carries exit code 127 or 126.
func NewChildSpec(cfg *config.Config, environ []string) (ChildSpec, error) {
	var argv []string
	dir := ""
	if cfg.Generic() {
		argv = cfg.Command
	} else {
		argv = append(append([]string{cfg.Node}, cfg.NodeArgs...), cfg.Entry)
		dir = cfg.AppDir
	}
	path, err := exec.LookPath(argv[0])
	if err != nil && !errors.Is(err, exec.ErrDot) {
		return ChildSpec{}, startError(argv[0], err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return ChildSpec{}, startError(argv[0], err)
	}
	return ChildSpec{
		Path: path, Args: argv, Dir: dir,
		Env: cfg.ChildEnv(environ), Credential: cfg.Credential, IPC: cfg.ReadyIPC,
		Mask: cfg.Options.Mask,
	}, nil
}

// NodeUser is who the child runs as, for the preflight's checks and the
// diagnoses of its refusals: LAUNCHER_USER's credential, or nil for the
// launcher's own user.
func NodeUser(c *config.Credential) *preflight.User {
	if c == nil {
		return nil
	}
	return &preflight.User{UID: c.UID, GID: c.GID, Groups: c.Groups, Name: c.Name}
}

// ownUser is the launcher's own user, whom a child started without a
// credential runs as.
func ownUser() *preflight.User {
	u := &preflight.User{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
	if u.UID == 0 {
		u.Name = "root"
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		u.Groups = append(u.Groups, uint32(g))
	}
	return u
}

// SpawnError is a child that could not be started, with the code a shell
// would give: 127 not found, 126 found but not executable, else 1.
type SpawnError struct {
	Code int
	Err  error
}

func (e *SpawnError) Error() string { return e.Err.Error() }
func (e *SpawnError) Unwrap() error { return e.Err }

// Errno is the system's error number behind the failure, 0 when none.
func (e *SpawnError) Errno() unix.Errno {
	var errno unix.Errno
	if errors.As(e.Err, &errno) {
		return errno
	}
	return 0
}

// Transient reports a failure of the moment, not of the command: the
// launcher or the system ran short of descriptors, processes or memory.
// The restart policy decides what follows, as for a child that failed.
func (e *SpawnError) Transient() bool { return shortage.Errno(e.Errno()) }

// startError maps a failed exec to the shell's codes: 127 not found,
// 126 found but not executable.
func startError(name string, err error) error {
	code := 1
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		code = ExitNotFound
	case errors.Is(err, fs.ErrPermission), errors.Is(err, unix.ENOEXEC):
		code = ExitNoExec
	}
	return &SpawnError{Code: code, Err: fmt.Errorf("start %s: %w", name, err)}
}

// Start starts the child through the reaper: in its own process group, with
// SIGKILL as its parent-death signal. The kernel sends that signal when the
// thread that started the child ends, so the caller's thread must outlive
// the child: the Supervisor starts children from its spawner's
// (docs/DESIGN.md, "PID 1 in Go").
func (spec ChildSpec) Start(r *Reaper) (*Child, error) { return spec.start(r, nil) }

// spawner starts children from one goroutine locked to its OS thread for
// the whole of supervision: the kernel sends a child's parent-death signal
// when the thread that started it ends, and Go ends a thread only when a
// goroutine exits locked to it, as the spawner does once supervision is
// over and every child is gone. The supervision loop itself stays
// unlocked, so its many wakeups are goroutine switches, not hand-offs
// between threads (a locked goroutine's every wakeup is one).
type spawner struct {
	reqs chan func()
}

func newSpawner() *spawner {
	sp := &spawner{reqs: make(chan func())}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the spawner
		for f := range sp.reqs {
			f()
		}
	}()
	return sp
}

// start starts spec from the spawner's thread, behind g when set.
func (sp *spawner) start(spec ChildSpec, r *Reaper, g *gate) (c *Child, err error) {
	ran := make(chan struct{})
	sp.reqs <- func() { c, err = spec.start(r, g); close(ran) }
	<-ran
	return c, err
}

// close ends the spawner, and its thread, once no child it started is left.
// It does not wait for the thread to end: that takes two hand-offs between
// threads (0.1 to 0.6 ms here) on the way out of every stop, and nothing
// after it depends on the thread being gone.
func (sp *spawner) close() {
	close(sp.reqs)
}

// start is Start, behind g when it is set (gate.go): node starts at once,
// the app only once g opens.
func (spec ChildSpec) start(r *Reaper, g *gate) (*Child, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, &SpawnError{Code: 1, Err: fmt.Errorf("start %s: stderr pipe: %w", spec.Args[0], err)}
	}
	env, extra := spec.Env, []*os.File(nil)
	var ipc *ipcChannel
	if spec.IPC {
		if ipc, err = newIPCChannel(); err != nil {
			pr.Close()
			pw.Close()
			return nil, &SpawnError{Code: 1, Err: fmt.Errorf("start %s: %w", spec.Args[0], err)}
		}
		extra = append(extra, ipc.child)
		env = append(append([]string(nil), env...), ipc.env()...)
	}
	if g != nil {
		env = g.env(env, 3+len(extra))
		extra = append(extra, g.child)
	}
	// syscall's fork and exec, not os/exec's: os/exec probes pidfd support
	// with a clone of its own at the first start (0.4 ms) and asks for a
	// pidfd at each, which the reaper, the one waiter, has no use for.
	files := append([]*os.File{spec.Stdin, spec.Stdout, pw}, extra...)
	attr := &syscall.ProcAttr{Dir: spec.Dir, Env: childEnviron(env), Sys: &syscall.SysProcAttr{
		Setpgid:    !spec.Foreground,
		Foreground: spec.Foreground,
		Ctty:       0, // with Foreground: stdin, a descriptor of this process
		Pdeathsig:  syscall.SIGKILL,
		Credential: spec.Credential.Syscall(),
	}}
	for _, f := range files {
		attr.Files = append(attr.Files, f.Fd()) // a nil file is ^0: closed in the child
	}
	pid, done, err := r.Spawn(func() (int, error) {
		pid, err := syscall.ForkExec(spec.Path, spec.Args, attr)
		if err != nil {
			return 0, &os.PathError{Op: "fork/exec", Path: spec.Path, Err: err}
		}
		return pid, nil
	})
	runtime.KeepAlive(files)
	pw.Close()
	if ipc != nil {
		ipc.child.Close()
	}
	if g != nil {
		g.spawned()
	}
	if err != nil {
		pr.Close()
		if ipc != nil {
			ipc.parent.Close()
		}
		return nil, startError(spec.Args[0], err)
	}
	c := &Child{
		PID: pid, Started: time.Now(), done: done,
		stderr: NewTail(stderrTailLines), ipc: ipc, mask: spec.Mask,
	}
	c.relay.Add(1)
	go func() {
		defer c.relay.Done()
		defer pr.Close()
		relayStderr(pr, spec.Stderr, c.stderr)
	}()
	return c, nil
}

// childEnviron is env as the child gets it: one entry per name, the last
// one given (options and the launcher's own variables are appended to the
// environment they override), in the order of those last entries; entries
// without "=" are kept, empty ones dropped. os/exec does the same.
func childEnviron(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		kv := env[i]
		name, _, ok := strings.Cut(kv, "=")
		if kv == "" || ok && seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, kv)
	}
	slices.Reverse(out)
	return out
}

// relayStderr copies the child's stderr to ours byte for byte and keeps its
// last lines. When ours is gone (the log reader closed it) it goes on
// reading, so the child never blocks on a full pipe. Ours may be the pipe
// node shares as stdout (`2>&1`), which node makes non-blocking: writeAll
// waits on it where a plain write would fail and end the relay.
func relayStderr(from io.Reader, to io.Writer, tail *Tail) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			tail.Write(buf[:n])
			if to != nil {
				if werr := writeAll(to, buf[:n]); werr != nil {
					to = nil
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// Signal sends sig to the child's process group.
func (c *Child) Signal(sig syscall.Signal) error { return signalGroup(c.PID, sig) }

// signalGroup sends sig to the process group led by pid, or to pid alone
// when it leads none (the group is gone, or a foreground child's).
func signalGroup(pid int, sig syscall.Signal) error {
	err := unix.Kill(-pid, sig)
	if errors.Is(err, unix.ESRCH) {
		err = unix.Kill(pid, sig)
	}
	return err
}

// kill SIGKILLs the living child, its process group and every process
// below it.
func (c *Child) kill() {
	_ = unix.Kill(-c.PID, unix.SIGKILL)
	killTree(c.PID, true, time.Now().Add(sweepTimeout))
}

// StderrTail returns the child's last stderr lines, secrets masked: what
// the launcher republishes (its log, /status).
func (c *Child) StderrTail() []string { return c.masked(c.stderr.Lines()) }

// StderrErrors returns the child's last stderr lines that name an error,
// however far back, secrets masked: what the exit's diagnosis reads beside
// the tail.
func (c *Child) StderrErrors() []string { return c.masked(c.stderr.Errors()) }

// masked is lines with the child's secrets masked.
func (c *Child) masked(lines []string) []string {
	if c.mask != nil {
		for i, l := range lines {
			lines[i] = c.mask(l)
		}
	}
	return lines
}

// finish releases what the child held once its status arrived, waiting a
// bounded time for the stderr relay to see the pipe close. (The IPC
// channel is its monitor's, which closes it.)
func (c *Child) finish(timeout time.Duration) {
	if c.preload != "" {
		os.Remove(c.preload)
	}
	done := make(chan struct{})
	go func() { c.relay.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}
