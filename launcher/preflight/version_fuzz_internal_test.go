package preflight

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// versionReference is how the launcher read `node --version` until the parse had
// to be cheap: compiling it at the first use cost 0.2 to 0.3 ms while node
// waited at the gate, with a prerelease's tag now kept. It stays here as
// the reference parseNodeVersion must agree with.
var versionReference = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?`)

func parseNodeVersionRE(out string) (major, minor int, version string, ok bool) {
	m := versionReference.FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		return 0, 0, "", false
	}
	major, _ = strconv.Atoi(m[1])
	minor, _ = strconv.Atoi(m[2])
	return major, minor, "v" + strings.TrimPrefix(m[0], "v"), true
}

// FuzzParseNodeVersion: the hand parser reads every input as the regexp
// did, and never panics.
func FuzzParseNodeVersion(f *testing.F) {
	for _, s := range []string{
		"v20.11.1\n", "v18.20.4", "22.0.0", "v22.0.0-nightly20240101abc", "  v20.1.2  ", "v1.2",
		"vv1.2.3", "v1..3", "v1.2.x", "", "v", "v99999999999999999999.1.2", "v٣.1.2", "v1.2.3.4",
		"v24.0.0-rc.1", "v26.8.0-alpha.0.0.0", "v1.2.3-", "v1.2.3-+b", "v1.2.3-a_b", "v1.2.3--",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, out string) {
		major, minor, version, err := parseNodeVersion(out)
		wmajor, wminor, wversion, ok := parseNodeVersionRE(out)
		if (err == nil) != ok || major != wmajor || minor != wminor || version != wversion {
			t.Fatalf("parseNodeVersion(%q) = %d, %d, %q, %v; the regexp reads %d, %d, %q, %v",
				out, major, minor, version, err, wmajor, wminor, wversion, ok)
		}
	})
}
