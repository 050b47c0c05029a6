// A stand-in backend for `make demo` until the reference backend replaces
// it: an HTTP server with the add-on's health route, clean on SIGTERM/SIGINT.
'use strict';
const http = require('node:http');

const port = Number(process.env.PORT || 8099);
const server = http.createServer((req, res) => {
  if (req.url === '/api/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('demo backend supervised by launcher\n');
});

server.listen(port, '127.0.0.1', () => {
  console.log(`demo backend listening on http://127.0.0.1:${port}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`demo backend: ${sig}, closing`);
    server.close(() => process.exit(0));
  });
}
