// Prints the gzip size of the JavaScript a first visit loads: the entry script
// in dist/index.html and every chunk it preloads (lazy routes and charts are
// not counted; they load when opened). Exits 1 above the budget.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const budgetKB = Number(process.env.BUDGET_KB || 350);
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const initial = new Set(
  [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/?([^"]+\.js)"/g)].map((m) => m[1]),
);
const gz = (p) => gzipSync(readFileSync(join(dist, p)), { level: 9 }).length;
let initialBytes = 0;
for (const f of initial) initialBytes += gz(f);
let allBytes = 0;
const assets = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'));
for (const f of assets) allBytes += gz(join('assets', f));
const kb = (b) => (b / 1024).toFixed(1);
console.log(`initial JS: ${kb(initialBytes)} KB gzip in ${initial.size} file(s) (budget ${budgetKB} KB)`);
console.log(`all JS:     ${kb(allBytes)} KB gzip in ${assets.length} files (routes and charts load on demand)`);
if (initialBytes / 1024 > budgetKB) {
  console.log('initial JS is over budget');
  process.exit(1);
}
