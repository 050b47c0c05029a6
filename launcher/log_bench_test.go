package launcher

import (
	"io"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/config"
)

// A typical line of the launcher's log, through the console writer.
func BenchmarkConsoleWriter(b *testing.B) {
	log := NewLogger(io.Discard, config.FormatConsole, config.LevelInfo, true, func() time.Time { return time.Unix(0, 0) })
	b.ReportAllocs()
	for b.Loop() {
		log.Info().Str(logKeyComponent, "supervisor").Int(logKeyPID, 4125).Strs("exported", []string{"ADMIN_USERNAME", "LOG_LEVEL"}).
			Msg("node ready in 202 ms (preflight 153 ms, spawn 3 ms)")
	}
}
