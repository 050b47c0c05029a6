// Package bug contains a panic to the work that panicked. The launcher is
// PID 1: when any of its goroutines panics, the process ends, and the
// kernel kills every process of the container with it, node first, with
// no SIGTERM and no chance to close its database. A panic is a bug, the
// launcher's own or a library's it calls (gopsutil's parsers of /proc
// have panicked on files they did not expect: shirou/gopsutil#2070), and a
// bug in what watches or reports on node (sampling, the health server,
// the look at why node failed) must not take node down with it.
//
// Catch turns such a panic into a value its caller logs and steps around;
// around the supervision loop itself, into a stop of node before the
// launcher exits (Supervisor.run). Non-goals: the Reaper, the forwarding
// of signals, the relay of node's stderr and the log's writer, where a
// panic still ends the launcher, as Go ends any program; and the
// runtime's fatal errors (a concurrent map write, running out of memory),
// which no recover catches.
package bug

import (
	"bytes"
	"fmt"
	"runtime/debug"

	"github.com/rs/zerolog"
)

// Panic is a panic caught by Catch: its value and the stack of the
// goroutine where it happened.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) Error() string { return fmt.Sprintf("panic: %v", p.Value) }

// Catch runs f and returns the panic that ended it, nil when f returned.
func Catch(f func()) (caught *Panic) {
	defer func() {
		if v := recover(); v != nil {
			caught = &Panic{Value: v, Stack: fromPanic(debug.Stack())}
		}
	}()
	f()
	return nil
}

// fromPanic is stack, the goroutine's, without the frames of the recovery
// (debug.Stack, Catch's deferred function, the runtime's panic): its
// header, then the frame that panicked and its callers.
func fromPanic(stack []byte) []byte {
	header, rest, _ := bytes.Cut(stack, []byte("\n"))
	if _, after, ok := bytes.Cut(rest, []byte("\npanic(")); ok {
		if _, frames, ok := bytes.Cut(after, []byte("\n")); ok { // the panic's own frame
			if _, frames, ok := bytes.Cut(frames, []byte("\n")); ok { // and its file and line
				return append(append(header, '\n'), frames...)
			}
		}
	}
	return stack
}

// Tell logs p at error, in the words every caught panic is told with: what
// failed, that it is a bug, the panic's value, what the launcher does
// without it (after), and the stack (field "stack") to report it with.
func Tell(log zerolog.Logger, p *Panic, what, after string) {
	log.Error().Str("stack", string(p.Stack)).
		Msgf("%s failed for a bug in the launcher or in a library it uses (%v); %s. Please report it, with the stack below", what, p.Value, after)
}
