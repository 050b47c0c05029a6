package health

import (
	"net"
	"net/http"
	"sync"
)

// maxConns caps the health server's connections: a scraper, a HEALTHCHECK
// and a person at `launcher status` need a handful; the cap keeps idle or
// hostile clients from taking the descriptors node's restart needs.
const maxConns = 64

// boundedListener holds at most max connections open. When a new one
// arrives at the cap it closes the oldest idle one (keep-alive, or a client
// that connected and never sent a request), so fresh probes are always
// served; only when every connection is busy does Accept wait for one to
// end. The kernel's backlog, not this process, holds the clients waiting.
type boundedListener struct {
	net.Listener
	max int

	mu    sync.Mutex
	open  int
	idle  []net.Conn // oldest first
	freed chan struct{}
}

func newBoundedListener(ln net.Listener, max int) *boundedListener {
	return &boundedListener{Listener: ln, max: max, freed: make(chan struct{}, 1)}
}

func (l *boundedListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		if l.open < l.max {
			l.open++
			l.mu.Unlock()
			break
		}
		var victim net.Conn
		if len(l.idle) > 0 {
			victim, l.idle = l.idle[0], l.idle[1:]
		}
		l.mu.Unlock()
		if victim != nil {
			victim.Close() // its ConnState(StateClosed) frees the slot
		}
		<-l.freed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.release()
		return nil, err
	}
	return c, nil
}

func (l *boundedListener) release() {
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// connState tracks the server's connections: new and idle ones may be
// closed to make room; closed ones free their slot.
func (l *boundedListener) connState(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew, http.StateIdle:
		l.mu.Lock()
		l.idle = append(l.idle, c)
		l.mu.Unlock()
	case http.StateActive:
		l.forget(c)
	case http.StateClosed, http.StateHijacked:
		l.forget(c)
		l.release()
	}
}

func (l *boundedListener) forget(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, x := range l.idle {
		if x == c {
			l.idle = append(l.idle[:i], l.idle[i+1:]...)
			return
		}
	}
}
