// Allocates and keeps memory, ALLOC_MB megabytes per 50 ms, up to
// ALLOC_MAX_MB (unbounded when 0): a backend with a leak. With
// ALLOC_ON_SIGUSR2=1 it waits for SIGUSR2 before it begins.
'use strict';
const step = Number(process.env.ALLOC_MB || 16);
const maxMB = Number(process.env.ALLOC_MAX_MB || 0);
const kept = [];
let timer;
const begin = () => {
  console.log('allocating');
  timer = setInterval(() => {
    if (maxMB && kept.length * step >= maxMB) return;
    kept.push(Buffer.alloc(step * 1024 * 1024, 1));
  }, 50);
};
if (process.env.ALLOC_ON_SIGUSR2) {
  console.log('waiting for SIGUSR2');
  process.on('SIGUSR2', begin);
  setInterval(() => {}, 1000);
} else {
  begin();
}
process.on('SIGTERM', () => { clearInterval(timer); process.exit(0); });
