// Command entrypoints measures what an entrypoint costs a node add-on: the
// launcher against node alone, tini, dumb-init, pm2-runtime and the bash
// run.sh it replaces, in one run with the contenders interleaved (A B A B).
// It prints the report docs/BENCHMARKS.md holds.
//
//	go run ./bench/entrypoints [-runs 20] [-signals 200] [-idle 60s]   (make bench)
//
// Readiness is polled from this one process (an HTTP GET every
// millisecond), not by spawning curl. Run from the repository's top, after
// make build backend.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/bench/internal/proc"
)

var (
	runs    = flag.Int("runs", 20, "start/stop runs per contender and app")
	signals = flag.Int("signals", 200, "signals sent per contender for the forwarding latency")
	idle    = flag.Duration("idle", 60*time.Second, "idle time before reading RSS and CPU")
	orphans = flag.Int("orphans", 1000, "orphans the reaping test makes")
	only    = flag.String("only", "", "comma-separated contenders to run (default all)")
)

// app is a backend to start: a script in a folder, and its environment.
type app struct {
	name, dir, entry string
	env              []string
}

// contender is an entrypoint; cmd builds its command line for an app.
type contender struct {
	name string
	cmd  func(a app, port int) (argv []string, env []string)
}

var repo, _ = os.Getwd()

// floorBin is bench/floor, built into the run's temporary folder, and
// recordDir that folder, where the launcher keeps its preflight records.
var floorBin, recordDir string

// buildStatic builds ./bench/<name> into dir as the launcher is built
// (static, stripped), or says why it could not.
func buildStatic(dir, name string) (string, error) {
	bin := filepath.Join(dir, name)
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./bench/"+name)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, out)
	}
	return bin, nil
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func pm2Runtime() string {
	for _, p := range []string{filepath.Join(repo, "bench/pm2/node_modules/.bin/pm2-runtime"), "pm2-runtime"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}

func contenders(healthPort int) []contender {
	nodeArgs := func(a app) []string { return []string{"node", filepath.Join(a.dir, a.entry)} }
	all := []contender{
		{"node", func(a app, _ int) ([]string, []string) { return nodeArgs(a), nil }},
		{"tini", func(a app, _ int) ([]string, []string) {
			return append([]string{"tini", "-s", "--"}, nodeArgs(a)...), nil
		}},
		{"dumb-init", func(a app, _ int) ([]string, []string) { return append([]string{"dumb-init"}, nodeArgs(a)...), nil }},
		// The least a Go entrypoint can be (bench/floor): what the Go
		// runtime alone costs, beside tini.
		{"go-floor", func(a app, _ int) ([]string, []string) { return append([]string{floorBin}, nodeArgs(a)...), nil }},
		{"run.sh", func(a app, _ int) ([]string, []string) {
			return []string{"bash", filepath.Join(repo, "bench/run.sh")},
				[]string{"OPTIONS_FILE=" + filepath.Join(repo, "bench/options.json"), "APP_DIR=" + a.dir, "ENTRY=" + a.entry}
		}},
		{"pm2-runtime", func(a app, _ int) ([]string, []string) {
			return []string{pm2Runtime(), filepath.Join(a.dir, a.entry)}, []string{"PM2_HOME=" + filepath.Join(os.TempDir(), "bench-pm2")}
		}},
		{"launcher", func(a app, port int) ([]string, []string) { return launcherCmd(a, port, healthPort) }},
		// The launcher as it was before the gate: node started after the
		// preflight. Only on request (-only): it documents what the gate saves.
		{"launcher-sequential", func(a app, port int) ([]string, []string) {
			argv, env := launcherCmd(a, port, healthPort)
			return argv, append(env, "LAUNCHER_GATE=false")
		}},
	}
	if *only == "" {
		return all[:len(all)-1]
	}
	var out []contender
	for _, c := range all {
		if strings.Contains(","+*only+",", ","+c.name+",") {
			out = append(out, c)
		}
	}
	return out
}

// launcherCmd is the launcher as the add-on runs it. Its preflight record
// is kept in the run's temporary folder, one per app, as the add-on keeps
// it in /data (which this machine lacks): its first start of an app checks
// everything, the others recall the record, as the add-on's starts after
// the first of an image do.
func launcherCmd(a app, port, healthPort int) ([]string, []string) {
	record := filepath.Join(recordDir, strings.ReplaceAll(a.name, " ", "-")+".json")
	return []string{filepath.Join(repo, "bin/launcher")}, []string{
		"LAUNCHER_APP_DIR=" + a.dir, "LAUNCHER_ENTRY=" + a.entry, "LAUNCHER_OPTIONS_FILE=" + filepath.Join(repo, "bench/options.json"),
		fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", healthPort), fmt.Sprintf("LAUNCHER_READY_URL=http://127.0.0.1:%d/api/health", port),
		"LAUNCHER_PREFLIGHT_RECORD=" + record,
	}
}

// target is one of the launcher's targets against tini (or its own
// floor), judged at the end of the run.
type target struct {
	what, want, got string
	met             bool
}

var targets []target

// longRun is the long run compressed: a second launcher in the idle
// section samples every 100 ms and probes liveness every 200 ms, 50 and 150
// times the defaults, so that the idle time holds what a default launcher
// does in about an hour: where its heap settles shows only after many
// samples.
const longRun = "launcher, 100 ms sampling"

func judge(what, want, got string, met bool) {
	targets = append(targets, target{what, want, got, met})
}

// started is one entrypoint process.
type started struct {
	cmd   *exec.Cmd
	out   *bufio.Reader
	begin time.Time
}

func start(c contender, a app, port int, extra ...string) *started {
	argv, env := c.cmd(a, port)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(append(os.Environ(), a.env...), env...), fmt.Sprintf("PORT=%d", port), "NO_COLOR=1")
	cmd.Env = append(cmd.Env, extra...)
	cmd.Dir = a.dir
	stdout, err := cmd.StdoutPipe()
	must(err)
	cmd.Stderr = io.Discard
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	s := &started{cmd: cmd, out: bufio.NewReader(stdout), begin: time.Now()}
	must(cmd.Start())
	go func() { _, _ = io.Copy(io.Discard, s.out) }()
	return s
}

// startWatched is start, but the caller reads stdout itself.
func startWatched(c contender, a app, port int, extra ...string) *started {
	argv, env := c.cmd(a, port)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(append(os.Environ(), a.env...), env...), fmt.Sprintf("PORT=%d", port), "NO_COLOR=1", "LAUNCHER_LOG_LEVEL=warning")
	cmd.Env = append(cmd.Env, extra...)
	cmd.Dir = a.dir
	stdout, err := cmd.StdoutPipe()
	must(err)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	s := &started{cmd: cmd, out: bufio.NewReader(stdout), begin: time.Now()}
	must(cmd.Start())
	return s
}

var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}, Timeout: time.Second}

// waitReady polls /api/health every millisecond until it answers 2xx.
func waitReady(port int, begin time.Time, timeout time.Duration) (time.Duration, error) {
	url := fmt.Sprintf("http://127.0.0.1:%d/api/health", port)
	for time.Since(begin) < timeout {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return time.Since(begin), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, errors.New("not ready")
}

// waitURL polls url every millisecond until it answers 2xx or timeout.
func waitURL(url string, timeout time.Duration) {
	for t0 := time.Now(); time.Since(t0) < timeout; time.Sleep(time.Millisecond) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return
			}
		}
	}
}

// settledStops times the stop of tini, go-floor and the launcher a second
// after the app first answers. The stops above come at readiness, a quarter
// second before the launcher settles (drops the pages only starting needed,
// docs/BENCHMARKS.md "Eleventh pass"), and the Supervisor stops an add-on
// that has run for a while: its way out faults back the code it runs.
func settledStops(apps []app, cs []contender) {
	const after = time.Second
	var which []contender
	for _, c := range cs {
		if c.name == "tini" || c.name == "go-floor" || c.name == "launcher" {
			which = append(which, c)
		}
	}
	fmt.Printf("### Stop once settled: SIGTERM %s after the app first answers (%d runs)\n\n", after, *runs)
	fmt.Println("| app | entrypoint | stop median | p90 |")
	fmt.Println("|---|---|---|---|")
	for _, a := range apps {
		port := proc.FreePort()
		stops := map[string][]time.Duration{}
		for range *runs {
			for _, c := range which {
				if _, took, ok := startStop(c, a, port, after); ok {
					stops[c.name] = append(stops[c.name], took)
				}
			}
		}
		for _, c := range which {
			fmt.Printf("| %s | %s | %s | %s |\n", a.name, c.name, ms(median(stops[c.name])), ms(pct(stops[c.name], 90)))
		}
		if l, t := stops["launcher"], stops["tini"]; len(l) > 0 && len(t) > 0 {
			judgeStop("stop once settled, "+a.name, median(l)-median(t))
		}
	}
	fmt.Println()
}

// startStop starts c on a, waits until the app answers, lets it run for
// after (the scenario, not an event to wait for) and stops it: the time to
// ready and the stop's, or !ok (said on stderr) when the app never answered.
func startStop(c contender, a app, port int, after time.Duration) (ready, stop time.Duration, ok bool) {
	s := start(c, a, port)
	ready, err := waitReady(port, s.begin, 30*time.Second)
	if err == nil && after > 0 {
		time.Sleep(after)
	}
	stop, _ = s.stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %s on %s: %v\n", c.name, a.name, err)
		return 0, 0, false
	}
	return ready, stop, true
}

// judgeStop judges the launcher's stop against tini's, extra being the
// difference of their medians.
func judgeStop(what string, extra time.Duration) {
	judge(what, "≤ tini + 2 ms", fmt.Sprintf("tini %+.1f ms", float64(extra.Microseconds())/1000), extra <= 2*time.Millisecond)
}

// stop sends SIGTERM to the entrypoint and times its exit; anything left
// in its process group is killed afterwards.
func (s *started) stop() (time.Duration, int) {
	t0 := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	took := time.Since(t0)
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	return took, s.cmd.ProcessState.ExitCode()
}

func median(d []time.Duration) time.Duration { return pct(d, 50) }

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1)*p/100 + 0.5)
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func main() {
	flag.Parse()
	healthPort := proc.FreePort()
	tmp, err := os.MkdirTemp("", "bench-entrypoints-")
	must(err)
	defer os.RemoveAll(tmp)
	recordDir = tmp
	// The contenders' temporary folder too: the reaping runs end under
	// unshare, which passes no SIGTERM on, so --kill-child's SIGKILL ends the
	// launcher, and its gate's preload file would stay in /tmp.
	must(os.Setenv("TMPDIR", tmp))
	apps := []app{
		{name: "minimal node server", dir: filepath.Join(repo, "testdata/demo"), entry: "index.js", env: []string{"LAUNCHER_NATIVE_MODULES="}},
		{name: "reference backend", dir: productionBackend(tmp), entry: "index.js",
			env: []string{"DATABASE_PATH=" + filepath.Join(tmp, "hasync.db"), "FRONTEND_DIR=" + filepath.Join(repo, "rootfs/app/frontend/dist"), "HOST=127.0.0.1"}},
	}
	cs := contenders(healthPort)
	skip := map[string]bool{}
	if pm2Runtime() == "" {
		fmt.Fprintln(os.Stderr, "bench: pm2-runtime not found (npm install --prefix bench/pm2 pm2); skipping it")
		skip["pm2-runtime"] = true
	}
	if floorBin, err = buildStatic(tmp, "floor"); err != nil {
		fmt.Fprintf(os.Stderr, "bench: go-floor: %v; skipping it\n", err)
		skip["go-floor"] = true
	}
	var keep []contender
	for _, c := range cs {
		if !skip[c.name] {
			keep = append(keep, c)
		}
	}
	cs = keep

	fmt.Printf("## Entrypoints compared\n\n")
	fmt.Printf("Machine: %s, %d CPUs; %s; node %s; %s. Contenders interleaved (A B A B ...), %d runs each.\n",
		uname(), runtime.NumCPU(), runtime.Version(), version("node", "--version"), versions(), *runs)
	fmt.Printf("Reproduce: `make bench` (`go run ./bench/entrypoints -runs %d -signals %d -idle %s`).\n", *runs, *signals, *idle)
	fmt.Printf("The launcher keeps its preflight record as the add-on does in /data (here in a temporary folder): its first start of each app checks everything, the others recall it.\n\n")

	// 1 and 2: start to ready, and stop, per app.
	type times struct{ ready, stop []time.Duration }
	results := map[string]map[string]*times{}
	for _, a := range apps {
		results[a.name] = map[string]*times{}
		for _, c := range cs {
			results[a.name][c.name] = &times{}
		}
		port := proc.FreePort()
		for i := 0; i < *runs; i++ {
			for _, c := range cs {
				r, stopTook, ok := startStop(c, a, port, 0)
				if !ok {
					continue
				}
				results[a.name][c.name].ready = append(results[a.name][c.name].ready, r)
				results[a.name][c.name].stop = append(results[a.name][c.name].stop, stopTook)
			}
		}
	}
	for _, a := range apps {
		fmt.Printf("### Start to ready and stop: %s\n\n", a.name)
		fmt.Println("| entrypoint | start→ready median | p90 | stop median |")
		fmt.Println("|---|---|---|---|")
		for _, c := range cs {
			t := results[a.name][c.name]
			fmt.Printf("| %s | %s | %s | %s |\n", c.name, ms(median(t.ready)), ms(pct(t.ready, 90)), ms(median(t.stop)))
		}
		l, ti, pm := results[a.name]["launcher"], results[a.name]["tini"], results[a.name]["pm2-runtime"]
		if l != nil && ti != nil && len(l.ready) > 0 && len(ti.ready) > 0 {
			ratio := float64(median(l.ready)) / float64(median(ti.ready))
			judge("start→ready, "+a.name, "≤ 1.05 × tini", fmt.Sprintf("%.3f ×", ratio), ratio <= 1.05)
			judgeStop("stop, "+a.name, median(l.stop)-median(ti.stop))
			fmt.Printf("\nlauncher − tini: start→ready %+.1f ms (ratio %.3f), stop %+.1f ms.",
				float64((median(l.ready)-median(ti.ready)).Microseconds())/1000, float64(median(l.ready))/float64(median(ti.ready)),
				float64((median(l.stop)-median(ti.stop)).Microseconds())/1000)
			if pm != nil && len(pm.ready) > 0 {
				fmt.Printf(" launcher / pm2-runtime: start→ready %.3f.", float64(median(l.ready))/float64(median(pm.ready)))
			}
			if f := results[a.name]["go-floor"]; f != nil && len(f.ready) > 0 {
				fmt.Printf(" go-floor − tini (the Go runtime's share): start→ready %+.1f ms (ratio %.3f), stop %+.1f ms; launcher − go-floor (the launcher's own share): %+.1f ms, stop %+.1f ms.",
					float64((median(f.ready)-median(ti.ready)).Microseconds())/1000, float64(median(f.ready))/float64(median(ti.ready)),
					float64((median(f.stop)-median(ti.stop)).Microseconds())/1000,
					float64((median(l.ready)-median(f.ready)).Microseconds())/1000, float64((median(l.stop)-median(f.stop)).Microseconds())/1000)
			}
			fmt.Printf("\n\n")
		}
	}

	// 2b: the stop of an add-on that has run a while.
	settledStops(apps, cs)

	// 0: the launcher's own start, against its dependencies' floor.
	selfStart(tmp)

	// 4: signal forwarding latency.
	fmt.Printf("### Signal forwarding: SIGUSR1 to the entrypoint until node's handler runs (%d signals)\n\n", *signals)
	fmt.Println("| entrypoint | median | p99 |")
	fmt.Println("|---|---|---|")
	sigApp := app{name: "signals", dir: filepath.Join(repo, "bench/node"), entry: "signals.js", env: []string{"LAUNCHER_NATIVE_MODULES="}}
	medians := map[string]time.Duration{}
	for _, c := range cs {
		text, med := signalLatency(c, sigApp)
		medians[c.name] = med
		fmt.Printf("| %s | %s |\n", c.name, text)
	}
	if l, t := medians["launcher"], medians["tini"]; l > 0 && t > 0 {
		judge("signal forwarding, median", "≤ tini + 20 µs", fmt.Sprintf("tini %+d µs", (l-t).Microseconds()), l-t <= 20*time.Microsecond)
	}

	// 5: reaping, each entrypoint as PID 1 of a fresh PID namespace: the
	// zombies it leaves, and the CPU it spends reaping. The median of up to
	// five interleaved runs is what is compared.
	reapRuns := min(*runs, 5)
	fmt.Printf("\n### Reaping: node orphans %d short-lived processes, the entrypoint PID 1 of its own PID namespace (median of %d runs)\n\n", *orphans, reapRuns)
	fmt.Println("| entrypoint | zombies left after 1 s (most) | its CPU while node orphans them |")
	fmt.Println("|---|---|---|")
	orphanApp := app{name: "orphans", dir: filepath.Join(repo, "bench/node"), entry: "orphans.js",
		env: []string{"LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=", fmt.Sprintf("ORPHANS=%d", *orphans)}}
	type reapRun struct {
		left   int
		failed string // "never", "did not run", "timed out": why a run has no figure
		cpu    []time.Duration
	}
	reapRunsOf := map[string]*reapRun{}
	for _, c := range cs {
		reapRunsOf[c.name] = &reapRun{}
	}
	for range reapRuns {
		for _, c := range cs {
			r := reapRunsOf[c.name]
			left, failed, cpu := reaping(c, orphanApp)
			r.left = max(r.left, left)
			if failed == "" {
				r.cpu = append(r.cpu, cpu)
			} else if r.failed == "" {
				r.failed = failed
			}
		}
	}
	reapCPU := map[string]time.Duration{}
	for _, c := range cs {
		r, spent := reapRunsOf[c.name], ""
		if r.failed != "" {
			spent = r.failed
		} else {
			reapCPU[c.name] = median(r.cpu)
			spent = ms(reapCPU[c.name])
		}
		fmt.Printf("| %s | %d | %s |\n", c.name, r.left, spent)
	}
	if l, t := reapCPU["launcher"], reapCPU["tini"]; l > 0 && t > 0 {
		judge(fmt.Sprintf("reaping %d orphans (CPU)", *orphans), "≤ 1.2 × tini", fmt.Sprintf("%.2f ×", float64(l)/float64(t)), float64(l) <= 1.2*float64(t))
	}

	// 3: idle cost, all contenders at once on the minimal server.
	fmt.Printf("\n### Idle: the entrypoint's own RSS and CPU after %s (launcher with sampling and the health server on)\n\n", *idle)
	fmt.Println("| entrypoint | RSS at readiness | RSS idle | of which anonymous | CPU over the idle time | size it adds to the image |")
	fmt.Println("|---|---|---|---|---|---|")
	type idler struct {
		c     contender
		s     *started
		ticks uint64
		ready string
	}
	idleCs := cs
	for _, c := range cs {
		if c.name == "launcher" {
			idleCs = append(idleCs[:len(idleCs):len(idleCs)], contender{longRun, c.cmd})
		}
	}
	var idlers []idler
	for _, c := range idleCs {
		port, health := proc.FreePort(), proc.FreePort()
		a := apps[0]
		extra := []string{fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", health)}
		if c.name == longRun {
			extra = append(extra, "LAUNCHER_SAMPLE_INTERVAL=100ms", "LAUNCHER_LIVENESS_INTERVAL=200ms")
		}
		s := start(c, a, port, extra...)
		if _, err := waitReady(port, s.begin, 30*time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s idle: %v\n", c.name, err)
		}
		if strings.HasPrefix(c.name, "launcher") {
			// At readiness: once the launcher itself has taken node as ready.
			waitURL(fmt.Sprintf("http://127.0.0.1:%d/readyz", health), 5*time.Second)
		}
		if c.name == "launcher" {
			mb := float64(proc.RSSKB(s.cmd.Process.Pid)) * 1024 / 1e6
			judge("RSS at readiness", "≤ 8 MB", fmt.Sprintf("%.1f MB", mb), mb <= 8)
		}
		idlers = append(idlers, idler{c: c, s: s, ticks: cpuTicks(s.cmd.Process.Pid), ready: rss(s.cmd.Process.Pid)})
	}
	t0 := time.Now()
	time.Sleep(*idle)
	hz := 100.0
	for _, i := range idlers {
		pid := i.s.cmd.Process.Pid
		cpu := float64(cpuTicks(pid)-i.ticks) / hz / time.Since(t0).Seconds() * 100
		if i.c.name == "launcher" {
			mb := float64(proc.RSSKB(pid)) * 1024 / 1e6
			judge("RSS idle", "≤ 5 MB", fmt.Sprintf("%.1f MB", mb), mb <= 5)
		}
		anon := float64(proc.AnonKB(pid)) * 1024 / 1e6
		fmt.Printf("| %s | %s | %s | %.1f MB | %.2f %% | %s |\n", i.c.name, i.ready, rss(pid), anon, cpu, imageSize(i.c.name))
		i.s.stop()
	}
	fmt.Println()

	fmt.Printf("### Against the targets\n\n| target | wanted | measured | verdict |\n|---|---|---|---|\n")
	for _, t := range targets {
		verdict := "met"
		if !t.met {
			verdict = "**missed**"
		}
		fmt.Printf("| %s | %s | %s | %s |\n", t.what, t.want, t.got, verdict)
	}
	fmt.Println()
}

// productionBackend lays the built reference backend out as the image's
// /app/backend: dist/ at the top, db/, and node_modules without the dev
// dependencies (npm prune only removes: no rebuild).
func productionBackend(tmp string) string {
	src := filepath.Join(repo, "rootfs/app/backend")
	dst := filepath.Join(tmp, "backend")
	cmds := [][]string{
		{"mkdir", "-p", dst},
		{"sh", "-c", fmt.Sprintf("cp -a %s/dist/. %s/ && cp -a %s/node_modules %s/package.json %s/package-lock.json %s/db %s/", src, dst, src, src, src, src, dst)},
		{"npm", "prune", "--omit=dev", "--no-audit", "--no-fund", "--prefix", dst},
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			must(fmt.Errorf("%s: %v\n%s", strings.Join(c, " "), err, out))
		}
	}
	return dst
}

func uname() string {
	var u unix.Utsname
	_ = unix.Uname(&u)
	return "Linux " + unix.ByteSliceToString(u.Release[:])
}

func version(cmd string, args ...string) string {
	out, err := exec.Command(cmd, args...).CombinedOutput() // dumb-init prints its version on stderr
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func versions() string {
	pm2 := "absent"
	if p := pm2Runtime(); p != "" {
		pm2 = pm2Version(p)
	}
	return fmt.Sprintf("tini %s, dumb-init %s, pm2 %s, %s",
		strings.TrimPrefix(version("tini", "--version"), "tini version "), strings.TrimPrefix(version("dumb-init", "--version"), "dumb-init v"),
		pm2, version("bash", "--version"))
}

// pm2Version reads pm2's version from its package.json: `pm2 --version`
// starts pm2's daemon, which then stays, busy, through the whole run.
func pm2Version(runtime string) string {
	bin, err := filepath.EvalSymlinks(runtime) // node_modules/pm2/bin/pm2-runtime
	if err != nil {
		return "?"
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(bin)), "package.json"))
	var pkg struct{ Version string }
	if err != nil || json.Unmarshal(b, &pkg) != nil || pkg.Version == "" {
		return "?"
	}
	return pkg.Version
}

func cpuTicks(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseUint(f[11], 10, 64)
	k, _ := strconv.ParseUint(f[12], 10, 64)
	return u + k
}

func rss(pid int) string {
	if kb := proc.RSSKB(pid); kb > 0 {
		return fmt.Sprintf("%.1f MB", float64(kb)*1024/1e6)
	}
	return "?"
}

func fileSize(path string) int64 {
	p, err := exec.LookPath(path)
	if err != nil {
		return 0
	}
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}

func imageSize(name string) string {
	mb := func(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }
	switch name {
	case "node":
		return "0"
	case "tini":
		if n := fileSize("tini-static"); n > 0 {
			return mb(n) + " (static)"
		}
		return mb(fileSize("tini"))
	case "dumb-init":
		return mb(fileSize("dumb-init"))
	case "run.sh":
		return mb(fileSize(filepath.Join(repo, "bench/run.sh"))+fileSize("jq")) + " (script + jq; bash is in the base image)"
	case "pm2-runtime":
		return mb(dirSize(filepath.Join(repo, "bench/pm2/node_modules"))) + " (node_modules)"
	case "launcher", "launcher-sequential", longRun:
		return mb(fileSize(filepath.Join(repo, "bin/launcher"))) + " (static)"
	case "go-floor":
		return mb(fileSize(floorBin)) + " (static)"
	}
	return "?"
}

// signalLatency sends SIGUSR1 to the entrypoint and reads the monotonic
// time node's handler printed.
func signalLatency(c contender, a app) (string, time.Duration) {
	port := proc.FreePort()
	s := startWatched(c, a, port, fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", proc.FreePort()))
	defer s.stop()
	lines := make(chan string, 16)
	go func() {
		for {
			l, err := s.out.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			if strings.HasPrefix(l, "usr1 ") {
				lines <- strings.TrimSpace(strings.TrimPrefix(l, "usr1 "))
			}
		}
	}()
	if _, err := waitReady(port, s.begin, 30*time.Second); err != nil {
		return "did not start | |", 0
	}
	var lat []time.Duration
	for i := 0; i < *signals; i++ {
		var ts unix.Timespec
		_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		sent := ts.Nano()
		_ = s.cmd.Process.Signal(syscall.SIGUSR1)
		select {
		case l, ok := <-lines:
			if !ok {
				return "the entrypoint died | |", 0
			}
			got, _ := strconv.ParseInt(l, 10, 64)
			lat = append(lat, time.Duration(got-sent))
		case <-time.After(time.Second):
			if i == 0 {
				return "not forwarded | ", 0
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	us := func(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }
	return fmt.Sprintf("%s | %s", us(median(lat)), us(pct(lat, 99))), median(lat)
}

// reaping runs the entrypoint as PID 1 of a fresh PID namespace, lets node
// orphan processes, and returns the CPU PID 1 spent meanwhile (all its
// threads, from node's "orphaning" line to its "orphaned" one) and the
// zombies left in the namespace a second after.
//
// Not a time: the orphans come over five seconds or so and are reaped as
// they come, so every contender has reaped the last one before the bench
// reads node's "orphaned" line (a look at /proc then finds none), and a time
// from that line measures the line's way and the look, not the reaping.
func reaping(c contender, a app) (int, string, time.Duration) {
	argv, env := c.cmd(a, proc.FreePort())
	if c.name == "tini" {
		argv = append([]string{"tini", "--"}, argv[3:]...) // PID 1: no -s
	}
	// --kill-child: unshare passes no signal on, and the entrypoint inside
	// must not outlive the run.
	cmd := exec.Command("unshare", append([]string{"--pid", "--fork", "--mount-proc", "--kill-child"}, argv...)...)
	cmd.Env = append(append(append(os.Environ(), env...), a.env...), "NO_COLOR=1", "LAUNCHER_HEALTH_ADDR=off", "LAUNCHER_LOG_LEVEL=warning")
	cmd.Dir = a.dir
	stdout, err := cmd.StdoutPipe()
	must(err)
	must(cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	br := bufio.NewReader(stdout)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	spent := make(chan time.Duration, 1) // PID 1's CPU over the orphaning, or -1
	go func() {
		var from time.Duration
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				spent <- -1
				return
			}
			switch {
			case strings.HasPrefix(l, "orphaning"):
				from = proc.CPU(childOf(cmd.Process.Pid))
			case strings.HasPrefix(l, "orphaned "):
				spent <- proc.CPU(childOf(cmd.Process.Pid)) - from
				go func() { _, _ = io.Copy(io.Discard, br) }()
				return
			}
		}
	}()
	var cpu time.Duration
	select {
	case cpu = <-spent:
		if cpu < 0 {
			return -1, "did not run", 0
		}
	case <-ctx.Done():
		return -1, "timed out", 0
	}
	pid1 := childOf(cmd.Process.Pid)
	begin := time.Now()
	for zombies(pid1) > 0 && time.Since(begin) < time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	if left := zombies(pid1); left > 0 {
		return left, "never", 0
	}
	return 0, "", cpu
}

func childOf(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

// zombies counts the zombie processes below pid (its namespace).
func zombies(pid int) int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	state := map[int]string{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		pp, _ := strconv.Atoi(f[1])
		parent[p], state[p] = pp, f[0]
	}
	n := 0
	for p, st := range state {
		if st != "Z" {
			continue
		}
		for q := parent[p]; q > 0; q = parent[q] {
			if q == pid {
				n++
				break
			}
		}
	}
	return n
}

// selfStart times `launcher version`, exec to exit, against bench/baseline
// (a static binary that imports the same packages and exits) and /bin/true,
// interleaved, and prints the medians and the ratio.
func selfStart(tmp string) {
	base, err := buildStatic(tmp, "baseline")
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: baseline: %v\n", err)
		return
	}
	cmds := []struct {
		name string
		argv []string
	}{
		{"baseline (imports the launcher's dependencies, exits)", []string{base}},
		{"launcher version", []string{filepath.Join(repo, "bin/launcher"), "version"}},
		{"/bin/true", []string{"/bin/true"}},
	}
	n := max(*runs*10, 20)
	took := make([][]time.Duration, len(cmds))
	for i := 0; i < n; i++ {
		for j, c := range cmds {
			began := time.Now()
			if err := exec.Command(c.argv[0], c.argv[1:]...).Run(); err != nil {
				fmt.Fprintf(os.Stderr, "bench: %s: %v\n", c.name, err)
				return
			}
			took[j] = append(took[j], time.Since(began))
		}
	}
	fmt.Printf("### The launcher's own start: exec to exit, %d runs interleaved\n\n", n)
	fmt.Println("| program | median | p90 | size |")
	fmt.Println("|---|---|---|---|")
	for j, c := range cmds {
		fmt.Printf("| %s | %s | %s | %.1f MB |\n", c.name, ms(median(took[j])), ms(pct(took[j], 90)), float64(fileSize(c.argv[0]))/1e6)
	}
	ratio := float64(median(took[1])) / float64(median(took[0]))
	fmt.Printf("\nlauncher version / baseline: %.2f (target ≤ 1.1).\n\n", ratio)
	judge("the launcher's own start", "≤ 1.1 × baseline", fmt.Sprintf("%.2f ×", ratio), ratio <= 1.1)
}
