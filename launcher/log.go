package launcher

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strconv"
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
	var event map[string]any
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&event); err != nil {
		return w.out.Write(p) // not an event: pass it on untouched
	}
	lvl := consoleLevels[str(event[zerolog.LevelFieldName])]
	if lvl.word == "" {
		lvl.word = "INFO"
	}
	msg := str(event[zerolog.MessageFieldName])
	delete(event, zerolog.LevelFieldName)
	delete(event, zerolog.MessageFieldName)
	delete(event, zerolog.TimestampFieldName)
	delete(event, logKeyComponent) // for JSON consumers; noise in the add-on log

	w.mu.Lock()
	defer w.mu.Unlock()
	b := &w.buf
	b.Reset()
	b.WriteString("[" + w.clock().Format("15:04:05") + "] " + lvl.word + ": ")
	if w.color && lvl.color != "" {
		b.WriteString(lvl.color + msg + "\033[0m")
	} else {
		b.WriteString(msg)
	}
	keys := make([]string, 0, len(event))
	for k := range event {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var blocks []string
	for _, k := range keys {
		v := event[k]
		if s, ok := v.(string); ok && strings.Contains(s, "\n") {
			blocks = append(blocks, s)
			continue
		}
		b.WriteString(" " + k + "=" + fieldText(v))
	}
	b.WriteByte('\n')
	for _, block := range blocks {
		for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
			b.WriteString("    " + line + "\n")
		}
	}
	if _, err := w.out.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// fieldText prints a field value: plain when it is a simple word, quoted
// when it has blanks or quotes, JSON for lists and objects.
func fieldText(v any) string {
	switch t := v.(type) {
	case string:
		if t == "" || strings.ContainsAny(t, " \t\"=\\") || !strconv.CanBackquote(t) {
			return strconv.Quote(t)
		}
		return t
	case json.Number:
		return t.String()
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
