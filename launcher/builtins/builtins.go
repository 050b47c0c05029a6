// Package builtins knows node's built-in modules release by release: which
// specifiers a release of node loads as one of its own (fs, fs/promises,
// node:sqlite), and the names each module's ES module namespace exports
// (node:util's styleText), from a table of every release of Node 18 and
// later (builtins.txt, written by testdata/builtins/build.sh, which runs
// each release).
//
// An import of a module a node does not have, or of a name its module does
// not export, fails while node links the app's modules, before any of the
// app's code runs, at every start. Node adds modules and names in minor
// releases, and takes some out in majors (Node 23 took util.isString out)
// and now and then in minors too (util's getCallSite, gone from 24.10), so
// the answer depends on the exact release.
//
// Scope: a release the table records, one between two recorded releases
// of a major that agree, and, for a release after the table's last of its
// major (or a major after the table's), what node had and took out before
// that last one: node does not bring back what it took out. Non-goals:
// nodes before 18 and prereleases (the answer is Unknown), what a release
// after the table may have added or taken out since; what node's flags add (--experimental-vm-modules
// adds vm's SourceTextModule; --expose-internals, internal/ modules): ask
// only when no such flag is set; process's and constants' names, which
// vary with the platform and with how node was started.
package builtins

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed builtins.txt
var table string

// Answer is what the table says of a release.
type Answer int8

const (
	Unknown Answer = iota // the table cannot say: see the package's scope
	Yes
	No
)

// version is a release's major, minor and patch.
type version [3]int

func parseVersion(s string) (version, bool) {
	var v version
	rest := strings.TrimPrefix(s, "v")
	for i := range v {
		part, after, found := strings.Cut(rest, ".")
		if found != (i < 2) {
			return v, false
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || part == "" || part[0] == '+' {
			return v, false
		}
		v[i], rest = n, after
	}
	return v, true
}

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

func (v version) less(w version) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

// recorded are the table's releases, in order; read once, when first
// asked.
var recorded = sync.OnceValue(func() []version {
	_, line, _ := strings.Cut(table, "\nversions ")
	line, _, _ = strings.Cut(line, "\n")
	fields := strings.Fields(line)
	out := make([]version, 0, len(fields))
	for _, f := range fields {
		if v, ok := parseVersion(f); ok {
			out = append(out, v)
		}
	}
	return out
})

// Release is where a node release stands among those the table records:
// one of them, between two of the same major, or after the last of its
// major.
type Release struct {
	below, above version // equal when recorded
	// The release is newer than every one of its major the table records
	// (below is the newest before it): what it has is not known, but what
	// node took out before it stays out.
	after bool
}

// Recorded reports whether the table records the release itself.
func (r Release) Recorded() bool { return r.below == r.above && !r.after }

// After reports whether the release is newer than every release of its
// major the table records, and names the newest recorded before it: of
// such a release the table knows only what node took out.
func (r Release) After() (newest string, after bool) {
	return r.below.String(), r.after
}

// Reach names the first and the last release the table records.
func Reach() (first, last string) {
	all := recorded()
	if len(all) == 0 {
		return "", ""
	}
	return all[0].String(), all[len(all)-1].String()
}

// At finds node's release (`node --version`'s answer, with or without
// its v) in the table; false when the table cannot answer for it: a
// prerelease, or a release before the first recorded (Node 18.0.0).
func At(nodeVersion string) (Release, bool) {
	v, ok := parseVersion(nodeVersion)
	all := recorded()
	if !ok || len(all) == 0 || v.less(all[0]) {
		return Release{}, false
	}
	for i, r := range all {
		switch {
		case r == v:
			return Release{below: r, above: r}, true
		case v.less(r) && r[0] == v[0]:
			return Release{below: all[i-1], above: r}, true // all[0] is a major's first
		case v.less(r):
			return Release{below: all[i-1], after: true}, true
		}
	}
	return Release{below: all[len(all)-1], after: true}, true
}

// Module is a built-in module by its id, as node's
// require('module').builtinModules names it without node: (fs/promises).
type Module struct {
	ID       string
	prefixed string // the releases that load it as node:ID
	bare     string // the releases that load it as ID
	names    string // its block of names: each line a tab, a name, maybe its releases
}

// Of is the built-in module a specifier names, in any release recorded:
// node:x, or x without the scheme where some release loads it so. False
// for anything else: a package, a file, a module no release has.
func Of(spec string) (Module, bool) {
	id, prefixed := strings.CutPrefix(spec, "node:")
	m, ok := lookup(id)
	if !ok || !prefixed && m.bare == "-" {
		return Module{}, false
	}
	return m, true
}

// Scheme reports whether spec carries node's scheme: such a specifier
// names a built-in module or fails, in every release.
func Scheme(spec string) bool { return strings.HasPrefix(spec, "node:") }

// modules are where each module's line starts in the table, by id; made
// once, when first asked (a few dozen lines, read in microseconds).
var modules = sync.OnceValue(func() map[string]int {
	out := map[string]int{}
	for at := 0; at < len(table); {
		line, _, _ := strings.Cut(table[at:], "\n")
		if id, _, ok := strings.Cut(line, " node:"); ok && line[0] != '#' && line[0] != '\t' {
			out[id] = at
		}
		at += len(line) + 1
	}
	return out
})

// lookup finds the module id's entry in the table.
func lookup(id string) (Module, bool) {
	at, ok := modules()[id]
	if !ok {
		return Module{}, false
	}
	rest := table[at:]
	head, rest, _ := strings.Cut(rest, "\n")
	fields := strings.Fields(head)
	if len(fields) != 3 {
		return Module{}, false
	}
	end := 0
	for end < len(rest) && rest[end] == '\t' {
		nl := strings.IndexByte(rest[end:], '\n')
		if nl < 0 {
			end = len(rest)
			break
		}
		end += nl + 1
	}
	return Module{
		ID:       id,
		prefixed: strings.TrimPrefix(fields[1], "node:"),
		bare:     strings.TrimPrefix(fields[2], "bare:"),
		names:    rest[:end],
	}, true
}

// Loads says whether release r loads spec, which names m, as its own.
func (m Module) Loads(r Release, spec string) Answer {
	if Scheme(spec) {
		return in(m.prefixed, r)
	}
	return in(m.bare, r)
}

// Exports says whether m's ES module namespace in release r exports name.
func (m Module) Exports(r Release, name string) Answer {
	if m.ID == "process" || m.ID == "constants" || name == "" {
		return Unknown
	}
	spans, ok := m.releasesOf(name)
	if !ok {
		if in(m.any(), r) != Yes {
			return Unknown
		}
		return No // no release exports it
	}
	return in(spans, r)
}

// releasesOf finds name's line in m's block: its releases, which are the
// module's when the line gives none; false when no release exports it.
func (m Module) releasesOf(name string) (string, bool) {
	block := m.names
	for block != "" {
		line, rest, _ := strings.Cut(block, "\n")
		block = rest
		n, spans, _ := strings.Cut(line[1:], " ")
		if n != name {
			continue
		}
		if spans == "" {
			return m.any(), true
		}
		return spans, true
	}
	return "", false
}

// any is the releases that load m with node: or without it.
func (m Module) any() string {
	if m.bare == "-" || m.bare == m.prefixed {
		return m.prefixed
	}
	if m.prefixed == "-" {
		return m.bare
	}
	return m.prefixed + "," + m.bare
}

// Nowhere is what Releases says of what no release has.
const Nowhere = "no release of node"

// Releases says in words which releases load spec, which names m, or,
// with a name, export name from it: for a report's fix.
func (m Module) Releases(spec, name string) string {
	spans := m.bare
	if Scheme(spec) {
		spans = m.prefixed
	}
	if name != "" {
		var ok bool
		if spans, ok = m.releasesOf(name); !ok {
			return Nowhere
		}
	}
	return describe(spans)
}

// in answers for release r from a span list: "a,b-c,d-" (releases and
// runs of consecutive ones, "d-" up to the last recorded; "-" is none).
func in(spans string, r Release) Answer {
	if r.after {
		if takenOut(spans, r) {
			return No
		}
		return Unknown // node may have added it since, or taken it out
	}
	below, above := covers(spans, r.below), covers(spans, r.above)
	switch {
	case below && above:
		return Yes
	case !below && !above:
		return No
	}
	return Unknown // between two releases that disagree
}

func covers(spans string, v version) bool {
	if spans == "-" {
		return false
	}
	for rest := spans; rest != ""; {
		var span string
		span, rest, _ = strings.Cut(rest, ",")
		first, last, run := strings.Cut(span, "-")
		lo, ok := parseVersion(first)
		if !ok || v.less(lo) {
			continue
		}
		if !run {
			if lo == v {
				return true
			}
			continue
		}
		if last == "" {
			return true
		}
		if hi, ok := parseVersion(last); ok && !hi.less(v) {
			return true
		}
	}
	return false
}

// takenOut reports whether node took out what spans has before release r,
// which is after the table: node does not bring back what it took out.
// It is out of the two newest recorded releases before r (once, node took
// Buffer's SlowBuffer out of 24.0.0 and put it back in 24.0.1), and of
// the line they are in (r's major, or for a major after the table's, the
// table's last): it was in an earlier release of that line (taken out
// within it, as util's getCallSite in 24.10), or, in none of it, in the
// first release of an earlier major (taken out at a major, as util.isString
// in 23). Order by version is not order in time across lines: a name
// backported to 24.22 reached 26 only in 26.10, and repl's builtinModules,
// taken out of 22.16, was in 23.0: so only the line's own releases and
// earlier majors' first ones count.
func takenOut(spans string, r Release) bool {
	all := recorded()
	newest := slices.Index(all, r.below)
	if newest < 1 || covers(spans, all[newest]) || covers(spans, all[newest-1]) {
		return false
	}
	line := r.below[0]
	inLine, inFirst := false, false
	for i, rel := range all[:newest+1] {
		switch {
		case !covers(spans, rel):
		case rel[0] == line:
			inLine = true
		case i == 0 || all[i-1][0] != rel[0]:
			inFirst = true
		}
	}
	return inLine || inFirst
}

// describe puts a span list in words: "20.12.0 and later 20.x, 21.2.0
// and later", "18.0.0 to 22.x".
func describe(spans string) string {
	if spans == "-" || spans == "" {
		return Nowhere
	}
	var out []string
	for _, span := range strings.Split(spans, ",") {
		first, last, run := strings.Cut(span, "-")
		lo, _ := parseVersion(first)
		hi, _ := parseVersion(last)
		switch {
		case !run:
			out = append(out, first)
		case last == "":
			out = append(out, first+" and later")
		case !lastOfMajor(hi):
			out = append(out, first+" to "+last)
		case lo[0] == hi[0]:
			out = append(out, fmt.Sprintf("%s and later %d.x", first, hi[0]))
		default:
			out = append(out, fmt.Sprintf("%s to %d.x", first, hi[0]))
		}
	}
	return strings.Join(out, ", ")
}

// lastOfMajor reports whether v is the last release of its major the
// table records.
func lastOfMajor(v version) bool {
	all := recorded()
	for i, r := range all {
		if r == v {
			return i == len(all)-1 || all[i+1][0] != v[0]
		}
	}
	return false
}

// IDs lists every module the table records, in order.
func IDs() []string {
	out := make([]string, 0, len(modules()))
	for id := range modules() {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Names lists every name m exports in some release, in order.
func (m Module) Names() []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(m.names, "\n"), "\n") {
		if line != "" {
			name, _, _ := strings.Cut(line[1:], " ")
			out = append(out, name)
		}
	}
	return out
}
