package launcher_test

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
)

// The program's Supervisor (MainThread) leaves its signals subscribed when
// Run returns: the process is ending, undoing 49 subscriptions would cost
// 49 round trips to the runtime's signal thread beside the exit, and a
// signal after it would end the process with the runtime's default.
func TestRun_TheProgramsSupervisorStaysSubscribed(t *testing.T) {
	// This test's own subscription keeps the test process alive whatever
	// the Supervisor does.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGUSR2)
	defer signal.Stop(guard)
	cfg, spec := genericChild(t, nil, "true")
	_, reaper := runReaper(t)
	sup := launcher.NewSupervisor(cfg, spec, reaper, launcher.NewStateStore("test"), zerolog.Nop())
	sup.MainThread = true // not on the main thread here: Run runs its loop in place
	if _, err := sup.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Had Run unsubscribed (beside its return), it would be done by the
	// time this test's own Notify and Stop, serialized with it, are.
	settle := make(chan os.Signal, 1)
	signal.Notify(settle, syscall.SIGUSR2)
	signal.Stop(settle)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	<-guard
	select {
	case <-launcher.ForwardedSignals(sup):
	case <-time.After(5 * time.Second):
		t.Fatal("SIGUSR2 after Run returned did not reach the Supervisor's subscription")
	}
}
