package preflight

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// recordRoot lays out a runtime root every file of which the test owns: the
// host's node and the libraries ldd says it maps, the loader's
// configuration, and a copy of the reference app (bcrypt and
// better-sqlite3, real binaries). The preflight, pointed at it by Root and
// an absolute Node, reads nothing outside it but the test binary.
func recordRoot(t *testing.T) (root string, p *Preflight) {
	t.Helper()
	app := fixtures("app20")
	if _, err := os.Stat(filepath.Join(app, "node_modules")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run this on real binaries, but %s is missing: run make fixtures", app)
		}
		t.Skipf("no native fixtures in %s: run make fixtures", app)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node on PATH")
	}
	node, _ = filepath.EvalSymlinks(node)
	root = t.TempDir()
	copyInto := func(src, dst string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("cp %s: %v: %s", src, err, out)
		}
	}
	copyInto(node, filepath.Join(root, "usr", "bin", "node"))
	out, err := exec.Command("ldd", node).Output()
	if err != nil {
		t.Skipf("ldd %s: %v (a static node maps no library)", node, err)
	}
	lib := regexp.MustCompile(`(?m)^\s*(?:\S+ => )?(/\S+) \(`)
	for _, m := range lib.FindAllStringSubmatch(string(out), -1) {
		real, err := filepath.EvalSymlinks(m[1])
		if err != nil {
			t.Fatal(err)
		}
		copyInto(real, filepath.Join(root, m[1])) // under the name the loader looks for
	}
	dirs := map[string]bool{}
	for _, m := range lib.FindAllStringSubmatch(string(out), -1) {
		dirs[filepath.Dir(m[1])] = true
	}
	must(t, os.MkdirAll(filepath.Join(root, "etc", "ld.so.conf.d"), 0o755))
	var conf strings.Builder
	for d := range dirs {
		conf.WriteString(d + "\n")
	}
	must(t, os.WriteFile(filepath.Join(root, "etc", "ld.so.conf.d", "libs.conf"), []byte(conf.String()), 0o644))
	must(t, os.WriteFile(filepath.Join(root, "etc", "ld.so.conf"), []byte("include /etc/ld.so.conf.d/*.conf\n"), 0o644))
	copyInto(app, filepath.Join(root, "app"))
	return root, &Preflight{AppDir: filepath.Join(root, "app"), Entry: "index.js", Node: filepath.Join(root, "usr", "bin", "node"),
		NativeModules: []string{"bcrypt", "better-sqlite3"}, Root: root}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// recorded runs the checks and returns their passing report's record.
func recorded(t *testing.T, p *Preflight) *Record {
	t.Helper()
	p.Record = nil
	r := p.Run(context.Background())
	if !r.OK || r.Record() == nil {
		t.Fatalf("preflight: ok=%v record=%v: %+v", r.OK, r.Record() != nil, r.Checks)
	}
	b, err := json.Marshal(r.Record())
	must(t, err)
	rec, err := ParseRecord(b) // as the launcher keeps it
	must(t, err)
	return rec
}

func TestRecord_RecalledWhileNothingChanged(t *testing.T) {
	_, p := recordRoot(t)
	rec := recorded(t, p)
	checked := p.Run(context.Background())

	p.Record = rec
	r := p.Run(context.Background())
	if r.Recorded.IsZero() || !r.OK || r.Stale != "" {
		t.Fatalf("an unchanged image must recall its record: recorded=%v ok=%v stale=%q", r.Recorded, r.OK, r.Stale)
	}
	if r.Record() != nil {
		t.Error("a recalled report must not be recorded again")
	}
	if len(r.Checks) != len(checked.Checks) {
		t.Fatalf("recalled %d checks, the checks give %d", len(r.Checks), len(checked.Checks))
	}
	for i := range r.Checks {
		if r.Checks[i] != checked.Checks[i] {
			t.Errorf("check %d recalled as %+v, checked as %+v", i, r.Checks[i], checked.Checks[i])
		}
	}
	if r.Node == nil || r.Node.Version != checked.Node.Version || r.Node.Facts() != checked.Node.Facts() {
		t.Errorf("node recalled as %+v, checked as %+v", r.Node, checked.Node)
	}
}

// TestRecord_EveryReadSeesItsFileChange is the record's differential test:
// for every access the checks made of the reference app, node and its
// libraries, a change to what is at that path (content, a folder's
// entries, a symlink's target, a file appearing where the checks found
// none) must show in that access's observation, so that the record is not
// recalled. And nothing is read outside the root but the launcher's own
// executable and the node_modules folders above it: what the checks learn,
// the record holds.
func TestRecord_EveryReadSeesItsFileChange(t *testing.T) {
	root, p := recordRoot(t)
	rec := recorded(t, p)
	exe, _ := os.Executable()
	ops := map[string]int{}
	for _, r := range rec.Reads {
		if r.Path == exe {
			continue
		}
		if !strings.HasPrefix(r.Path, root+"/") && r.Path != root {
			if r.Op == "dir" && filepath.Base(r.Path) == "node_modules" && strings.HasPrefix(root, filepath.Dir(r.Path)) {
				// A node_modules above the laid-out root, which require()
				// looks in too (the scan reads it): absent, and not this
				// test's to create. The root's own is read and changed.
				continue
			}
			t.Errorf("the checks read %s (%s) outside the root the test laid out: an input the record may not hold", r.Path, r.Op)
			continue
		}
		before, _ := observe(access{r.Op, r.Path})
		mutate(t, r)
		if after, _ := observe(access{r.Op, r.Path}); after == before {
			t.Errorf("%s %s: its change went unseen (%s)", r.Op, r.Path, after)
		}
		ops[r.Op]++
	}
	t.Logf("%d reads changed one by one: %v", len(rec.Reads), ops)
	for _, op := range []string{"file", "dir", "stat", "real", "glob", "path"} {
		if ops[op] == 0 {
			t.Errorf("no %q access in the record: the test no longer covers it", op)
		}
	}
	p.Record = rec
	if r := p.Run(context.Background()); !r.Recorded.IsZero() || r.Stale == "" {
		t.Errorf("after every change the record was recalled (stale %q)", r.Stale)
	}
}

// mutate changes what is at r.Path in the way r.Op would see.
func mutate(t *testing.T, r Read) {
	t.Helper()
	st, err := os.Lstat(r.Path)
	exists := err == nil
	switch {
	case r.Op == "glob":
		dir, pattern := filepath.Split(r.Path)
		create(t, filepath.Join(dir, strings.ReplaceAll(pattern, "*", "zz-added")))
	case (r.Op == "real" || r.Op == "link") && exists && st.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(r.Path)
		must(t, err)
		must(t, os.Remove(r.Path))
		must(t, os.Symlink(target+"/.", r.Path)) // elsewhere by name, the same folder
		if r.Op == "real" {                      // which EvalSymlinks does not see: move it
			moveAndLink(t, r.Path)
		}
	case (r.Op == "real" || r.Op == "link") && exists:
		moveAndLink(t, r.Path)
	case !exists:
		create(t, r.Path)
	case r.Op == "dir":
		create(t, filepath.Join(r.Path, "zz-added"))
	case r.Op == "path":
		must(t, os.Chmod(r.Path, 0o644)) // no longer executable
	default:
		// The same mode again: only the change time moves, as after a
		// rewrite that kept the size and the modification time.
		time.Sleep(time.Millisecond) // beyond the filesystem's timestamp granularity
		must(t, os.Chmod(r.Path, st.Mode().Perm()))
	}
}

// moveAndLink moves what is at path aside and leaves a symlink to it.
func moveAndLink(t *testing.T, path string) {
	t.Helper()
	must(t, os.Rename(path, path+".moved"))
	must(t, os.Symlink(filepath.Base(path)+".moved", path))
}

// create makes a file at path, its folders too, replacing a file that
// stands where a folder must.
func create(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		for d := filepath.Dir(path); d != "/"; d = filepath.Dir(d) {
			if st, err := os.Lstat(d); err == nil && !st.IsDir() {
				must(t, os.Rename(d, d+".moved"))
				break
			}
		}
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	}
	must(t, os.WriteFile(path, nil, 0o755))
}

// TestRecord_ABrokenImageIsCheckedAgain breaks the app in the ways the
// preflight exists for, after a record was kept: each must fail the
// preflight, never recall the pass.
func TestRecord_ABrokenImageIsCheckedAgain(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(t *testing.T, root string)
	}{
		{"addon truncated", func(t *testing.T, root string) {
			p := filepath.Join(root, "app", "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node")
			must(t, os.Truncate(p, 64))
		}},
		{"package removed", func(t *testing.T, root string) {
			must(t, os.RemoveAll(filepath.Join(root, "app", "node_modules", "bcrypt")))
		}},
		{"library removed", func(t *testing.T, root string) {
			libs, _ := filepath.Glob(filepath.Join(root, "*", "*", "libstdc++.so.6"))
			if len(libs) == 0 {
				libs, _ = filepath.Glob(filepath.Join(root, "*", "libstdc++.so.6"))
			}
			if len(libs) == 0 {
				t.Skip("node maps no libstdc++ here")
			}
			must(t, os.Remove(libs[0]))
		}},
		{"entry removed", func(t *testing.T, root string) {
			must(t, os.Remove(filepath.Join(root, "app", "index.js")))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root, p := recordRoot(t)
			rec := recorded(t, p)
			c.break_(t, root)
			p.Record = rec
			r := p.Run(context.Background())
			if r.OK || !r.Recorded.IsZero() {
				t.Fatalf("a broken image passed (recorded %v): %+v", r.Recorded, r.Checks)
			}
			if !strings.Contains(r.Stale, "changed") {
				t.Errorf("stale = %q, want the change named", r.Stale)
			}
		})
	}
}

// A path seen two ways in one run changed while the checks read it: the
// report may hold both, and is not recorded.
func TestRecord_NotKeptWhenAFileMovedDuringTheChecks(t *testing.T) {
	fsys := noting()
	path := filepath.Join(t.TempDir(), "package.json")
	must(t, os.WriteFile(path, []byte("{}"), 0o644))
	if _, err := fsys.stat(path); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.stat(path); err != nil || fsys.moved {
		t.Fatalf("the same file seen twice unchanged: moved=%v err=%v", fsys.moved, err)
	}
	time.Sleep(time.Millisecond)
	must(t, os.WriteFile(path, []byte(`{"name":"x"}`), 0o644))
	_, _ = fsys.stat(path)
	p := &Preflight{fsys: fsys}
	if !fsys.moved || p.recordOf(&Report{OK: true, Node: &NodeInfo{Version: "v20.0.0"}}) != nil {
		t.Errorf("a file that changed during the checks was recorded (moved=%v)", fsys.moved)
	}
}

func TestRecord_AnotherSettingOrNodeAnswerIsCheckedAgain(t *testing.T) {
	_, p := recordRoot(t)
	rec := recorded(t, p)
	p.Record = rec
	p.Deep = true
	if r := p.Run(context.Background()); !r.Recorded.IsZero() || r.Stale != "the settings changed" {
		t.Errorf("another setting: recorded %v, stale %q", r.Recorded, r.Stale)
	}
	p.Deep = false
	p.Record = rec
	p.Reported = func(context.Context) (NodeVersions, bool) {
		return NodeVersions{Version: "v20.0.0", ABI: 115, NAPI: 9}, true
	}
	if r := p.Run(context.Background()); !r.Recorded.IsZero() || !strings.Contains(r.Stale, "node") {
		t.Errorf("node answering another version: recorded %v, stale %q", r.Recorded, r.Stale)
	}
}

// TestFiles_TheOnlyWayToTheDisk holds that no file of the package but
// files.go reaches the filesystem itself: an access around files would be
// an input the record does not hold.
func TestFiles_TheOnlyWayToTheDisk(t *testing.T) {
	direct := regexp.MustCompile(`\b(os\.(Open|OpenFile|Stat|Lstat|ReadFile|ReadDir|Readlink|DirFS)|filepath\.(EvalSymlinks|Glob|Walk|WalkDir)|exec\.LookPath|syscall\.(Open|Stat|Lstat|Readlink|Access|Faccessat|Getdents)|unix\.|elf\.Open|ioutil\.|regular\.)\(`)
	sources, _ := filepath.Glob("*.go")
	for _, src := range sources {
		if strings.HasSuffix(src, "_test.go") || src == "files.go" {
			continue
		}
		f, err := os.Open(src)
		must(t, err)
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			if m := direct.FindString(sc.Text()); m != "" {
				t.Errorf("%s:%d calls %s: go through files (files.go) so the record holds it", src, n, m)
			}
		}
		f.Close()
	}
	if len(sources) < 10 {
		t.Fatalf("found %d sources: run from the package's folder", len(sources))
	}
}

// The record comes back from a file in /data: outside input. Whatever it
// holds, ParseRecord accepts a whole record of this format or refuses with
// an error; what it accepts, encoding/json (which writes the record, and
// read it before ParseRecord read it by hand) reads the same; and a record
// encoding/json writes is read back as it was. (What it names is not looked at here: a fuzzed glob could walk
// the whole disk. observe's ops are TestRecord_EveryReadSeesItsFileChange's,
// and an op it does not know never matches: TestObserve_UnknownOpNeverMatches.)
func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"format":1,"at":"2026-12-02T04:31:08Z","settings":"{}","node":{"path":"/usr/bin/node","version":"v20.20.2","abi":115,"napi":9,"libc":"glibc","arch":"x64"},` +
		`"checks":[{"name":"entry","status":"pass","detail":"/app/index.js (10 bytes)","hint":""}],` +
		`"reads":[{"op":"stat","path":"/etc/alpine-release","seen":"error no such file or directory"},{"op":"dir","path":"/","seen":"x"},{"op":"glob","path":"/etc/*.conf","seen":"= "},{"op":"path","path":"node","seen":"= /usr/bin/node"},{"op":"real","path":"/tmp","seen":"= /tmp"},{"op":"link","path":"/bin","seen":"= usr/bin"},{"op":"nope","path":"","seen":""}]}`))
	f.Add([]byte(`{"format":2}`))
	f.Add([]byte(`{"format":1,"reads":[],"checks":null}`))
	f.Add([]byte(`{"format":1,"reads":[`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParseRecord(data)
		if err != nil {
			if rec != nil {
				t.Fatal("a record with an error")
			}
			return
		}
		if rec.Format != recordFormat || len(rec.Reads) == 0 || len(rec.Checks) == 0 || rec.Node.Version == "" {
			t.Fatalf("accepted an incomplete record: %+v", rec)
		}
		var want Record
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("accepted what encoding/json refuses (%v)", err)
		}
		if !reflect.DeepEqual(*rec, want) {
			t.Fatalf("read differently from encoding/json:\n%+v\n%+v", *rec, want)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseRecord(b)
		if err != nil {
			t.Fatalf("a record written back is refused: %v", err)
		}
		if !reflect.DeepEqual(back, rec) {
			t.Fatalf("a record written back reads differently:\n%+v\n%+v", back, rec)
		}
	})
}

func TestObserve_UnknownOpNeverMatches(t *testing.T) {
	rec := &Record{Reads: []Read{{Op: "chmod", Path: "/", Seen: "unknown op chmod"}}}
	if rec.changed() == "" {
		t.Error("an op observe does not know must count as a change")
	}
}

// Every setting the checks take, changed alone, gives other settings, and
// no two of these settings read the same: lists and names are told apart
// however their words are cut or quoted.
func TestRecord_SettingsTellEveryChangeApart(t *testing.T) {
	variants := map[string]func(p *Preflight){
		"base":            func(p *Preflight) {},
		"app":             func(p *Preflight) { p.AppDir = "/app2" },
		"entry":           func(p *Preflight) { p.Entry = "main.js" },
		"node":            func(p *Preflight) { p.Node = "/usr/bin/node" },
		"no modules":      func(p *Preflight) { p.NativeModules = nil },
		"one module":      func(p *Preflight) { p.NativeModules = []string{"bcrypt"} },
		"joined":          func(p *Preflight) { p.NativeModules = []string{"bcrypt,better-sqlite3"} },
		"spaced":          func(p *Preflight) { p.NativeModules = []string{"bcrypt better-sqlite3"} },
		"quoted":          func(p *Preflight) { p.NativeModules = []string{`bcrypt" "better-sqlite3`} },
		"empty module":    func(p *Preflight) { p.NativeModules = []string{""} },
		"deep":            func(p *Preflight) { p.Deep = true },
		"ld path":         func(p *Preflight) { p.LDLibraryPath = "/opt/lib" },
		"ld preload":      func(p *Preflight) { p.LDPreload = "/opt/lib" },
		"libc":            func(p *Preflight) { p.LibcEnv = "musl" },
		"root":            func(p *Preflight) { p.Root = "/img" },
		"node options":    func(p *Preflight) { p.NodeOptions = "--require x" },
		"node options ld": func(p *Preflight) { p.LDLibraryPath, p.NodeOptions = "--require x", "" },
		"node args":       func(p *Preflight) { p.NodeArgs = []string{"-r", "./.pnp.cjs"} },
		"node args one":   func(p *Preflight) { p.NodeArgs = []string{"-r ./.pnp.cjs"} },
		"node args opts":  func(p *Preflight) { p.NodeOptions = "-r ./.pnp.cjs" },
		"root user":       func(p *Preflight) { p.RunAs = &User{} },
		"uid":             func(p *Preflight) { p.RunAs = &User{UID: 1000, GID: 1000} },
		"groups":          func(p *Preflight) { p.RunAs = &User{UID: 1000, GID: 1000, Groups: []uint32{20}} },
		"two groups":      func(p *Preflight) { p.RunAs = &User{UID: 1000, GID: 1000, Groups: []uint32{2, 0}} },
		"group 20":        func(p *Preflight) { p.RunAs = &User{UID: 1000, GID: 1000, Groups: []uint32{20}, Name: "node"} },
		"named":           func(p *Preflight) { p.RunAs = &User{UID: 1000, GID: 1000, Name: "node"} },
		"16 KiB pages":    func(p *Preflight) { p.PageSize = 16 << 10 },
	}
	seen := map[string]string{}
	for name, change := range variants {
		p := &Preflight{AppDir: "/app", Entry: "index.js", Node: "node", NativeModules: []string{"bcrypt", "better-sqlite3"}}
		change(p)
		s := p.settings()
		if other, ok := seen[s]; ok {
			t.Errorf("%s and %s read the same: %s", name, other, s)
		}
		seen[s] = name
	}
}
