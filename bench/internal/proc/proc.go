// Package proc holds what the benchmark programs read of processes and
// ports.
package proc

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FreePort is a loopback port nobody listens on right now.
func FreePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// RSSKB is the resident set of pid in KiB (VmRSS), 0 when unknown.
func RSSKB(pid int) int { return statusKB(pid, "VmRSS:") }

// AnonKB is the anonymous part of pid's resident set in KiB (RssAnon):
// heap and stacks, where a leak shows; the rest is mapped files.
func AnonKB(pid int) int { return statusKB(pid, "RssAnon:") }

func statusKB(pid int, field string) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == field {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// CPU is the time pid's threads have run on a CPU (schedstat, to the
// nanosecond), the threads that have ended not counted.
func CPU(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var ns int64
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			ns += n
		}
	}
	return time.Duration(ns)
}
