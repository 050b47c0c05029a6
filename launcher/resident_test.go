package launcher

import (
	"runtime/debug"
	"testing"
)

func TestPaceGC_LeavesAChosenGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	paceGC(func(k string) string {
		if k == "GOGC" {
			return "100"
		}
		return ""
	}, idleGCPercent)
	if got := GCPercent(); got != 100 {
		t.Fatalf("GC percent with GOGC=100 set = %d, want 100 (untouched)", got)
	}
	paceGC(func(string) string { return "" }, idleGCPercent)
	if got := GCPercent(); got != idleGCPercent {
		t.Fatalf("GC percent without GOGC = %d, want %d", got, idleGCPercent)
	}
}
