package preflight

import (
	"fmt"
	"testing"
)

func TestSatisfies(t *testing.T) {
	for _, c := range []struct {
		version, expr string
		want          bool
	}{
		{"v20.20.2", ">=18", true},
		{"v18.20.8", ">=20", false},
		{"v20.20.2", "^18.0.0", false},
		{"v18.20.8", "^18.0.0", true},
		{"v20.20.2", "18.x || 20.x", true},
		{"v22.1.0", "18.x || 20.x", false},
		{"v20.20.2", ">=18 <21", true},
		{"v21.0.0", ">=18 <21", false},
		{"v20.20.2", ">= 18.17.0", true},
		{"v20.20.2", "~20.20.0", true},
		{"v20.21.0", "~20.20.0", false},
		{"v20.20.2", "18 - 20", true},
		{"v21.0.0", "18 - 20", false},
		{"v20.20.2", "*", true},
		{"v20.20.2", "", true},
		{"v20.20.2", "20", true},
		{"v20.20.2", ">20", false},
		{"v21.1.0", ">20", true},
		{"v20.20.2", "<=20", true},
		{"v0.12.1", "^0.12.0", true},
		{"v0.13.0", "^0.12.0", false},
	} {
		got, err := satisfies(c.version, c.expr)
		if err != nil || got != c.want {
			t.Errorf("satisfies(%q, %q) = %v, %v; want %v", c.version, c.expr, got, err, c.want)
		}
	}
	if _, err := satisfies("v20.1.0", ">=banana"); err == nil {
		t.Error("a bad range must be an error")
	}
}

// engines.node comes from a package.json: any text is a verdict or an
// error, never a panic; and || is a union: adding a set the version is in
// passes it, adding one no version is in changes nothing.
func FuzzSatisfies(f *testing.F) {
	for _, s := range []string{">=18", "^18.0.0 || ^20", "18 - 20", "~1.2", "<=x", ">= 1.2.3 <2", "1.2.3.4", "- 1"} {
		f.Add(s, uint16(20), uint16(20), uint16(2))
	}
	f.Fuzz(func(t *testing.T, expr string, major, minor, patch uint16) {
		version := fmt.Sprintf("v%d.%d.%d", major, minor, patch)
		got, err := satisfies(version, expr)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if ok, err := satisfies(version, expr+" || "+version[1:]); !ok || err != nil {
			t.Fatalf("%s is not in %q || %s: %v, %v", version, expr, version[1:], ok, err)
		}
		if ok, err := satisfies(version, expr+" || <0.0.0"); ok != got || err != nil {
			t.Fatalf("%s in %q is %v, but in %q || <0.0.0 it is %v, %v", version, expr, got, expr, ok, err)
		}
	})
}
