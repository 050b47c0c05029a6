package launcher_test

import (
	"context"
	"io"
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
	cfg, err := config.LoadConfig(map[string]string{"LAUNCHER_READY_URL": "", "LAUNCHER_HEALTH_ADDR": "off"},
		[]string{"sleep", "30"})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := launcher.NewChildSpec(&cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	store := launcher.NewStateStore("test")
	stateAtTrim := make(chan string, 1)
	defer launcher.TrimResident(func() {
		select {
		case stateAtTrim <- store.Load().State:
		default:
		}
	})()
	log := zerolog.New(io.Discard)
	reaper := launcher.NewReaper(log)
	// The reaper outlives supervision, as in main.
	reaping, stopReaping := context.WithCancel(context.Background())
	defer stopReaping()
	go reaper.Run(reaping)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sup := launcher.NewSupervisor(&cfg, spec, reaper, store, log)
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
