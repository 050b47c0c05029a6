// A test backend: serves /api/health on PORT once READY_AFTER_MS have
// passed; answers 503 from UNHEALTHY_AFTER_MS on (liveness tests); with
// SEND_READY, tells its parent over the IPC channel instead of listening.
// LOG_REQUESTS prints "request N" for each request; STOP_AFTER_MS makes a
// stop close the server at once and exit that much later. With
// LISTEN_ON_SIGUSR2 it listens when it gets SIGUSR2, not after a time: a
// test holds it unready as long as it needs. HOST is the address it
// listens on (127.0.0.1); with ROUTE, other paths answer 404. With
// SILENT_AFTER=N it answers N requests, then leaves the later ones
// unanswered, its event loop free. Before anything, BUSY_START_MS keeps
// its main thread on a CPU until it has used that much CPU time (not
// wall time: a CPU other programs share gives it less), and
// READ_AT_START=FILE reads FILE
// 4 KiB at a time, at scattered offsets (a start held on the disk, once a
// test has put FILE out of the page cache).
'use strict';
const http = require('node:http');
const fs = require('node:fs');
for (const busy = 1000 * Number(process.env.BUSY_START_MS || 0); process.cpuUsage().user < busy;);
if (process.env.READ_AT_START) {
  const fd = fs.openSync(process.env.READ_AT_START, 'r');
  const pages = Math.floor(fs.fstatSync(fd).size / 4096);
  const page = Buffer.alloc(4096);
  // A stride prime to the page count visits every page once, out of order.
  for (let i = 0, p = 0; i < pages; i++, p = (p + 7919) % pages) fs.readSync(fd, page, 0, 4096, p * 4096);
  fs.closeSync(fd);
}
const port = Number(process.env.PORT || 8099);
const readyAfter = Number(process.env.READY_AFTER_MS || 0);
const unhealthyAfter = Number(process.env.UNHEALTHY_AFTER_MS || 0);
const started = Date.now();
const stopAfter = Number(process.env.STOP_AFTER_MS || 0);
const host = process.env.HOST || '127.0.0.1';
const route = process.env.ROUTE || '';
let server = null;
let requests = 0;
const silentAfter = Number(process.env.SILENT_AFTER || 0);
let answered = 0;

if (process.env.SEND_READY) {
  setTimeout(() => { if (process.send) process.send('ready'); console.log('sent ready'); }, readyAfter);
  setInterval(() => {}, 1000);
} else {
  server = http.createServer((req, res) => {
    if (process.env.LOG_REQUESTS) console.log(`request ${++requests}`);
    if (silentAfter && ++answered > silentAfter) return;
    if (route && req.url !== route) {
      res.writeHead(404);
      return res.end();
    }
    const sick = unhealthyAfter > 0 && Date.now() - started > unhealthyAfter;
    res.writeHead(sick ? 503 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: sick ? 'sick' : 'ok' }));
  });
  const listen = () => server.listen(port, host, () => console.log(`listening on ${port}`));
  if (process.env.LISTEN_ON_SIGUSR2) {
    const wait = setInterval(() => {}, 1000); // a signal handler alone keeps node from nothing
    process.once('SIGUSR2', () => { clearInterval(wait); listen(); });
  }
  else setTimeout(listen, readyAfter);
}
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    if (!stopAfter) process.exit(0);
    if (server) server.close();
    setTimeout(() => process.exit(0), stopAfter);
  });
}
