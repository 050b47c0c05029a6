import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import bcrypt from 'bcrypt';

export type DB = Database.Database;

/** Opens the database, creating its folder, with WAL for concurrent reads. */
export function openDatabase(file: string): DB {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/** Applies the pending NNN_name.sql files of dir, in order, in one
 * transaction: all of them or none. Returns the names applied. */
export function migrate(db: DB, dir: string): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const done = new Set(db.prepare('SELECT name FROM schema_migrations').pluck().all() as string[]);
  const pending = fs.readdirSync(dir).filter((f) => /^\d+_.+\.sql$/.test(f)).sort().filter((f) => !done.has(f));
  const apply = db.transaction((files: string[]) => {
    for (const f of files) {
      db.exec(fs.readFileSync(path.join(dir, f), 'utf8'));
      db.prepare("INSERT INTO schema_migrations (name, applied_at) VALUES (?, datetime('now'))").run(f);
    }
  });
  apply(pending);
  return pending;
}

/** Creates or updates the admin user with a bcrypt hash of password. */
export async function ensureAdmin(db: DB, username: string, password: string): Promise<void> {
  const hash = await bcrypt.hash(password, 10);
  db.prepare(
    'INSERT INTO users (username, password_hash, is_admin) VALUES (?, ?, 1) ' +
      'ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, is_admin = 1',
  ).run(username, hash);
}

/** Whether the database answers a query. */
export function databaseAnswers(db: DB): boolean {
  try {
    return db.open && db.prepare('SELECT 1 AS ok').get() !== undefined;
  } catch {
    return false;
  }
}
