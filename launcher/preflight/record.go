package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"
)

// A Record is a passing report kept with everything it was made of: the
// settings, node's own account of itself, and each file the checks read,
// listed, resolved or failed to find, with what they saw of it (files.go).
// The checks are a function of exactly these, so while all of them are
// unchanged the same checks would give the same report: Run then returns it
// without checking again, and any change at all (a file touched, a package
// added, a library placed earlier in the search path, another node, another
// launcher) runs every check. Only a passing report is recorded; a failing
// one is always found again.
//
// What is trusted is each file's identity (inode, size, mode, owner,
// modification and change times), as make and git trust it: a write, a
// rename over it, a chmod or a chown moves the change time, which no user
// can set back.
type Record struct {
	Format   int       `json:"format"`
	At       time.Time `json:"at"`
	Settings string    `json:"settings"`
	Node     NodeInfo  `json:"node"`
	Checks   []Check   `json:"checks"`
	Reads    []Read    `json:"reads"`
}

// Read is one access the checks made and what it saw.
type Read struct {
	Op   string `json:"op"`
	Path string `json:"path"`
	Seen string `json:"seen"`
}

// recordFormat changes whenever a record's meaning does.
const recordFormat = 1

// Record is this report with what it was made of, to be kept for the next
// start: nil unless the checks ran and passed (not from a record, not
// short of resources, not of an image from outside).
func (r *Report) Record() *Record { return r.record }

// ParseRecord reads a record as encoding/json wrote it, refusing one of
// another format or missing its parts.
func ParseRecord(b []byte) (*Record, error) {
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("not a preflight record: %w", err)
	}
	switch {
	case rec.Format != recordFormat:
		return nil, fmt.Errorf("preflight record of format %d, not %d", rec.Format, recordFormat)
	case len(rec.Reads) == 0 || len(rec.Checks) == 0 || rec.Node.Version == "":
		return nil, errors.New("preflight record incomplete")
	}
	return &rec, nil
}

// settings is every input of the checks other than the files and node's
// answer, in one comparable string.
func (p *Preflight) settings() string {
	b, _ := json.Marshal(struct {
		AppDir, Entry, Node    string
		NativeModules          []string
		Deep                   bool
		LDLibraryPath, LibcEnv string
		Root, NodeOptions      string
		RunAs                  *User
	}{p.AppDir, p.Entry, p.Node, p.NativeModules, p.Deep, p.LDLibraryPath, p.LibcEnv, p.Root, p.NodeOptions, p.RunAs})
	return string(b)
}

// recordOf is r with what the run that made it read, and the launcher's
// own executable: another build may check differently. Nil when the
// executable cannot be found, or a file changed while the checks read it.
func (p *Preflight) recordOf(r *Report) *Record {
	exe, err := os.Executable()
	if err != nil || r.Node == nil || p.fsys.moved {
		return nil
	}
	_, _ = p.fsys.stat(exe)
	rec := &Record{Format: recordFormat, At: time.Now().UTC(), Settings: p.settings(), Node: *r.Node,
		Checks: append([]Check(nil), r.Checks...)}
	for a, seen := range p.fsys.seen {
		rec.Reads = append(rec.Reads, Read{a.Op, a.Path, seen})
	}
	sort.Slice(rec.Reads, func(i, j int) bool {
		a, b := rec.Reads[i], rec.Reads[j]
		return a.Path < b.Path || a.Path == b.Path && a.Op < b.Op
	})
	return rec
}

// recall returns the record's report when nothing it was made of has
// changed; else nil and why not (empty without a record).
func (p *Preflight) recall(ctx context.Context) (*Report, string) {
	rec := p.Record
	if rec == nil || p.Image != "" {
		return nil, ""
	}
	if rec.Format != recordFormat {
		return nil, "the record is of another format"
	}
	if rec.Settings != p.settings() {
		return nil, "the settings changed"
	}
	if changed := rec.changed(); changed != "" {
		return nil, changed
	}
	n := &NodeInfo{Path: rec.Node.Path}
	if err := p.readVersion(ctx, n); err != nil || n.versions() != rec.Node.versions() {
		return nil, "node's own account of itself changed"
	}
	node := rec.Node
	return &Report{OK: true, Checks: append([]Check(nil), rec.Checks...), Node: &node, Recorded: rec.At}, ""
}

// changed names the first read whose file is no longer as the record saw
// it, or returns "".
func (rec *Record) changed() string {
	for _, r := range rec.Reads {
		now, ok := observe(access{r.Op, r.Path})
		if !ok {
			return fmt.Sprintf("%s: an access of a kind this launcher does not make (%q)", r.Path, r.Op)
		}
		if now != r.Seen {
			return fmt.Sprintf("%s changed (%s: %s, was %s)", r.Path, r.Op, now, r.Seen)
		}
	}
	return ""
}
