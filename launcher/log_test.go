package launcher_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

var update = flag.Bool("update", false, "rewrite golden files")

// logSample writes one of each kind of line the launcher logs.
func logSample(log zerolog.Logger) {
	log.Trace().Msg("trace line")
	log.Debug().Int("pid", 17).Msg("debug line")
	log.Info().Str("component", "supervisor").Int("pid", 17).Msg("started node index.js")
	log.Info().Str("delay", "2s").Str("reason", "exit").Msg("restarting node in 2s")
	log.Warn().Str("signal", "SIGTERM").Msg("node did not stop within 8s (LAUNCHER_STOP_TIMEOUT): SIGKILL")
	log.Error().Int("code", 1).Str("stderr", "Error: boom\n    at main (/app/index.js:1:7)\n").Msg("node exited with code 1")
	log.Error().Err(errors.New("start node: exec: \"node\": executable file not found in $PATH")).Msg("launcher failed")
	log.WithLevel(zerolog.FatalLevel).Strs("exported", []string{"ADMIN_PASSWORD", "PORT"}).Msg("fatal line")
}

func TestLogger_Golden(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 11, 27, 8, 9, 10, 0, time.UTC) }
	for _, c := range []struct {
		file   string
		format config.LogFormat
		level  config.Level
		color  bool
	}{
		{"console-color.txt", config.FormatConsole, config.LevelTrace, true},
		{"console-nocolor.txt", config.FormatConsole, config.LevelInfo, false},
		{"console-warning.txt", config.FormatConsole, config.LevelNotice, false},
		{"json.txt", config.FormatJSON, config.LevelDebug, true},
	} {
		t.Run(c.file, func(t *testing.T) {
			var buf bytes.Buffer
			logSample(launcher.NewLogger(&buf, c.format, c.level, c.color, clock))
			golden := filepath.Join("testdata", "golden", c.file)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("log output differs from %s:\n got:\n%s\nwant:\n%s", golden, buf.Bytes(), want)
			}
		})
	}
}
