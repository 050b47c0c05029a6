package builtins

import (
	"fmt"
	"strings"
	"testing"
)

func v(s string) version {
	out, ok := parseVersion(s)
	if !ok {
		panic(s)
	}
	return out
}

// A span list answers for a release between two recorded ones only when
// both agree.
func TestIn(t *testing.T) {
	const spans = "18.0.0-18.5.0,20.1.0,22.0.0-"
	for _, c := range []struct {
		below, above string
		want         Answer
	}{
		{"18.0.0", "18.0.0", Yes},
		{"18.5.0", "18.5.0", Yes},
		{"18.6.0", "18.6.0", No},
		{"18.5.0", "18.6.0", Unknown}, // 18.5.1, say: it may have gone in it
		{"18.6.0", "18.7.0", No},
		{"20.0.0", "20.0.0", No},
		{"20.1.0", "20.1.0", Yes},
		{"20.1.0", "20.2.0", Unknown},
		{"21.9.0", "21.9.0", No},
		{"22.0.0", "22.0.0", Yes},
		{"26.1.0", "26.2.0", Yes},
	} {
		if got := in(spans, Release{below: v(c.below), above: v(c.above)}); got != c.want {
			t.Errorf("between %s and %s: %v, want %v", c.below, c.above, got, c.want)
		}
	}
	if in("-", Release{below: v("20.0.0"), above: v("20.0.0")}) != No {
		t.Error(`"-" is no release`)
	}
	// After the newest recorded release of its major: only what node had
	// and took out before it is known to be out.
	for _, c := range []struct {
		spans, newest string
		want          Answer
	}{
		{"18.0.0-22.23.5", "24.22.3", No},               // util.isString, taken out in 23
		{"22.9.0-24.9.0", "24.22.3", No},                // getCallSite, taken out in 24.10
		{"22.13.0-22.23.5,23.4.0-", "24.22.3", Unknown}, // still there, may go
		{"25.3.0-", "24.22.3", Unknown},                 // in a later line: may be backported
		{"22.5.0-22.23.5", "24.22.3", Unknown},          // not in 22.0.0: maybe backported, never in 24
		{"-", "24.22.3", Unknown},                       // never yet: may come
	} {
		if got := in(c.spans, Release{below: v(c.newest), after: true}); got != c.want {
			t.Errorf("%s after %s: %v, want %v", c.spans, c.newest, got, c.want)
		}
	}
}

// The table is well formed: releases in order, each module's line and its
// names' lines as merge.cjs writes them, every span of recorded releases.
func TestTable(t *testing.T) {
	all := recorded()
	if len(all) < 200 {
		t.Fatalf("%d releases recorded", len(all))
	}
	for i := 1; i < len(all); i++ {
		if !all[i-1].less(all[i]) {
			t.Errorf("releases out of order: %v, %v", all[i-1], all[i])
		}
	}
	isRecorded := map[string]bool{}
	for _, r := range all {
		isRecorded[fmt.Sprintf("%d.%d.%d", r[0], r[1], r[2])] = true
	}
	checkSpans := func(where, spans string) {
		if spans == "-" {
			return
		}
		for _, span := range strings.Split(spans, ",") {
			first, last, _ := strings.Cut(span, "-")
			for _, rel := range []string{first, last} {
				if rel != "" && !isRecorded[rel] {
					t.Errorf("%s: %s is no release recorded", where, rel)
				}
			}
		}
	}
	for _, id := range IDs() {
		m, ok := lookup(id)
		if !ok {
			t.Errorf("%s: not found", id)
			continue
		}
		checkSpans(id, m.prefixed)
		checkSpans(id, m.bare)
		for _, name := range m.Names() {
			spans, ok := m.releasesOf(name)
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				t.Errorf("%s: name %q", id, name)
			}
			checkSpans(id+" "+name, spans)
		}
	}
}

// Any version and any specifier: no panic, and a version the table
// answers for is one it could parse.
func FuzzAt(f *testing.F) {
	for _, s := range []string{"v20.12.0", "22.23.4", "18.0.0-pre", "v", "1.2.3.4", "20.-1.0", "+1.0.0", "99999999999999999999.0.0"} {
		f.Add(s, "node:util", "styleText")
	}
	f.Fuzz(func(t *testing.T, version, spec, name string) {
		r, ok := At(version)
		if ok {
			if _, parsed := parseVersion(version); !parsed {
				t.Fatalf("At(%q) answers for a version it cannot read", version)
			}
		}
		if m, found := Of(spec); found && ok {
			m.Loads(r, spec)
			m.Exports(r, name)
			m.Releases(spec, name)
		}
	})
}

// What a preflight pays per import it reads: a package's specifier, a
// builtin's, and a name's release.
func BenchmarkOf(b *testing.B) {
	r, _ := At("22.23.5")
	for b.Loop() {
		Of("express")
		Of("@scope/pkg/sub")
		m, _ := Of("node:fs")
		m.Loads(r, "node:fs")
		m.Exports(r, "readFileSync")
	}
}

// What a release after the table is told rests on node never bringing
// back what it took out. Every recorded release but a major's first, seen
// as if it were after the table (knowing only the releases before it), is
// told nothing its own record contradicts: so it has held in node's
// history to date. (A major's first, seen after the release before it by
// version, would be told of releases of the line before that came out
// later: 22.23.5 after 23.0.0.)
func TestAfter_HeldInEveryReleaseSoFar(t *testing.T) {
	all := recorded()
	var spans []string
	for _, id := range IDs() {
		m, _ := lookup(id)
		spans = append(spans, m.prefixed, m.bare)
		for _, name := range m.Names() {
			s, _ := m.releasesOf(name)
			spans = append(spans, s)
		}
	}
	told := 0
	for i := 1; i < len(all); i++ {
		if all[i-1][0] != all[i][0] {
			continue
		}
		after := Release{below: all[i-1], after: true}
		exact := Release{below: all[i], above: all[i]}
		for _, s := range spans {
			a := in(s, after)
			if a == Unknown {
				continue
			}
			told++
			if b := in(s, exact); a != b {
				t.Errorf("%v seen after %v: %q says %v, its own record %v", all[i], all[i-1], s, a, b)
			}
		}
	}
	if told == 0 {
		t.Error("no release was told anything")
	}
	t.Logf("%d answers told, none contradicted", told)
}

// After names the newest release recorded before one after the table, of
// its major or, for a major after the table's, the table's last.
func TestAfter_NamesTheNewestBefore(t *testing.T) {
	first, last := Reach()
	if first != "18.0.0" || !strings.HasPrefix(last, "26.") {
		t.Fatalf("Reach: %s, %s", first, last)
	}
	var newest24 string
	for _, v := range recorded() {
		if v[0] == 24 {
			newest24 = v.String()
		}
	}
	for _, c := range []struct {
		version, newest string
		after           bool
	}{
		{"24.0.0", "24.0.0", false},
		{"24.99.0", newest24, true},
		{"99.0.0", last, true},
	} {
		r, _ := At(c.version)
		if newest, after := r.After(); after != c.after || newest != c.newest {
			t.Errorf("At(%s).After(): %s, %v; want %s, %v", c.version, newest, after, c.newest, c.after)
		}
	}
}
