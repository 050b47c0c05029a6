// A TypeScript app compiled by tsc with source maps (dist/*.js.map), for
// the launcher's tests: with PORT that is no port it ends in failure, and
// the stack node prints names dist/*.js; the launcher maps it back here.
import { loadConfig } from './config';

async function main(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  const config = loadConfig(process.env);
  console.log(`would listen on ${config.port}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
