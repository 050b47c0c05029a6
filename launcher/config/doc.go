// Package config reads the launcher's configuration: defaults, then the
// add-on's options file (/data/options.json, whose log_level may set the
// level), then LAUNCHER_* variables; it validates the result and reports
// every problem at once as an *Error (the program exits 2 for it). It also
// turns the options into node's environment and looks up LAUNCHER_USER.
//
// Non-goals: reading anything at run time after the start, and talking to
// the Supervisor's API (a plain `docker run` has none; the options file is
// what the Supervisor writes before every start).
package config
