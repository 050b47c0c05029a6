package launcher

import (
	"regexp"
	"testing"

	"github.com/hasync/launcher/launcher/preflight"
)

// The preload's line as every supported node writes it (napi is empty in
// a node without Node-API), and what is not such a line.
func TestParseGateReport(t *testing.T) {
	for line, want := range map[string]preflight.NodeVersions{
		"v20.11.1 115 9\n": {Version: "v20.11.1", ABI: 115, NAPI: 9},
		"v18.20.4 108 9\n": {Version: "v18.20.4", ABI: 108, NAPI: 9},
		"v8.17.0 57 \n":    {Version: "v8.17.0", ABI: 57},
	} {
		got, err := parseGateReport(line)
		if err != nil || got != want {
			t.Errorf("parseGateReport(%q) = %+v, %v; want %+v", line, got, err, want)
		}
	}
	for _, line := range []string{"", "\n", "v20.11.1\n", "v20.11.1 x 9\n", "v20.11.1 115 y\n", "v20 115 9 1\n",
		`{"version":"v20.11.1","modules":"115","napi":"9"}` + "\n"} {
		if v, err := parseGateReport(line); err == nil {
			t.Errorf("parseGateReport(%q) = %+v, want an error", line, v)
		}
	}
}

// An env file's text sets NODE_OPTIONS as this pattern says: a line of its
// own, `export` before it or not, spaces around.
var setsNodeOptionsPattern = regexp.MustCompile(`(?m)^[ \t\f\r]*(export[ \t\f\r]+)?NODE_OPTIONS[ \t\f\r]*=`)

func TestSetsNodeOptions(t *testing.T) {
	for text, want := range map[string]bool{
		"NODE_OPTIONS=--max-old-space-size=256\n":         true,
		"A=1\nexport NODE_OPTIONS=\"--require ./x.js\"\n": true,
		"  NODE_OPTIONS = x":                              true,
		"export\tNODE_OPTIONS=x":                          true,
		"A=1\n":                                           false,
		"# NODE_OPTIONS=x\n":                              false,
		"NODE_OPTIONS_X=1\n":                              false,
		"exportNODE_OPTIONS=x\n":                          false,
		"MY_NODE_OPTIONS=x\n":                             false,
		"A=\"NODE_OPTIONS\"\n":                            false,
		"":                                                false,
	} {
		if got := setsNodeOptions(text); got != want || setsNodeOptionsPattern.MatchString(text) != want {
			t.Errorf("setsNodeOptions(%q) = %v, the pattern %v; want %v", text, got, setsNodeOptionsPattern.MatchString(text), want)
		}
	}
}

func FuzzSetsNodeOptions(f *testing.F) {
	f.Add("NODE_OPTIONS=--max-old-space-size=256\n")
	f.Add("A=1\nexport NODE_OPTIONS=\"--require ./x.js\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := setsNodeOptions(text), setsNodeOptionsPattern.MatchString(text); got != want {
			t.Errorf("setsNodeOptions(%q) = %v, the pattern says %v", text, got, want)
		}
	})
}
