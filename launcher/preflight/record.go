package preflight

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hasync/launcher/launcher/jsonscan"
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
//
// By hand (jsonscan), not with encoding/json: the record is read while
// node starts, and encoding/json's first use in a process took 1 ms of a
// 19 KB record here (its reflection, and its code's first page faults),
// about a tenth of that by hand. It reads what encoding/json writes and
// refuses what it would not have written (an unknown or repeated key, a
// null, a string that is not UTF-8): whatever it accepts, encoding/json
// reads the same (FuzzParseRecord).
func ParseRecord(b []byte) (*Record, error) {
	var rec Record
	s := jsonscan.New(b)
	if !s.Object(rec.field(&s)) || !s.AtEnd() {
		return nil, errors.New("not a preflight record: not the JSON this launcher writes")
	}
	switch {
	case rec.Format != recordFormat:
		return nil, fmt.Errorf("preflight record of format %d, not %d", rec.Format, recordFormat)
	case len(rec.Reads) == 0 || len(rec.Checks) == 0 || rec.Node.Version == "":
		return nil, errors.New("preflight record incomplete")
	}
	return &rec, nil
}

// field reads the record's key from s.
func (rec *Record) field(s *jsonscan.Scanner) func(string) bool {
	return func(key string) bool {
		var ok bool
		switch key {
		case "format":
			rec.Format, ok = s.Int()
		case "at":
			var at string
			if at, ok = s.Plain(); ok {
				ok = rec.At.UnmarshalText([]byte(at)) == nil
			}
		case "settings":
			rec.Settings, ok = text(s)
		case "node":
			ok = s.Object(rec.Node.field(s))
		case "checks":
			ok = objects(s, &rec.Checks, (*Check).field)
		case "reads":
			ok = objects(s, &rec.Reads, (*Read).field)
		}
		return ok
	}
}

// objects reads a JSON array of objects onto list, each object's keys by
// field.
func objects[T any](s *jsonscan.Scanner, list *[]T, field func(*T, *jsonscan.Scanner) func(string) bool) bool {
	return s.Array(func() bool {
		var v T
		ok := s.Object(field(&v, s))
		*list = append(*list, v)
		return ok
	})
}

// field reads a check's key from s.
func (c *Check) field(s *jsonscan.Scanner) func(string) bool {
	return func(key string) bool {
		var ok bool
		switch key {
		case "name":
			c.Name, ok = text(s)
		case "status":
			var v string
			v, ok = text(s)
			c.Status = CheckStatus(v)
		case "detail":
			c.Detail, ok = text(s)
		case "hint":
			c.Hint, ok = text(s)
		}
		return ok
	}
}

// field reads a read's key from s.
func (r *Read) field(s *jsonscan.Scanner) func(string) bool {
	return func(key string) bool {
		var ok bool
		switch key {
		case "op":
			r.Op, ok = text(s)
		case "path":
			r.Path, ok = text(s)
		case "seen":
			r.Seen, ok = text(s)
		}
		return ok
	}
}

// field reads node's key from s, as the record keeps node.
func (n *NodeInfo) field(s *jsonscan.Scanner) func(string) bool {
	return func(key string) bool {
		var ok bool
		switch key {
		case "path":
			n.Path, ok = text(s)
		case "version":
			n.Version, ok = text(s)
		case "abi":
			n.ABI, ok = s.Int()
		case "napi":
			n.NAPI, ok = s.Int()
		case "libc":
			n.Libc, ok = text(s)
		case "arch":
			n.Arch, ok = text(s)
		case "version_from":
			n.VersionFrom, ok = text(s)
		}
		return ok
	}
}

// text reads a JSON string that is valid UTF-8, as encoding/json writes
// every string.
func text(s *jsonscan.Scanner) (string, bool) {
	v, ok := s.Str()
	return v, ok && utf8.ValidString(v)
}

// settings is every input of the checks other than the files and node's
// answer, in one comparable string: each named, every string quoted, so no
// two settings read the same (TestRecord_SettingsTellEveryChangeApart).
// Built by hand: it is compared at every start, while node starts, and
// encoding/json's first use in the process cost 0.6 ms.
func (p *Preflight) settings() string {
	b := make([]byte, 0, 256)
	str := func(name, v string) {
		b = append(b, name...)
		b = strconv.AppendQuote(append(b, '='), v)
		b = append(b, ' ')
	}
	str("app", p.AppDir)
	str("entry", p.Entry)
	str("node", p.Node)
	b = append(b, "modules=["...)
	for _, m := range p.NativeModules {
		b = append(strconv.AppendQuote(b, m), ' ')
	}
	b = append(b, "] deep="...)
	b = append(strconv.AppendBool(b, p.Deep), ' ')
	str("ld", p.LDLibraryPath)
	str("ld_preload", p.LDPreload)
	str("libc", p.LibcEnv)
	str("root", p.Root)
	str("node_options", p.NodeOptions)
	// Read only when node runs in secure-execution mode, to say it does nothing.
	str("extra_ca_certs", p.getenv("NODE_EXTRA_CA_CERTS"))
	// A record made under another kernel (a Raspberry Pi 5 booted with
	// its kernel of 4 KiB pages, then of 16) judged other pages.
	b = append(b, "page="...)
	b = append(strconv.AppendUint(b, p.pageSize(), 10), ' ')
	b = append(b, "nnp="...)
	b = append(strconv.AppendBool(b, p.NoNewPrivs), ' ')
	b = append(b, "node_args=["...)
	for _, a := range p.NodeArgs {
		b = append(strconv.AppendQuote(b, a), ' ')
	}
	b = append(b, "] "...)
	b = append(b, "user="...)
	if u := p.RunAs; u != nil {
		b = strconv.AppendUint(b, uint64(u.UID), 10)
		b = strconv.AppendUint(append(b, ':'), uint64(u.GID), 10)
		b = append(b, ":["...)
		for _, g := range u.Groups {
			b = append(strconv.AppendUint(b, uint64(g), 10), ' ')
		}
		b = strconv.AppendQuote(append(b, "]:"...), u.Name)
	} else {
		b = append(b, '-')
	}
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
