// Package http1 is the little of HTTP/1.1 the launcher speaks: a client
// that GETs a URL on a connection of its own (the readiness and liveness
// probes, `launcher healthcheck`, `launcher status`), and a server that
// answers GET and HEAD of a few fixed paths (the health server), keeping
// HTTP/1.1 connections for the next request.
//
// It exists for the launcher's start. net/http's server and client made
// up 3.7 MB of the launcher's 8.1 MB, and a static Go binary's start grows
// with its size on a machine where each page fault is dear (the runtime and
// the packages' init touch pages all over it): `launcher version` took
// 1.35 × the time of a binary that merely imports the same packages, and
// 1.10 × without them; the launcher's part of every container start
// shrinks alike. What the launcher asks of HTTP is small: its peers are a
// node app on loopback, a HEALTHCHECK, the Supervisor's watchdog and a
// Prometheus scraper, each a GET with a short answer.
//
// Non-goals: request bodies (a request with one is answered and its
// connection closed), a client's connection reuse (a probe every few
// seconds can afford a fresh one), TLS, HTTP/2, proxies, following
// redirects (a probe takes a 3xx as the answer it is), cookies,
// compression. Requests are parsed strictly and bounded in size
// and time; whatever falls outside is answered 400, 414 or 431 and closed.
package http1
