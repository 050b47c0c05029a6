package launcher

import (
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
