// Prints, as JSON, what the node running it has built in: each module a
// specifier can load (by require and import alike), with the node: scheme
// and without, and the names its ES module namespace exports (default
// left out). Run by build.sh in an empty folder, so that no package can
// answer for a module; each argument is one more module name to try
// beyond node's own list.
'use strict';
const Module = require('module');

const candidates = new Set(process.argv.slice(2));
for (const m of Module.builtinModules) candidates.add(m.replace(/^node:/, ''));

// loads reports whether node loads spec as its own: by require and by
// import alike, or collect fails (the preflight judges both by one table).
async function loads(spec) {
  let required = true;
  let imported = true;
  try {
    require(spec);
  } catch (err) {
    required = false;
  }
  try {
    await import(spec);
  } catch (err) {
    imported = false;
  }
  if (required !== imported) {
    process.stderr.write(`${spec}: require ${required ? 'loads' : 'refuses'} it, import ${imported ? 'loads' : 'refuses'} it\n`);
    process.exit(1);
  }
  return required;
}

(async () => {
  const modules = {};
  for (const m of [...candidates].sort()) {
    const prefixed = await loads('node:' + m);
    const bare = await loads(m);
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
