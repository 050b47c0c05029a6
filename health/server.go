package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

// Server is the health server on LAUNCHER_HEALTH_ADDR.
type Server struct {
	log     zerolog.Logger
	store   *launcher.StateStore
	ln      net.Listener
	srv     *http.Server
	metrics *exposition
}

// Timeouts against slow or idle clients: a scraper or a HEALTHCHECK
// answers within a second; nothing here streams.
const (
	readHeaderTimeout = 2 * time.Second
	readTimeout       = 5 * time.Second
	writeTimeout      = 5 * time.Second
	idleTimeout       = 5 * time.Second
	maxHeaderBytes    = 8 << 10
	shutdownTimeout   = time.Second
)

// New binds LAUNCHER_HEALTH_ADDR at once, so a taken or bad address stops
// the launcher before node starts (exit 2), and returns the server.
func New(cfg *config.Config, store *launcher.StateStore, logger zerolog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", cfg.HealthAddr)
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
	bounded := newBoundedListener(ln, maxConns)
	s := &Server{
		log:     logger.With().Str("component", "health").Logger(),
		store:   store,
		ln:      bounded,
		metrics: newExposition(store),
	}
	s.srv = &http.Server{
		ConnState:         bounded.connState,
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	return s
}

// Handler routes the four endpoints; "GET /x" patterns also answer HEAD,
// and the mux answers other methods 405 with Allow, unknown paths 404.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	mux.HandleFunc("GET /status", s.status)
	return mux
}

// Run serves until ctx ends, then shuts down.
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
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("health server: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type probeBody struct {
	Status string `json:"status"`
	State  string `json:"state"`
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	snap := s.store.Load()
	if snap.Healthy() {
		writeJSON(w, http.StatusOK, probeBody{"ok", snap.State})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, probeBody{"unhealthy", snap.State})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	snap := s.store.Load()
	if snap.State == launcher.StateReady {
		writeJSON(w, http.StatusOK, probeBody{"ok", snap.State})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, probeBody{"unready", snap.State})
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, StatusOf(s.store))
}

// StatusOf is the /status document: the snapshot with the live counts.
func StatusOf(store *launcher.StateStore) launcher.Snapshot {
	snap := *store.Load()
	snap.Launcher.Reaped = store.Reaped()
	return snap
}

func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w)
}
