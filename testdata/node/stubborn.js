// Ignores SIGTERM, and leaves a process of its own session (node's
// detached: true) that ignores it too: a backend whose stop never comes,
// and a helper that escaped node's process group. Prints "stubborn" and
// the helper's pid once both run.
'use strict';
process.on('SIGTERM', () => console.log('node ignores SIGTERM'));
const helper = require('child_process').spawn(process.execPath,
  ['-e', "process.on('SIGTERM', () => {}); console.log('helper'); setInterval(() => {}, 1e6)"],
  { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
helper.stdout.once('data', () => {
  helper.stdout.destroy();
  helper.unref();
  console.log('stubborn, helper ' + helper.pid);
});
setInterval(() => {}, 1e6);
