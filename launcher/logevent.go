package launcher

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// eventField is one field of a zerolog event: its key, and its value,
// unescaped when it is a JSON string, as written otherwise (a number,
// true, false, null, a list or an object).
type eventField struct {
	key, value string
	isString   bool
}

// text is the field's value when it is a string, "" otherwise.
func (f eventField) text() string {
	if f.isString {
		return f.value
	}
	return ""
}

// shown is the value as the console line prints it: a string plain when
// it is one simple word and quoted otherwise, anything else as written.
func (f eventField) shown() string {
	if !f.isString {
		return f.value
	}
	t := f.value
	if t == "" || strings.ContainsAny(t, " \t\"=\\") || !strconv.CanBackquote(t) {
		return strconv.Quote(t)
	}
	return t
}

// parseEvent reads the line zerolog writes for an event, one JSON object,
// into its fields; a key given twice keeps its last value. ok is false
// for anything else, which the console writer passes on untouched.
//
// Why not encoding/json: decoding every line into a map[string]any took
// most of the writer's time and allocations (5.5 µs and 41 allocations a
// line), and its reflection-driven code is pages the idle launcher would
// otherwise not touch.
func parseEvent(p []byte) (fields []eventField, ok bool) {
	s := jsonScanner{b: p}
	if !s.skip('{') {
		return nil, false
	}
	if s.skip('}') {
		return fields, s.atEnd()
	}
	for {
		key, ok := s.str()
		if !ok || !s.skip(':') {
			return nil, false
		}
		f := eventField{key: key}
		if s.next() == '"' {
			f.value, ok = s.str()
			f.isString = true
		} else {
			f.value, ok = s.raw()
		}
		if !ok {
			return nil, false
		}
		fields = setField(fields, f)
		if s.skip(',') {
			continue
		}
		if s.skip('}') {
			return fields, s.atEnd()
		}
		return nil, false
	}
}

func setField(fields []eventField, f eventField) []eventField {
	for i := range fields {
		if fields[i].key == f.key {
			fields[i] = f
			return fields
		}
	}
	return append(fields, f)
}

// jsonScanner reads JSON tokens from b, skipping the blanks between them.
type jsonScanner struct {
	b []byte
	i int
}

// next is the next byte that is not a blank, 0 at the end.
func (s *jsonScanner) next() byte {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return s.b[s.i]
		}
	}
	return 0
}

// skip consumes c if it comes next.
func (s *jsonScanner) skip(c byte) bool {
	if s.next() != c {
		return false
	}
	s.i++
	return true
}

func (s *jsonScanner) atEnd() bool { return s.next() == 0 && s.i == len(s.b) }

// str reads a JSON string and returns it unescaped.
func (s *jsonScanner) str() (string, bool) {
	if !s.skip('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.b) { // the common case: nothing escaped
		c := s.b[s.i]
		if c == '"' {
			s.i++
			return string(s.b[start : s.i-1]), true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		s.i++
	}
	var out strings.Builder
	out.Write(s.b[start:s.i])
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return out.String(), true
		case c < 0x20:
			return "", false // JSON has no raw control characters in strings
		case c != '\\':
			out.WriteByte(c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return "", false
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out.WriteByte(e)
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 't':
			out.WriteByte('\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// A pair makes one character; anything else is invalid, as
				// encoding/json has it.
				r2 := utf8.RuneError
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					if lo, ok := s.hex4(); ok && utf16.DecodeRune(r, lo) != utf8.RuneError {
						r2 = utf16.DecodeRune(r, lo)
					} else {
						s.i = save
					}
				}
				r = r2
			}
			out.WriteRune(r)
		default:
			return "", false
		}
	}
	return "", false
}

func (s *jsonScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(n), true
}

// raw reads any JSON value but a string and returns it as written: a
// number or literal whole, a list or object up to its matching bracket.
func (s *jsonScanner) raw() (string, bool) {
	start := s.i
	switch s.next() {
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
					return "", false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return string(s.b[start:s.i]), true
			}
		}
		return "", false
	}
	start = s.i
	for s.i < len(s.b) && !strings.ContainsRune(",}] \t\n\r", rune(s.b[s.i])) {
		s.i++
	}
	v := string(s.b[start:s.i])
	switch v {
	case "true", "false", "null":
		return v, true
	}
	return v, isJSONNumber(v)
}

// isJSONNumber reports whether v is a number as JSON writes them:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(v string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(v) && v[i] == '-' {
		i++
	}
	if i < len(v) && v[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(v)
}
