// Package launcher is the supervision core of the add-on's entrypoint: it
// runs one child (node, or `run -- CMD`) under supervision, as PID 1 or as a
// child subreaper, and publishes what it does for the health server.
//
// Supervision means: one Reaper owns every wait for a child, so node's exit
// status is never lost to a reaper race; signals are forwarded to the
// child's process group (never SIGCHLD, SIGURG, SIGPIPE); a stop forwards
// SIGTERM, waits LAUNCHER_STOP_TIMEOUT, then kills the tree; what a child
// leaves behind is swept until nothing is left; failures are restarted with
// a capped exponential backoff and a limit. The Supervisor's loop is an
// explicit state machine (docs/DESIGN.md).
//
// The program (cmd/launcher) builds the configuration (package config), the
// preflight (package preflight) and the health server, and hands them in;
// this package imports neither the program nor package health, which reads
// the Snapshot this package publishes in a StateStore and never waits on it.
//
// Non-goals: running more than one app, log rotation or shipping (the
// Supervisor collects stdout and stderr), and anything a shell would do (no
// shell is ever invoked; LAUNCHER_NODE_ARGS is split by config.SplitArgs).
package launcher
