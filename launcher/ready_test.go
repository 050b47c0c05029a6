package launcher_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

// Readiness by URL is published at once; what the launcher does once a
// start is over (giving back its pages, the idle GC pace, the first sample)
// waits a quarter second, off the app's first requests. It used to run
// before readiness was published, beside them: the reference backend's
// first answer came 2 to 3 ms later (docs/BENCHMARKS.md, "Tenth pass").
func TestReady_SettlesOffTheAppsFirstRequests(t *testing.T) {
	cfg, spec := genericChild(t, nil, "sleep", "30")
	var answered atomic.Int64 // when the ready URL last answered
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		answered.Store(time.Now().UnixNano())
	}))
	t.Cleanup(srv.Close)
	cfg.ReadyURL = srv.URL
	store := launcher.NewStateStore("test")
	type event struct {
		at    time.Time
		state string
	}
	trims := make(chan event, 1)
	defer launcher.TrimResident(func() {
		select {
		case trims <- event{time.Now(), store.Load().State}:
		default:
		}
	})()
	samples := &recordingSampler{at: make(chan time.Time, 8)}
	stop := supervise(t, cfg, spec, store, func(s *launcher.Supervisor) { s.Sampler = samples })
	defer stop()
	var trim event
	select {
	case trim = <-trims:
	case <-time.After(10 * time.Second):
		t.Fatal("the child never became ready, or the launcher never settled")
	}
	if trim.state != launcher.StateReady {
		t.Errorf("state when the start's pages were given back = %q, want %q: readiness is published first", trim.state, launcher.StateReady)
	}
	// The probe's answer came before readiness; liveness probes only
	// begin once settled, so the last answer is the probe's.
	ready := time.Unix(0, answered.Load())
	if gap := trim.at.Sub(ready); gap < launcher.ReadySettleDelay {
		t.Errorf("the start's pages were given back %v after the ready URL answered; want %v or later", gap, launcher.ReadySettleDelay)
	}
	select {
	case at := <-samples.at:
		if at.Before(trim.at) {
			t.Errorf("first sample %v before the launcher settled", trim.at.Sub(at))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the child was never sampled")
	}
}

// Once settled, the launcher returns its free heap at each sample; not
// before: the start's samples come while node starts and the trim is yet
// to come.
func TestReady_GivesBackTheHeapAtEachSampleOnceSettled(t *testing.T) {
	cfg, spec := genericChild(t, nil, "sleep", "30")
	cfg.ReadyURL = answering(t)
	cfg.SampleInterval = 50 * time.Millisecond // samples before the settle too
	var trimmed atomic.Int64
	defer launcher.TrimResident(func() { trimmed.Store(time.Now().UnixNano()) })()
	givebacks := make(chan time.Time, 64)
	defer launcher.GiveBackHeap(func() {
		select {
		case givebacks <- time.Now():
		default:
		}
	})()
	samples := &recordingSampler{at: make(chan time.Time, 64)}
	stop := supervise(t, cfg, spec, launcher.NewStateStore("test"), func(s *launcher.Supervisor) { s.Sampler = samples })
	defer stop()
	for i := 1; i <= 3; i++ {
		select {
		case at := <-givebacks:
			trim := trimmed.Load()
			if trim == 0 || at.UnixNano() < trim {
				t.Fatalf("give-back %d came before the launcher settled", i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("give-back %d never came", i)
		}
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
	cfg.ReadyURL = answering(t)
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

// Ready at the spawn (no URL, no IPC) says only that node began its start:
// what the launcher does once a start is over (giving back its pages, the
// idle GC pace, the first sample) then waits one sample interval, for it
// would compete with that start. It used to run at the spawn, in the middle
// of node's own start: 7 to 12 ms more of it on the project's machine
// (docs/BENCHMARKS.md, "Seventh pass"). Readiness itself is published at
// once.
func TestReady_AtTheSpawnLeavesTheStartAlone(t *testing.T) {
	cfg, spec := genericChild(t, nil, "sleep", "30")
	cfg.SampleInterval = 400 * time.Millisecond
	store := launcher.NewStateStore("test")
	type event struct {
		at    time.Time
		state string
	}
	trims := make(chan event, 4)
	defer launcher.TrimResident(func() {
		select {
		case trims <- event{time.Now(), store.Load().State}:
		default:
		}
	})()
	samples := &recordingSampler{at: make(chan time.Time, 8)}
	began := time.Now()
	stop := supervise(t, cfg, spec, store, func(s *launcher.Supervisor) { s.Sampler = samples })
	defer stop()
	var trim event
	select {
	case trim = <-trims:
	case <-time.After(10 * time.Second):
		t.Fatal("the start's pages were never given back")
	}
	if took := trim.at.Sub(began); took < cfg.SampleInterval {
		t.Errorf("the start's pages were given back %v after Run began, inside node's start; want one sample interval (%v) or later", took, cfg.SampleInterval)
	}
	if trim.state != launcher.StateReady {
		t.Errorf("state when the pages were given back = %q, want %q (readiness at the spawn is published at once)", trim.state, launcher.StateReady)
	}
	select {
	case at := <-samples.at:
		if took := at.Sub(began); took < cfg.SampleInterval {
			t.Errorf("first sample %v after Run began, inside node's start; want one sample interval (%v) or later", took, cfg.SampleInterval)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the child was never sampled")
	}
	stop()
	if len(trims) > 0 {
		t.Errorf("the start's pages were given back %d more times for one start", len(trims))
	}
}

// A child ready at the spawn that ends inside its sample interval (a crash
// loop of `run -- CMD`) has had its start: the launcher settles then, so
// that a loop of short-lived children idles at its idle size between them.
// Not when a stop ended it: the launcher is on its way out.
func TestReady_AtTheSpawnSettlesWhenTheChildEndsFirst(t *testing.T) {
	for _, c := range []struct {
		name      string
		command   []string
		stop      bool
		wantTrims int
	}{
		{"ended by itself", []string{"sh", "-c", "sleep 0.1; exit 1"}, false, 1},
		{"stopped", []string{"sleep", "30"}, true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, spec := genericChild(t, nil, c.command...)
			cfg.Restart = config.RestartNever
			store := launcher.NewStateStore("test")
			var trims atomic.Int32
			defer launcher.TrimResident(func() { trims.Add(1) })()
			_, reaper := runReaper(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sup := launcher.NewSupervisor(cfg, spec, reaper, store, zerolog.Nop())
			done := make(chan struct{})
			go func() { defer close(done); _, _ = sup.Run(ctx) }()
			if c.stop {
				for deadline := time.Now().Add(10 * time.Second); store.Load().State != launcher.StateReady; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("the child never became ready")
					}
				}
				cancel()
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return")
			}
			if got := int(trims.Load()); got != c.wantTrims {
				t.Errorf("the start's pages were given back %d times, want %d", got, c.wantTrims)
			}
		})
	}
}

// recordingSampler stands in for health's sampler, which this package
// cannot import: it tells when it was asked.
type recordingSampler struct{ at chan time.Time }

func (r *recordingSampler) Process(int) (launcher.ProcessSample, error) {
	select {
	case r.at <- time.Now():
	default:
	}
	return launcher.ProcessSample{RSS: 1 << 20}, nil
}
func (r *recordingSampler) Host() launcher.HostSample { return launcher.HostSample{} }
func (r *recordingSampler) OOMKills() uint64          { return 0 }

// answering is the URL of a server that answers 200 to everything, for a
// child that is ready by URL at once.
func answering(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// supervise runs a Supervisor of spec in the background, its reaper
// outliving it as in main, after setup (if given) had it; stop cancels it
// and waits for Run to return, once however often it is called.
func supervise(t *testing.T, cfg *config.Config, spec launcher.ChildSpec, store *launcher.StateStore, setup ...func(*launcher.Supervisor)) (stop func()) {
	t.Helper()
	_, reaper := runReaper(t)
	ctx, cancel := context.WithCancel(context.Background())
	sup := launcher.NewSupervisor(cfg, spec, reaper, store, zerolog.Nop())
	for _, f := range setup {
		f(sup)
	}
	done := make(chan struct{})
	go func() { defer close(done); _, _ = sup.Run(ctx) }()
	return sync.OnceFunc(func() { cancel(); <-done })
}
