package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The gate: node starts at once and its own start overlaps the preflight,
// but nothing of the app runs, not even a module its options preload
// (--require, --import, the hooks of --experimental-loader, which node
// runs in a thread of their own; in NODE_OPTIONS or LAUNCHER_NODE_ARGS),
// before the checks passed. On a failed check node, held at the gate, is
// killed: exit 3, and neither the entry nor a preload left a mark. Under
// this machine's node, Node 22 and Node 24. (Node 20 to 26 start the
// hooks' thread once the main thread's --require preloads have run, the
// gate's first: a --require that busy-waits a second delays them a second.)
func TestGate_NothingOfTheAppRunsBeforeTheChecksPass(t *testing.T) {
	app := newApp(t, ">=18", appPackages(t, "app18")) // built for node 18: the nodes here refuse them
	marks := t.TempDir()
	mark := func(name string) string {
		return "require('fs').writeFileSync(" + jsString(filepath.Join(marks, name)) + ", 'ran');\n"
	}
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte(mark("entry")), 0o644))
	must(t, os.WriteFile(filepath.Join(app, "preload.js"), []byte(mark("preload")), 0o644))
	for _, name := range []string{"import", "hooks", "args"} {
		esm := "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);\n" + mark(name) +
			"export async function resolve(s, c, next) { return next(s, c); }\n"
		must(t, os.WriteFile(filepath.Join(app, name+".mjs"), []byte(esm), 0o644))
	}
	for _, node := range []string{"node", npmNode(t, 22), npmNode(t, 24)} {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(node))))), func(t *testing.T) {
			l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NODE=" + node, "LAUNCHER_READY_URL=",
				"NODE_OPTIONS=--require ./preload.js --import ./import.mjs --experimental-loader ./hooks.mjs --no-warnings",
				"LAUNCHER_NODE_ARGS=--import ./args.mjs", "TMPDIR=" + t.TempDir()}})
			if code := l.wait(30 * time.Second); code != 3 {
				t.Fatalf("exit %d, want 3\n%s", code, l.stdout)
			}
			out := l.stdout.String()
			for _, want := range []string{"node started behind the gate", "ERROR: preflight native:better-sqlite3 failed", "launcher exiting with code 3"} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q:\n%s", want, out)
				}
			}
			for _, name := range []string{"entry", "preload", "import", "hooks", "args"} {
				if _, err := os.Stat(filepath.Join(marks, name)); err == nil {
					t.Errorf("the app's %s ran before the preflight passed:\n%s", name, out)
				}
			}
			if strings.Contains(out, "--version") {
				t.Errorf("node --version ran: node's own report should have replaced it:\n%s", out)
			}
		})
	}
	// The same preloads all run once the checks pass.
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=", "LAUNCHER_RESTART=never",
		"NODE_OPTIONS=--require ./preload.js --import ./import.mjs --experimental-loader ./hooks.mjs --no-warnings",
		"LAUNCHER_NODE_ARGS=--import ./args.mjs", "TMPDIR=" + t.TempDir()}})
	if code := l.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, l.stdout)
	}
	for _, name := range []string{"entry", "preload", "import", "hooks", "args"} {
		if _, err := os.Stat(filepath.Join(marks, name)); err != nil {
			t.Errorf("the app's %s did not run once the checks passed:\n%s", name, l.stdout)
		}
	}
}

// What the app sees of itself under the gate is what it sees without
// the launcher: NODE_OPTIONS, process.execArgv, its environment, the
// descriptors it inherits, and a child_process.fork of itself. Under this
// machine's node, Node 22, the image's Node 24 and Node 26.
func TestGate_InvisibleToTheApp(t *testing.T) {
	t.Run("node20", func(t *testing.T) {
		node, err := exec.LookPath("node")
		if err != nil {
			t.Skip("node is not installed")
		}
		gateInvisibleUnder(t, node)
	})
	t.Run("node22", func(t *testing.T) { gateInvisibleUnder(t, npmNode(t, 22)) })
	t.Run("node24", func(t *testing.T) { gateInvisibleUnder(t, npmNode(t, 24)) })
	t.Run("node26", func(t *testing.T) { gateInvisibleUnder(t, npmNode(t, 26)) })
}

func gateInvisibleUnder(t *testing.T, node string) {
	dir := t.TempDir()
	script := `const fs = require('fs');
const seen = () => {
  const fds = fs.readdirSync('/proc/self/fd').map(Number).filter(fd => fd > 2 && fd !== Number(process.env.NODE_CHANNEL_FD));
  const open = fds.filter(fd => { try { return !fs.readlinkSync('/proc/self/fd/' + fd).startsWith('/proc/'); } catch { return false; } });
  const env = Object.keys(process.env).filter(k => k.startsWith('LAUNCHER_GATE') || k === 'NODE_OPTIONS').sort().map(k => k + '=' + process.env[k]);
  return { execArgv: process.execArgv, env, sockets: open.map(fd => fs.readlinkSync('/proc/self/fd/' + fd)).filter(l => l.startsWith('socket:')).length };
};
if (process.argv[2] === 'forked') { process.send(seen(), () => process.exit(0)); }
else {
  const self = seen(); // before the fork makes a socket of its own
  const child = require('child_process').fork(__filename, ['forked']);
  child.on('message', m => { console.log('SEEN ' + JSON.stringify({ self, forked: m })); });
  setInterval(() => {}, 1000);
}
`
	must(t, os.WriteFile(filepath.Join(dir, "index.js"), []byte(script), 0o644))
	for _, options := range []string{"", "--max-old-space-size=200", `--title "the app"`} {
		t.Run("NODE_OPTIONS="+options, func(t *testing.T) {
			// The preload's path goes into NODE_OPTIONS, quoted as node
			// reads it: a space, a quote and a backslash in $TMPDIR too.
			tmp := filepath.Join(t.TempDir(), `a "quoted\ folder`)
			must(t, os.Mkdir(tmp, 0o755))
			env := []string{"LAUNCHER_APP_DIR=" + dir, "LAUNCHER_NODE=" + node, "LAUNCHER_READY_URL=", "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_NODE_ARGS=--no-warnings",
				"TMPDIR=" + tmp}
			if options != "" {
				env = append(env, "NODE_OPTIONS="+options)
			}
			l := launch(t, launchOpts{env: env})
			l.waitFor("SEEN ")
			out := l.stdout.String()
			if !strings.Contains(out, "node started behind the gate") {
				t.Fatalf("node was not gated:\n%s", out)
			}
			line := out[strings.Index(out, "SEEN ")+5:]
			line = line[:strings.IndexByte(line, '\n')]
			var seen struct {
				Self, Forked struct {
					ExecArgv []string
					Env      []string
					Sockets  int
				}
			}
			if err := json.Unmarshal([]byte(line), &seen); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			wantEnv := []string{}
			if options != "" {
				wantEnv = []string{"NODE_OPTIONS=" + options}
			}
			for who, s := range map[string]struct {
				ExecArgv []string
				Env      []string
				Sockets  int
			}{"the app": seen.Self, "its fork": seen.Forked} {
				if strings.Join(s.ExecArgv, " ") != "--no-warnings" {
					t.Errorf("%s: process.execArgv %q, want [--no-warnings]", who, s.ExecArgv)
				}
				if strings.Join(s.Env, ",") != strings.Join(wantEnv, ",") {
					t.Errorf("%s: environment %q, want %q", who, s.Env, wantEnv)
				}
				if s.Sockets != 0 && who == "the app" {
					t.Errorf("%s inherited %d sockets: the gate's was not closed", who, s.Sockets)
				}
			}
			// The preload's file stays while node runs, and goes with it.
			if left, _ := gateFiles(tmp); len(left) != 1 {
				t.Errorf("while node runs, the temporary folder holds %v, want the preload's file", left)
			}
			l.signal(syscall.SIGTERM)
			if code := l.wait(10 * time.Second); code != 0 {
				t.Errorf("SIGTERM: exit %d, want 0", code)
			}
			if left, _ := gateFiles(tmp); len(left) > 0 {
				t.Errorf("the preload's file outlived node: %v", left)
			}
		})
	}
}

// The gate's preload is node's for its whole life, not only its start:
// node loads every --require of its options again in each worker thread,
// and in the thread of module.register()'s loader hooks (tsx,
// OpenTelemetry's ESM instrumentation). When the preload's file was
// removed once node had reported, both failed with "Cannot find module
// '/tmp/launcher-gate-….js'" and the app exited 1. Under each Node major:
// an ESM app whose NODE_OPTIONS --import registers a resolve hook starts
// a worker thread; both work, and the preload's file is gone once node is.
func TestGate_WorkerThreadsAndLoaderHooks(t *testing.T) {
	app := t.TempDir()
	for name, text := range map[string]string{
		"register.mjs": "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
		"hooks.mjs": "export async function resolve(specifier, context, next) {\n" +
			"  if (specifier === 'virtual:hello') return { url: 'data:text/javascript,export default \"hooked\"', shortCircuit: true };\n" +
			"  return next(specifier, context);\n}\n",
		"index.mjs": "import hello from 'virtual:hello';\nimport { Worker } from 'node:worker_threads';\n" +
			"const w = new Worker('require(\"node:worker_threads\").parentPort.postMessage(\"from a worker\")', { eval: true });\n" +
			"w.on('message', (m) => { console.log('APP', hello, m); process.exit(0); });\n" +
			"w.on('error', (e) => { console.log('APP worker failed:', e.message); process.exit(1); });\n",
	} {
		must(t, os.WriteFile(filepath.Join(app, name), []byte(text), 0o644))
	}
	for _, major := range []int{18, 20, 22, 24, 26} {
		t.Run(fmt.Sprint("node", major), func(t *testing.T) {
			node := "/usr/bin/node"
			if major != 20 {
				node = npmNode(t, major)
			}
			tmp := t.TempDir()
			l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_ENTRY=index.mjs", "LAUNCHER_NODE=" + node,
				"LAUNCHER_READY_URL=", "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_RESTART=never", "NODE_OPTIONS=--import ./register.mjs",
				"LAUNCHER_NODE_ARGS=--no-warnings", "TMPDIR=" + tmp}})
			code := l.wait(30 * time.Second)
			out := l.stdout.String()
			if !strings.Contains(out, "node started behind the gate") {
				t.Fatalf("node was not gated:\n%s", out)
			}
			if code != 0 || !strings.Contains(out, "APP hooked from a worker") {
				t.Errorf("exit %d, want 0 with the hook's module and the worker's message:\n%s\n%s", code, out, l.stderr)
			}
			if left, _ := gateFiles(tmp); len(left) > 0 {
				t.Errorf("the preload's file outlived node: %v", left)
			}
		})
	}
}

// Under `node --watch` (a developer's `docker run` with the app's folder
// mounted) node's own process only watches: it runs the app in a node of
// its own, and never runs the preloads. The gate cannot hold that node, so
// node starts after the preflight. It was gated: the watching node's child
// took the gate's socket for its IPC channel, printed a SyntaxError with
// its stack, and node was started a second time.
func TestGate_StepsAsideForWatchMode(t *testing.T) {
	app := t.TempDir()
	entry := filepath.Join(app, "index.js")
	for _, major := range []int{20, 24} { // this machine's, the image's
		node := "/usr/bin/node"
		if major != 20 {
			node = npmNode(t, major)
		}
		for args, option := range map[string]string{"--watch": "--watch", "--no-warnings --watch-path=.": "--watch-path"} {
			t.Run(fmt.Sprintf("node%d %s", major, args), func(t *testing.T) {
				watchUnder(t, node, entry, args, option)
			})
		}
	}
}

func watchUnder(t *testing.T, node, entry, args, option string) {
	must(t, os.WriteFile(entry, []byte("console.log('APP first'); setInterval(() => {}, 1000);\n"), 0o644))
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + filepath.Dir(entry), "LAUNCHER_NODE=" + node, "LAUNCHER_READY_URL=", "LAUNCHER_NATIVE_MODULES=",
		"LAUNCHER_NODE_ARGS=" + args, "TMPDIR=" + t.TempDir()}})
	l.waitFor("APP first")
	// What node --watch is for: an edit restarts the app. node watches a
	// file once its child has told it the file was loaded, a moment after
	// the app's first line, so the edit is made again until it is seen.
	for i := 0; ; i++ {
		must(t, os.WriteFile(entry, []byte(fmt.Sprintf("console.log('APP edited'); setInterval(() => {}, 1000); // %d\n", i)), 0o644))
		if l.stdout.waitFor("APP edited", time.Second, l.done) == nil {
			break
		}
		if i == 20 {
			t.Fatalf("no restart after 20 edits:\n%s\n%s", l.stdout, l.stderr)
		}
	}
	l.signal(syscall.SIGTERM)
	if code := l.wait(10 * time.Second); code != 0 {
		t.Errorf("SIGTERM: exit %d, want 0", code)
	}
	out := l.stdout.String() + l.stderr.String()
	if !strings.Contains(out, "node starts after the preflight: under "+option) {
		t.Errorf("the log does not say why node was not gated:\n%s", out)
	}
	for _, bad := range []string{"behind the gate", "SyntaxError", "not let through the gate"} {
		if strings.Contains(out, bad) {
			t.Errorf("the log has %q:\n%s", bad, out)
		}
	}
	if n := strings.Count(out, "started "+node); n != 1 {
		t.Errorf("node started %d times, want once:\n%s", n, out)
	}
}

// Under --inspect-brk or --inspect-wait (a developer's `docker run -p
// 9229:9229` to debug the app from the start) node waits for a debugger
// before its preloads, the gate's too: the preflight waited on the
// developer, and with the wait for node's report bounded, a developer
// slower than 10 s would find node killed and started again, its
// debugger's address gone. node starts after the preflight now, once, and
// runs the app when a debugger lets it: here a real one, over the
// inspector's WebSocket, from the image's Node 24.
func TestGate_StepsAsideForADebuggerAtStart(t *testing.T) {
	client := npmNode(t, 24) // Node 22 and later have a WebSocket client
	app := t.TempDir()
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("console.log('APP up'); setInterval(() => {}, 1000);\n"), 0o644))
	for _, c := range []struct{ env, option string }{
		{"LAUNCHER_NODE_ARGS=--inspect-brk=127.0.0.1:0", "--inspect-brk"},
		{"NODE_OPTIONS=--inspect-wait=127.0.0.1:0", "--inspect-wait"},
	} {
		t.Run(c.option, func(t *testing.T) {
			l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_READY_URL=", "LAUNCHER_NATIVE_MODULES=", c.env,
				"TMPDIR=" + t.TempDir()}})
			if err := l.stderr.waitFor("Debugger listening on ws://", 20*time.Second, l.done); err != nil {
				t.Fatalf("%v\n%s\n%s", err, l.stdout, l.stderr)
			}
			url := strings.Fields(l.stderr.String()[strings.Index(l.stderr.String(), "ws://"):])[0]
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			attach := exec.CommandContext(ctx, client, "-e", `const ws = new WebSocket(process.argv[1]);
ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'Runtime.runIfWaitingForDebugger' }));
ws.onmessage = (m) => { if (JSON.parse(m.data).id === 1) ws.close(); };`, url)
			if out, err := attach.CombinedOutput(); err != nil {
				t.Fatalf("the debugger: %v\n%s", err, out)
			}
			l.waitFor("APP up")
			l.signal(syscall.SIGTERM)
			if code := l.wait(10 * time.Second); code != 0 {
				t.Errorf("SIGTERM: exit %d, want 0", code)
			}
			out := l.stdout.String() + l.stderr.String()
			if !strings.Contains(out, "node starts after the preflight: under "+c.option) {
				t.Errorf("the log does not say why node was not gated:\n%s", out)
			}
			if strings.Contains(out, "behind the gate") || strings.Count(out, "Debugger listening") != 1 {
				t.Errorf("node was gated, or started more than once:\n%s", out)
			}
		})
	}
}

// node --env-file takes NODE_OPTIONS from the file only when its
// environment has none, and behind the gate it has one: the file's
// preloads and options (a --max-old-space-size, a --require) were dropped
// without a word. With NODE_OPTIONS in its env file node starts after the
// preflight, as without the launcher; an env file without it keeps the
// gate.
func TestGate_StepsAsideForNodeOptionsInAnEnvFile(t *testing.T) {
	app := t.TempDir()
	for name, text := range map[string]string{
		"index.js":    "console.log('APP ' + process.env.FROM_FILE + ' ' + process.env.NODE_OPTIONS); setInterval(() => {}, 1000);\n",
		"preload.js":  "console.log('PRELOAD ran');\n",
		"with.env":    "FROM_FILE=yes\nexport NODE_OPTIONS=\"--require ./preload.js\"\n",
		"without.env": "FROM_FILE=yes\n",
	} {
		must(t, os.WriteFile(filepath.Join(app, name), []byte(text), 0o644))
	}
	for _, c := range []struct {
		args, want string
		gated      bool
	}{
		{"--env-file=with.env", "APP yes --require ./preload.js", false},
		{"--env-file with.env", "APP yes --require ./preload.js", false},
		{"--env-file=without.env", "APP yes undefined", true},
	} {
		t.Run(c.args, func(t *testing.T) {
			l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_READY_URL=", "LAUNCHER_NATIVE_MODULES=",
				"LAUNCHER_NODE_ARGS=" + c.args, "TMPDIR=" + t.TempDir()}})
			l.waitFor("APP ")
			l.signal(syscall.SIGTERM)
			l.wait(10 * time.Second)
			out := l.stdout.String()
			if !strings.Contains(out, c.want+"\n") {
				t.Errorf("the app saw otherwise than %q:\n%s", c.want, out)
			}
			if ran := strings.Contains(out, "PRELOAD ran"); ran != !c.gated {
				t.Errorf("the env file's preload ran: %v, want %v:\n%s", ran, !c.gated, out)
			}
			if gated := strings.Contains(out, "behind the gate"); gated != c.gated {
				t.Errorf("gated: %v, want %v:\n%s", gated, c.gated, out)
			}
			if !c.gated && !strings.Contains(out, "under --env-file, node takes NODE_OPTIONS from with.env") {
				t.Errorf("the log does not say why node was not gated:\n%s", out)
			}
		})
	}
}

// Without a folder to write the preload to, node starts after the
// preflight, as it did before the gate, and is ready all the same.
func TestGate_FallsBackWithoutAFolder(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "index.js"), []byte("console.log('child-ready'); setInterval(() => {}, 1000);\n"), 0o644))
	l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + dir, "LAUNCHER_NODE=" + node, "LAUNCHER_READY_URL=", "LAUNCHER_NATIVE_MODULES=",
		"TMPDIR=" + filepath.Join(dir, "missing")}})
	l.waitFor("child-ready")
	out := l.stdout.String()
	if !strings.Contains(out, "starts after the preflight") || strings.Contains(out, "behind the gate") {
		t.Errorf("no fallback logged:\n%s", out)
	}
}

// gateFiles are the gate's preload files in dir (read, not globbed: dir
// may hold a glob's special characters).
func gateFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "launcher-gate-") {
			names = append(names, e.Name())
		}
	}
	return names, err
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// cappedNode is a copy of this machine's node in dir, named name, whose
// file has the capability cap (setcap cap+ep). The caller is root.
func cappedNode(t *testing.T, dir, name string, cap uint) string {
	t.Helper()
	node, err := exec.LookPath("node")
	must(t, err)
	data, err := os.ReadFile(node)
	must(t, err)
	path := filepath.Join(dir, name)
	must(t, os.WriteFile(path, data, 0o755))
	setcap(t, path, cap, true)
	return path
}

// setcap gives the file at path the capability cap, as setcap cap+ep does
// (cap+p without effective).
func setcap(t *testing.T, path string, cap uint, effective bool) {
	t.Helper()
	// struct vfs_cap_data, revision 2, the effective bit; permitted, inheritable, twice.
	magic := uint32(0x02000000)
	if effective {
		magic |= 1
	}
	b := binary.LittleEndian.AppendUint32(nil, magic)
	for _, word := range []uint32{1 << cap, 0, 0, 0} {
		b = binary.LittleEndian.AppendUint32(b, word)
	}
	if err := unix.Setxattr(path, "security.capability", b, 0); err != nil {
		t.Fatalf("setcap %s: %v", path, err)
	}
}

// asNobody runs node as nobody, as the launcher starts it (the user set
// before the exec, so that nothing of root's capabilities is left), without
// new privileges when nnp, with the environment env added, and returns what
// it printed.
func asNobody(nnp bool, env []string, node string, args ...string) (string, error) {
	cmd := exec.Command(node, args...)
	if nnp {
		cmd = exec.Command("setpriv", append([]string{"--no-new-privs", node}, args...)...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A node the kernel starts in secure-execution mode ignores NODE_OPTIONS,
// and with it the gate's preload: behind the gate it would load the app at
// once, before the preflight's verdict, and the launcher would kill it at
// the gate's opening and start it again. Here node's file carries
// cap_net_raw (as Bluetooth libraries ask: setcap cap_net_raw+ep) and node
// runs as nobody. Such a node starts after the preflight: on a failed
// check nothing of the app ran; on a passing one the app starts once. With
// cap_net_bind_service alone node keeps its options, and stays gated; but
// not when the launcher runs without new privileges (Docker's
// `--security-opt no-new-privileges`): node then gets no capability, and
// holding none is not holding cap_net_bind_service alone.
func TestGate_NodeInSecureExecutionStartsAfterThePreflight(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("file capabilities and another user need root")
	}
	base, _ := addonData(t)
	preload := filepath.Join(base, "preload.js")
	must(t, os.WriteFile(preload, []byte("console.log('preloaded');\n"), 0o644))
	// The test's premise: so started as nobody, node ignores NODE_OPTIONS
	// under cap_net_raw and keeps it under cap_net_bind_service, but for
	// a process without new privileges.
	raw, bind := cappedNode(t, base, "node-raw", unix.CAP_NET_RAW), cappedNode(t, base, "node-bind", unix.CAP_NET_BIND_SERVICE)
	for _, p := range []struct {
		node string
		nnp  bool
		want string
	}{{raw, false, "main\n"}, {bind, false, "preloaded\nmain\n"}, {bind, true, "main\n"}} {
		if out, err := asNobody(p.nnp, []string{"NODE_OPTIONS=--require " + preload}, p.node, "-e", "console.log('main')"); err != nil || out != p.want {
			t.Fatalf("%s as nobody (no new privileges: %v), NODE_OPTIONS=--require %s: %v: %q, want %q", p.node, p.nnp, preload, err, out, p.want)
		}
	}
	marks := filepath.Join(base, "marks")
	must(t, os.Mkdir(marks, 0o777))
	must(t, os.Chmod(marks, 0o777))
	for _, c := range []struct {
		name, node, engines string
		code, runs          int
		said                string
		under               []string
	}{
		{"failed", raw, ">=99", 3, 0, "node starts after the preflight: its file has capabilities (cap_net_raw) that raise uid 65534", nil},
		{"passed", raw, ">=18", 0, 1, "node starts after the preflight: its file has capabilities (cap_net_raw) that raise uid 65534", nil},
		{"cap_net_bind_service", bind, ">=18", 0, 1, "node started behind the gate", nil},
		{"cap_net_bind_service without new privileges", bind, ">=99", 3, 0,
			"node starts after the preflight: its file has capabilities (cap_net_bind_service), which a process without new privileges does not get", []string{"setpriv", "--no-new-privs"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := filepath.Join(base, c.name)
			must(t, os.Mkdir(app, 0o755))
			mark := filepath.Join(marks, c.name)
			entry := "require('fs').appendFileSync(" + jsString(mark) + ", 'ran\\n'); console.log('app loaded', process.pid);\n" +
				"setInterval(() => {}, 1000);\n"
			must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte(entry), 0o644))
			must(t, os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"app","engines":{"node":"`+c.engines+`"}}`), 0o644))
			l := launch(t, launchOpts{env: []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NODE=" + c.node, "LAUNCHER_USER=nobody",
				"LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=", "LAUNCHER_RESTART=never", "TMPDIR=" + base}, under: c.under})
			if c.code == 0 {
				// The supervised node (behind the gate, the one started
				// again 10 s after a first the gate could not hold) loaded
				// the app.
				l.waitFor("node ready in")
				started := regexp.MustCompile(`started \S+ index.js pid=(\d+)`).FindAllStringSubmatch(l.stdout.String(), -1)
				if len(started) == 0 {
					t.Fatalf("no start logged:\n%s", l.stdout)
				}
				l.waitFor("app loaded " + started[len(started)-1][1])
				l.signal(syscall.SIGTERM)
			}
			if code := l.wait(30 * time.Second); code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, l.stdout)
			}
			out := l.stdout.String()
			logHas(t, out, c.said)
			ran, _ := os.ReadFile(mark)
			if runs := strings.Count(string(ran), "ran"); runs != c.runs {
				t.Errorf("the app ran %d times, want %d:\n%s", runs, c.runs, out)
			}
		})
	}
}
