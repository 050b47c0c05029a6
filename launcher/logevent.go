package launcher

import (
	"strconv"
	"strings"

	"github.com/hasync/launcher/launcher/jsonscan"
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
	s := jsonscan.New(p)
	if !s.Skip('{') {
		return nil, false
	}
	if s.Skip('}') {
		return fields, s.AtEnd()
	}
	for {
		key, ok := s.Str()
		if !ok || !s.Skip(':') {
			return nil, false
		}
		f := eventField{key: key}
		if s.Next() == '"' {
			f.value, ok = s.Str()
			f.isString = true
		} else {
			f.value, ok = s.Raw()
		}
		if !ok {
			return nil, false
		}
		fields = setField(fields, f)
		if s.Skip(',') {
			continue
		}
		if s.Skip('}') {
			return fields, s.AtEnd()
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
