// Command soak runs the launcher supervising the reference backend for a
// long time under restarts, scrapes and signals, and reports whether its
// memory drifts: `make soak` (an hour), not part of CI.
//
//	go run ./bench/soak [-duration 1h] [-warmup 1m]
//
// Every 3 s node is killed (a restart), every second a SIGWINCH goes to the
// launcher (forwarded; node ignores it by default), and /metrics and /status are
// scraped ten times a second. The launcher's RSS is read every minute;
// the drift is the last reading against the first after the warm-up, of
// the anonymous part (heap, stacks: where a leak shows). The whole VmRSS
// is reported too; it swings with the binary's pages, which the launcher
// drops after each start and which fault back in as code runs.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hasync/launcher/bench/internal/proc"
)

var (
	duration = flag.Duration("duration", time.Hour, "how long to run")
	warmup   = flag.Duration("warmup", time.Minute, "time before the baseline reading")
)

func main() {
	flag.Parse()
	repo, _ := os.Getwd()
	health, app := proc.FreePort(), proc.FreePort()
	tmp, _ := os.MkdirTemp("", "soak-")
	defer os.RemoveAll(tmp)
	cmd := exec.Command(filepath.Join(repo, "bin/launcher"))
	cmd.Env = append(os.Environ(),
		"LAUNCHER_APP_DIR="+filepath.Join(repo, "rootfs/app/backend"), "LAUNCHER_ENTRY=dist/index.js",
		"LAUNCHER_OPTIONS_FILE=/nonexistent", "LAUNCHER_LOG_LEVEL=warning", "LAUNCHER_RESTART_LIMIT=100000",
		"LAUNCHER_RESTART_DELAY=100ms", "LAUNCHER_RESTART_DELAY_MAX=100ms", "LAUNCHER_SAMPLE_INTERVAL=1s",
		fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", health), fmt.Sprintf("PORT=%d", app), "HOST=127.0.0.1",
		fmt.Sprintf("LAUNCHER_READY_URL=http://127.0.0.1:%d/api/health", app),
		"DATABASE_PATH="+filepath.Join(tmp, "soak.db"), "FRONTEND_DIR="+tmp)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	// Stopped with the soak even when it is killed (no defer runs then).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "soak: start bin/launcher (make build backend first):", err)
		os.Exit(1)
	}
	pid := cmd.Process.Pid
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()

	client := &http.Client{Timeout: 2 * time.Second}
	status := func() (childPID int, restarts int) {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/status", health))
		if err != nil {
			return 0, 0
		}
		defer resp.Body.Close()
		var s struct {
			Child struct {
				PID      *int `json:"pid"`
				Restarts int  `json:"restarts"`
			} `json:"child"`
		}
		if json.NewDecoder(resp.Body).Decode(&s) != nil || s.Child.PID == nil {
			return 0, s.Child.Restarts
		}
		return *s.Child.PID, s.Child.Restarts
	}

	start := time.Now()
	scrape := time.NewTicker(100 * time.Millisecond)
	signal := time.NewTicker(time.Second)
	kill := time.NewTicker(3 * time.Second)
	minute := time.NewTicker(time.Minute)
	defer scrape.Stop()
	defer signal.Stop()
	defer kill.Stop()
	defer minute.Stop()
	baseline, scrapes, signals, kills := 0, 0, 0, 0
	fmt.Println("| minute | launcher RSS | of which anonymous | restarts | scrapes | signals |")
	fmt.Println("|---|---|---|---|---|---|")
	for time.Since(start) < *duration {
		select {
		case <-scrape.C:
			for _, path := range []string{"/metrics", "/status"} {
				if resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", health, path)); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					scrapes++
				}
			}
		case <-signal.C:
			if cmd.Process.Signal(syscall.SIGWINCH) == nil {
				signals++
			}
		case <-kill.C:
			if child, _ := status(); child > 0 && syscall.Kill(child, syscall.SIGKILL) == nil {
				kills++
			}
		case <-minute.C:
			_, restarts := status()
			anon := proc.AnonKB(pid)
			if baseline == 0 && time.Since(start) >= *warmup {
				baseline = anon
			}
			fmt.Printf("| %d | %d KB | %d KB | %d | %d | %d |\n", int(time.Since(start).Minutes()), proc.RSSKB(pid), anon, restarts, scrapes, signals)
		}
		if cmd.ProcessState != nil {
			fmt.Fprintln(os.Stderr, "soak: the launcher exited")
			os.Exit(1)
		}
	}
	final := proc.AnonKB(pid)
	if baseline == 0 {
		baseline = final
	}
	drift := final - baseline
	fmt.Printf("\nAnonymous memory drift after the warm-up: %+d KB (%d KB → %d KB) over %s; VmRSS at the end %d KB; %d kills, %d scrapes, %d signals.\n",
		drift, baseline, final, *duration, proc.RSSKB(pid), kills, scrapes, signals)
	if drift > 1024 {
		fmt.Println("FAIL: the launcher's anonymous memory drifted more than 1 MB")
		os.Exit(1)
	}
}
