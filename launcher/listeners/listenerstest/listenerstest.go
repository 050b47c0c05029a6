// Package listenerstest runs real servers for tests: node, listening where
// a test asks, until the test ends.
package listenerstest

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// Node is node running script as cred (nil: as the caller) until the test
// ends (its stdin closes); it returns node's pid and the first line script
// prints, which it must print. Without node, the test is skipped.
func Node(tb testing.TB, cred *syscall.Credential, script string) (pid int, line string) {
	tb.Helper()
	const node = "/usr/bin/node"
	if _, err := os.Stat(node); err != nil {
		tb.Skip("node is not installed")
	}
	cmd := exec.Command(node, "-e", script+";\nprocess.stdin.on('end', () => process.exit()).resume();")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		tb.Fatalf("node: %v", err)
	}
	return cmd.Process.Pid, strings.TrimSpace(line)
}

// OnLoopback6 is a script listening on [::1], on a port of the kernel's
// choice, which it prints.
const OnLoopback6 = "const s = require('net').createServer().listen(0, '::1', () => console.log(s.address().port))"
