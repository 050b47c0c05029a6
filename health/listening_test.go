package health

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/listeners/listenerstest"
)

// /status and `launcher status` say where the child listens, read when
// asked: a real node listening on [::1], then one on no port.
func TestStatus_WhereTheChildListens(t *testing.T) {
	for _, c := range []struct {
		name, script, want string
	}{
		{"a server", listenerstest.OnLoopback6, "listens   [::1]:PORT"},
		{"no server", "console.log(0)", "listens   on no TCP port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pid, port := listenerstest.Node(t, nil, c.script)
			want := strings.ReplaceAll(c.want, "PORT", port)

			store := launcher.NewStateStore("test")
			store.Update(readySnapshot())
			store.Update(func(s *launcher.Snapshot) { s.Child.PID = ptr(pid) })
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
