package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hasync/launcher/launcher/bytesize"
)

// Level is a log level with bashio's names. The launcher emits no NOTICE
// events of its own; the level exists as a threshold, as in bashio.
type Level int

// The levels in bashio's order of severity, most verbose first.
const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelNotice
	LevelWarning
	LevelError
	LevelFatal
)

var levelNames = []string{"trace", "debug", "info", "notice", "warning", "error", "fatal"}

func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return "Level(" + strconv.Itoa(int(l)) + ")"
	}
	return levelNames[l]
}

// UnmarshalText accepts bashio's level names, and warn for warning.
func (l *Level) UnmarshalText(b []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(b)))
	if s == "warn" {
		s = "warning"
	}
	for i, name := range levelNames {
		if s == name {
			*l = Level(i)
			return nil
		}
	}
	return errors.New("want one of trace, debug, info, notice, warning, error, fatal")
}

// LogFormat is how the launcher writes its own log lines.
type LogFormat string

// The log formats.
const (
	FormatConsole LogFormat = "console" // bashio's `[HH:MM:SS] LEVEL: message`
	FormatJSON    LogFormat = "json"    // zerolog's JSON lines
)

// UnmarshalText accepts console or json.
func (f *LogFormat) UnmarshalText(b []byte) error {
	switch s := LogFormat(strings.ToLower(strings.TrimSpace(string(b)))); s {
	case FormatConsole, FormatJSON:
		*f = s
		return nil
	}
	return errors.New("want console or json")
}

// RestartPolicy says which child exits are followed by a restart.
type RestartPolicy string

// The restart policies.
const (
	RestartNever     RestartPolicy = "never"
	RestartOnFailure RestartPolicy = "on-failure" // non-zero exit, signal death, failed readiness, liveness or memory
	RestartAlways    RestartPolicy = "always"
)

// UnmarshalText accepts never, on-failure or always.
func (p *RestartPolicy) UnmarshalText(b []byte) error {
	switch s := RestartPolicy(strings.ToLower(strings.TrimSpace(string(b)))); s {
	case RestartNever, RestartOnFailure, RestartAlways:
		*p = s
		return nil
	}
	return errors.New("want never, on-failure or always")
}

// ByteSize is a number of bytes; zero means not set.
type ByteSize int64

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1000, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1000 * 1000, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1000 * 1000 * 1000, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1000 * 1000 * 1000 * 1000, "tib": 1 << 40,
}

// UnmarshalText accepts plain bytes or a number with a unit: KB, MB, GB, TB
// (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024) and, as Docker's
// --memory does, k, m, g, t for the binary ones. Empty means not set.
func (s *ByteSize) UnmarshalText(b []byte) error {
	text := strings.TrimSpace(string(b))
	if text == "" {
		*s = 0
		return nil
	}
	i := strings.IndexFunc(text, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i == -1 {
		i = len(text)
	}
	num, unit := text[:i], strings.ToLower(strings.TrimSpace(text[i:]))
	mult, ok := sizeUnits[unit]
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || num == "" {
		return errors.New("not a size; use bytes or a unit like 256MiB or 1GB")
	}
	v := n * float64(mult)
	if v > math.MaxInt64/2 {
		return errors.New("too large")
	}
	*s = ByteSize(v)
	return nil
}

func (s ByteSize) String() string { return bytesize.Format(int64(s)) }

// ShellArgs is a list of arguments written as a shell would split them.
type ShellArgs []string

// UnmarshalText splits text with SplitArgs.
func (a *ShellArgs) UnmarshalText(b []byte) error {
	args, err := SplitArgs(string(b))
	if err != nil {
		return err
	}
	*a = args
	return nil
}

// SplitArgs splits s into words as a POSIX shell would, without expanding
// anything: blanks separate words; single quotes keep everything literally;
// double quotes keep everything but \" \\ \$ \` literally; a backslash outside
// quotes escapes the next character.
func SplitArgs(s string) ([]string, error) {
	var (
		args    []string
		word    strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			if quote == '"' && !strings.ContainsRune("\"\\$`\n", r) {
				word.WriteRune('\\')
			}
			if r != '\n' {
				word.WriteRune(r)
			}
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				args = append(args, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	switch {
	case escaped:
		return nil, errors.New("ends with a lone backslash")
	case quote != 0:
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		args = append(args, word.String())
	}
	return args, nil
}
