package launcher

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// logOutputLimit is how many bytes of lines a LogOutput holds for a reader
// that does not read: a pipe's worth (Linux's default pipe holds 64 KiB),
// some hundreds of the launcher's lines.
const logOutputLimit = 64 << 10

// LogOutput carries the launcher's own log lines to its stdout from a
// goroutine of its own, so that no part of the launcher ever waits on the
// log's reader. The container's stdout is a pipe, and a reader that stops
// reading (a logging driver that stalls, a terminal paused with Ctrl-S)
// fills it: a launcher that wrote its lines itself stopped there, between
// node's exit and its restart, or on its way out, for as long as the reader
// did. And node shares that pipe and makes it non-blocking, so a full pipe
// failed the launcher's writes (EAGAIN) and lost the lines.
//
// Lines are held, in order, up to logOutputLimit bytes; once one does not
// fit, it and every line after it are dropped, whole, until the writer
// takes what is held, and a note (Start's) says how many, where they
// would have been: after the lines held, before any line that comes after
// it. Not a log shipper: it keeps nothing on disk and sends nowhere else.
type LogOutput struct {
	out      io.Writer
	wake     chan struct{} // a line was handed over
	progress chan struct{} // the writer wrote, or has nothing left to write

	mu      sync.Mutex
	queue   []byte // whole lines, not yet written
	dropped int    // lines dropped since the last note
	writing bool   // the writer holds lines it has taken from queue
}

// NewLogOutput returns an output for lines to out. It holds what it is
// given until Start.
func NewLogOutput(out io.Writer) *LogOutput {
	return &LogOutput{out: out, wake: make(chan struct{}, 1), progress: make(chan struct{}, 1)}
}

// Start starts writing. dropped tells of lines dropped while the reader did
// not read (their count, and how long the write before them waited), in
// the log's own format, to note: it is called by the writer, and what it
// writes to note goes out in the dropped lines' place.
func (o *LogOutput) Start(dropped func(note io.Writer, lines int, waited time.Duration)) {
	go o.run(dropped)
}

// Write hands p, one line or several whole ones, to the writer, and never
// waits: p is dropped when the output holds too much already (a line alone
// is held whatever its size), or dropped lines wait for their note.
func (o *LogOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	if o.dropped > 0 || len(o.queue) > 0 && len(o.queue)+len(p) > logOutputLimit {
		o.dropped++
	} else {
		o.queue = append(o.queue, p...)
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (o *LogOutput) run(dropped func(io.Writer, int, time.Duration)) {
	var batch []byte
	var note bytes.Buffer
	var waited time.Duration // the last write's: the lines were dropped meanwhile
	for range o.wake {
		for {
			o.mu.Lock()
			batch, o.queue = o.queue, batch[:0]
			lost := o.dropped
			o.dropped = 0
			o.writing = len(batch) > 0
			o.mu.Unlock()
			if lost > 0 && dropped != nil {
				// The lines dropped came after this batch's, and before
				// any handed over since it was taken: the note goes
				// first after the batch.
				note.Reset()
				dropped(&note, lost, waited)
				o.mu.Lock()
				o.queue = slices.Concat(note.Bytes(), o.queue)
				o.mu.Unlock()
			}
			if len(batch) == 0 {
				break
			}
			began := time.Now()
			_ = writeAll(o.out, batch) // nothing to tell of a reader gone: the log is where it would go
			waited = time.Since(began)
			if cap(batch) > logOutputLimit {
				batch = nil // a line larger than the limit once: not kept for good
			}
			o.signal()
		}
		o.signal()
	}
}

func (o *LogOutput) signal() {
	select {
	case o.progress <- struct{}{}:
	default:
	}
}

// Close waits until every line handed over has been written, or until no
// write has ended for patience: the reader does not read, and lines still
// held are lost with the process.
func (o *LogOutput) Close(patience time.Duration) {
	timer := time.NewTimer(patience)
	defer timer.Stop()
	for {
		o.mu.Lock()
		done := len(o.queue) == 0 && !o.writing
		o.mu.Unlock()
		if done {
			return
		}
		select {
		case <-o.progress:
			timer.Reset(patience)
		case <-timer.C:
			return
		}
	}
}

// writeAll writes all of p to w. A file that another process sharing it
// made non-blocking (node does so to the stdout it inherits from the
// launcher, when that is a pipe) fails a write to a full pipe with EAGAIN:
// writeAll then waits until the file takes more, as a blocking write would.
func writeAll(w io.Writer, p []byte) error {
	for len(p) > 0 {
		n, err := w.Write(p)
		p = p[n:]
		if errors.Is(err, syscall.EAGAIN) && waitWritable(w) {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// waitWritable waits until the file w takes a write (or its reader is
// gone), and reports whether it could wait at all. Through SyscallConn, as
// os.File.Fd would make the file blocking for every process that shares it.
func waitWritable(w io.Writer) bool {
	sc, ok := w.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	waited := false
	_ = raw.Control(func(fd uintptr) {
		for {
			_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}, -1)
			if err != unix.EINTR {
				waited = err == nil
				return
			}
		}
	})
	return waited
}
