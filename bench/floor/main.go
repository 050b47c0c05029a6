// Command floor is the least a Go entrypoint can be: it starts its
// command, passes it every signal it may catch, reaps whatever ends, and
// exits with the command's code, as tini does. No configuration, no
// preflight, no health server, no log. bench/entrypoints runs it beside
// tini and the launcher: the gap between floor and tini is what the Go
// runtime alone costs an entrypoint on the machine (its start before the
// fork, its signal subscriptions beside node's start); the gap between the
// launcher and floor is what the launcher's own work costs.
//
//	floor CMD [ARGS...]
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: floor CMD [ARGS...]\n")
		os.Exit(2)
	}
	// The stops before the fork, so none is lost once the command runs;
	// the rest of the signals after it, beside the command's start, as
	// the launcher subscribes them.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	pid, err := syscall.ForkExec(lookPath(os.Args[1]), os.Args[1:], &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		os.Stderr.WriteString("floor: " + err.Error() + "\n")
		os.Exit(127)
	}
	go signal.Notify(sigs)
	for sig := range sigs {
		switch sig {
		case syscall.SIGURG: // the runtime's own preemption signal
			continue
		case syscall.SIGCHLD:
		default:
			_ = syscall.Kill(pid, sig.(syscall.Signal))
			continue
		}
		for {
			var ws syscall.WaitStatus
			got, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || got <= 0 {
				break
			}
			if got == pid {
				if ws.Signaled() {
					os.Exit(128 + int(ws.Signal()))
				}
				os.Exit(ws.ExitStatus())
			}
		}
	}
}

// lookPath finds name in PATH, as a shell would; the floor leaves os/exec
// out, since no entrypoint needs its package init to start one command.
func lookPath(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			return name
		}
	}
	path := os.Getenv("PATH")
	start := 0
	for i := 0; i <= len(path); i++ {
		if i < len(path) && path[i] != ':' {
			continue
		}
		dir := path[start:i]
		start = i + 1
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return name
}
