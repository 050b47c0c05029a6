package launcher_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
)

// 500 short children in a row, each status right, while other children
// that nobody registered exit around them: the reaper hands every
// registered status to its owner and never loses one to the drain.
// The reaper takes over every wait of this test process, so no other test
// of the package runs in parallel with it.
func TestReaper_500ChildrenEveryStatusRight(t *testing.T) {
	ctx, r := runReaper(t)

	// Unregistered children, started and abandoned concurrently.
	stopNoise := make(chan struct{})
	noiseDone := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stopNoise:
				noiseDone <- n
				return
			default:
			}
			p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
			if err == nil {
				_ = p.Release()
				n++
			}
		}
	}()

	signals := []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGINT, syscall.SIGSEGV, syscall.SIGUSR1}
	for i := 0; i < 500; i++ {
		want := launcher.ExitStatus{Code: i % 256}
		script := fmt.Sprintf("exit %d", want.Code)
		if i%7 == 3 {
			want = launcher.ExitStatus{Signal: signals[i%len(signals)]}
			script = fmt.Sprintf("kill -%d $$", int(want.Signal))
		}
		cmd := exec.Command("/bin/sh", "-c", script)
		done, err := r.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		if got := <-done; got != want {
			t.Fatalf("child %d (%s): status %v, want %v", i, script, got, want)
		}
		_ = cmd.Process.Release()
	}
	close(stopNoise)
	noise := <-noiseDone
	if err := r.WaitNoChildren(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.Orphans(); got != int64(noise) {
		t.Errorf("reaped %d unregistered children, want %d", got, noise)
	}
}

// Output runs a command to its end through the reaper, for node --version
// while the reaper owns every wait.
func TestReaper_Output(t *testing.T) {
	ctx, r := runReaper(t)

	out, err := r.Output(ctx, exec.Command("/bin/sh", "-c", "echo v20.20.2"))
	if err != nil || string(out) != "v20.20.2\n" {
		t.Errorf("Output = %q, %v", out, err)
	}
	if _, err := r.Output(ctx, exec.Command("/bin/sh", "-c", "exit 3")); err == nil {
		t.Errorf("a failing command must return an error")
	}

	// What a failing command says on stderr comes with its error, as
	// exec.ExitError's Stderr: the loader's line that says why node cannot
	// run. A flood of it (musl prints a line per failed relocation) is
	// drained, never blocking the command, and its head kept.
	var said interface{ Stderr() []byte }
	_, err = r.Output(ctx, exec.Command("/bin/sh", "-c", "echo 'Error relocating /usr/bin/node: x: symbol not found' >&2; exit 127"))
	if !errors.As(err, &said) || !strings.HasPrefix(string(said.Stderr()), "Error relocating /usr/bin/node: x: symbol not found\n") {
		t.Errorf("Output's error %v does not carry the command's stderr", err)
	}
	_, err = r.Output(ctx, exec.Command("/bin/sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo 'Error relocating /lib/x.so: unsupported relocation type 1027'; i=$((i+1)); done >&2; exit 127"))
	if !errors.As(err, &said) || len(said.Stderr()) == 0 || len(said.Stderr()) > 4096 {
		t.Errorf("a flood of stderr: %v", err)
	}
	if out, err := r.Output(ctx, exec.Command("/bin/sh", "-c", "echo warning >&2; echo v20.20.2")); err != nil || string(out) != "v20.20.2\n" {
		t.Errorf("stderr beside a success: %q, %v", out, err)
	}
}

// runReaper runs a Reaper in this test process until the test ends.
func runReaper(t *testing.T) (context.Context, *launcher.Reaper) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := launcher.NewReaper(zerolog.Nop())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ctx, r
}
