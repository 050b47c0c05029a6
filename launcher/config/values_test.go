package config_test

import (
	"reflect"
	"testing"

	"github.com/hasync/launcher/launcher/config"
)

func TestSplitArgs(t *testing.T) {
	for in, want := range map[string][]string{
		"":                             nil,
		"  ":                           nil,
		"--a --b=1":                    {"--a", "--b=1"},
		`--title "my app"  x`:          {"--title", "my app", "x"},
		`'single $HOME' "d\"q" e\ f`:   {"single $HOME", `d"q`, "e f"},
		`"a\b" ''`:                     {`a\b`, ""},
		"--max-old-space-size=256\t-r": {"--max-old-space-size=256", "-r"},
	} {
		got, err := config.SplitArgs(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`"open`, `'open`, `end\`} {
		if _, err := config.SplitArgs(in); err == nil {
			t.Errorf("SplitArgs(%q): want an error", in)
		}
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]config.ByteSize{
		"":         0,
		"1024":     1024,
		"256MiB":   256 << 20,
		"256mib":   256 << 20,
		"1GB":      1000 * 1000 * 1000,
		"1.5GiB":   3 << 29,
		"512m":     512 << 20,
		"2 KB":     2000,
		"100b":     100,
		" 64 MiB ": 64 << 20,
	} {
		var s config.ByteSize
		if err := s.UnmarshalText([]byte(in)); err != nil || s != want {
			t.Errorf("%q = %d, %v; want %d", in, s, err, want)
		}
	}
	for _, in := range []string{"lots", "12XB", "-1", "MiB", "1e999GiB", "1..2MB"} {
		var s config.ByteSize
		if err := s.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q: want an error, got %d", in, s)
		}
	}
}

func TestLevel(t *testing.T) {
	for in, want := range map[string]config.Level{
		"trace": config.LevelTrace, "DEBUG": config.LevelDebug, "info": config.LevelInfo,
		"notice": config.LevelNotice, "warning": config.LevelWarning, "warn": config.LevelWarning,
		"error": config.LevelError, "fatal": config.LevelFatal,
	} {
		var l config.Level
		if err := l.UnmarshalText([]byte(in)); err != nil || l != want {
			t.Errorf("%q = %v, %v; want %v", in, l, err, want)
		}
	}
}
