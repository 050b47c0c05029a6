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
// The exposition is written by github.com/VictoriaMetrics/metrics rather
// than by hand or by prometheus/client_golang: measured here it adds about
// 0.4 MB to the binary and nothing to start-up, where client_golang adds
// about 2.6 MB and 1 ms per start; its Set groups each family under one
// HELP and TYPE, which the snapshot-driven values need.
//
// Non-goals: pprof, any write endpoint, TLS, authentication (it listens on
// loopback by default; expose it only on purpose).
package health
