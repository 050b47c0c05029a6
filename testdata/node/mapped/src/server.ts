// A server that stops answering: it answers its first STUCK_AFTER requests
// (2 by default), then holds its event loop in the next one for good, as a
// runaway computation does (or at its start, before it listens). The launcher's liveness probes time out, and
// the launcher asks node's inspector where its main thread is.
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { loadConfig } from './config';

const answerFor = Number(process.env.STUCK_AFTER ?? 2);
let requests = 0;

/** Folds n into a checksum, without end once n is past the answered ones. */
function checksum(n: number): number {
  let sum = 0;
  for (let i = 0; n > answerFor || i < n; i++) {
    sum = (sum * 31 + i) | 0;
  }
  return sum;
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  requests++;
  res.end(`ok ${checksum(requests)}\n`);
}

// With STUCK_AT_START it computes without end before it listens.
if (process.env.STUCK_AT_START) checksum(answerFor + 1);

createServer(answer).listen(loadConfig(process.env).port, '127.0.0.1', () => {
  console.log(`listening on ${loadConfig(process.env).port}`);
});
