package launcher

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// sweepTimeout bounds the sweep: the passes of killing and reaping what a
// child left behind.
const sweepTimeout = 2 * time.Second

// sweepResult is what a sweep did.
type sweepResult struct {
	killed    int // distinct processes killed
	passes    int // kill-and-reap passes
	survivors int // descendants still there when the time ran out
}

// killTree kills the tree of processes below root (root included when
// withRoot): it freezes them first with SIGSTOP, each as the walk finds it
// and before its children are read, so that a process that forks as fast
// as it can is held from the moment it is found and cannot put a child out
// of reach; it walks again until a walk finds nothing new (a fork under
// way at the stop finishes after its parent's children were read; a child
// whose parent exited meanwhile was re-parented to the launcher, already
// read), then SIGKILLs every one. It returns the pids it killed. It does not wait:
// the Reaper collects them. It is the one function that kills trees.
func killTree(root int, withRoot bool, deadline time.Time) []int {
	frozen := map[int]bool{}
	var order []int
	added := false
	stop := func(pid int) {
		if !frozen[pid] {
			frozen[pid] = true
			order = append(order, pid)
			added = true
			_ = unix.Kill(pid, unix.SIGSTOP)
		}
	}
	if withRoot {
		stop(root)
	}
	for {
		added = false
		walkDescendants(root, stop)
		if !added || time.Now().After(deadline) {
			break
		}
	}
	for _, pid := range order {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	return order
}

// sweep kills what is left of the child's process group and every other
// descendant of the launcher (those that escaped with setsid included),
// pass after pass, each waiting for the Reaper to collect them, until none
// is left or sweepTimeout runs out. It runs beside the supervision loop.
func (s *Supervisor) sweep(c *Child) sweepResult {
	_ = unix.Kill(-c.PID, unix.SIGKILL)
	deadline := time.Now().Add(sweepTimeout)
	self := os.Getpid()
	killed := map[int]bool{}
	var res sweepResult
	for {
		// With no children left there is nothing below the launcher.
		pass := time.Now().Add(50 * time.Millisecond)
		if pass.After(deadline) {
			pass = deadline
		}
		ctx, cancel := context.WithDeadline(context.Background(), pass)
		err := s.reaper.WaitNoChildren(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			res.survivors = len(descendants(self))
			break
		}
		// Nothing listed: only zombies the Reaper has yet to collect.
		if pids := killTree(self, false, deadline); len(pids) > 0 {
			res.passes++
			for _, pid := range pids {
				killed[pid] = true
			}
		}
	}
	res.killed = len(killed)
	return res
}
