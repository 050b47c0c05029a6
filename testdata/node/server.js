// A test backend: serves /api/health on PORT once READY_AFTER_MS have
// passed; answers 503 from UNHEALTHY_AFTER_MS on (liveness tests); with
// SEND_READY, tells its parent over the IPC channel instead of listening.
'use strict';
const http = require('node:http');
const port = Number(process.env.PORT || 8099);
const readyAfter = Number(process.env.READY_AFTER_MS || 0);
const unhealthyAfter = Number(process.env.UNHEALTHY_AFTER_MS || 0);
const started = Date.now();

if (process.env.SEND_READY) {
  setTimeout(() => { if (process.send) process.send('ready'); console.log('sent ready'); }, readyAfter);
  setInterval(() => {}, 1000);
} else {
  const server = http.createServer((req, res) => {
    const sick = unhealthyAfter > 0 && Date.now() - started > unhealthyAfter;
    res.writeHead(sick ? 503 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: sick ? 'sick' : 'ok' }));
  });
  setTimeout(() => server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`)), readyAfter);
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
