"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.loadConfig = loadConfig;
/** Reads PORT; a value that is not a port is the app's mistake to say. */
function loadConfig(env) {
    const port = Number(env.PORT ?? 8099);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`PORT=${env.PORT}: want a port number`);
    }
    return { port };
}
//# sourceMappingURL=config.js.map