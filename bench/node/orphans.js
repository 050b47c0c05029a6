// Benchmark app: orphans 1,000 short-lived processes (each started by a
// subshell that exits at once), between an "orphaning" and an "orphaned"
// line (the latter with the monotonic clock), then stays up; the
// entrypoint must reap them.
'use strict';
const { spawnSync } = require('node:child_process');
const n = Number(process.env.ORPHANS || 1000);
process.stdout.write('orphaning\n');
spawnSync('/bin/sh', ['-c', `i=0; while [ $i -lt ${n} ]; do (/bin/true &); i=$((i+1)); done`], { stdio: 'ignore' });
process.stdout.write(`orphaned ${process.hrtime.bigint()}\n`);
setInterval(() => {}, 1000);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
