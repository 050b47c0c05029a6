// The reference backend's own tests, on the compiled dist/ (npm run build
// first): health, migrations, the admin's hash, and a clean, quick stop.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const bcrypt = require('bcrypt');
const { start } = require('../dist/index.js');
const { loadConfig } = require('../dist/config.js');
const { migrate, openDatabase } = require('../dist/db.js');

// Every temporary folder is removed when the tests end.
const made = [];
process.on('exit', () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function tmpdir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hasync-'));
  made.push(dir);
  return dir;
}

function config(dir, extra = {}) {
  return loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_PATH: path.join(dir, 'hasync.db'), FRONTEND_DIR: dir, ...extra });
}

test('/api/health answers 200 while the database answers, 503 after', async () => {
  const app = await start(config(tmpdir()));
  try {
    let res = await fetch(`http://127.0.0.1:${app.port}/api/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', database: 'connected' });
    app.db.close();
    res = await fetch(`http://127.0.0.1:${app.port}/api/health`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'error', database: 'disconnected' });
  } finally {
    await app.close();
  }
});

test('migrations apply once, in order, in one transaction', () => {
  const dir = tmpdir();
  const db = openDatabase(path.join(dir, 'a.db'));
  const migrations = path.join(__dirname, '..', 'db');
  assert.deepEqual(migrate(db, migrations), ['001_init.sql', '002_sync_state.sql']);
  assert.deepEqual(migrate(db, migrations), []);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").pluck().all();
  assert.deepEqual(tables, ['schema_migrations', 'settings', 'sync_checkpoints', 'users']);

  // A broken migration leaves nothing behind: not even the good one before it.
  const bad = tmpdir();
  fs.writeFileSync(path.join(bad, '001_ok.sql'), 'CREATE TABLE ok (x INTEGER);');
  fs.writeFileSync(path.join(bad, '002_broken.sql'), 'CREATE TABLE broken (;');
  const db2 = openDatabase(path.join(dir, 'b.db'));
  assert.throws(() => migrate(db2, bad));
  assert.equal(db2.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'ok'").pluck().get(), 0);
  assert.equal(db2.prepare('SELECT count(*) FROM schema_migrations').pluck().get(), 0);
  db.close();
  db2.close();
});

test('ADMIN_PASSWORD becomes a bcrypt hash, never stored as is', async () => {
  const dir = tmpdir();
  const app = await start(config(dir, { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 's3cret' }));
  try {
    const row = app.db.prepare('SELECT password_hash, is_admin FROM users WHERE username = ?').get('root');
    assert.equal(row.is_admin, 1);
    assert.notEqual(row.password_hash, 's3cret');
    assert.ok(await bcrypt.compare('s3cret', row.password_hash));
  } finally {
    await app.close();
  }
});

test('under ingress, the page gets a <base> at X-Ingress-Path; a forged path is ignored', async () => {
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body><a href="api/health">h</a></body></html>');
  const app = await start(config(dir));
  try {
    const get = (h) => fetch(`http://127.0.0.1:${app.port}/`, { headers: h }).then((r) => r.text());
    assert.match(await get({ 'x-ingress-path': '/api/hassio_ingress/AbC_12-x' }), /<head>\n  <base href="\/api\/hassio_ingress\/AbC_12-x\/">/);
    assert.doesNotMatch(await get({}), /<base/);
    assert.doesNotMatch(await get({ 'x-ingress-path': '/api/hassio_ingress/x"><script>' }), /<base|<script>/);
    assert.doesNotMatch(await get({ 'x-ingress-path': 'https://evil.example/' }), /<base/);
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('serves the frontend, and nothing outside it', async () => {
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'index.html'), '<h1>HAsync</h1>');
  const app = await start(config(dir));
  try {
    let res = await fetch(`http://127.0.0.1:${app.port}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/html/);
    assert.equal(await res.text(), '<h1>HAsync</h1>');
    res = await fetch(`http://127.0.0.1:${app.port}/..%2f..%2fetc%2fpasswd`);
    assert.equal(res.status, 404);
  } finally {
    await app.close();
  }
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal}: stops accepting, closes the database, exits 0 well under a second`, async () => {
    const dir = tmpdir();
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'dist', 'index.js')], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_PATH: path.join(dir, 'hasync.db'), FRONTEND_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('listening on')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
    });
    const sent = Date.now();
    child.kill(signal);
    const [code, sig] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    assert.equal(sig, null);
    assert.equal(code, 0);
    assert.ok(Date.now() - sent < 1000, `took ${Date.now() - sent} ms`);
    // The WAL was checkpointed into the database when it closed.
    assert.equal(fs.existsSync(path.join(dir, 'hasync.db-wal')), false);
  });
}
