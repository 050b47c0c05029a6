package preflight

import (
	"fmt"
	"strconv"
	"strings"
)

// semver is a version as npm's ranges compare it; prerelease tags are
// ignored, which is enough for engines.node against a released node.
type semver [3]int

func (a semver) cmp(b semver) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// partialVersion parses 18, 18.2, 18.2.1, v18, 18.x, 18.*: the numbers
// given, and how many (wildcards stop the count).
func partialVersion(s string) (semver, int, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "="), "v")
	if i := strings.IndexAny(s, "-+"); i > 0 {
		s = s[:i]
	}
	var v semver
	if s == "" || s == "*" || s == "x" || s == "X" {
		return v, 0, nil
	}
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return v, 0, fmt.Errorf("bad version %q", s)
	}
	n := 0
	for i, p := range parts {
		if p == "x" || p == "X" || p == "*" {
			break
		}
		num, err := strconv.Atoi(p)
		if err != nil || num < 0 {
			return v, 0, fmt.Errorf("bad version %q", s)
		}
		v[i] = num
		n = i + 1
	}
	return v, n, nil
}

// satisfies reports whether version is in the npm range expr: sets joined
// by ||, each of comparators (>=, >, <=, <, =, ~, ^, x-ranges, a - b).
func satisfies(version, expr string) (bool, error) {
	v, n, err := partialVersion(version)
	if err != nil || n == 0 {
		return false, fmt.Errorf("bad node version %q", version)
	}
	for _, set := range strings.Split(expr, "||") {
		ok, err := satisfiesSet(v, set)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func satisfiesSet(v semver, set string) (bool, error) {
	fields := strings.Fields(set)
	// Hyphen ranges: a - b.
	for i := 0; i+2 < len(fields); i++ {
		if fields[i+1] == "-" {
			lo, _, err := partialVersion(fields[i])
			if err != nil {
				return false, err
			}
			hi, hn, err := partialVersion(fields[i+2])
			if err != nil {
				return false, err
			}
			if v.cmp(lo) < 0 || !belowPartialUpper(v, hi, hn) {
				return false, nil
			}
			fields = append(fields[:i], fields[i+3:]...)
			i--
		}
	}
	// Operators may be written apart from their version: ">= 18".
	var comps []string
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Trim(f, "<>=~^") == "" && i+1 < len(fields) {
			f += fields[i+1]
			i++
		}
		comps = append(comps, f)
	}
	for _, c := range comps {
		ok, err := satisfiesComparator(v, c)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// belowPartialUpper: v <= hi, where a partial hi (18 or 18.2) includes its
// whole range.
func belowPartialUpper(v, hi semver, n int) bool {
	switch n {
	case 0:
		return true
	case 3:
		return v.cmp(hi) <= 0
	}
	next := hi
	next[n-1]++
	for i := n; i < 3; i++ {
		next[i] = 0
	}
	return v.cmp(next) < 0
}

func satisfiesComparator(v semver, c string) (bool, error) {
	op := strings.TrimRight(c[:len(c)-len(strings.TrimLeft(c, "<>=~^"))], " ")
	w, n, err := partialVersion(c[len(op):])
	if err != nil {
		return false, err
	}
	lower := v.cmp(w) >= 0
	switch op {
	case "", "=":
		return lower && belowPartialUpper(v, w, n), nil
	case ">=":
		return lower, nil
	case ">":
		if n < 3 {
			return !belowPartialUpper(v, w, n), nil
		}
		return v.cmp(w) > 0, nil
	case "<":
		return v.cmp(w) < 0, nil
	case "<=":
		return belowPartialUpper(v, w, n), nil
	case "~", "~>":
		if n <= 1 {
			return lower && belowPartialUpper(v, w, n), nil
		}
		return lower && belowPartialUpper(v, w, 2), nil
	case "^":
		switch {
		case w[0] != 0 || n <= 1:
			return lower && belowPartialUpper(v, w, 1), nil
		case w[1] != 0 || n == 2:
			return lower && belowPartialUpper(v, w, 2), nil
		}
		return lower && belowPartialUpper(v, w, 3), nil
	}
	return false, fmt.Errorf("unknown operator %q", op)
}
