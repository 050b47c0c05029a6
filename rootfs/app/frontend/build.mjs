// Builds the static page into dist/: copies src/, stamping the version and
// build time into the HTML and fingerprinting the stylesheet for caching.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
const css = readFileSync('src/style.css');
const cssName = `style.${createHash('sha256').update(css).digest('hex').slice(0, 8)}.css`;
writeFileSync(`dist/${cssName}`, css);
const html = readFileSync('src/index.html', 'utf8')
  .replaceAll('{{version}}', version)
  .replaceAll('{{built}}', new Date().toISOString())
  .replaceAll('style.css', cssName);
writeFileSync('dist/index.html', html);
console.log(`built dist/index.html and dist/${cssName}`);
