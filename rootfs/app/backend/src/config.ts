import fs from 'node:fs';
import path from 'node:path';

/** The backend's settings, from the environment the launcher gives it
 * (the add-on's options become variables: admin_password → ADMIN_PASSWORD). */
export interface Config {
  port: number;
  host: string;
  databasePath: string;
  migrationsDir: string;
  frontendDir: string;
  adminUsername: string;
  adminPassword: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 8099);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT=${env.PORT}: want a port number`);
  }
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    databasePath: env.DATABASE_PATH || '/data/hasync.db',
    // db/ sits next to index.js in the image, next to dist/ in the source tree.
    migrationsDir: env.MIGRATIONS_DIR || firstExisting([path.join(__dirname, 'db'), path.join(__dirname, '..', 'db')]),
    frontendDir: env.FRONTEND_DIR || '/app/frontend/dist',
    adminUsername: env.ADMIN_USERNAME || 'admin',
    adminPassword: env.ADMIN_PASSWORD || undefined,
  };
}

function firstExisting(dirs: string[]): string {
  return dirs.find((d) => fs.existsSync(d)) ?? dirs[0];
}
