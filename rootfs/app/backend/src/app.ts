import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Config } from './config';
import { DB, databaseAnswers } from './db';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function sendJSON(res: http.ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

// The Supervisor's ingress proxy serves the app under
// /api/hassio_ingress/<token>/, strips that prefix, and names it in
// X-Ingress-Path. Only a path of that shape is trusted into the page.
const ingressPath = /^\/api\/hassio_ingress\/[A-Za-z0-9_-]+$/;

/** The page with a <base> at the ingress path, so that its relative URLs
 * resolve under the proxy even when the page was opened without the
 * trailing slash. */
function withIngressBase(html: Buffer, header: string | string[] | undefined): Buffer | string {
  if (typeof header !== 'string' || !ingressPath.test(header)) return html;
  return html.toString('utf8').replace(/<head>/i, `<head>\n  <base href="${header}/">`);
}

/** The HTTP server: /api/health, and the frontend's files. Every URL the
 * page uses is relative, so it works at / and under the ingress path. */
export function createServer(config: Config, db: DB): http.Server {
  const root = path.resolve(config.frontendDir);
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/api/health') {
      if (databaseAnswers(db)) sendJSON(res, 200, { status: 'ok', database: 'connected' });
      else sendJSON(res, 503, { status: 'error', database: 'disconnected' });
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      sendJSON(res, 404, { error: 'not found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = path.resolve(root, rel);
    if (file !== root && !file.startsWith(root + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const body = path.extname(file) === '.html' ? withIngressBase(data, req.headers['x-ingress-path']) : data;
      res.writeHead(200, { 'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
}
