package launcher

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/http1"
	"golang.org/x/sys/unix"
)

// Readiness probing: fast at first, since a node backend is usually up
// within a few hundred milliseconds, then backing off to spare it.
const (
	readyFirstDelay = 10 * time.Millisecond
	readyMaxDelay   = 250 * time.Millisecond
	probeTimeout    = 2 * time.Second
)

// ReadyProbe asks the backend whether it is ready, and later whether it is
// alive: a GET of LAUNCHER_READY_URL that must answer 2xx. Each probe is a
// connection of its own, closed after the answer: an idle connection held
// by the launcher would make a backend that stops with server.close() wait
// out its keepAliveTimeout (5 s in node) before exiting. A 3xx is an
// answer, not something to follow: the Supervisor's watchdog counts it a
// failure too.
type ReadyProbe struct {
	URL    string
	shown  string      // the URL without its secrets, for every message
	target probeTarget // where it knocks, for the diagnoses of a start not ready
}

// NewReadyProbe probes url, which config.Load has validated.
func NewReadyProbe(url string) *ReadyProbe {
	return &ReadyProbe{URL: url, shown: config.Redact(url), target: targetOf(url)}
}

// probeBodyBytes is as much of an answer's body as a probe reads before
// closing the connection.
const probeBodyBytes = 64 << 10

// Probe makes one request, bounded by timeout. Its error is a
// *probeFailure.
func (p *ReadyProbe) Probe(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := http1.Get(ctx, p.URL, probeBodyBytes)
	if err != nil {
		return &probeFailure{url: p.shown, err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &probeFailure{url: p.shown, code: resp.StatusCode, status: resp.Status}
	}
	return nil
}

// probeFailure is how a probe failed: the app's answer when it gave one,
// else the error of a probe that got none.
type probeFailure struct {
	url    string // the URL as shown
	code   int    // the answer's status code, 0 without an answer
	status string // "404 Not Found"
	err    error  // without an answer, why
}

func (f *probeFailure) Error() string {
	if f.err != nil {
		return fmt.Sprintf("GET %s: %v", f.url, f.err)
	}
	return fmt.Sprintf("%s answered %s", f.url, f.status)
}

func (f *probeFailure) Unwrap() error { return f.err }

// WaitReady probes until the backend answers 2xx or ctx ends; failed is
// told each probe's failure.
func (p *ReadyProbe) WaitReady(ctx context.Context, failed func(*probeFailure)) error {
	delay := readyFirstDelay
	for {
		err := p.Probe(ctx, min(probeTimeout, time.Second))
		if err == nil {
			return nil
		}
		if f, ok := err.(*probeFailure); ok && ctx.Err() == nil {
			failed(f)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, readyMaxDelay)
	}
}

// ipcChannel is a Node IPC channel: node finds it through NODE_CHANNEL_FD
// and speaks newline-delimited JSON on it, so `process.send('ready')`
// arrives as the line "ready" (what pm2's wait_ready expects).
type ipcChannel struct {
	parent, child *os.File
}

// childFD is where the child finds the channel: ExtraFiles[0].
const childFD = 3

func newIPCChannel() (*ipcChannel, error) {
	parent, child, err := socketPair("ipc")
	if err != nil {
		return nil, err
	}
	return &ipcChannel{parent: parent, child: child}, nil
}

// socketPair makes a connected pair of Unix stream sockets: the launcher's
// end non-blocking, so the runtime's poller serves it and a deadline or
// Close interrupts a read in progress; the child's end blocking, as a
// child's inherited descriptor is expected to be.
func socketPair(what string) (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s socketpair: %w", what, err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("%s socketpair: %w", what, err)
	}
	return os.NewFile(uintptr(fds[0]), what), os.NewFile(uintptr(fds[1]), what+"-child"), nil
}

// env is what tells node about the channel.
func (ch *ipcChannel) env() []string {
	return []string{fmt.Sprintf("NODE_CHANNEL_FD=%d", childFD), "NODE_CHANNEL_SERIALIZATION_MODE=json"}
}

// serve owns the channel for the child's life: it reads the child's
// messages, calls ready at the first "ready" (or {"status": "ready"}),
// goes on reading so that the child's later sends never block on a full
// socket, and closes the channel when the child closes it or ctx ends. It
// is the channel's only reader and only closer.
func (ch *ipcChannel) serve(ctx context.Context, ready func()) {
	defer ch.parent.Close()
	// A deadline, not a Close from another goroutine, ends a read in
	// progress: the closing stays here.
	stop := context.AfterFunc(ctx, func() { _ = ch.parent.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	sc := bufio.NewScanner(ch.parent)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		if ready == nil {
			continue
		}
		var msg any
		if json.Unmarshal(sc.Bytes(), &msg) != nil {
			continue
		}
		isReady := false
		switch m := msg.(type) {
		case string:
			isReady = m == "ready"
		case map[string]any:
			isReady = m["status"] == "ready" || m["type"] == "ready"
		}
		if isReady {
			ready()
			ready = nil
		}
	}
	// A line over the buffer ends the scan: drain the rest unread.
	_, _ = io.Copy(io.Discard, ch.parent)
}
