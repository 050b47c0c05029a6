package launcher

import (
	"io"
	"os"
	"sync/atomic"
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

// The same line to a pipe that a reader drains, written by the caller
// (as before LogOutput) and handed to LogOutput's writer: what a component
// that logs waits for in each case. Lines LogOutput dropped (its writer
// behind the loop) are counted per line logged: dropped/op.
func BenchmarkLogToPipe(b *testing.B) {
	var dropped atomic.Int64
	for _, c := range []struct {
		name string
		out  func(w io.Writer) io.Writer
	}{
		{"written by the caller", func(w io.Writer) io.Writer { return w }},
		{"handed to LogOutput", func(w io.Writer) io.Writer {
			o := NewLogOutput(w)
			o.Start(func(_ io.Writer, lines int, _ time.Duration) { dropped.Add(int64(lines)) })
			return o
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			r, w, err := os.Pipe()
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			drained := make(chan struct{})
			go func() { _, _ = io.Copy(io.Discard, r); close(drained) }()
			out := c.out(w)
			log := NewLogger(out, config.FormatConsole, config.LevelInfo, true, func() time.Time { return time.Unix(0, 0) })
			b.ReportAllocs()
			for b.Loop() {
				log.Info().Str(logKeyComponent, "supervisor").Int(logKeyPID, 4125).Strs("exported", []string{"ADMIN_USERNAME", "LOG_LEVEL"}).
					Msg("node ready in 202 ms (preflight 153 ms, spawn 3 ms)")
			}
			b.StopTimer()
			if o, ok := out.(*LogOutput); ok {
				o.Close(time.Second)
			}
			w.Close()
			<-drained
			b.ReportMetric(float64(dropped.Swap(0))/float64(b.N), "dropped/op")
		})
	}
}
