package launcher

import (
	"runtime/debug"
	"testing"
)

// GOGC set at the start is the pace, whatever the phase.
func TestPaceGC_LeavesAChosenGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer ChooseGOGC(true)()
	paceGC(idleGCPercent)
	if got := GCPercent(); got != 100 {
		t.Fatalf("GC percent with GOGC=100 set = %d, want 100 (untouched)", got)
	}
	gogcChosen = false
	paceGC(idleGCPercent)
	if got := GCPercent(); got != idleGCPercent {
		t.Fatalf("GC percent without GOGC = %d, want %d", got, idleGCPercent)
	}
}
