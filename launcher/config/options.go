package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxOptionsSize caps the options file. The Supervisor writes a small object;
// anything larger is a mistake, and values past 128 KiB could not be passed
// to the child as environment variables anyway (Linux's MAX_ARG_STRLEN).
const maxOptionsSize = 1 << 20

// Options is the add-on's options file (/data/options.json) as read.
type Options struct {
	// Path is the file read; empty when it does not exist.
	Path string
	// Values maps each top-level key to its JSON value.
	Values map[string]json.RawMessage
	// LogLevel is the value of the log_level option, if it is a string.
	LogLevel string
}

// ReadOptions reads the options file at path. A missing file is no error (a
// local `docker run` has none); an unreadable or malformed one is, and the
// message names the file and where the JSON breaks.
func ReadOptions(path string) (Options, error) {
	if path == "" {
		return Options{}, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Options{}, nil
	}
	if err != nil {
		return Options{}, fmt.Errorf("options file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxOptionsSize+1))
	if err != nil {
		return Options{}, fmt.Errorf("options file %s: %w", path, err)
	}
	if len(data) > maxOptionsSize {
		return Options{}, fmt.Errorf("options file %s: larger than %d KiB; the Supervisor writes a small JSON object", path, maxOptionsSize>>10)
	}
	opts, err := ParseOptions(data)
	if err != nil {
		return Options{}, fmt.Errorf("options file %s: %w", path, err)
	}
	opts.Path = path
	return opts, nil
}

// ParseOptions parses the contents of an options file: one JSON object.
func ParseOptions(data []byte) (Options, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Options{}, errors.New("empty; want a JSON object such as {\"log_level\": \"info\"}")
	}
	if !utf8.Valid(data) {
		line, col := position(data, invalidUTF8Offset(data))
		return Options{}, fmt.Errorf("not UTF-8 text at line %d, column %d", line, col)
	}
	var values map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&values); err != nil {
		return Options{}, describeJSONError(data, err)
	}
	if dec.More() {
		line, col := position(data, int(dec.InputOffset()))
		return Options{}, fmt.Errorf("unexpected data after the JSON object at line %d, column %d", line, col)
	}
	if values == nil {
		return Options{}, errors.New("null; want a JSON object")
	}
	opts := Options{Values: values}
	if raw, ok := values["log_level"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			opts.LogLevel = s
		}
	}
	return opts, nil
}

// describeJSONError says where the JSON breaks, as line and column.
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, int(syn.Offset)-1) // Offset is just past the bad byte
		return fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, syn)
	case errors.As(err, &typ):
		return fmt.Errorf("the top level is a JSON %s; want an object such as {\"log_level\": \"info\"}", typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, col := position(data, len(data))
		return fmt.Errorf("invalid JSON: it ends early, at line %d, column %d", line, col)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = offset - bytes.LastIndexByte(before, '\n')
	return line, col
}

func invalidUTF8Offset(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// Env returns the options as environment variables for the child, by the
// contract's rule: the key upper-cased with every character outside
// [A-Z0-9_] turned into _, strings as they are, numbers and booleans as
// text, null as empty, lists and objects as compact JSON. A variable already
// in environ wins and is left out. The names come back sorted, for the log;
// the values must never be logged.
func (o Options) Env(environ map[string]string) (vars []string, names []string) {
	keys := make([]string, 0, len(o.Values))
	for k := range o.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := EnvName(k)
		if _, set := environ[name]; set || name == "" {
			continue
		}
		vars = append(vars, name+"="+envValue(o.Values[k]))
		names = append(names, name)
	}
	return vars, names
}

// EnvName turns an option key into a variable name: admin_username becomes
// ADMIN_USERNAME, db-path becomes DB_PATH.
func EnvName(key string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(key) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func envValue(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return strings.ReplaceAll(s, "\x00", "")
		}
	case 'n':
		return ""
	case '[', '{':
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			return buf.String()
		}
	}
	return string(raw) // numbers and booleans, as written
}
