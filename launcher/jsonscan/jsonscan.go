// Package jsonscan reads JSON by hand, token by token, where encoding/json
// costs too much: the console log writer, which reads back every event
// zerolog writes, and what a start reads, the options file before node's
// fork and the preflight's record while node starts. encoding/json's
// reflection-driven decoding took most of the writer's time and
// allocations, and its first use in a process (1 ms for a 19 KB record
// here) came out of node's start.
//
// It reads; it does not write, validate a whole document, or decode into
// types: each caller walks the shape it expects and refuses anything else.
// Each caller's fuzz target holds it to encoding/json (FuzzConsoleWriter,
// FuzzParseOptions, FuzzParseRecord): what the caller accepts,
// encoding/json reads the same.
package jsonscan

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// New scans b.
func New(b []byte) Scanner { return Scanner{b: b} }

// Scanner reads JSON tokens from b, skipping the blanks between them.
type Scanner struct {
	b []byte
	i int
}

// Next is the next byte that is not a blank, 0 at the end.
func (s *Scanner) Next() byte {
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

// Skip consumes c if it comes next.
func (s *Scanner) Skip(c byte) bool {
	if s.Next() != c {
		return false
	}
	s.i++
	return true
}

// AtEnd reports whether nothing but blanks is left.
func (s *Scanner) AtEnd() bool { return s.Next() == 0 && s.i == len(s.b) }

// Str reads a JSON string and returns it unescaped, as encoding/json
// would: a lone surrogate is U+FFFD. It does not check that the string is
// valid UTF-8 (encoding/json would make each invalid byte U+FFFD).
func (s *Scanner) Str() (string, bool) {
	if !s.Skip('"') {
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

func (s *Scanner) hex4() (rune, bool) {
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

// Raw reads any JSON value but a string and returns it as written: a
// number or literal whole, a list or object up to its matching bracket.
func (s *Scanner) Raw() (string, bool) {
	start := s.i
	switch s.Next() {
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.Str(); !ok {
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
	return v, IsNumber(v)
}

// IsNumber reports whether v is a number as JSON writes them:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func IsNumber(v string) bool {
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

// Plain reads a JSON string written without escapes and returns it: for a
// value read from its raw text, as encoding/json hands a time's to
// time.Time's UnmarshalJSON, escapes and all.
func (s *Scanner) Plain() (string, bool) {
	if s.Next() != '"' {
		return "", false
	}
	start := s.i
	v, ok := s.Str()
	if !ok || bytes.IndexByte(s.b[start:s.i], '\\') >= 0 {
		return "", false
	}
	return v, true
}

// Int reads a JSON number that is a whole int, as encoding/json reads one
// into an int: no fraction, no exponent, nothing out of range.
func (s *Scanner) Int() (int, bool) {
	v, ok := s.Raw()
	if !ok || !IsNumber(v) || strings.ContainsAny(v, ".eE") {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// Object reads a JSON object, calling field for each key with the scanner
// at its value; field reads the value and reports whether it could. A key
// given twice is refused: encoding/json would keep the last, and a reader
// of the first could be misled.
func (s *Scanner) Object(field func(key string) bool) bool {
	if !s.Skip('{') {
		return false
	}
	if s.Skip('}') {
		return true
	}
	var seen []string
	for {
		key, ok := s.Str()
		if !ok || !s.Skip(':') {
			return false
		}
		for _, k := range seen {
			if k == key {
				return false
			}
		}
		seen = append(seen, key)
		if !field(key) {
			return false
		}
		if s.Skip(',') {
			continue
		}
		return s.Skip('}')
	}
}

// Array reads a JSON array, calling elem with the scanner at each
// element; elem reads it and reports whether it could.
func (s *Scanner) Array(elem func() bool) bool {
	if !s.Skip('[') {
		return false
	}
	if s.Skip(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.Skip(',') {
			continue
		}
		return s.Skip(']')
	}
}

// Value reads any JSON value and returns it as written (a string with its
// quotes and escapes), as encoding/json's RawMessage holds it. Like Raw, it
// checks a list or an object no further than its brackets: a caller that
// needs it valid checks the document first (json.Valid).
func (s *Scanner) Value() ([]byte, bool) {
	if s.Next() == '"' {
		start := s.i
		_, ok := s.Str()
		return s.b[start:s.i], ok
	}
	start := s.i
	_, ok := s.Raw()
	return s.b[start:s.i], ok
}
