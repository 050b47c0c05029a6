package launcher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/config"
	"github.com/rs/zerolog"
)

// The memory lines a child's samples make: one once ready, then one per
// doubling (a warning from 4×), none for growth under memoryLogFloor.
func TestMemoryLog_OncePerDoubling(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name    string
		samples []uint64 // in MiB; the first is the one once ready
		want    []string // level and ratio of each line after the first
	}{
		{"node leaking", []uint64{40, 60, 79, 80, 120, 159, 160, 300, 320, 330}, []string{"info 2.0", "warn 4.0", "warn 8.0"}},
		{"a jump past two doublings", []uint64{40, 200, 300, 320}, []string{"warn 5.0", "warn 8.0"}},
		{"shrinking, then back", []uint64{40, 20, 40, 79}, nil},
		{"a small command", []uint64{1, 2, 4, 8, 16, 17, 30, 34}, []string{"warn 17.0", "warn 34.0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := &Supervisor{log: zerolog.New(&buf), name: "node", cfg: &config.Config{}}
			var w memoryLog
			for _, m := range c.samples {
				w.note(s, m*mib, HostSample{})
			}
			var got []string
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			for _, line := range lines[1:] {
				var ev struct {
					Level   string
					Message string
					RSS     uint64 `json:"rss_bytes"`
				}
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprintf("%s %.1f", ev.Level, float64(ev.RSS)/float64(c.samples[0]*mib)))
			}
			if !strings.Contains(lines[0], "once ready") || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("lines %q after %q, want %q", got, lines[0], c.want)
			}
		})
	}
}
