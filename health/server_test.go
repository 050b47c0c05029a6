package health

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/http1"
	"github.com/hasync/launcher/launcher/preflight"
)

func ptr[T any](v T) *T { return &v }

// readySnapshot is a launcher whose node is up and ready, with every
// figure known.
func readySnapshot() func(*launcher.Snapshot) {
	return func(s *launcher.Snapshot) {
		s.State = launcher.StateReady
		s.Node = &preflight.NodeInfo{Path: "/usr/bin/node", Version: "v18.20.4", ABI: 108, NAPI: 9, Libc: "musl", Arch: "x64"}
		s.Preflight = &preflight.Report{OK: true, DurationMS: 3.2, Checks: []preflight.Check{
			{Name: "entry", Status: preflight.StatusPass}, {Name: "native:bcrypt", Status: preflight.StatusPass},
			{Name: "native-scan", Status: preflight.StatusWarn}}}
		s.Startup = launcher.Startup{PreflightMS: ptr(3.4), SpawnMS: ptr(4.1), ReadyMS: ptr(612.0)}
		s.Child = launcher.ChildState{PID: ptr(17), StartedAt: ptr(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)), Ready: true,
			ReadySeconds: ptr(0.6), Restarts: 2, LastExit: &launcher.ExitInfo{Code: 137, Signal: "SIGKILL", Reason: "memory"},
			RSSBytes: ptr(uint64(61234176)), VMSBytes: ptr(uint64(1 << 30)), CPUSeconds: ptr(1.25), OpenFDs: ptr(int32(21)), Threads: ptr(int32(11))}
		s.Launcher.RSSBytes = ptr(uint64(7012352))
		s.Container = launcher.ContainerState{MemoryLimitBytes: ptr(uint64(1 << 30)), MemoryUsageBytes: ptr(uint64(181000000))}
		s.SignalsForwarded = map[string]int64{"SIGTERM": 1, "SIGHUP": 3}
	}
}

// serve answers one request over a real connection: the health server on
// a loopback port of its own, net/http's client.
func serve(t *testing.T, store *launcher.StateStore, method, path string) *http.Response {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newServer(ln, store, zerolog.Nop()).Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	req, err := http.NewRequest(method, "http://"+ln.Addr().String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

func TestHealthzAndReadyz(t *testing.T) {
	for _, c := range []struct {
		state          string
		healthz, ready int
	}{
		{launcher.StateStarting, 503, 503},
		{launcher.StateRunning, 200, 503},
		{launcher.StateReady, 200, 200},
		{launcher.StateRestarting, 200, 503},
		{launcher.StateStopping, 503, 503},
		{launcher.StateStopped, 503, 503},
		{launcher.StateFailed, 503, 503},
	} {
		store := launcher.NewStateStore("test")
		store.Update(func(s *launcher.Snapshot) { s.State = c.state })
		for path, want := range map[string]int{"/healthz": c.healthz, "/readyz": c.ready} {
			resp := serve(t, store, "GET", path)
			var body struct{ Status, State string }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != want || body.State != c.state || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s in %s: %d %+v, want %d", path, c.state, resp.StatusCode, body, want)
			}
			if (want == 200) != (body.Status == "ok") {
				t.Errorf("%s in %s: status %q with code %d", path, c.state, body.Status, want)
			}
		}
	}
}

func TestMethodsAndPaths(t *testing.T) {
	store := launcher.NewStateStore("test")
	store.Update(readySnapshot())
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/healthz", 200}, {"HEAD", "/healthz", 200}, {"HEAD", "/metrics", 200}, {"GET", "/status", 200},
		{"POST", "/healthz", 405}, {"PUT", "/status", 405}, {"DELETE", "/metrics", 405},
		{"GET", "/", 404}, {"GET", "/debug/pprof/", 404}, {"GET", "/healthz/x", 404}, {"GET", "/env", 404},
	} {
		resp := serve(t, store, c.method, c.path)
		if resp.StatusCode != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
		if c.want == 405 && resp.Header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", c.method, c.path)
		}
	}
}

// /status is the contract's document, with null for what is not known yet.
func TestStatus(t *testing.T) {
	store := launcher.NewStateStore("test")
	store.CountReaped(func() int64 { return 4 })
	resp := serve(t, store, "GET", "/status")
	var fresh map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&fresh); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "state", "node", "preflight", "startup", "child", "launcher", "container"} {
		if _, ok := fresh[k]; !ok {
			t.Errorf("/status lacks %q: %v", k, fresh)
		}
	}
	if fresh["node"] != nil || fresh["preflight"] != nil || fresh["startup"].(map[string]any)["ready_ms"] != nil ||
		fresh["child"].(map[string]any)["last_exit"] != nil || fresh["child"].(map[string]any)["pid"] != nil ||
		fresh["child"].(map[string]any)["listening"] != nil {
		t.Errorf("unknown fields must be null: %v", fresh)
	}
	if fresh["launcher"].(map[string]any)["reaped"] != 4.0 {
		t.Errorf("reaped is read live: %v", fresh["launcher"])
	}

	store.Update(readySnapshot())
	var got launcher.Snapshot
	if err := json.NewDecoder(serve(t, store, "GET", "/status").Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.State != "ready" || got.Node.ABI != 108 || *got.Startup.ReadyMS != 612 || *got.Child.PID != 17 ||
		got.Child.LastExit.Reason != "memory" || *got.Container.MemoryLimitBytes != 1<<30 || !got.Preflight.OK {
		t.Errorf("/status = %+v", got)
	}
}

// The exposition parses with Prometheus' own parser, follows its naming
// rules, and carries every metric of the contract.
func TestMetrics(t *testing.T) {
	store := launcher.NewStateStore("test")
	store.CountReaped(func() int64 { return 7 })
	store.Update(readySnapshot())
	resp := serve(t, store, "GET", "/metrics")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	families := parse(t, body)
	want := map[string]float64{
		`launcher_build_info{goversion,version}`:                  1,
		`launcher_startup_seconds{phase="preflight"}`:             0.0034,
		`launcher_startup_seconds{phase="spawn"}`:                 0.0041,
		`launcher_startup_seconds{phase="ready"}`:                 0.612,
		`launcher_child_up`:                                       1,
		`launcher_child_ready`:                                    1,
		`launcher_child_start_time_seconds`:                       float64(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC).Unix()),
		`launcher_child_ready_seconds`:                            0.6,
		`launcher_child_restarts_total`:                           2,
		`launcher_child_last_exit_code`:                           137,
		`launcher_child_resident_memory_bytes`:                    61234176,
		`launcher_child_virtual_memory_bytes`:                     1 << 30,
		`launcher_child_cpu_seconds_total`:                        1.25,
		`launcher_child_open_fds`:                                 21,
		`launcher_child_threads`:                                  11,
		`launcher_resident_memory_bytes`:                          7012352,
		`launcher_reaped_processes_total`:                         7,
		`launcher_signals_forwarded_total{signal="SIGTERM"}`:      1,
		`launcher_signals_forwarded_total{signal="SIGHUP"}`:       3,
		`launcher_container_memory_limit_bytes`:                   1 << 30,
		`launcher_container_memory_usage_bytes`:                   181000000,
		`launcher_preflight_check_success{check="entry"}`:         1,
		`launcher_preflight_check_success{check="native:bcrypt"}`: 1,
		`launcher_preflight_check_success{check="native-scan"}`:   1,
		`launcher_preflight_recalled`:                             0,
	}
	for series, v := range want {
		got, ok := families[series]
		if !ok {
			t.Errorf("missing %s", series)
			continue
		}
		if diff := got - v; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}

	// Before anything is known, unknown values are left out, not 0.
	fresh := parse(t, readAll(serve(t, launcher.NewStateStore("test"), "GET", "/metrics")))
	for _, absent := range []string{"launcher_child_resident_memory_bytes", "launcher_container_memory_limit_bytes", `launcher_startup_seconds{phase="ready"}`, "launcher_child_last_exit_code"} {
		if _, ok := fresh[absent]; ok {
			t.Errorf("%s is exposed before it is known", absent)
		}
	}
	if fresh["launcher_child_up"] != 0 {
		t.Errorf("launcher_child_up = %v before a child", fresh["launcher_child_up"])
	}
}

func readAll(resp *http.Response) []byte {
	b, _ := io.ReadAll(resp.Body)
	return b
}

var metricName = regexp.MustCompile(`^launcher_[a-z0-9_]+$`)

// parse reads the exposition with Prometheus' parser, checks the naming
// rules, and returns each series' value keyed by name{labels}; the
// build_info labels are keyed by name only, their values vary.
func parse(t *testing.T, body []byte) map[string]float64 {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("Prometheus' parser rejects the exposition: %v\n%s", err, body)
	}
	out := map[string]float64{}
	for name, f := range fams {
		if !metricName.MatchString(name) {
			t.Errorf("metric name %q breaks the naming rules", name)
		}
		if strings.TrimSpace(f.GetHelp()) == "" {
			t.Errorf("%s: its HELP says nothing about what it measures", name)
		}
		isCounter := f.GetType() == dto.MetricType_COUNTER
		if strings.HasSuffix(name, "_total") != isCounter {
			t.Errorf("%s: type %s; counters and only counters end in _total", name, f.GetType())
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if name == "launcher_build_info" {
					labels = append(labels, l.GetName())
				} else {
					labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
				}
			}
			sort.Strings(labels)
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

func TestWriteStatus(t *testing.T) {
	store := launcher.NewStateStore("test")
	store.Update(readySnapshot())
	store.Update(func(s *launcher.Snapshot) { s.Child.LastExit.Stderr = []string{"FATAL ERROR: Reached heap limit"} })
	var buf bytes.Buffer
	snap := StatusOf(store)
	WriteStatus(&buf, &snap, false)
	out := buf.String()
	for _, want := range []string{"READY", "pid 17, ready", "v18.20.4", "preflight", "spawn", "612.0 ms", "█",
		"58.4MiB", "of the 1GiB limit", "restarts  2", "SIGKILL (137)", "reason memory", "Reached heap limit", "WARN native-scan"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "recalled") {
		t.Errorf("a preflight that checked shows as recalled:\n%s", out)
	}

	// A preflight recalled from its record says so, and since when.
	store.Update(func(s *launcher.Snapshot) {
		p := *s.Preflight
		p.Recorded = time.Date(2026, 12, 1, 8, 0, 0, 0, time.Local)
		s.Preflight = &p
	})
	buf.Reset()
	snap = StatusOf(store)
	WriteStatus(&buf, &snap, false)
	if out := buf.String(); !strings.Contains(out, "recalled: unchanged since they ran at 2026-12-01 08:00:00") {
		t.Errorf("status does not say the preflight was recalled:\n%s", out)
	}
	if body := string(readAll(serve(t, store, "GET", "/metrics"))); !strings.Contains(body, "\nlauncher_preflight_recalled 1\n") {
		t.Errorf("/metrics does not say the preflight was recalled:\n%s", body)
	}
	if body := string(readAll(serve(t, store, "GET", "/status"))); !strings.Contains(body, `"recorded":"`) {
		t.Errorf("/status does not say when the recalled preflight's checks ran:\n%s", body)
	}
}

// Values carry no float noise: CPU time summed from clock ticks is whole
// microseconds (0.21, not 0.21000000000000002).
func TestMetrics_NoFloatNoise(t *testing.T) {
	store := launcher.NewStateStore("test")
	store.Update(func(s *launcher.Snapshot) {
		s.Child.PID = ptr(9)
		s.Child.CPUSeconds = ptr(0.1 + 0.11)
	})
	body := string(readAll(serve(t, store, "GET", "/metrics")))
	if !strings.Contains(body, "launcher_child_cpu_seconds_total 0.21\n") {
		t.Errorf("cpu seconds with float noise:\n%s", body)
	}
}

// Label values are escaped as the text format asks: a version built with
// quotes, a backslash or a newline in it still parses, and reads back.
func TestMetrics_LabelEscaping(t *testing.T) {
	odd := "1.0 \"rc\" C:\\x\nnext"
	body := readAll(serve(t, launcher.NewStateStore(odd), "GET", "/metrics"))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("Prometheus' parser rejects the exposition: %v\n%s", err, body)
	}
	got := ""
	for _, m := range fams["launcher_build_info"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "version" {
				got = l.GetValue()
			}
		}
	}
	if got != odd {
		t.Errorf("version label %q, want %q", got, odd)
	}
}

// A route that panics (a bug; a route of the test's, as none of the
// server's is known to) is told in the launcher's log with its stack, gets
// 500, and the server answers the next request.
func TestARouteThatPanicsIsToldAndTheServerServesOn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	srv := newServer(ln, launcher.NewStateStore("1.0.0"), zerolog.New(&log))
	srv.srv.Routes["/boom"] = func() http1.Reply { var s []int; return http1.Reply{Code: 200 + s[1]} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for path, want := range map[string]int{"/boom": 500, "/status": 200} {
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	var line struct {
		Level, Message, Stack string
	}
	if err := json.Unmarshal(bytes.SplitN(log.Bytes(), []byte("\n"), 3)[1], &line); err != nil {
		t.Fatalf("%v:\n%s", err, log.String())
	}
	if line.Level != "error" || !strings.HasPrefix(line.Message, "the health server's answer to /boom failed for a bug in the launcher") ||
		!strings.Contains(line.Message, "index out of range [1] with length 0") || !strings.Contains(line.Stack, "TestARouteThatPanicsIsToldAndTheServerServesOn") {
		t.Errorf("the panic is told as %+v", line)
	}
}
