package launcher_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
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
	// The reaper outlives supervision, as in main.
	_, reaper := runReaper(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sup := launcher.NewSupervisor(cfg, spec, reaper, store, zerolog.Nop())
	done := make(chan struct{})
	go func() { defer close(done); _, _ = sup.Run(ctx) }()
	select {
	case state := <-stateAtTrim:
		if state == launcher.StateReady {
			t.Errorf("the start's pages were given back after readiness was published")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the child never became ready")
	}
	cancel()
	<-done
}
