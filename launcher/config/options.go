package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hasync/launcher/launcher/jsonscan"
	"github.com/hasync/launcher/launcher/regular"
	"golang.org/x/sys/unix"
)

// maxOptionsSize caps the options file. The Supervisor writes a small object;
// anything larger is a mistake, and a value past 32 pages (128 KiB on 4 KiB
// pages) could not be passed to the child as a variable anyway (Linux's
// MAX_ARG_STRLEN).
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
	f, st, err := regular.Open(path) // a FIFO would wait for a writer
	if errors.Is(err, fs.ErrNotExist) {
		return Options{}, nil
	}
	if _, ok := errors.AsType[regular.NotRegularError](err); ok {
		return Options{}, fmt.Errorf("options file %s: not a regular file; the Supervisor writes a JSON file there (set %sOPTIONS_FILE to one, or empty for none)", path, envPrefix)
	}
	if err != nil {
		return Options{}, fmt.Errorf("options file: %w", err)
	}
	defer f.Close()
	data, err := regular.Read(f, st, maxOptionsSize)
	if _, ok := errors.AsType[*regular.TooLargeError](err); ok {
		return Options{}, fmt.Errorf("options file %s: larger than %d KiB; the Supervisor writes a small JSON object", path, maxOptionsSize>>10)
	}
	if err != nil {
		return Options{}, fmt.Errorf("options file %s: %w", path, err)
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
	if opts, ok := scanOptions(data); ok {
		return opts, nil
	}
	return decodeOptions(data)
}

// scanOptions reads a valid options file by hand (jsonscan): one object,
// each key once. It runs before node's fork at every start, where
// encoding/json's first decoding in the process cost 0.2 ms and its
// reflection's pages. ok is false for anything else; decodeOptions then
// decides, and says where the JSON breaks. What it reads, decodeOptions
// reads the same (FuzzParseOptions).
func scanOptions(data []byte) (Options, bool) {
	if !json.Valid(data) { // the scanner only, no reflection
		return Options{}, false
	}
	s := jsonscan.New(data)
	values := map[string]json.RawMessage{}
	if !s.Object(func(key string) bool {
		v, ok := s.Value()
		values[key] = v
		return ok
	}) || !s.AtEnd() {
		return Options{}, false
	}
	opts := Options{Values: values}
	if raw, ok := values["log_level"]; ok {
		opts.LogLevel, _ = jsonString(raw)
	}
	return opts, true
}

// decodeOptions parses an options file with encoding/json: the files
// scanOptions leaves (a key given twice, and every broken one).
func decodeOptions(data []byte) (Options, error) {
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
		opts.LogLevel, _ = jsonString(raw)
	}
	return opts, nil
}

// jsonString is the string raw holds, unescaped, when it holds one.
// encoding/json would read a string with invalid UTF-8 (which no parsed
// options file has) differently, so it reads that one.
func jsonString(raw json.RawMessage) (string, bool) {
	s := jsonscan.New(raw)
	if v, ok := s.Str(); ok && s.AtEnd() && utf8.ValidString(v) {
		return v, true
	}
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err == nil
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

// Limits of exec: one "NAME=value" string with its NUL (MAX_ARG_STRLEN,
// 32 of the kernel's pages: 128 KiB on 4 KiB pages, 512 KiB on the 16 KiB
// a Raspberry Pi 5's default kernel uses), and the whole environment and
// arguments, a quarter of the stack limit and at most 6 MiB (the kernel's
// bprm limit).
func maxArgString() int { return 32 * unix.Getpagesize() }

func maxArgTotal() int {
	total := 6 << 20
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &lim) == nil && lim.Cur != unix.RLIM_INFINITY && int(lim.Cur/4) < total {
		total = int(lim.Cur / 4)
	}
	return total
}

// reservedName reports the variables an option must not set: node's IPC
// channel, which the launcher gives (or not), and the launcher's own.
func reservedName(name string) bool {
	return name == "NODE_CHANNEL_FD" || name == "NODE_CHANNEL_SERIALIZATION_MODE" || strings.HasPrefix(name, envPrefix)
}

// Check reports every option that cannot reach node as meant, when the
// options are exported: keys that map to the same variable, keys that map
// to no valid name or to a reserved one, and values exec would refuse, with
// the launcher's own environment (environ) counted in.
func (o Options) Check(environ map[string]string) []error {
	var errs []error
	keys := make([]string, 0, len(o.Values))
	for k := range o.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	byName := map[string]string{}
	type sized struct {
		key  string
		size int
	}
	var sizes []sized
	total := 0
	for k, v := range environ {
		total += len(k) + 1 + len(v) + 1 + 8
	}
	for _, k := range keys {
		name := EnvName(k)
		switch {
		case name == "" || name[0] >= '0' && name[0] <= '9':
			errs = append(errs, fmt.Errorf("%s: option %q maps to no valid variable name (%q); rename it to start with a letter", o.Path, k, name))
			continue
		case reservedName(name):
			errs = append(errs, fmt.Errorf("%s: option %q would set %s, which the launcher or node's IPC channel owns; rename the option", o.Path, k, name))
			continue
		}
		if other, dup := byName[name]; dup {
			errs = append(errs, fmt.Errorf("%s: options %q and %q both map to %s; one would silently win: rename one", o.Path, other, k, name))
			continue
		}
		byName[name] = k
		size := len(name) + 1 + len(envValue(o.Values[k])) + 1
		sizes = append(sizes, sized{k, size})
		total += size + 8
		if size > maxArgString() {
			errs = append(errs, fmt.Errorf("%s: option %q is %d KiB as %s, over the %d KiB exec allows one variable; keep large data in a file under /data", o.Path, k, size>>10, name, maxArgString()>>10))
		}
	}
	if limit := maxArgTotal(); total > limit {
		sort.Slice(sizes, func(i, j int) bool { return sizes[i].size > sizes[j].size })
		var largest []string
		for i := 0; i < len(sizes) && i < 3; i++ {
			largest = append(largest, fmt.Sprintf("%q (%d KiB)", sizes[i].key, sizes[i].size>>10))
		}
		errs = append(errs, fmt.Errorf("%s: node's environment would be %d KiB, over the %d KiB exec allows; the largest options: %s", o.Path, total>>10, limit>>10, strings.Join(largest, ", ")))
	}
	return errs
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
		if s, ok := jsonString(raw); ok {
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

// secretKey names the option keys whose values are secrets whatever their
// length.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	for _, word := range []string{"pass", "secret", "token", "key"} {
		if strings.Contains(k, word) {
			return true
		}
	}
	return false
}

// Mask hides the options' values in text the launcher republishes (node's
// stderr lines in its log, /status and `launcher status`): every value of
// 6 characters or more, and every value (of 2 or more) whose key says
// password, secret, token or key, becomes ********.
func (o Options) Mask(text string) string {
	for k, raw := range o.Values {
		v := envValue(raw)
		if len(v) >= 6 || len(v) >= 2 && secretKey(k) {
			text = strings.ReplaceAll(text, v, "********")
		}
	}
	return text
}
