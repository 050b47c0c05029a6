package launcher

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// One pass of killTree leaves almost nothing alive of a tree that forks as
// fast as it can, however long the pass's walk takes: each process is
// stopped before its children are read, so the pass misses at most the
// child of a fork under way at the stop, which the kernel lets finish (the
// next pass finds it). The tree here is a shell whose first child
// forks sleeps without end, beside 1000 sleeping siblings that make the walk
// long. Before, a pass listed the whole tree and only then stopped it: the
// forker, listed first, went on forking for the rest of the walk, and what
// it forked then was never listed. Under load a sweep ran out of its time
// on that first pass and left a fork loop's children alive (115 of them in
// TestCore_SweepLeavesNoSurvivor).
//
// The test runs in a process of its own, which becomes a subreaper as the
// launcher does, so that what the tree leaves comes back to it.
func TestKillTree_OnePassHoldsAForker(t *testing.T) {
	if os.Getenv("KILLTREE_TEST") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillTree_OnePassHoldsAForker$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "KILLTREE_TEST=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	if err := becomeSubreaper(); err != nil {
		t.Fatal(err)
	}
	// Every sleep of the tree is run under a name of its own, so that its
	// processes can be told from any other.
	marker := fmt.Sprintf("killtree-%d", os.Getpid())
	sleep := filepath.Join(t.TempDir(), marker)
	if err := os.Symlink("/bin/sleep", sleep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, pid := range marked(marker) {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	})
	const siblings = 1000
	script := fmt.Sprintf(`(while :; do %[1]s 100 & done) & i=0; while [ $i -lt %[2]d ]; do %[1]s 100 & i=$((i+1)); done; wait`, sleep, siblings)
	root := exec.Command("/bin/sh", "-c", script)
	if err := root.Start(); err != nil {
		t.Fatal(err)
	}
	// Whatever happens below, the forker does not outlive the test.
	t.Cleanup(func() { killTree(root.Process.Pid, true, time.Now().Add(5*time.Second)) })
	for deadline := time.Now().Add(30 * time.Second); ; {
		kids, _ := childrenOf(root.Process.Pid)
		if len(kids) > siblings {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tree did not grow: %d children after 30 s", len(kids))
		}
		time.Sleep(10 * time.Millisecond)
	}

	killed := killTree(root.Process.Pid, true, time.Now()) // a deadline passed: one pass

	// Reap until every process the pass killed is gone; what is left of
	// the tree then is what the pass missed.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var ws unix.WaitStatus
		for {
			if pid, _ := unix.Wait4(-1, &ws, unix.WNOHANG, nil); pid <= 0 {
				break
			}
		}
		gone := true
		for _, pid := range killed {
			if liveProcess(pid) {
				gone = false
				break
			}
		}
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the processes killed are not gone after 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if left := marked(marker); len(left) > 1 {
		t.Errorf("one pass killed %d processes and left %d of the tree alive", len(killed), len(left))
	}
}

// marked lists the live processes whose program name ends in marker.
func marked(marker string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if argv0, _, _ := strings.Cut(string(b), "\x00"); strings.HasSuffix(argv0, marker) && liveProcess(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// liveProcess reports whether pid exists and is not a zombie.
func liveProcess(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z' && s[i+2] != 'X'
}
