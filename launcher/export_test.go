package launcher

import (
	"os"
	"runtime/debug"
	"time"
)

// TrimResident lets a test see when the launcher gives back its start's
// pages, and put the real trim back with the function returned.
func TrimResident(f func()) (restore func()) {
	was := trimResident
	trimResident = f
	return func() { trimResident = was }
}

// GiveBackHeap lets a test see when the launcher returns its free heap,
// and put the real one back with the function returned.
func GiveBackHeap(f func()) (restore func()) {
	was := giveBackHeap
	giveBackHeap = f
	return func() { giveBackHeap = was }
}

// GCPercent reads the collector's pace (SetGCPercent returns the old one).
func GCPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// ReadySettleDelay is how long after readiness by URL or IPC the launcher
// settles.
const ReadySettleDelay = readySettleDelay

// IdleGCPercent is the collector's pace once the child is ready.
const IdleGCPercent = idleGCPercent

// ChooseGOGC makes the launcher take GOGC as set (or not) at its start,
// and puts the real reading back with the function returned.
func ChooseGOGC(chosen bool) (restore func()) {
	was := gogcChosen
	gogcChosen = chosen
	return func() { gogcChosen = was }
}

// ForwardedSignals is the channel the Supervisor gets the signals it
// forwards on from the runtime.
func ForwardedSignals(s *Supervisor) <-chan os.Signal { return s.signals.forwarded }

// GateReportWait sets how long the gate waits for node's report, and
// puts the real wait back with the function returned.
func GateReportWait(d time.Duration) (restore func()) {
	was := gateReportWait
	gateReportWait = d
	return func() { gateReportWait = was }
}

// StableUptime sets how long a child must stay up for the restart delay to
// start over, and puts the real one back with the function returned.
func StableUptime(d time.Duration) (restore func()) {
	was := stableUptime
	stableUptime = d
	return func() { stableUptime = was }
}

// InspectorSays is inspectorSays, for the fuzz target's model of the tail.
var InspectorSays = inspectorSays
