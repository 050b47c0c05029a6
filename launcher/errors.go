package launcher

import (
	"errors"
	"fmt"
	"strings"
)

// Exit codes of the launcher itself; a child's own code passes through.
const (
	ExitOK        = 0
	ExitUsage     = 2 // bad configuration, flag or subcommand
	ExitPreflight = 3 // a preflight check failed
	ExitNotFound  = 127
	ExitNoExec    = 126
)

// ConfigError lists every problem with the configuration at once.
type ConfigError struct {
	Problems []error
}

func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

func (e *ConfigError) Unwrap() []error { return e.Problems }

// UsageError is a bad subcommand or flag.
type UsageError struct {
	Msg string
}

func (e *UsageError) Error() string {
	return e.Msg + " (see 'launcher help')"
}

// ExitError carries the exit code the launcher must end with, and why.
// A nil error means exit 0.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps the error Main.Run returned to the process's exit code.
func ExitCode(err error) int {
	var (
		exit  *ExitError
		spawn *SpawnError
		cfg   *ConfigError
		usage *UsageError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &exit):
		return exit.Code
	case errors.As(err, &spawn):
		return spawn.Code
	case errors.As(err, &cfg), errors.As(err, &usage):
		return ExitUsage
	}
	return 1
}
