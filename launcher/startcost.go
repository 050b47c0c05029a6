package launcher

import (
	"fmt"
	"time"

	"github.com/hasync/launcher/launcher/bytesize"
	"github.com/rs/zerolog"
)

// slowStart is how long a start may take before where its time went is
// told at info level; a quicker start tells it at debug. Ten seconds is
// slow for a backend, and still far from LAUNCHER_READY_TIMEOUT's minute.
const slowStart = 10 * time.Second

// NodeStart is where a start's time went, from the gate's opening (or
// the spawn) to readiness: node's main thread on a CPU, waiting for one,
// and (an estimate, from its looks at the thread) waiting on the disk,
// and what node read from storage meanwhile; nil where the kernel does
// not say, or the start was too short to be looked at.
type NodeStart struct {
	TookMS     float64  `json:"took_ms"`
	CPUMS      float64  `json:"cpu_ms"`
	CPUWaitMS  *float64 `json:"cpu_wait_ms"`
	DiskWaitMS *float64 `json:"disk_wait_ms"`
	ReadBytes  *int64   `json:"read_bytes"`
}

// startLooks are watchStart's counts: its looks at node's main thread
// during the start, and those that found it waiting on the disk.
type startLooks struct{ looks, inD int64 }

// diskWait is the share of took the looks found node's main thread
// waiting on the disk; -1 without a look.
func (l startLooks) diskWait(took time.Duration) time.Duration {
	if l.looks == 0 {
		return -1
	}
	return time.Duration(float64(took) * float64(l.inD) / float64(l.looks))
}

// tellStartCost logs where c's start, which took took, went: at info when
// it was slow, else at debug. The first start's is kept for /status,
// published before the line is logged, as every transition is: whoever
// reads the line and then asks /status finds it there.
func (s *Supervisor) tellStartCost(c *Child, took time.Duration, looks startLooks, first bool) {
	ns, story, ok := startWent(c, took, looks)
	if !ok {
		return
	}
	if first {
		s.store.Update(func(st *Snapshot) { st.Startup.NodeStart = &ns })
	}
	level := zerolog.DebugLevel
	if took >= slowStart {
		level = zerolog.InfoLevel
	}
	ns.fields(s.log.WithLevel(level)).Msgf("%s's start took %s: %s", s.name, roundDuration(took), story)
}

// tellHeldStart logs where c's start went in the time it was given, when
// it was not ready in time and held (onReadyTimeout): a first start on a
// slow card that needed more, or one held on a CPU, before the look at
// where it is now.
func (s *Supervisor) tellHeldStart(c *Child, took time.Duration, looks startLooks) {
	if ns, story, ok := startWent(c, took, looks); ok {
		ns.fields(s.log.Warn()).Msgf("%s's start, not ready within %s: %s", s.name, HumanDuration(s.cfg.ReadyTimeout), story)
	}
}

// startWent reads c's counters and, with watchStart's looks, says where
// the took of its start so far went: the figures, and the story told of
// them; false when node's counters cannot be read.
func startWent(c *Child, took time.Duration, looks startLooks) (NodeStart, string, bool) {
	now, ok := costOf(c.PID)
	if !ok {
		return NodeStart{}, "", false
	}
	cost := now.since(c.base)
	disk := looks.diskWait(took)
	ns := NodeStart{TookMS: ms(took), CPUMS: ms(cost.cpu)}
	if cost.cpuWait >= 0 {
		ns.CPUWaitMS = ptr(ms(cost.cpuWait))
	}
	if disk >= 0 {
		ns.DiskWaitMS = ptr(ms(disk))
	}
	if cost.read >= 0 {
		ns.ReadBytes = ptr(cost.read)
	}
	return ns, cost.story(took, disk), true
}

// fields are ns as a log line's fields, those known.
func (ns NodeStart) fields(ev *zerolog.Event) *zerolog.Event {
	ev = ev.Float64("took_ms", ns.TookMS).Float64("cpu_ms", ns.CPUMS)
	if ns.CPUWaitMS != nil {
		ev = ev.Float64("cpu_wait_ms", *ns.CPUWaitMS)
	}
	if ns.DiskWaitMS != nil {
		ev = ev.Float64("disk_wait_ms", *ns.DiskWaitMS)
	}
	if ns.ReadBytes != nil {
		ev = ev.Int64("read_bytes", *ns.ReadBytes)
	}
	return ev
}

// story says where a start of took went: what node's main thread spent
// on a CPU, waiting for one and (disk, -1 when unknown) waiting on the
// disk, what node read from the disk, and which share was the largest,
// with what that likely was.
func (c startCost) story(took, disk time.Duration) string {
	wait := max(c.cpuWait, 0)
	off := max(took-c.cpu-wait, 0)
	disk = min(disk, off)
	facts := fmt.Sprintf("its main thread ran %s on a CPU", roundDuration(c.cpu))
	if c.cpuWait >= 0 {
		facts += fmt.Sprintf(", waited %s for one", roundDuration(c.cpuWait))
	}
	if disk > 0 {
		facts += fmt.Sprintf(", about %s on the disk", roundDuration(disk))
	}
	if c.read >= 0 {
		facts += fmt.Sprintf(", and node read %s from the disk", readSize(c.read))
	}
	other := off - max(disk, 0)
	shares := []struct {
		d   time.Duration
		why string
	}{
		{c.cpu, "on a CPU, compiling and running the app's code before it answered"},
		{wait, "waiting for a CPU, which other programs held (at boot, Home Assistant and its add-ons start together)"},
		{disk, "waiting on the disk, reading what it loads: a slow disk (an SD card) reads so; a start that finds those files in memory reads none"},
		{other, "waiting off the CPU, not on a read of its own: on the network (Home Assistant, a server, DNS), a timer, a lock, or node's thread pool (bcrypt, asynchronous file reads)"},
	}
	if disk < 0 {
		shares[3].why = "waiting off the CPU: on the disk, the network (Home Assistant, a server, DNS), a timer or a lock"
	}
	most := shares[0]
	for _, sh := range shares[1:] {
		if sh.d > most.d {
			most = sh
		}
	}
	pct := 0
	if took > 0 {
		pct = int(100 * min(most.d, took) / took)
	}
	return fmt.Sprintf("%s; %d%% of it %s", facts, pct, most.why)
}

// readSize is n bytes read, as the story says it.
func readSize(n int64) string {
	if n == 0 {
		return "nothing"
	}
	return bytesize.Format(n)
}

// roundDuration is d as the log says durations: to the millisecond under
// a second, to a tenth of a second above.
func roundDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
