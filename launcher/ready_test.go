package launcher_test

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

// The launcher gives back the pages only its start needed before /readyz
// says ready, so that whoever looks at its memory once it is ready (a
// benchmark, a person at `launcher status`) sees its own size, not its
// start's. Readiness used to be published first, the trim after.
func TestReady_TrimsBeforeReadinessIsPublished(t *testing.T) {
	cfg, spec := genericChild(t, nil, "sleep", "30")
	store := launcher.NewStateStore("test")
	stateAtTrim := make(chan string, 1)
	defer launcher.TrimResident(func() {
		select {
		case stateAtTrim <- store.Load().State:
		default:
		}
	})()
	stop := supervise(t, cfg, spec, store)
	defer stop()
	select {
	case state := <-stateAtTrim:
		if state == launcher.StateReady {
			t.Errorf("the start's pages were given back after readiness was published")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the child never became ready")
	}
}

// Every start runs at Go's default GC pace, the preflight's allocations
// above all; once the child is ready the launcher idles at a slower one,
// which keeps its heap near 1 MB instead of 4. A restart starts at the
// default again.
func TestReady_StartsAtTheDefaultGCPaceAndIdlesSlower(t *testing.T) {
	defer launcher.ChooseGOGC(false)()
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	// The first child fails soon after it is ready; the second stays.
	marker := filepath.Join(t.TempDir(), "started")
	cfg, spec := genericChild(t, nil, "sh", "-c", "if [ -e "+marker+" ]; then exec sleep 30; fi; touch "+marker+"; sleep 0.1; exit 1")
	cfg.RestartDelay = 50 * time.Millisecond
	store := launcher.NewStateStore("test")
	// The pace each ready finds, left by the start before it.
	paces := make(chan int, 8)
	defer launcher.TrimResident(func() {
		select {
		case paces <- launcher.GCPercent():
		default:
		}
	})()
	stop := supervise(t, cfg, spec, store)
	defer stop()
	for i := 1; i <= 2; i++ {
		select {
		case p := <-paces:
			if p != 100 {
				t.Errorf("start %d ran at GC percent %d, want Go's default 100", i, p)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("start %d never became ready", i)
		}
	}
	// Run returns after the second ready is through, the second child
	// still running: nothing has started since.
	stop()
	if p := launcher.GCPercent(); p != launcher.IdleGCPercent {
		t.Errorf("GC percent once ready = %d, want %d", p, launcher.IdleGCPercent)
	}
}

// supervise runs a Supervisor of spec in the background, its reaper
// outliving it as in main; stop cancels it and waits for Run to return,
// once however often it is called.
func supervise(t *testing.T, cfg *config.Config, spec launcher.ChildSpec, store *launcher.StateStore) (stop func()) {
	t.Helper()
	_, reaper := runReaper(t)
	ctx, cancel := context.WithCancel(context.Background())
	sup := launcher.NewSupervisor(cfg, spec, reaper, store, zerolog.Nop())
	done := make(chan struct{})
	go func() { defer close(done); _, _ = sup.Run(ctx) }()
	return sync.OnceFunc(func() { cancel(); <-done })
}
