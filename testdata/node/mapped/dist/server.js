"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
// A server that stops answering: it answers its first STUCK_AFTER requests
// (2 by default), then holds its event loop in the next one for good, as a
// runaway computation does (or at its start, before it listens). The launcher's liveness probes time out, and
// the launcher asks node's inspector where its main thread is.
const node_http_1 = require("node:http");
const config_1 = require("./config");
const answerFor = Number(process.env.STUCK_AFTER ?? 2);
let requests = 0;
/** Folds n into a checksum, without end once n is past the answered ones. */
function checksum(n) {
    let sum = 0;
    for (let i = 0; n > answerFor || i < n; i++) {
        sum = (sum * 31 + i) | 0;
    }
    return sum;
}
function answer(req, res) {
    requests++;
    res.end(`ok ${checksum(requests)}\n`);
}
// With STUCK_AT_START it computes without end before it listens.
if (process.env.STUCK_AT_START)
    checksum(answerFor + 1);
(0, node_http_1.createServer)(answer).listen((0, config_1.loadConfig)(process.env).port, '127.0.0.1', () => {
    console.log(`listening on ${(0, config_1.loadConfig)(process.env).port}`);
});
//# sourceMappingURL=server.js.map