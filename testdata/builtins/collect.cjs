// Prints, as JSON, what the node running it has built in: each module a
// specifier can load, with the node: scheme and without, and the names
// its ES module namespace exports (default left out). Run by build.sh in
// an empty folder, so that no package can answer for a module; each
// argument is one more module name to try beyond node's own list.
'use strict';
const Module = require('module');

const candidates = new Set(process.argv.slice(2));
for (const m of Module.builtinModules) candidates.add(m.replace(/^node:/, ''));

function loads(spec) {
  try {
    require(spec);
    return true;
  } catch (err) {
    return false;
  }
}

(async () => {
  const modules = {};
  for (const m of [...candidates].sort()) {
    const prefixed = loads('node:' + m);
    const bare = loads(m);
    if (!prefixed && !bare) continue;
    const ns = await import(prefixed ? 'node:' + m : m);
    modules[m] = {
      bare,
      prefixed,
      names: Object.keys(ns).filter((k) => k !== 'default').sort(),
    };
  }
  process.stdout.write(JSON.stringify({ version: process.version.slice(1), modules }) + '\n');
})();
