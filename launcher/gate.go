package launcher

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hasync/launcher/launcher/nodeopts"
	"github.com/hasync/launcher/launcher/preflight"
	"github.com/hasync/launcher/launcher/regular"
)

// The gate lets node's own start (loading its binary and libraries,
// V8's and its bootstrap's start: most of the time to readiness of a small
// app) run while the preflight checks the native modules, and still lets no
// line of the app run before they passed. node is started at once with one
// preload, put first in NODE_OPTIONS: gateScript. It tells the launcher
// node's version, ABI and Node-API level (so no `node --version` runs) and
// blocks on a socket until the launcher answers. The launcher answers "go"
// once the preflight passed; on a failed preflight it kills node, which has
// run nothing of the app, not even another preload.
//
// The preload undoes itself before the app's first line: NODE_OPTIONS and
// the other variables are what they were (so child processes and
// child_process.fork do not inherit the gate), process.execArgv never had
// it, and its socket is closed. Its file stays while node runs: node loads
// every --require of its options again in each worker thread and in the
// thread of module.register()'s loader hooks (where the gate's variables
// are gone, so the preload does nothing there); the child owns it once the
// gate opened, and removes it when it has ended. What stays visible:
// require.cache and process.moduleLoadList list the preload's file, and
// /proc/<pid>/environ shows node's initial environment.
//
// Any failure of the gate itself (no writable temporary folder, node ended
// before it reported) only loses the overlap: the preflight then runs
// `node --version` and node is started again after it, as without a gate.

// gateScript is the preload. CommonJS, for every node the launcher
// supports; fs is part of node's bootstrap, so requiring it loads nothing.
const gateScript = `'use strict';
// The launcher's gate: see docs/LAUNCHER.md ("Start"). Holds the app until
// the launcher's preflight passed.
{
  const env = process.env;
  const fd = Number(env.LAUNCHER_GATE_FD);
  if ('LAUNCHER_GATE_FD' in env) {
    delete env.LAUNCHER_GATE_FD;
    if ('LAUNCHER_GATE_NODE_OPTIONS' in env) env.NODE_OPTIONS = env.LAUNCHER_GATE_NODE_OPTIONS;
    else delete env.NODE_OPTIONS;
    delete env.LAUNCHER_GATE_NODE_OPTIONS;
  }
  if (Number.isInteger(fd) && fd > 2) {
    const fs = require('fs');
    const v = process.versions;
    let answer = '';
    try {
      fs.writeSync(fd, process.version + ' ' + v.modules + ' ' + (v.napi || '') + '\n');
      const b = Buffer.alloc(1);
      for (;;) {
        try { if (fs.readSync(fd, b, 0, 1, null) === 1) answer = b.toString(); break; }
        catch (e) { if (e.code !== 'EINTR' && e.code !== 'EAGAIN') throw e; }
      }
    } catch (e) {}
    try { fs.closeSync(fd); } catch (e) {}
    if (answer !== 'g') process.exit(70);
  }
}
`

// maxEnvFile bounds the --env-file read for NODE_OPTIONS: a few lines of
// settings; one larger is taken as unreadable (node reads it itself).
const maxEnvFile = 1 << 20

// ungatedBy names the option, among node's arguments and its NODE_OPTIONS,
// under which the gate cannot hold the app, and why; "" when there is none.
//   - --watch, --watch-path, --test, --run: node's own process does not run
//     the app. It starts another node for it (or a package.json script),
//     runs no preload itself, and the node it starts would take the gate's
//     socket for its own IPC channel.
//   - --inspect-brk, --inspect-wait: node waits for a debugger before its
//     preloads, the gate's among them, so the gate gains nothing, and the
//     preflight would wait on the developer.
//   - --env-file, --env-file-if-exists of a file that sets NODE_OPTIONS:
//     node takes it only when its environment has none, and behind the gate
//     it has one; the file's options would be dropped.
//
// dir is node's working folder, where env files' relative paths start.
func ungatedBy(nodeArgs, env []string, dir string) (opt, why string) {
	args, hasOptions := nodeArgs, false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "NODE_OPTIONS="); ok {
			words, _ := nodeopts.Split(v) // an error: node refuses to start, gated or not
			args, hasOptions = append(words, nodeArgs...), true
		}
	}
	for i, a := range args {
		name, value, hasValue := strings.Cut(a, "=")
		switch name {
		case "--watch", "--watch-path", "--test", "--run":
			return name, "runs the app in a process of its own, which the gate cannot hold"
		case "--inspect-brk", "--inspect-wait":
			return name, "waits for a debugger before its preloads, the gate's too"
		case "--env-file", "--env-file-if-exists":
			if !hasValue && i+1 < len(args) {
				value = args[i+1]
			}
			path := value
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			// A regular file only: reading a FIFO here would wait for its
			// writer, and take from node what it writes.
			if b, err := regular.ReadFile(path, maxEnvFile); err == nil && !hasOptions && setsNodeOptions(string(b)) { // unreadable: node says so
				return name, "takes NODE_OPTIONS from " + value + " only when its environment has none, and the gate would put its preload there"
			}
		}
	}
	return "", ""
}

// setsNodeOptions reports whether an env file's text assigns NODE_OPTIONS
// (`NODE_OPTIONS=…`, `export NODE_OPTIONS=…`, spaces around either). Such
// a line inside a quoted value of several lines counts too: node then
// starts after the preflight, which costs only the overlap.
func setsNodeOptions(text string) bool {
	const space = " \t\f\r"
	for line := range strings.Lines(text) {
		line = strings.TrimLeft(line, space)
		if rest, ok := strings.CutPrefix(line, "export"); ok && rest != strings.TrimLeft(rest, space) {
			line = strings.TrimLeft(rest, space)
		}
		if rest, ok := strings.CutPrefix(line, "NODE_OPTIONS"); ok && strings.HasPrefix(strings.TrimLeft(rest, space), "=") {
			return true
		}
	}
	return false
}

// Environment variables the gate reads, and removes from node's.
const (
	envGateFD          = "LAUNCHER_GATE_FD"
	envGateNodeOptions = "LAUNCHER_GATE_NODE_OPTIONS"
)

// gate is one gated start: the preload's file and the launcher's end of
// the socket. The supervisor's loop owns it from the spawn to open or
// close; report runs on the preflight's goroutine.
type gate struct {
	script string   // the preload's path; the child's once the gate opened
	conn   *os.File // the launcher's end
	child  *os.File // node's end, closed once node has it
	line   chan gateLine
	// deadline ends the wait for node's report (gateReportWait).
	deadline time.Time
}

type gateLine struct {
	v   preflight.NodeVersions
	at  time.Time // when node reported: from then on it waits
	err error
}

// newGate writes the preload into the temporary folder ($TMPDIR, else
// /tmp) and makes the socket. Its file is readable by anyone: node may run
// as another user.
func newGate() (*gate, error) {
	f, err := os.CreateTemp("", "launcher-gate-*.js")
	if err != nil {
		return nil, fmt.Errorf("gate: %w", err)
	}
	script := f.Name()
	_, err = f.WriteString(gateScript)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(script, 0o644)
	}
	if err != nil {
		os.Remove(script)
		return nil, fmt.Errorf("gate %s: %w", script, err)
	}
	parent, child, err := socketPair("gate")
	if err != nil {
		os.Remove(script)
		return nil, err
	}
	return &gate{script: script, conn: parent, child: child, line: make(chan gateLine, 1)}, nil
}

// env is node's environment with the gate in it: the preload first in
// NODE_OPTIONS, before any of the app's own, and where to find the socket.
func (g *gate) env(env []string, fd int) []string {
	out := make([]string, 0, len(env)+3)
	options, had := "", false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "NODE_OPTIONS="); ok {
			options, had = v, true
			continue
		}
		out = append(out, kv)
	}
	preload := "--require " + nodeopts.Quote(g.script)
	if options != "" {
		preload += " " + options
	}
	out = append(out, "NODE_OPTIONS="+preload, envGateFD+"="+strconv.Itoa(fd))
	if had {
		out = append(out, envGateNodeOptions+"="+options)
	}
	return out
}

// spawned is called once node runs (or failed to start): the launcher's
// copy of node's end goes, so that node's end closing is seen, and the
// report is read from here on.
func (g *gate) spawned() {
	g.child.Close()
	g.deadline = time.Now().Add(gateReportWait)
	go g.read()
}

// read takes node's one line and hands it on.
func (g *gate) read() {
	var l gateLine
	line, err := bufio.NewReader(g.conn).ReadString('\n')
	l.at = time.Now()
	if err != nil {
		l.err = fmt.Errorf("it ended before it reported: %w", err)
	} else {
		l.v, l.err = parseGateReport(line)
	}
	g.line <- l
}

// parseGateReport reads the preload's line: process.version, then
// process.versions' modules and napi (empty in a node without Node-API),
// separated by spaces. Plain words, not JSON: node waits while this runs,
// and encoding/json's first use in a process costs 0.2 ms here.
func parseGateReport(line string) (preflight.NodeVersions, error) {
	var v preflight.NodeVersions
	f := strings.Fields(line)
	if len(f) < 2 || len(f) > 3 {
		return v, fmt.Errorf("gate: node's report %q is not \"VERSION MODULES [NAPI]\"", line)
	}
	v.Version = f[0]
	var err error
	if v.ABI, err = strconv.Atoi(f[1]); err != nil {
		return v, fmt.Errorf("gate: node's report %q: modules: %w", line, err)
	}
	if len(f) == 3 {
		if v.NAPI, err = strconv.Atoi(f[2]); err != nil {
			return v, fmt.Errorf("gate: node's report %q: napi: %w", line, err)
		}
	}
	return v, nil
}

// gateReportWait bounds the wait for node's report, from its spawn. node
// reports within 50 ms here and within a second or two on a Raspberry Pi
// from a cold SD card; a node silent for longer is not at the gate (a
// runtime that ignores NODE_OPTIONS, a wrapper that waits on something
// else), and the preflight must not wait on it for ever.
var gateReportWait = 10 * time.Second

// report is node's account of itself, for the preflight: false when node
// ended before it gave one, had not given one within gateReportWait of
// its spawn, or ctx ended first.
func (g *gate) report(ctx context.Context) (preflight.NodeVersions, bool) {
	wait := time.NewTimer(time.Until(g.deadline))
	defer wait.Stop()
	select {
	case l := <-g.line:
		g.line <- l // whoever asks again gets the same answer
		return l.v, l.err == nil
	case <-wait.C:
		return preflight.NodeVersions{}, false
	case <-ctx.Done():
		return preflight.NodeVersions{}, false
	}
}

// open lets the app load, if node is waiting at the gate: it reported, and
// takes the answer. It returns how long node had waited, or why it was not
// let through: then node must be killed, and started again. The preload's
// file stays: node's threads load it again, and the child removes it
// (Child.preload).
func (g *gate) open() (held time.Duration, err error) {
	defer g.hangUp()
	var l gateLine
	select {
	case l = <-g.line:
	default:
		return 0, fmt.Errorf("it did not report within %s", gateReportWait)
	}
	if l.err != nil {
		return 0, l.err
	}
	_ = g.conn.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := g.conn.Write([]byte("g")); err != nil {
		return 0, fmt.Errorf("it ended at the gate: %w", err)
	}
	return time.Since(l.at), nil
}

// close ends the gate without opening it: node, if still waiting, exits
// 70 (the supervisor SIGKILLs it first); nothing of the app ran, so no
// thread of it needs the preload's file.
func (g *gate) close() {
	g.hangUp()
	os.Remove(g.script)
}

// hangUp closes the gate's socket, both ends.
func (g *gate) hangUp() {
	g.conn.Close()
	g.child.Close()
}
