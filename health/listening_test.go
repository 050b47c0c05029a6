package health

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher"
)

// /status and `launcher status` say where the child listens, read when
// asked: a real node listening on [::1], then one on no port.
func TestStatus_WhereTheChildListens(t *testing.T) {
	const node = "/usr/bin/node"
	if _, err := os.Stat(node); err != nil {
		t.Skip("node is not installed")
	}
	for _, c := range []struct {
		name, script, want string
	}{
		{"a server", "const s = require('net').createServer().listen(0, '::1', () => console.log(s.address().port))", "listens   [::1]:PORT"},
		{"no server", "console.log(0)", "listens   on no TCP port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(node, "-e", c.script+";\nprocess.stdin.on('end', () => process.exit()).resume();")
			stdin, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stdin.Close(); cmd.Wait() })
			port, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(c.want, "PORT", strings.TrimSpace(port))

			store := launcher.NewStateStore("test")
			store.Update(readySnapshot())
			store.Update(func(s *launcher.Snapshot) { s.Child.PID = ptr(cmd.Process.Pid) })
			var got launcher.Snapshot
			if err := json.NewDecoder(serve(t, store, "GET", "/status").Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.Child.Listening == nil || strings.Join(got.Child.Listening, ", ") != strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(want, "listens   "), "on no TCP port")) {
				t.Errorf("/status child.listening = %q, want what %q says", got.Child.Listening, want)
			}
			var buf bytes.Buffer
			WriteStatus(&buf, &got, false)
			if !strings.Contains(buf.String(), want+"\n") {
				t.Errorf("status lacks %q:\n%s", want, buf.String())
			}
			if store.Load().Child.Listening != nil {
				t.Errorf("the published snapshot holds where the child listens: read when asked only")
			}
		})
	}
}
