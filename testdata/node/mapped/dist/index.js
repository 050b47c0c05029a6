"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
// A TypeScript app compiled by tsc with source maps (dist/*.js.map), for
// the launcher's tests: with PORT that is no port it ends in failure, and
// the stack node prints names dist/*.js; the launcher maps it back here.
const config_1 = require("./config");
async function main() {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const config = (0, config_1.loadConfig)(process.env);
    console.log(`would listen on ${config.port}`);
}
main().catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
});
//# sourceMappingURL=index.js.map