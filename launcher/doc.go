// Package launcher is the entrypoint of a Home Assistant add-on whose app is a
// compiled Node.js backend: it reads the configuration (defaults, then
// /data/options.json, then LAUNCHER_* variables), checks before start that the
// entry script and the native modules will load, and runs `node index.js`
// under supervision, as PID 1 or as a child subreaper.
//
// Supervision means: one Reaper owns every wait for a child, so node's exit
// status is never lost to a reaper race; signals are forwarded to the child's
// process group (never SIGCHLD, SIGURG, SIGPIPE); a stop forwards SIGTERM,
// waits LAUNCHER_STOP_TIMEOUT, then kills the group and every descendant left;
// failures are restarted with a capped exponential backoff and a limit.
//
// The observable interface (subcommands, variables, exit codes, log format)
// is ../shared/CONTRACT.md. The health server and metrics live in package
// health, which reads the snapshot this package publishes; this package never
// imports it, and never waits on it.
//
// Non-goals: running more than one app, log rotation or shipping (the
// Supervisor collects stdout and stderr), and anything a shell would do
// (no shell is ever invoked; LAUNCHER_NODE_ARGS is split by SplitArgs).
package launcher
