package preflight

import (
	"regexp"
	"sync"
)

// lazyRegexp is compiled at its first use rather than at the program's
// start: compiling the preflight's expressions took 1 ms of every start,
// `launcher version` and the health subcommands included, which never use
// them.
type lazyRegexp struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

func lazy(expr string) *lazyRegexp { return &lazyRegexp{expr: expr} }

func (l *lazyRegexp) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.expr) })
	return l.re
}
