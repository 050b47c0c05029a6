// Package health serves what the launcher's supervisor publishes: the
// health and readiness endpoints a Docker HEALTHCHECK and the Supervisor
// use, Prometheus metrics, and the /status document behind
// `launcher status`. It also provides the Sampler (gopsutil for node's
// process figures, the cgroup files for the container's memory) that main
// hands to the supervisor, and the healthcheck and status subcommands.
//
// It only reads: every answer comes from one launcher.Snapshot loaded
// atomically, so a scrape never waits on supervision and supervision never
// waits on a scrape. Readiness, liveness and the memory limit steer
// supervision and live in package launcher.
//
// The exposition (Prometheus' text format, version 0.0.4) is written here,
// a few dozen lines: a library for it would be a formatter whose package
// init runs at every start of the launcher, and of every `launcher
// healthcheck`. github.com/VictoriaMetrics/metrics, used before, read
// /proc and the cgroup files and compiled a regexp at init (0.3 to 0.5 ms
// with runtime/metrics, which it imports); prometheus/client_golang adds
// about 2.6 MB and 1 ms per start.
//
// It speaks HTTP through launcher/http1: GET and HEAD of the four paths,
// HTTP/1.1 connections kept for a scraper's or a watchdog's next request.
//
// Non-goals: pprof, any write endpoint, TLS, authentication (it listens on
// loopback by default; expose it only on purpose).
package health
