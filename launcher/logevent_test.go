package launcher

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// oracleLine is the console writer as it was before parseEvent: every line
// decoded by encoding/json into a map. The scanner must print what it
// printed, for every event zerolog can write.
func oracleLine(p []byte, color bool, clock func() time.Time) []byte {
	var event map[string]any
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&event); err != nil {
		return p
	}
	str := func(v any) string { s, _ := v.(string); return s }
	lvl := consoleLevels[str(event[zerolog.LevelFieldName])]
	if lvl.word == "" {
		lvl.word = "INFO"
	}
	msg := str(event[zerolog.MessageFieldName])
	for _, k := range []string{zerolog.LevelFieldName, zerolog.MessageFieldName, zerolog.TimestampFieldName, logKeyComponent} {
		delete(event, k)
	}
	var b bytes.Buffer
	b.WriteString("[" + clock().Format("15:04:05") + "] " + lvl.word + ": ")
	if color && lvl.color != "" {
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
		var text string
		switch t := v.(type) {
		case string:
			text = eventField{value: t, isString: true}.shown()
		case json.Number:
			text = t.String()
		case nil:
			text = "null"
		default:
			j, _ := json.Marshal(v)
			text = string(j)
		}
		b.WriteString(" " + k + "=" + text)
	}
	b.WriteByte('\n')
	for _, block := range blocks {
		for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
			b.WriteString("    " + line + "\n")
		}
	}
	return b.Bytes()
}

var fixedClock = func() time.Time { return time.Date(2026, 12, 1, 17, 40, 42, 0, time.UTC) }

// FuzzConsoleWriter checks the console writer against encoding/json on
// events zerolog writes from arbitrary keys and values (lists and objects
// aside: they now print as zerolog wrote them), and that no input, event
// or not, makes it fail.
func FuzzConsoleWriter(f *testing.F) {
	f.Add("pid", "node ready in 202 ms", int64(4125), 1.5, true)
	f.Add("stderr", "Error: boom\n    at main (/app/index.js:1:7)\n", int64(-1), -0.0, false)
	f.Add("level", "warn", int64(0), math.Inf(1), false)
	f.Add("message", "\x00\x1f\"\\/\u2028\ufffd\xff", int64(math.MaxInt64), math.NaN(), true)
	f.Add("k=v", "a b", int64(math.MinInt64), 1e300, false)
	f.Add("", "", int64(7), 5e-324, true)
	f.Add("component", `{"level":"info","message":"x"}`, int64(1), 0.1, true)
	f.Fuzz(func(t *testing.T, key, value string, n int64, fl float64, flag bool) {
		var line bytes.Buffer
		zl := zerolog.New(&line)
		zl.Info().Str(key, value).Int64("n", n).Float64("f", fl).Bool("b", flag).
			Str(zerolog.TimestampFieldName, "t").Msg(value)
		for _, color := range []bool{false, true} {
			var got bytes.Buffer
			w := &consoleWriter{out: &got, color: color, clock: fixedClock}
			if _, err := w.Write(line.Bytes()); err != nil {
				t.Fatal(err)
			}
			if want := oracleLine(line.Bytes(), color, fixedClock); !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("event %q\n got %q\nwant %q", line.Bytes(), got.Bytes(), want)
			}
		}
		// Anything at all: printed as an event or passed on untouched.
		var got bytes.Buffer
		w := &consoleWriter{out: &got, clock: fixedClock}
		if n, err := w.Write([]byte(value)); err != nil || n != len(value) {
			t.Fatalf("Write(%q) = %d, %v", value, n, err)
		}
		if _, ok := parseEvent([]byte(value)); !ok && got.String() != value {
			t.Fatalf("not an event, yet changed: %q to %q", value, got.String())
		}
	})
}

// Lists and objects print as zerolog wrote them: no HTML escapes, the
// object's own key order (encoding/json gave \u003c and sorted keys).
func TestConsoleWriter_ListsAndObjectsAsWritten(t *testing.T) {
	var got bytes.Buffer
	log := zerolog.New(&consoleWriter{out: &got, clock: fixedClock})
	log.Info().Strs("exported", []string{"A<B", "C&D"}).Dict("d", zerolog.Dict().Int("z", 1).Str("a", "x")).
		Interface("nil", nil).Msg("m")
	want := `[17:40:42] INFO: m d={"z":1,"a":"x"} exported=["A<B","C&D"] nil=null` + "\n"
	if got.String() != want {
		t.Errorf("got  %q\nwant %q", got.String(), want)
	}
}
