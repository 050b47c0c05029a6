// Benchmark app: /api/health for readiness; on SIGUSR1 prints the
// monotonic clock (CLOCK_MONOTONIC, as the harness reads it) so the
// forwarding latency can be measured; on SIGTERM/SIGINT exits 0.
'use strict';
const http = require('node:http');
http.createServer((req, res) => { res.writeHead(200); res.end('{"status":"ok"}'); })
  .listen(Number(process.env.PORT || 8099), '127.0.0.1');
process.on('SIGUSR1', () => { process.stdout.write(`usr1 ${process.hrtime.bigint()}\n`); });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
