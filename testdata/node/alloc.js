// Allocates and keeps memory, ALLOC_MB megabytes per 50 ms, up to
// ALLOC_MAX_MB (unbounded when 0): a backend with a leak.
'use strict';
const step = Number(process.env.ALLOC_MB || 16);
const maxMB = Number(process.env.ALLOC_MAX_MB || 0);
const kept = [];
console.log('allocating');
const timer = setInterval(() => {
  if (maxMB && kept.length * step >= maxMB) return;
  kept.push(Buffer.alloc(step * 1024 * 1024, 1));
}, 50);
process.on('SIGTERM', () => { clearInterval(timer); process.exit(0); });
