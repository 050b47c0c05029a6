package preflight

import (
	"context"
	"strings"
	"testing"
)

// A panic in the checks (a bug; none is known, so node's report, which the
// gate hands in, panics here) ends them with a report of one warning, and
// node starts unchecked: the image is not at fault, and a refusal would
// keep the app down until the launcher is mended. Asked beside the checks
// (a goroutine of their own) and on their own path (recalling a record),
// on real node and the real modules; the next run checks as before.
func TestRun_APanicInTheChecksIsTheirOneWarning(t *testing.T) {
	_, p := recordRoot(t)
	rec := recorded(t, p)
	boom := func(context.Context) (NodeVersions, bool) { var v []NodeVersions; return v[3], true }
	for _, c := range []struct {
		name   string
		record *Record
	}{{"beside the checks", nil}, {"recalling a record", rec}} {
		t.Run(c.name, func(t *testing.T) {
			p.Record, p.Reported = c.record, boom
			r := p.Run(context.Background())
			if r.Bug == nil || !strings.Contains(r.Bug.Error(), "index out of range [3] with length 0") ||
				!strings.Contains(string(r.Bug.Stack), "TestRun_APanicInTheChecksIsTheirOneWarning") {
				t.Fatalf("the panic is not the report's: %v %+v", r.Bug, r.Checks)
			}
			if !r.OK || len(r.Checks) != 1 || r.Checks[0].Name != "checks" || r.Checks[0].Status != StatusWarn ||
				!strings.Contains(r.Checks[0].Detail, "failed for a bug in the launcher") || r.Record() != nil {
				t.Errorf("want one warning, node started, nothing recorded: ok=%v record=%v %+v", r.OK, r.Record() != nil, r.Checks)
			}
		})
	}
	p.Record, p.Reported = nil, nil
	if r := p.Run(context.Background()); r.Bug != nil || !r.OK || len(r.Checks) < 5 {
		t.Errorf("the run after: bug %v, ok=%v, %d checks", r.Bug, r.OK, len(r.Checks))
	}
}
