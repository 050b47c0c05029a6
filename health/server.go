package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/bug"
	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/http1"
)

// Server is the health server on LAUNCHER_HEALTH_ADDR.
type Server struct {
	log     zerolog.Logger
	store   *launcher.StateStore
	ln      net.Listener
	srv     *http1.Server
	metrics *exposition
}

// Timeouts against slow or idle clients: a scraper or a HEALTHCHECK
// sends its request at once and reads an answer of a few kB; nothing here
// streams. A kept connection waits 5 s for its next request.
const (
	readTimeout  = 2 * time.Second
	idleTimeout  = 5 * time.Second
	writeTimeout = 5 * time.Second
)

// maxConns caps the health server's connections: a scraper, a HEALTHCHECK
// and a person at `launcher status` need a handful; the cap keeps idle or
// hostile clients from taking the descriptors node's restart needs.
const maxConns = 64

// New binds LAUNCHER_HEALTH_ADDR at once, so a taken or bad address stops
// the launcher before node starts (exit 2), and returns the server.
//
// Plain TCP: Go listens with Multipath TCP by default, which first probes
// the kernel (three sockets, two binds, an MPTCP socket, uname) on the way
// to node's fork, 0.15 ms here, for an endpoint that a HEALTHCHECK, a
// scraper and `launcher status` reach over loopback or a bridge, where
// MPTCP's several paths buy nothing.
func New(cfg *config.Config, store *launcher.StateStore, logger zerolog.Logger) (*Server, error) {
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	ln, err := lc.Listen(context.Background(), "tcp", cfg.HealthAddr)
	if err != nil {
		why := err.Error()
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			why = op.Err.Error()
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			why += " (another process listens there: pick another LAUNCHER_HEALTH_ADDR, or off)"
		}
		return nil, &config.Error{Problems: []error{fmt.Errorf("LAUNCHER_HEALTH_ADDR=%q: cannot listen: %s", cfg.HealthAddr, why)}}
	}
	return newServer(ln, store, logger), nil
}

func newServer(ln net.Listener, store *launcher.StateStore, logger zerolog.Logger) *Server {
	s := &Server{
		log:     logger.With().Str("component", "health").Logger(),
		store:   store,
		ln:      ln,
		metrics: newExposition(store),
	}
	s.srv = &http1.Server{
		Routes: map[string]func() http1.Reply{
			"/healthz": s.healthz,
			"/readyz":  s.readyz,
			"/metrics": s.serveMetrics,
			"/status":  s.status,
		},
		ReadTimeout:  readTimeout,
		IdleTimeout:  idleTimeout,
		WriteTimeout: writeTimeout,
		MaxConns:     maxConns,
		Failed: func(path string, p *bug.Panic) {
			bug.Tell(s.log, p, "the health server's answer to "+path, "it answered 500, and serves on")
		},
	}
	return s
}

// Run serves until ctx ends, then closes the listener; answers under way
// finish on their own.
func (s *Server) Run(ctx context.Context) error {
	s.log.Info().Str("addr", s.ln.Addr().String()).Msgf("health server on http://%s (/healthz /readyz /metrics /status)", s.ln.Addr())
	if tcp, ok := s.ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		s.log.Warn().Str("addr", tcp.String()).Msgf("the health server listens on %s, reachable beyond this container: /status and /metrics reveal node's version, "+
			"the app's paths, its state and its last error lines, with no authentication; set LAUNCHER_HEALTH_ADDR to 127.0.0.1:<port> unless that is meant", tcp)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("health server: %w", err)
	case <-ctx.Done():
	}
	s.ln.Close()
	<-errc
	return nil
}

func jsonReply(code int, v any) http1.Reply {
	b, _ := json.Marshal(v)
	return http1.Reply{Code: code, ContentType: "application/json", Body: append(b, '\n')}
}

type probeBody struct {
	Status string `json:"status"`
	State  string `json:"state"`
}

// healthBody is /healthz's: the probe's, and whether node has been ready
// since the launcher started (`launcher healthcheck --started`).
type healthBody struct {
	probeBody
	Started bool `json:"started"`
}

func (s *Server) healthz() http1.Reply {
	snap := s.store.Load()
	if snap.Healthy() {
		return jsonReply(200, healthBody{probeBody{"ok", snap.State}, snap.Started()})
	}
	return jsonReply(503, healthBody{probeBody{"unhealthy", snap.State}, snap.Started()})
}

func (s *Server) readyz() http1.Reply {
	snap := s.store.Load()
	if snap.State == launcher.StateReady {
		return jsonReply(200, probeBody{"ok", snap.State})
	}
	return jsonReply(503, probeBody{"unready", snap.State})
}

func (s *Server) status() http1.Reply {
	return jsonReply(200, StatusOf(s.store))
}

// StatusOf is the /status document: the snapshot with the live counts,
// and where the child listens, looked at now (a few milliseconds, the
// kernel's TCP tables: for the person who asks, never for the probes).
func StatusOf(store *launcher.StateStore) launcher.Snapshot {
	snap := *store.Load()
	snap.Launcher.Reaped = store.Reaped()
	if pid := snap.Child.PID; pid != nil {
		snap.Child.Listening = []string{}
		for _, a := range launcher.Listening(*pid) {
			snap.Child.Listening = append(snap.Child.Listening, a.String())
		}
	}
	return snap
}

func (s *Server) serveMetrics() http1.Reply {
	return http1.Reply{Code: 200, ContentType: "text/plain; version=0.0.4; charset=utf-8", Body: s.metrics.current()}
}
