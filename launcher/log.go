package launcher

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hasync/launcher/launcher/config"
	"github.com/rs/zerolog"
)

// Log field keys, one place for every component.
const (
	logKeyComponent = "component"
	logKeyPID       = "pid"
	logKeySignal    = "signal"
	logKeyCode      = "code"
	logKeyReason    = "reason"
	logKeyDelay     = "delay"
	logKeyStderr    = "stderr"
	logKeyStack     = "stack"
)

// NewLogger returns the launcher's logger: bashio's console lines or
// zerolog's JSON, filtered at level. clock stamps each line; nil is time.Now.
func NewLogger(out io.Writer, format config.LogFormat, level config.Level, color bool, clock func() time.Time) zerolog.Logger {
	if clock == nil {
		clock = time.Now
	}
	var w io.Writer = out
	if format == config.FormatConsole {
		w = &consoleWriter{out: out, color: color, clock: clock}
	}
	stamp := zerolog.HookFunc(func(e *zerolog.Event, _ zerolog.Level, _ string) {
		if format == config.FormatJSON {
			e.Time(zerolog.TimestampFieldName, clock())
		}
	})
	return zerolog.New(w).Level(zerologLevel(level)).Hook(stamp)
}

// zerologLevel maps a bashio level to zerolog's threshold. zerolog has no notice
// level; the launcher logs nothing at notice, so notice filters like warning.
func zerologLevel(l config.Level) zerolog.Level {
	switch l {
	case config.LevelTrace:
		return zerolog.TraceLevel
	case config.LevelDebug:
		return zerolog.DebugLevel
	case config.LevelInfo:
		return zerolog.InfoLevel
	case config.LevelNotice, config.LevelWarning:
		return zerolog.WarnLevel
	case config.LevelError:
		return zerolog.ErrorLevel
	}
	return zerolog.FatalLevel
}

// consoleWriter turns zerolog's JSON events into the lines bashio prints,
// `[HH:MM:SS] INFO: message key=value`, because that is what the Home
// Assistant log viewer shows best. Like bashio it colours only the message,
// with the basic ANSI colours the viewer renders. A field whose value spans
// lines (a stderr tail) follows the line, indented.
type consoleWriter struct {
	mu    sync.Mutex
	out   io.Writer
	color bool
	clock func() time.Time
	buf   bytes.Buffer
}

var consoleLevels = map[string]struct{ word, color string }{
	"trace": {"TRACE", ""},
	"debug": {"DEBUG", ""},
	"info":  {"INFO", "\033[32m"},
	"warn":  {"WARNING", "\033[33m"},
	"error": {"ERROR", "\033[35m"},
	"fatal": {"FATAL", "\033[31m"},
	"panic": {"FATAL", "\033[31m"},
}

func (w *consoleWriter) Write(p []byte) (int, error) {
	fields, ok := parseEvent(p)
	if !ok {
		return w.out.Write(p) // not an event: pass it on untouched
	}
	var level, msg string
	rest := fields[:0]
	for _, f := range fields {
		switch f.key {
		case zerolog.LevelFieldName:
			level = f.text()
		case zerolog.MessageFieldName:
			msg = f.text()
		case zerolog.TimestampFieldName, logKeyComponent: // for JSON consumers; noise in the add-on log
		default:
			rest = append(rest, f)
		}
	}
	lvl := consoleLevels[level]
	if lvl.word == "" {
		lvl.word = "INFO"
	}
	slices.SortFunc(rest, func(a, b eventField) int { return strings.Compare(a.key, b.key) })

	w.mu.Lock()
	defer w.mu.Unlock()
	b := &w.buf
	b.Reset()
	b.WriteByte('[')
	b.Write(w.clock().AppendFormat(b.AvailableBuffer(), "15:04:05"))
	b.WriteString("] ")
	b.WriteString(lvl.word)
	b.WriteString(": ")
	if w.color && lvl.color != "" {
		b.WriteString(lvl.color)
		b.WriteString(msg)
		b.WriteString("\033[0m")
	} else {
		b.WriteString(msg)
	}
	var blocks []string
	for _, f := range rest {
		if f.isString && strings.Contains(f.value, "\n") {
			blocks = append(blocks, f.value)
			continue
		}
		b.WriteByte(' ')
		b.WriteString(f.key)
		b.WriteByte('=')
		b.WriteString(f.shown())
	}
	b.WriteByte('\n')
	for _, block := range blocks {
		for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
			b.WriteString("    ")
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	if _, err := w.out.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
