package health

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/preflight"
)

const barWidth = 40

// bar draws v out of full as a bar of barWidth cells, in eighths.
func bar(v, full float64) string {
	if full <= 0 || v < 0 {
		return ""
	}
	eighths := int(v / full * barWidth * 8)
	eighths = min(eighths, barWidth*8)
	s := strings.Repeat("█", eighths/8)
	if r := eighths % 8; r > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[r-1])
	}
	if s == "" && v > 0 {
		s = "▏"
	}
	return s
}

func size(b uint64) string { return config.ByteSize(b).String() }

// WriteStatus writes the status for a person at a glance: state, the
// startup timeline as bars, memory against the container's limit, the
// data folder's disk, restarts, the last exit with its stderr tail, any
// preflight failure.
func WriteStatus(w io.Writer, s *launcher.Snapshot, _ bool) {
	fmt.Fprintf(w, "launcher %s: %s\n", s.Version, strings.ToUpper(s.State))
	if c := s.Child; c.PID != nil {
		up := ""
		if c.StartedAt != nil {
			up = ", up " + time.Since(*c.StartedAt).Round(time.Second).String()
		}
		ready := "not ready"
		if c.Ready {
			ready = "ready"
		}
		fmt.Fprintf(w, "child     pid %d, %s%s\n", *c.PID, ready, up)
		switch {
		case len(c.Listening) > 0:
			fmt.Fprintf(w, "listens   %s\n", strings.Join(c.Listening, ", "))
		case c.Listening != nil:
			fmt.Fprintln(w, "listens   on no TCP port")
		}
	} else if c.NextStartAt != nil {
		fmt.Fprintf(w, "child     not running; starts again at %s (in %s)\n", c.NextStartAt.Local().Format("15:04:05"), time.Until(*c.NextStartAt).Round(time.Second))
	} else {
		fmt.Fprintln(w, "child     not running")
	}
	if n := s.Node; n != nil {
		fmt.Fprintf(w, "node      %s at %s (NODE_MODULE_VERSION %d, %s, %s)\n", n.Version, n.Path, n.ABI, n.Libc, n.Arch)
	}

	st := s.Startup
	if st.PreflightMS != nil || st.SpawnMS != nil || st.ReadyMS != nil {
		full := 0.0
		for _, v := range []*float64{st.PreflightMS, st.SpawnMS, st.ReadyMS} {
			if v != nil {
				full = max(full, *v)
			}
		}
		fmt.Fprintln(w, "\nstartup (ms from the launcher's start)")
		for _, p := range []struct {
			name string
			v    *float64
		}{{"preflight", st.PreflightMS}, {"spawn", st.SpawnMS}, {"ready", st.ReadyMS}} {
			if p.v == nil {
				fmt.Fprintf(w, "  %-9s  %-*s  pending\n", p.name, barWidth, "")
				continue
			}
			fmt.Fprintf(w, "  %-9s  %-*s  %.1f ms\n", p.name, barWidth, bar(*p.v, full), *p.v)
		}
		if ns := st.NodeStart; ns != nil {
			// The timeline's last phase, taken apart.
			parts := []string{fmt.Sprintf("%.1f ms on a CPU", ns.CPUMS)}
			if ns.CPUWaitMS != nil {
				parts = append(parts, fmt.Sprintf("%.1f ms waiting for one", *ns.CPUWaitMS))
			}
			if ns.DiskWaitMS != nil {
				parts = append(parts, fmt.Sprintf("about %.0f ms on the disk", *ns.DiskWaitMS))
			}
			if ns.ReadBytes != nil {
				parts = append(parts, size(uint64(*ns.ReadBytes))+" read from the disk")
			}
			fmt.Fprintf(w, "  node's start of %.1f ms: %s\n", ns.TookMS, strings.Join(parts, ", "))
		}
	}

	fmt.Fprintln(w, "\nmemory")
	limit := uint64(0)
	if s.Container.MemoryLimitBytes != nil {
		limit = *s.Container.MemoryLimitBytes
	}
	line := func(name string, v *uint64) {
		if v == nil {
			fmt.Fprintf(w, "  %-9s  unknown\n", name)
			return
		}
		if limit > 0 {
			fmt.Fprintf(w, "  %-9s  %-*s  %s (%.0f%% of the %s limit)\n", name, barWidth, bar(float64(*v), float64(limit)), size(*v), 100*float64(*v)/float64(limit), size(limit))
			return
		}
		fmt.Fprintf(w, "  %-9s  %s\n", name, size(*v))
	}
	line("node", s.Child.RSSBytes)
	line("launcher", s.Launcher.RSSBytes)
	line("container", s.Container.MemoryUsageBytes)
	if limit == 0 {
		fmt.Fprintln(w, "  (the container has no memory limit)")
	}
	if d := s.Container.Data; d != nil {
		ro := ""
		if d.ReadOnly {
			ro = ", mounted read-only"
		}
		used := float64(d.SizeBytes - min(d.FreeBytes, d.SizeBytes))
		fmt.Fprintf(w, "\ndisk\n  %-9s  %-*s  %s free of %s%s\n", d.Path, barWidth, bar(used, float64(d.SizeBytes)), size(d.FreeBytes), size(d.SizeBytes), ro)
	}

	fmt.Fprintf(w, "\nrestarts  %d; orphans reaped %d\n", s.Child.Restarts, s.Launcher.Reaped)
	if e := s.Child.LastExit; e != nil {
		how := fmt.Sprintf("code %d", e.Code)
		if e.Signal != "" {
			how = fmt.Sprintf("%s (%d)", e.Signal, e.Code)
		}
		fmt.Fprintf(w, "last exit %s at %s, reason %s\n", how, e.At.Local().Format("15:04:05"), e.Reason)
		for _, l := range e.Stderr[max(0, len(e.Stderr)-10):] {
			fmt.Fprintf(w, "    %s\n", l)
		}
		if len(e.StuckAt) > 0 {
			fmt.Fprintln(w, "  stuck at (its main thread busy, paused by node's inspector):")
			for _, l := range e.StuckAt {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
		if len(e.Stack) > 0 {
			fmt.Fprintln(w, "  in the app's sources:")
			for _, l := range e.Stack {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
		for _, d := range e.Diagnoses {
			fmt.Fprintf(w, "  why: %s\n", d.Cause)
			if d.Hint != "" { // a verdict on where node was stuck has none of its own
				fmt.Fprintf(w, "      fix: %s\n", d.Hint)
			}
		}
	}
	if p := s.Preflight; p != nil {
		switch {
		case p.OK && !p.Recorded.IsZero():
			fmt.Fprintf(w, "preflight passed (%d checks, %.1f ms, recalled: unchanged since they ran at %s)\n",
				len(p.Checks), p.DurationMS, p.Recorded.Local().Format(time.DateTime))
		case p.OK:
			fmt.Fprintf(w, "preflight passed (%d checks, %.1f ms)\n", len(p.Checks), p.DurationMS)
		default:
			fmt.Fprintln(w, "preflight FAILED")
		}
		for _, c := range p.Checks {
			if c.Status != preflight.StatusPass {
				fmt.Fprintf(w, "  %s %s: %s\n      fix: %s\n", strings.ToUpper(string(c.Status)), c.Name, c.Detail, c.Hint)
			}
		}
	}
}
