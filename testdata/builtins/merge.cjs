// Merges collect.cjs's answers, one file per node release, into the
// table launcher/builtins reads (written to stdout). Its form:
//
//   versions 18.0.0 18.1.0 …            every release recorded, in order
//   fs node:18.0.0- bare:18.0.0-        a module: the releases it loads in
//   	readFile                          with the node: scheme, and without;
//   	glob 22.0.0-22.23.5,23.0.0-       then each name its namespace
//                                        exports, with its releases when
//                                        they are not all the module's
//
// A span list is a,b-c,d-: single releases and runs of consecutive ones
// in the recorded order, "d-" up to the last recorded; "-" is none.
// process's and constants' names are left out: they vary with the
// platform and with how node was started (an IPC channel adds send).
'use strict';
const fs = require('fs');

const parse = (v) => v.split('.').map(Number);
const cmp = (a, b) => {
  const x = parse(a), y = parse(b);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
};

// A node that calls itself a prerelease (npm's 26.8.0 says
// v26.8.0-alpha.0.0.0) is no release: left out.
const runs = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')))
  .filter((r) => /^\d+\.\d+\.\d+$/.test(r.version));
runs.sort((a, b) => cmp(a.version, b.version));
const versions = runs.map((r) => r.version);
const last = versions.length - 1;

// spans turns the set of release indexes present into the span list.
function spans(present) {
  const out = [];
  for (let i = 0; i <= last; i++) {
    if (!present.has(i)) continue;
    let j = i;
    while (j < last && present.has(j + 1)) j++;
    if (j === last) out.push(versions[i] + '-');
    else if (j === i) out.push(versions[i]);
    else out.push(versions[i] + '-' + versions[j]);
    i = j;
  }
  return out.length ? out.join(',') : '-';
}

const modules = new Map(); // id -> {prefixed:Set, bare:Set, names:Map<name,Set>}
runs.forEach((r, i) => {
  for (const [id, m] of Object.entries(r.modules)) {
    if (!modules.has(id)) modules.set(id, { prefixed: new Set(), bare: new Set(), names: new Map() });
    const e = modules.get(id);
    if (m.prefixed) e.prefixed.add(i);
    if (m.bare) e.bare.add(i);
    if (id === 'process' || id === 'constants') continue;
    for (const n of m.names) {
      if (!e.names.has(n)) e.names.set(n, new Set());
      e.names.get(n).add(i);
    }
  }
});

const lines = [
  '# Node\'s built-in modules, and the names their ES module namespaces export, in every',
  '# release of Node 18 and later on npm. Written by testdata/builtins/build.sh: do not edit.',
  'versions ' + versions.join(' '),
];
for (const id of [...modules.keys()].sort()) {
  const e = modules.get(id);
  lines.push(`${id} node:${spans(e.prefixed)} bare:${spans(e.bare)}`);
  const all = spans(new Set([...e.prefixed, ...e.bare]));
  for (const n of [...e.names.keys()].sort()) {
    const s = spans(e.names.get(n));
    lines.push(s === all ? '\t' + n : '\t' + n + ' ' + s);
  }
}
process.stdout.write(lines.join('\n') + '\n');
