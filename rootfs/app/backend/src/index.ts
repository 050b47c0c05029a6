import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Config, loadConfig } from './config';
import { DB, ensureAdmin, migrate, openDatabase } from './db';
import { createServer } from './app';

export interface App {
  server: http.Server;
  db: DB;
  port: number;
  close(): Promise<void>;
}

/** Opens the database, migrates it, ensures the admin, and listens. */
export async function start(config: Config): Promise<App> {
  const db = openDatabase(config.databasePath);
  const applied = migrate(db, config.migrationsDir);
  console.log(`database ${config.databasePath}: ${applied.length ? 'applied ' + applied.join(', ') : 'up to date'}`);
  if (config.adminPassword) {
    await ensureAdmin(db, config.adminUsername, config.adminPassword);
    console.log(`admin user ${config.adminUsername} ready`);
  } else {
    console.warn('ADMIN_PASSWORD is not set: no admin user was created');
  }
  const server = createServer(config, db);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  console.log(`listening on http://${config.host}:${port}`);
  return {
    server,
    db,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        if (db.open) db.close();
      }),
  };
}

async function main(): Promise<void> {
  // Handlers first: a stop may arrive while the database is still opening.
  let app: App | undefined;
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      console.log(`${sig}: closing`);
      (app ? app.close() : Promise.resolve()).then(() => process.exit(0));
    });
  }
  app = await start(loadConfig());
  if (stopping) {
    await app.close();
    process.exit(0);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
