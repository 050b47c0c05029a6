package launcher

import (
	"errors"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher/bug"
)

// sampling is the Sampler the program handed in, fenced: it reads /proc
// and the cgroup's files through gopsutil for as long as node runs, and a
// panic in it (gopsutil's parsers have panicked on files they did not
// expect) would end the launcher, PID 1, and node with it. A panic is told
// once (package bug) and ends sampling for good; node runs on.
type sampling struct {
	inner Sampler
	log   zerolog.Logger
	name  string // node, or the command's base name
	off   atomic.Bool
}

// errSamplingOff is what Process says once a panic ended sampling.
var errSamplingOff = errors.New("sampling is off: it failed for a bug")

// newSampling fences inner; nil stays nil (no sampling).
func newSampling(inner Sampler, log zerolog.Logger, name string) *sampling {
	if inner == nil {
		return nil
	}
	return &sampling{inner: inner, log: log, name: name}
}

// on reports whether sampling goes on.
func (s *sampling) on() bool { return s != nil && !s.off.Load() }

func (s *sampling) Process(pid int) (ps ProcessSample, err error) {
	if !s.on() {
		return ps, errSamplingOff
	}
	if p := bug.Catch(func() { ps, err = s.inner.Process(pid) }); p != nil {
		s.failed(p)
		return ProcessSample{}, p
	}
	return ps, err
}

func (s *sampling) Host() (h HostSample) {
	if !s.on() {
		return h
	}
	if p := bug.Catch(func() { h = s.inner.Host() }); p != nil {
		s.failed(p)
		return HostSample{}
	}
	return h
}

func (s *sampling) OOMKills() (n uint64) {
	if !s.on() {
		return 0
	}
	if p := bug.Catch(func() { n = s.inner.OOMKills() }); p != nil {
		s.failed(p)
		return 0
	}
	return n
}

// failed turns sampling off and tells p, once.
func (s *sampling) failed(p *bug.Panic) {
	if s.off.Swap(true) {
		return
	}
	bug.Tell(s.log, p, "sampling "+s.name, s.name+" runs on, no longer sampled: LAUNCHER_MEMORY_LIMIT is not enforced, "+
		"and /status and /metrics keep the last figures")
}
