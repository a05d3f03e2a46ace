// End-to-end tests of the dashboard in Debian's headless Chromium against a
// running `overshare demo`. Usage: node e2e/run.mjs <data-dir>/demo.json
// Screenshots of every screen go to ../test-artifacts (or $ARTIFACTS).
import { readFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './browser.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const demoPath = process.argv[2] || process.env.DEMO_JSON;
if (!demoPath) {
  console.error('usage: node e2e/run.mjs <data-dir>/demo.json');
  process.exit(2);
}
const demo = JSON.parse(readFileSync(demoPath, 'utf8'));
const artifacts = process.env.ARTIFACTS || join(here, '..', '..', 'test-artifacts');
mkdirSync(artifacts, { recursive: true });
// Failure pictures of an earlier run would mislead.
for (const f of readdirSync(artifacts)) if (f.startsWith('failure-')) rmSync(join(artifacts, f));
const SYNC_TIMEOUT = Number(process.env.E2E_SYNC_TIMEOUT_MS || 600_000);
const base = demo.url.replace(/\/$/, '');
const iq = `integration=${encodeURIComponent(demo.integrationId)}`;

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// The Shared files count arrives after the first rows (it is its own request):
// waits for it and returns the text, e.g. "1,234 items · shared items".
async function fileCount(page) {
  const el = page.getByTestId('file-count');
  await el.filter({ hasText: /^\d/ }).waitFor({ timeout: 30_000 });
  return el.innerText();
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });
}

async function login(page, who) {
  const u = demo.users[who];
  await page.goto(`${base}/?${iq}`);
  // The SPA sends the browser to the development provider's login form.
  await page.getByLabel('Username').waitFor({ timeout: 30_000 });
  assert(page.url().startsWith(demo.issuer), `login form should be served by the issuer, got ${page.url()}`);
  await page.getByLabel('Username').fill(u.username);
  await page.getByLabel('Password').fill(u.password);
  await page.getByRole('button', { name: /sign in|log in|continue/i }).click();
  await page.getByTestId('user-role').waitFor({ timeout: 30_000 });
  assert(page.url().startsWith(base), `back at the app after login, got ${page.url()}`);
}

// The simulator serves TLS with its own development CA: trusted through
// demo.simulatorCaFile when the demo names it, else (loopback only) unchecked.
function simGet(path, body) {
  const root = demo.simulatorControlUrl.replace(/\/$/, '');
  const url = new URL(root.endsWith('/_sim') ? `${root}${path}` : `${root}/_sim${path}`);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  const tls = demo.simulatorCaFile
    ? { ca: readFileSync(demo.simulatorCaFile) }
    : { rejectUnauthorized: !loopback };
  return new Promise((resolve, reject) => {
    const method = body === undefined ? 'GET' : 'POST';
    const req = request(url, { method, headers: { Authorization: `Bearer ${demo.simulatorSecret}` }, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`simulator ${path} answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function simExport() {
  const text = await simGet('/export');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const state = { fileNames: [] };
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

let browser;
let admin;

test('admin logs in through the development provider', async () => {
  admin = await browser.context.newPage();
  await login(admin, 'admin');
  assert(/admin/i.test(await admin.getByTestId('user-role').innerText()), 'role badge says Admin');
  await admin.getByRole('heading', { name: 'Overview' }).waitFor();
});

test('the first sync reaches done', async () => {
  await admin.goto(`${base}/sync?${iq}`);
  await admin.getByTestId('sync-progress').waitFor({ timeout: 60_000 });
  await shot(admin, 'live-sync-running');
  await admin.getByTestId('sync-status').filter({ hasText: /^Sync (done|failed|cancelled)$/ }).waitFor({ timeout: SYNC_TIMEOUT });
  const status = await admin.getByTestId('sync-status').innerText();
  assert(status === 'Sync done', `sync ended with “${status}”`);
  const bar = await admin.getByTestId('sync-bar').getAttribute('aria-valuenow');
  assert(bar === '100', `progress bar at ${bar}`);
  await shot(admin, 'live-sync-done');
});

test('overview shows counts and charts', async () => {
  await admin.goto(`${base}/?${iq}`);
  await admin.getByText('Shared items by scope').waitFor();
  const shared = await admin.getByTestId('stat-Shared items').innerText();
  assert(Number(shared.replace(/\D/g, '')) > 0, `shared items count is ${shared}`);
  await admin.getByText('Top sharers').waitFor();
  await admin.locator('.recharts-surface').first().waitFor({ timeout: 20_000 });
  await shot(admin, 'overview-admin');
});

test('filter anonymous edit links, reflected in the URL', async () => {
  await admin.goto(`${base}/files?${iq}&scope=ANONYMOUS&link=edit`);
  await admin.getByTestId('file-row').first().waitFor({ timeout: 30_000 });
  const rows = admin.getByTestId('file-row');
  const n = await rows.count();
  assert(n > 0, 'some anonymous edit links exist in the sample tenant');
  for (let i = 0; i < Math.min(n, 15); i++) {
    const text = await rows.nth(i).innerText();
    assert(/anyone/i.test(text), `row ${i} has the Anyone badge: ${text}`);
    assert(/\bedit\b/i.test(text), `row ${i} has an edit link: ${text}`);
  }
  state.fileNames = await admin.getByTestId('file-name').allInnerTexts();
  // Typing a search updates the address so the view can be shared.
  // The address carries the search trimmed, so a prefix ending in a space
  // ("Board review.pptx" -> "Board ") would never match it.
  const term = state.fileNames[0].slice(0, 6).trim();
  await admin.getByLabel('Search names').fill(term);
  await admin.waitForURL((u) => u.searchParams.get('q') === term, { timeout: 10_000 });
  assert(new URL(admin.url()).searchParams.get('scope') === 'ANONYMOUS', 'scope stays in the URL');
  await admin.getByLabel('Search names').fill('');
  await admin.waitForURL((u) => !u.searchParams.has('q'));
  await shot(admin, 'shared-files-anonymous-edit');
});

test('scrolling loads further pages; keyboard opens the details', async () => {
  await admin.goto(`${base}/files?${iq}`);
  await admin.getByTestId('file-row').first().waitFor({ timeout: 30_000 });
  const total = Number((await fileCount(admin)).split(' ')[0].replace(/\D/g, ''));
  const table = admin.getByTestId('file-table');
  if (total > 50) {
    // Keyset paging: the first page is 50 rows; scrolling to the end asks for the next.
    await table.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await admin.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid=file-row]')];
        return rows.some((r) => Number(r.getAttribute('aria-rowindex')) > 50);
      },
      null,
      { timeout: 30_000 },
    );
    // Virtualised: only the visible rows are in the page, whatever was loaded.
    assert((await admin.getByTestId('file-row').count()) < 120, 'only visible rows are rendered');
    await table.evaluate((el) => el.scrollTo(0, 0));
  }
  const name = admin.getByTestId('file-name').first();
  await name.focus();
  await admin.keyboard.press('Enter');
  await admin.getByRole('dialog').getByTestId('permission').first().waitFor({ timeout: 30_000 });
  assert(new URL(admin.url()).searchParams.has('item'), 'the open item is in the URL');
  await admin.keyboard.press('Escape');
  await admin.getByRole('dialog').waitFor({ state: 'detached' });
});

test('CSV export of the current filter has every matching row', async () => {
  await admin.goto(`${base}/files?${iq}&scope=ANONYMOUS&link=edit`);
  await admin.getByTestId('file-row').first().waitFor({ timeout: 30_000 });
  const total = Number((await fileCount(admin)).split(' ')[0].replace(/\D/g, ''));
  const [download] = await Promise.all([
    admin.waitForEvent('download', { timeout: 60_000 }),
    admin.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  const path = await download.path();
  const csv = readFileSync(path, 'utf8').replace(/^\ufeff/, '');
  const lines = csv.split('\r\n').filter(Boolean);
  assert(lines[0].startsWith('Name,Path,Owner,Scope'), `CSV header: ${lines[0]}`);
  // Names may hold commas or quotes but never line breaks in the sample tenant.
  assert(lines.length - 1 === total, `CSV has ${lines.length - 1} rows, the table says ${total}`);
  assert(lines.slice(1).every((l) => l.includes('Anyone with the link')), 'every CSV row is an anyone link');
});

test('stop sharing one item: gone from the table, in the audit log and in Microsoft 365', async () => {
  // The sample tenant has a OneDrive locked read-only (stop sharing on it is refused, in words);
  // this test and the next change sharing on whatever item comes first, so that lock is lifted.
  for (const d of (await simExport()).filter((r) => r.type === 'drive' && r.lock === 'readOnly')) {
    await simGet('/drives/lock', { driveId: d.id, lock: 'none' });
  }
  await admin.goto(`${base}/files?${iq}&scope=ANONYMOUS&link=edit`);
  const row = admin.getByTestId('file-row').first();
  await row.waitFor({ timeout: 30_000 });
  const itemId = await row.getAttribute('data-item-id');
  const name = (await row.getByTestId('file-name').innerText());
  const countBefore = await fileCount(admin);
  await row.getByTestId('file-name').click();
  const drawer = admin.getByRole('dialog');
  await drawer.getByTestId('permission').first().waitFor();
  // The drawer slides in: take the picture once it stands still.
  await admin.waitForFunction(() => {
    const d = document.querySelector('[role="dialog"]');
    return d !== null && d.getAnimations({ subtree: true }).every((a) => a.playState !== 'running');
  });
  await shot(admin, 'shared-files-detail');
  const own = drawer.locator('[data-testid=permission][data-inherited=no]:not([data-link-type=""])');
  const anonEdit = drawer.locator('[data-testid=permission][data-inherited=no][data-scope=ANONYMOUS][data-link-type=edit]');
  const graphIds = await own.evaluateAll((els) => els.map((e) => e.getAttribute('data-graph-id')));
  const before = await simExport();
  const inSim = (id) => before.some((r) => r.type === 'permission' && r.id === id);
  assert(graphIds.length > 0 && graphIds.every(inSim), `the item's permissions ${graphIds} are in the simulator before`);

  let removed;
  if ((await anonEdit.count()) === 1 && graphIds.length === 1) {
    removed = graphIds;
    await anonEdit.getByRole('button', { name: 'Stop sharing' }).click();
  } else {
    // Several shares: stop them all so the item surely leaves this filter.
    removed = graphIds;
    await drawer.getByRole('button', { name: 'Stop all sharing on this item' }).click();
  }
  const confirm = admin.getByRole('dialog').filter({ hasText: 'will no longer be able to open it' });
  await confirm.waitFor();
  assert((await confirm.innerText()).includes(name), 'the confirmation names the item');
  await shot(admin, 'stop-sharing-confirm');
  await confirm.getByRole('button', { name: /^Stop (sharing|\d+ shares)$/ }).click();
  await admin.getByText('Sharing stopped').waitFor({ timeout: 30_000 });
  await admin.keyboard.press('Escape');

  // The table reloads with the same filter and the item is no longer in it.
  await admin.waitForFunction(
    ([id, before]) => {
      const count = document.querySelector('[data-testid=file-count]')?.textContent ?? '';
      return !document.querySelector(`[data-item-id="${id}"]`) && /^\d/.test(count) && count !== before;
    },
    [itemId, countBefore],
    { timeout: 30_000 },
  );

  const after = await simExport();
  for (const id of removed) {
    // Only from this item: SharePoint's copies keep the id on the folder and on other items.
    assert(!after.some((r) => r.type === 'permission' && r.itemId === itemId && r.id === id), `permission ${id} is gone from the item in the simulator`);
  }

  await admin.goto(`${base}/audit?${iq}`);
  await admin.getByTestId('audit-row').first().waitFor({ timeout: 30_000 });
  const auditText = await admin.getByTestId('audit-table').innerText();
  assert(auditText.includes(name), `the audit log names “${name}”`);
  assert(/removed/i.test(auditText), 'the audit log shows the result');
  await shot(admin, 'audit-log');
});

test('stopping a grant SharePoint copied from the folder ends with "confirmed removed"', async () => {
  // When an item is first shared, SharePoint copies its folder's grants onto it with the same
  // ids: find such a copy in the simulator's export, on an item with a unique name.
  const rows = await simExport();
  const nameCount = new Map();
  const items = new Map();
  for (const r of rows) {
    if (r.type !== 'item') continue;
    nameCount.set(r.name, (nameCount.get(r.name) ?? 0) + 1);
    items.set(r.id, r);
  }
  const own = new Map();
  for (const r of rows) if (r.type === 'permission') own.set(r.itemId, [...(own.get(r.itemId) ?? []), r]);
  // A OneDrive the app cannot read is not synced: its items are not in the dashboard.
  const closed = new Set(rows.filter((r) => r.type === 'drive' && (r.lock === 'noAccess' || r.lock === 'accessDenied')).map((r) => r.id));
  let item;
  let perm;
  for (const [itemId, ps] of own) {
    const it = items.get(itemId);
    if (!it || it.root || nameCount.get(it.name) !== 1 || closed.has(it.driveId)) continue;
    const parentIds = new Set((own.get(it.parentId) ?? []).map((p) => p.id));
    const copy = ps.find((p) => !p.link && p.grantedToUser && ['read', 'write'].includes(p.roles[0]) && parentIds.has(p.id));
    if (copy && !items.get(it.parentId)?.root) {
      item = it;
      perm = copy;
      break;
    }
  }
  assert(item && perm, 'the sample tenant has a grant copied from a folder onto an item');
  await admin.goto(`${base}/files?${iq}&q=${encodeURIComponent(item.name)}`);
  const row = admin.getByTestId('file-row').filter({ has: admin.getByTestId('file-name').getByText(item.name, { exact: true }) });
  await row.waitFor({ timeout: 30_000 });
  await row.getByTestId('file-name').click();
  const drawer = admin.getByRole('dialog');
  const card = drawer.locator(`[data-testid=permission][data-graph-id="${perm.id}"]`);
  await card.waitFor({ timeout: 30_000 });
  assert((await card.getAttribute('data-inherited')) === 'no', 'the copy is the item\'s own permission');
  await card.getByRole('button', { name: 'Stop sharing' }).click();
  const confirm = admin.getByRole('dialog').filter({ hasText: 'will lose' });
  await confirm.waitFor();
  await confirm.getByRole('button', { name: 'Stop sharing' }).click();
  const result = drawer.getByTestId('stop-result');
  await result.waitFor({ timeout: 30_000 });
  const text = await result.innerText();
  assert(/Confirmed removed/.test(text), `the drawer says the removal was confirmed: ${text}`);
  await shot(admin, 'stop-sharing-confirmed');
  const after = await simExport();
  assert(!after.some((r) => r.type === 'permission' && r.itemId === item.id && r.id === perm.id), 'the copy is gone from the item');
  assert(after.some((r) => r.type === 'permission' && r.itemId === item.parentId && r.id === perm.id), 'the folder keeps its grant');
  await admin.keyboard.press('Escape');
});

test('set an expiry date on an anonymous link', async () => {
  await admin.goto(`${base}/files?${iq}&scope=ANONYMOUS&expiry=no`);
  const row = admin.getByTestId('file-row').first();
  await row.waitFor({ timeout: 30_000 });
  // SharePoint copies a folder's link onto items that get sharing of their own, id and all:
  // the simulator's row is the one of this item. (Global ids are base64url "Type:integration:id".)
  const itemGraphId = Buffer.from(await row.getAttribute('data-item-id'), 'base64url').toString().split(':').slice(2).join(':');
  const simRow = (rows, id) => rows.find((r) => r.type === 'permission' && r.id === id && r.itemId === itemGraphId);
  await row.getByTestId('file-name').click();
  const drawer = admin.getByRole('dialog');
  const perm = drawer.locator('[data-testid=permission][data-inherited=no][data-scope=ANONYMOUS]').first();
  await perm.waitFor({ timeout: 30_000 });
  const graphId = await perm.getAttribute('data-graph-id');
  await perm.getByRole('button', { name: 'Set expiry' }).click();
  // Within the sample tenant's policy: Anyone links must expire within 30 days.
  const day = new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10);
  const dialog = admin.getByRole('dialog').filter({ hasText: 'Set an expiry date' });
  await dialog.getByLabel('Expires on').fill(day);
  await dialog.getByRole('button', { name: 'Set expiry' }).click();
  await admin.getByText('Expiry set', { exact: true }).waitFor({ timeout: 30_000 });
  const updated = drawer.locator(`[data-graph-id="${graphId}"]`);
  await updated.filter({ hasNotText: 'Expires: never' }).waitFor({ timeout: 30_000 });
  const after = await updated.innerText();
  assert(/Expires: /.test(after) && !/expired/i.test(after), `a link expiring in 20 days is not called expired: ${after}`);
  let sim = simRow(await simExport(), graphId);
  assert(sim && sim.expirationDateTime && sim.expirationDateTime.startsWith(day.slice(0, 7)), `simulator expiry ${sim?.expirationDateTime}`);

  // Beyond the policy Microsoft 365 shortens the date without refusing it: the dashboard says so.
  await updated.getByRole('button', { name: 'Set expiry' }).click();
  await dialog.getByLabel('Expires on').fill(new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10));
  await dialog.getByRole('button', { name: 'Set expiry' }).click();
  const note = admin.getByText(/^Microsoft 365 limited the expiry to .* \(the tenant's maximum for Anyone links\)/);
  await note.waitFor({ timeout: 30_000 });
  sim = simRow(await simExport(), graphId);
  const applied = Date.parse(sim?.expirationDateTime ?? '');
  assert(applied <= Date.now() + 30 * 86_400_000 + 60_000, `the simulator kept ${sim?.expirationDateTime}, beyond its 30 days`);
  await shot(admin, 'expiry-limited');
  await admin.keyboard.press('Escape');
});

// Items of the simulator's export whose own links have all expired, one of them anonymous, with
// a name no other item has: Microsoft 365 keeps listing an expired link until someone removes it.
function itemsWithOnlyExpiredLinks(rows, now) {
  const nameCount = new Map();
  for (const r of rows) if (r.type === 'item') nameCount.set(r.name, (nameCount.get(r.name) ?? 0) + 1);
  const links = new Map();
  for (const r of rows) {
    if (r.type !== 'permission' || !r.link) continue;
    links.set(r.itemId, [...(links.get(r.itemId) ?? []), r]);
  }
  return rows
    .filter((r) => {
      const ls = r.type === 'item' && nameCount.get(r.name) === 1 ? links.get(r.id) : undefined;
      return ls && ls.some((l) => l.link.scope === 'anonymous') && ls.every((l) => l.expirationDateTime && Date.parse(l.expirationDateTime) <= now);
    })
    .map((item) => ({ item, links: links.get(item.id) }));
}

// The first of the candidates the expired filter finds (a drive may not be synced), with its row.
async function findExpiredRow(candidates) {
  for (const c of candidates.slice(0, 5)) {
    await admin.goto(`${base}/files?${iq}&expired=yes&q=${encodeURIComponent(c.item.name)}`);
    const count = await fileCount(admin);
    if (count.startsWith('1 item')) {
      const row = admin.getByTestId('file-row').filter({ has: admin.getByTestId('file-name').getByText(c.item.name, { exact: true }) });
      await row.waitFor({ timeout: 30_000 });
      return { ...c, row };
    }
  }
  throw new Error(`none of ${candidates.length} items whose links all expired is in the expired filter`);
}

test('expired links read as expired, not as a date to come', async () => {
  // The sample tenant's expiries lie around the moment it was generated: some passed.
  const candidates = itemsWithOnlyExpiredLinks(await simExport(), Date.now());
  assert(candidates.length > 0, 'the sample tenant has an item whose links have all expired');
  const { item, links, row } = await findExpiredRow(candidates);
  state.expiredItem = item;
  const rowText = await row.innerText();
  assert(/Expired \d/.test(rowText), `the row of ${item.name} says its links expired: ${rowText}`);
  await row.getByTestId('file-name').click();
  const drawer = admin.getByRole('dialog');
  const own = drawer.locator('[data-testid=permission][data-inherited=no]:not([data-link-type=""])');
  await own.first().waitFor({ timeout: 30_000 });
  const n = await own.count();
  assert(n === links.length, `the drawer lists the item's ${links.length} links, got ${n}`);
  for (let i = 0; i < n; i++) {
    const text = await own.nth(i).innerText();
    // "Expired: <when>" and the badge; OneDrive for Business reports no password either way.
    assert(/Expired: /.test(text) && (text.match(/expired/gi) ?? []).length >= 2, `an expired link says so: ${text}`);
    assert(/Password: not reported/.test(text), `a business link's password is not reported, not "no": ${text}`);
  }
  await shot(admin, 'expired-link-detail');
  await admin.keyboard.press('Escape');
});

test('expired links are not counted as live', async () => {
  const item = state.expiredItem;
  assert(item, 'an item whose links all expired was found before');
  // Not in the Anyone filter: its only anonymous link gives no access any more.
  await admin.goto(`${base}/files?${iq}&scope=ANONYMOUS&q=${encodeURIComponent(item.name)}`);
  const anyone = await fileCount(admin);
  assert(anyone.startsWith('0 items'), `the Anyone filter counts ${item.name}, whose links all expired: ${anyone}`);
  // The Overview counts the same live sharing as the filters, and the expired links apart.
  await admin.goto(`${base}/files?${iq}&scope=ANONYMOUS`);
  const anyoneTotal = Number((await fileCount(admin)).split(' ')[0].replace(/\D/g, ''));
  await admin.goto(`${base}/files?${iq}&expired=yes`);
  const expiredTotal = Number((await fileCount(admin)).split(' ')[0].replace(/\D/g, ''));
  assert(expiredTotal >= 1, `the expired filter finds ${expiredTotal} items`);
  await admin.goto(`${base}/?${iq}`);
  await admin.getByText('Shared items by scope').waitFor();
  const stat = Number((await admin.getByTestId('stat-Anyone links').innerText()).replace(/\D/g, ''));
  assert(stat === anyoneTotal, `the Overview counts ${stat} items with Anyone links, the live Anyone filter ${anyoneTotal}`);
  const card = admin.getByRole('link', { name: /^Expired links: / });
  const hint = (await card.innerText()).match(/on ([\d,]+) items/);
  assert(hint && Number(hint[1].replace(/\D/g, '')) === expiredTotal, `the Overview's expired links are on ${hint?.[1]} items, the filter finds ${expiredTotal}`);
  await card.click();
  await admin.waitForURL((u) => u.pathname === '/files' && u.searchParams.get('expired') === 'yes');
  await shot(admin, 'shared-files-expired');
});

test('connecting with a wrong secret shows the reason and adds nothing', async () => {
  await admin.goto(`${base}/integrations?${iq}`);
  const card = admin.getByTestId('integration').first();
  await card.waitFor({ timeout: 30_000 });
  const before = await admin.getByTestId('integration').count();
  const codes = await card.locator('code').allInnerTexts();
  await admin.getByLabel('Name').fill('Wrong secret');
  await admin.getByLabel('Directory (tenant) ID').fill(codes[0]);
  await admin.getByLabel('Application (client) ID').fill(codes[1]);
  await admin.getByLabel('Client secret value').fill('definitely-not-the-secret');
  await admin.getByRole('button', { name: 'Check and connect' }).click();
  const err = admin.getByTestId('connect-error');
  await err.waitFor({ timeout: 60_000 });
  assert((await err.innerText()).length > 40, 'the error says why');
  await shot(admin, 'integrations-wrong-secret');
  await admin.reload();
  await admin.getByTestId('integration').first().waitFor();
  assert((await admin.getByTestId('integration').count()) === before, 'no integration was added');
});

test('bulk stop sharing shows a dry run that changes nothing', async () => {
  await admin.goto(`${base}/files?${iq}&scope=ANONYMOUS`);
  await admin.getByTestId('file-row').first().waitFor({ timeout: 30_000 });
  const countBefore = await fileCount(admin);
  const exportBefore = (await simExport()).filter((r) => r.type === 'permission').length;
  await admin.getByRole('button', { name: 'Stop sharing for all…' }).click();
  const summary = admin.getByTestId('bulk-preview-summary');
  await summary.waitFor({ timeout: 60_000 });
  const text = await summary.innerText();
  assert(/would remove \d[\d,]* permissions? on \d[\d,]* items?/.test(text), `preview says what would go: ${text}`);
  assert(/Nothing has changed yet/.test(text), 'preview says nothing changed');
  await shot(admin, 'bulk-dry-run');
  await admin.getByRole('button', { name: 'Cancel' }).click();
  await admin.reload();
  await admin.getByTestId('file-row').first().waitFor({ timeout: 30_000 });
  assert((await fileCount(admin)) === countBefore, 'the count is unchanged');
  const exportAfter = (await simExport()).filter((r) => r.type === 'permission').length;
  assert(exportAfter === exportBefore, `simulator permissions unchanged (${exportBefore} → ${exportAfter})`);
});

test('drives are listed by their owner\'s name', async () => {
  await admin.goto(`${base}/drives?${iq}`);
  const owners = admin.getByTestId('drive-owner');
  await owners.first().waitFor({ timeout: 30_000 });
  const names = (await owners.allInnerTexts()).map((n) => n.trim().toLowerCase());
  assert(names.length > 10 && new Set(names).size > 10, `the sample tenant's drives are listed: ${names.length}`);
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  assert(names.join('|') === sorted.join('|'), `drives in owner-name order: ${names.join(', ')}`);
});

test('a locked OneDrive is flagged on the Drives page and the integration', async () => {
  const ex = await simExport();
  const closed = ex.filter((r) => r.type === 'drive' && (r.lock === 'noAccess' || r.lock === 'accessDenied'));
  assert(closed.length > 0, 'the sample tenant has a OneDrive the app cannot read');
  const owners = new Set(closed.map((d) => ex.find((r) => r.type === 'user' && r.id === d.ownerUserId)?.displayName));
  await admin.goto(`${base}/drives?${iq}`);
  const warnings = admin.getByTestId('drive-access-warning');
  await warnings.first().waitFor({ timeout: 30_000 });
  assert((await warnings.count()) === closed.length, `${await warnings.count()} drives flagged, the simulator has ${closed.length} closed`);
  // The first flagged row (a tenant may have several closed drives).
  const row = admin.getByRole('row').filter({ has: admin.getByTestId('drive-access-warning') }).first();
  const owner = (await row.getByTestId('drive-owner').innerText()).trim();
  assert(owners.has(owner), `the flagged drive belongs to ${owner}, one of ${[...owners].join(', ')}`);
  const text = await warnings.first().innerText();
  assert(/(Locked|No access): not synced/.test(text) && /SharePoint/.test(text), `the warning says why: ${text}`);
  await warnings.first().scrollIntoViewIfNeeded();
  await shot(admin, 'drives-locked');
  await admin.goto(`${base}/integrations?${iq}`);
  const alert = admin.getByTestId('inaccessible-drives');
  await alert.waitFor({ timeout: 30_000 });
  assert(/could not be read/.test(await alert.innerText()), 'the integration says OneDrives were not synced');
});

test('the integration is watched, and rotates to a certificate', async () => {
  await admin.goto(`${base}/integrations?${iq}`);
  const card = admin.getByTestId('integration').first();
  await card.waitFor({ timeout: 30_000 });
  // The demo receives the simulator's change notifications (upkeep after the first sync).
  await admin.getByTestId('watch-mode').filter({ hasText: 'notified by Microsoft Graph' }).first().waitFor({ timeout: 60_000 });
  assert(demo.simulatorCertificateFile, 'demo.json names the app certificate');
  await card.getByRole('button', { name: 'Rotate credential' }).click();
  const dialog = admin.getByRole('dialog');
  await dialog.getByText('Certificate', { exact: true }).click();
  await dialog.getByLabel('Certificate and private key (PEM)').fill(readFileSync(demo.simulatorCertificateFile, 'utf8'));
  await dialog.getByRole('button', { name: 'Check and save' }).click();
  await admin.getByText(/New certificate saved \(thumbprint [0-9A-F]{40}/).waitFor({ timeout: 60_000 });
  await card.getByText(/certificate [0-9A-F]{40}, expires/).waitFor({ timeout: 30_000 });
  await shot(admin, 'integrations-certificate');
});

test('a link created in Microsoft 365 appears live in the feed and the item\'s timeline', async () => {
  // An item the first sync stored, from the Shared files page, and its drive in the simulator.
  await admin.goto(`${base}/files?${iq}&scope=USERS`);
  const row = admin.getByTestId('file-row').first();
  await row.waitFor({ timeout: 30_000 });
  const itemId = await row.getAttribute('data-item-id');
  const itemGraphId = Buffer.from(itemId, 'base64url').toString().split(':').slice(2).join(':');
  const simItem = (await simExport()).find((r) => r.type === 'item' && r.id === itemGraphId);
  assert(simItem, `the simulator has item ${itemGraphId}`);

  // The Overview's feed and the item's drawer stay open, never reloaded, in pages of their own.
  const feedPage = await browser.context.newPage();
  await feedPage.goto(`${base}/?${iq}`);
  await feedPage.getByTestId('sharing-feed').waitFor({ timeout: 30_000 });
  const drawerPage = await browser.context.newPage();
  await drawerPage.goto(`${base}/files?${iq}&item=${encodeURIComponent(itemId)}`);
  const timeline = drawerPage.getByRole('dialog').getByTestId('item-history');
  await timeline.getByTestId('item-exposure').waitFor({ timeout: 30_000 });
  const addedBefore = await timeline.locator('[data-testid=history-event][data-kind=ADDED]').count();
  // Both pages subscribe as they render: give the websockets a moment to register.
  await feedPage.waitForTimeout(1000);

  const res = JSON.parse(await simGet('/changes', { ops: [{ op: 'share', driveId: simItem.driveId, itemId: itemGraphId, scope: 'anonymous', linkType: 'view' }] }));
  assert(!res.results[0].error, `the simulator shared the item: ${res.results[0].error}`);
  // No sync is asked for: the demo is watched, so the simulator's change notification
  // brings the link in.

  const fed = feedPage.locator(`[data-testid=feed-event][data-kind=ADDED][data-item="${itemGraphId}"]`);
  await fed.first().waitFor({ timeout: 120_000 });
  assert(/anyone with the link/.test(await fed.first().innerText()), `the feed says who the link reaches: ${await fed.first().innerText()}`);
  await fed.first().scrollIntoViewIfNeeded();
  await shot(feedPage, 'overview-live-feed');
  await feedPage.getByText('Exposed items, last 30 days').scrollIntoViewIfNeeded();
  await feedPage.locator('.recharts-surface').last().waitFor({ timeout: 20_000 });
  await shot(feedPage, 'overview-exposure-trend');
  const added = timeline.locator('[data-testid=history-event][data-kind=ADDED]');
  await added.nth(addedBefore).waitFor({ timeout: 60_000 });
  assert(/Shared with anyone with the link/.test(await added.first().innerText()), 'the timeline shows the new link first');
  assert(/Shared beyond the organisation since/.test(await timeline.getByTestId('item-exposure').innerText()), 'the item reads as exposed');
  await added.first().scrollIntoViewIfNeeded();
  await shot(drawerPage, 'item-timeline');
  await feedPage.close();
  await drawerPage.close();
});

test('screenshots of the other screens at 1280 and 768 px', async () => {
  for (const [path, name, ready] of [
    // The counts arrive after the card (their own query).
    ['/integrations', 'integrations', () => admin.getByTestId('integration').filter({ hasText: /Users \d/ }).first()],
    ['/users', 'users', () => admin.getByRole('table').first()],
    ['/drives', 'drives', () => admin.getByRole('table').first()],
    ['/files', 'shared-files', () => admin.getByTestId('file-row').first()],
  ]) {
    await admin.goto(`${base}${path}?${iq}`);
    await ready().waitFor({ timeout: 30_000 });
    await shot(admin, name);
  }
  await admin.setViewportSize({ width: 768, height: 1024 });
  await admin.goto(`${base}/files?${iq}`);
  await admin.getByTestId('file-row').first().waitFor({ timeout: 30_000 });
  await fileCount(admin);
  await shot(admin, 'shared-files-768');
  await admin.getByRole('button', { name: 'Open navigation' }).click();
  await admin.getByRole('link', { name: 'Audit log' }).waitFor();
  await admin.waitForTimeout(400); // let the slide-in finish before the picture
  await shot(admin, 'navigation-768');
  await admin.getByRole('link', { name: 'Audit log' }).click();
  await admin.getByRole('heading', { name: 'Audit log' }).waitFor();
  await admin.setViewportSize({ width: 1280, height: 800 });
});

test('viewer sees counts only and no file names', async () => {
  const viewerBrowser = await launch();
  try {
    const page = await viewerBrowser.context.newPage();
    await login(page, 'viewer');
    assert(/viewer/i.test(await page.getByTestId('user-role').innerText()), 'role badge says Viewer');
    await page.getByText('File details need the admin role').waitFor();
    await page.getByTestId('stat-Shared items').waitFor({ timeout: 30_000 });
    const body = await page.locator('body').innerText();
    const leaked = state.fileNames.filter((n) => n.length > 3 && body.includes(n));
    assert(leaked.length === 0, `file names visible to a viewer: ${leaked.join(', ')}`);
    const nav = await page.getByRole('navigation', { name: 'Main' }).innerText();
    assert(!/Shared files|Audit log/.test(nav), `viewer navigation lists admin screens: ${nav}`);
    await shot(page, 'overview-viewer');
    await page.goto(`${base}/files?${iq}`);
    await page.getByText('File details need the admin role').waitFor();
    assert((await page.getByTestId('file-row').count()) === 0, 'no file rows for a viewer');
    await shot(page, 'files-viewer');
  } finally {
    await viewerBrowser.close();
  }
});

test('signing out ends the session', async () => {
  await admin.goto(`${base}/?${iq}`);
  await admin.getByRole('button', { name: 'Sign out' }).click();
  // Back through the provider's logout to the app, which asks for a login again.
  await admin.getByLabel('Username').waitFor({ timeout: 30_000 });
  await admin.goto(`${base}/files?${iq}`);
  await admin.getByLabel('Username').waitFor({ timeout: 30_000 });
  assert((await admin.getByTestId('file-row').count()) === 0, 'no file rows after sign-out');
});

browser = await launch();
let passed = 0;
let failed = 0;
let stop = false;
for (const t of tests) {
  if (stop) {
    console.log(`skip ${t.name} (an earlier step failed)`);
    failed++;
    continue;
  }
  try {
    await t.fn();
    passed++;
    console.log(`ok   ${t.name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name}: ${e.message.split('\n')[0]}`);
    if (admin) await shot(admin, `failure-${passed + failed}`).catch(() => {});
    // Login and the first sync are prerequisites of everything after them.
    if (t === tests[0] || t === tests[1]) stop = true;
  }
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
