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

// diskRead is how much a start must have read from storage for its wait
// off the CPU to be put on the disk: node's binary and a backend's
// modules, read cold, are tens of MiB; a warm start reads next to none.
const diskRead = 8 << 20

// NodeStart is where a start's time went, from the gate's opening (or
// the spawn) to readiness: node's main thread on a CPU and waiting for
// one, and what node read from storage meanwhile; nil where the kernel
// does not say.
type NodeStart struct {
	TookMS    float64  `json:"took_ms"`
	CPUMS     float64  `json:"cpu_ms"`
	CPUWaitMS *float64 `json:"cpu_wait_ms"`
	ReadBytes *int64   `json:"read_bytes"`
}

// tellStartCost logs where c's start, which took took, went: at info when
// it was slow, else at debug. The first start's is kept for /status.
func (s *Supervisor) tellStartCost(c *Child, took time.Duration, first bool) {
	now, ok := costOf(c.PID)
	if !ok {
		return
	}
	cost := now.since(c.base)
	level := zerolog.DebugLevel
	if took >= slowStart {
		level = zerolog.InfoLevel
	}
	ns := NodeStart{TookMS: ms(took), CPUMS: ms(cost.cpu)}
	ev := s.log.WithLevel(level).Float64("took_ms", ns.TookMS).Float64("cpu_ms", ns.CPUMS)
	if cost.cpuWait >= 0 {
		ns.CPUWaitMS = ptr(ms(cost.cpuWait))
		ev = ev.Float64("cpu_wait_ms", *ns.CPUWaitMS)
	}
	if cost.read >= 0 {
		ns.ReadBytes = ptr(cost.read)
		ev = ev.Int64("read_bytes", cost.read)
	}
	ev.Msg(cost.story(s.name, took))
	if first {
		s.store.Update(func(st *Snapshot) { st.Startup.NodeStart = &ns })
	}
}

// story says where a start of took went: what node's main thread spent
// on a CPU and waiting for one, what node read from the disk, and which
// of the three shares (on a CPU, waiting for one, waiting off it) was the
// largest, with what that likely was.
func (c startCost) story(name string, took time.Duration) string {
	facts := fmt.Sprintf("its main thread ran %s on a CPU", roundDuration(c.cpu))
	if c.cpuWait >= 0 {
		facts += fmt.Sprintf(" and waited %s for one", roundDuration(c.cpuWait))
	}
	if c.read >= 0 {
		facts += fmt.Sprintf(", and it read %s from the disk", readSize(c.read))
	}
	wait := max(c.cpuWait, 0)
	off := max(took-c.cpu-wait, 0)
	share, why := c.cpu, "on a CPU, compiling and running the app's code before it answered"
	switch {
	case wait > share && wait >= off:
		share, why = wait, "waiting for a CPU, which other programs held (at boot, Home Assistant and its add-ons start together)"
	case off <= share:
	case c.read >= diskRead:
		share, why = off, fmt.Sprintf("waiting off the CPU, most likely on the disk it read %s from (an SD card reads slowly; a start that finds those files in memory reads none)", bytesize.Format(c.read))
	case c.read >= 0:
		share, why = off, fmt.Sprintf("waiting off the CPU, not on the disk (it read %s): on the network (Home Assistant, a server, DNS), a timer or a lock, before it answered", readSize(c.read))
	default:
		share, why = off, "waiting off the CPU: on the disk, the network (Home Assistant, a server, DNS), a timer or a lock"
	}
	pct := 0
	if took > 0 {
		pct = int(100 * min(share, took) / took)
	}
	return fmt.Sprintf("%s's start took %s: %s; %d%% of it %s", name, roundDuration(took), facts, pct, why)
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
