// The app as ES modules (tsc's nodenext: .mjs files, file:// frames), for
// the launcher's tests: it ends in failure at its top level.
import { boom } from './lib.mjs';

await new Promise((resolve) => setTimeout(resolve, 1));
boom(42);
