// The app's settings, from its environment.
export interface Config {
  port: number;
}

/** Reads PORT; a value that is not a port is the app's mistake to say. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const port = Number(env.PORT ?? 8099);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`PORT=${env.PORT}: want a port number`);
  }
  return { port };
}
