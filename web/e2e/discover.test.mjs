// End-to-end test of the web UI: it runs the real `sluice serve` binary,
// ingests known records, and drives Debian's Chromium with playwright-core
// through the discover and status pages, checking what the page shows
// against the data. Screenshots of every step go to e2e/artifacts/.
//
//   npm run test:e2e            (builds the binary with `go build`)
//   SLUICE_BIN=../bin/sluice npm run test:e2e
//   CHROMIUM=/path/to/chrome npm run test:e2e

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'sluice-ui-e2e-'));

let server, querier, authServer, browser;
const steps = [];
async function step(name, fn) {
  const t0 = Date.now();
  process.stdout.write(`• ${name} … `);
  await fn();
  const ms = Date.now() - t0;
  steps.push([name, ms]);
  console.log(`ok (${ms} ms)`);
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function waitReady(base, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(base + '/readyz');
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('sluice did not become ready; its output:\n' + serverLog);
}

let serverLog = '';
async function ingest(base, records) {
  const body = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const r = await fetch(base + '/insert/jsonline', { method: 'POST', body });
  assert.equal(r.status, 200, `ingest answered ${r.status}: ${await r.text()}`);
}

// The known data: 90 records over the last ~8 minutes, newest first.
const SERVICES = ['payments', 'auth', 'web'];
const now = Date.now();
const data = Array.from({ length: 90 }, (_, i) => ({
  _time: new Date(now - 20e3 - i * 5e3).toISOString(),
  service: SERVICES[i % 3],
  host: i % 2 ? 'web-2' : 'web-1',
  level: i % 10 === 0 ? 'error' : i % 4 === 0 ? 'warn' : 'info',
  _msg: `request ${i} handled in ${10 + i} ms`,
  user_id: `u-${i % 7}`,
}));
const count = (pred) => data.filter(pred).length;

async function hitsShown(page) {
  const t = await page.locator('[data-testid=hits] b').textContent();
  return Number(t.replace(/,/g, ''));
}
async function settle(page) {
  // A search is done when the progress bar is no longer active.
  await page.waitForFunction(() => !document.querySelector('.progress.active'), null, { timeout: 10e3 });
}
async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, name + '.png') });
}

try {
  let bin = process.env.SLUICE_BIN && resolve(process.env.SLUICE_BIN);
  await step('build or use the sluice binary', async () => {
    if (!bin) {
      bin = join(tmp, 'sluice');
      execFileSync('go', ['build', '-o', bin, './cmd/sluice'], { cwd: repo, stdio: 'inherit' });
    }
  });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  await step('start sluice serve on a free port', async () => {
    // Receivers with their own fixed ports stay off: tests run in parallel.
    const config = join(tmp, 'sluice.yaml');
    writeFileSync(config, 'forward: {enabled: false}\nsyslog: {enabled: false}\notlp: {enabled: false}\n');
    server = spawn(bin, ['serve', '--data-dir', join(tmp, 'data'), '--http-addr', `127.0.0.1:${port}`, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.exited = new Promise((r) => server.on('exit', r));
    server.stdout.on('data', (d) => (serverLog += d));
    server.stderr.on('data', (d) => (serverLog += d));
    await waitReady(base, 15e3);
  });
  await step('ingest known records', () => ingest(base, data));

  await step('root serves the UI to browsers and Elasticsearch info to clients', async () => {
    const html = await fetch(base + '/', { headers: { Accept: 'text/html,application/xhtml+xml' } });
    assert.match(html.headers.get('content-type'), /text\/html/);
    assert.match(await html.text(), /<div id="app">/);
    const es = await fetch(base + '/', { headers: { Accept: 'application/json' } });
    assert.doesNotMatch(es.headers.get('content-type') || '', /text\/html/);
  });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
  const page = await ctx.newPage();
  const consoleErrors = [];
  // The syntax-error step gets 400 answers on purpose; anything else counts.
  page.on('console', (m) => m.type() === 'error' && !/status of 400/.test(m.text()) && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  await step('load the discover page: rows and histogram match the data', async () => {
    await page.goto(base + '/');
    await page.waitForFunction(() => document.querySelector('.histo')?.dataset.total === '90', null, { timeout: 10e3 });
    await settle(page);
    assert.equal(await hitsShown(page), 90);
    assert.equal(await page.locator('tr.row').count(), 90);
    assert.match(await page.locator('tr.row').first().locator('.c-msg').textContent(), /^request 0 handled/);
    // The histogram legend counts per level add up to the data.
    const legend = await page.locator('.histo-legend span').allTextContents();
    const byLevel = Object.fromEntries(legend.map((t) => [t.replace(/[\d,]+$/, ''), Number(t.match(/[\d,]+$/)[0].replace(/,/g, ''))]));
    assert.deepEqual(byLevel, { info: count((r) => r.level === 'info'), warn: count((r) => r.level === 'warn'), error: count((r) => r.level === 'error') });
    assert.ok(await page.locator('.histo canvas').count(), 'histogram canvas');
    await shot(page, '01-discover');
  });

  await step('autocomplete offers field names and values', async () => {
    const q = page.locator('.qb-input');
    await q.click();
    await q.fill('');
    await q.type('serv');
    await page.locator('.qb-suggest li', { hasText: 'service' }).first().waitFor();
    await page.keyboard.press('Tab');
    await page.locator('.qb-suggest li', { hasText: 'payments' }).first().waitFor();
    await shot(page, '02-autocomplete');
    await page.keyboard.press('Escape');
  });

  await step('search level:error', async () => {
    const q = page.locator('.qb-input');
    await q.fill('level:error');
    await q.press('Enter');
    await page.waitForFunction(() => document.querySelector('.histo')?.dataset.total === '9', null, { timeout: 10e3 });
    await settle(page);
    assert.equal(await hitsShown(page), count((r) => r.level === 'error'));
    assert.equal(await page.locator('tr.row').count(), 9);
    for (const t of await page.locator('tr.row .c-level').allTextContents()) assert.equal(t, 'error');
    assert.match(page.url(), /q=level%3Aerror/);
    await shot(page, '03-search-level-error');
  });

  await step('a syntax error is shown at its position', async () => {
    const q = page.locator('.qb-input');
    await q.fill('level:(error OR');
    await q.press('Enter');
    await page.locator('.qb-error').waitFor();
    assert.match(await page.locator('.qb-error').textContent(), /\d+:\d+/);
    assert.equal(await page.locator('.qb-hl .tk-err').count(), 1);
    await shot(page, '04-syntax-error');
  });

  await step('click a field value in the sidebar narrows the result', async () => {
    const q = page.locator('.qb-input');
    await q.fill('*');
    await q.press('Enter');
    await page.waitForFunction(() => document.querySelector('.histo')?.dataset.total === '90', null, { timeout: 10e3 });
    await settle(page);
    await page.locator('.sb-field', { hasText: 'service' }).click();
    await page.locator('.sb-val-main[data-field=service][data-value=payments]').click();
    const want = count((r) => r.service === 'payments');
    await page.waitForFunction((n) => document.querySelector('.histo')?.dataset.total === String(n), want, { timeout: 10e3 });
    await settle(page);
    assert.equal(await hitsShown(page), want);
    assert.equal(await page.locator('tr.row').count(), want);
    assert.equal(await q.inputValue(), 'service:payments');
    await shot(page, '05-filter-by-field-value');
  });

  await step('expand a row; filter out a value from it; add a column', async () => {
    await page.locator('tr.row').first().click();
    await page.locator('.row-detail .fields').waitFor();
    await shot(page, '06-row-expanded');
    await page.locator('.row-detail button[aria-label="Filter out host"]').click();
    const want = count((r) => r.service === 'payments' && r.host !== 'web-1');
    await page.waitForFunction((n) => document.querySelector('.histo')?.dataset.total === String(n), want, { timeout: 10e3 });
    assert.equal(await page.locator('.qb-input').inputValue(), 'service:payments -host:web-1');
    await page.locator('.sb-field', { hasText: 'user_id' }).click();
    await page.locator('.sb-actions button', { hasText: 'Add column' }).click();
    await page.locator('th.c-extra', { hasText: 'user_id' }).waitFor();
    assert.match(page.url(), /cols=user_id/);
  });

  await step('live tail shows a newly ingested line within 2 s', async () => {
    await page.locator('.live-btn').click();
    await page.waitForTimeout(300); // the tail subscription is open
    const t0 = Date.now();
    await ingest(base, [{ service: 'payments', host: 'web-9', level: 'warn', _msg: 'live line from the e2e test', user_id: 'u-live' }]);
    await page.locator('tr.row', { hasText: 'live line from the e2e test' }).waitFor({ timeout: 2000 });
    console.log(`(seen after ${Date.now() - t0} ms) `);
    // A line that does not match the query stays out.
    await ingest(base, [{ service: 'auth', host: 'web-9', level: 'warn', _msg: 'other service line' }]);
    await page.locator('.live-ctl button', { hasText: 'Pause' }).click();
    await ingest(base, [{ service: 'payments', host: 'web-9', level: 'info', _msg: 'queued while paused' }]);
    await page.locator('.live-ctl button', { hasText: '1 new' }).waitFor({ timeout: 2000 });
    assert.equal(await page.locator('tr.row', { hasText: 'queued while paused' }).count(), 0);
    await shot(page, '07-live-tail-paused');
    await page.locator('.live-ctl button', { hasText: 'Resume' }).click();
    await page.locator('tr.row', { hasText: 'queued while paused' }).waitFor({ timeout: 2000 });
    assert.equal(await page.locator('tr.row', { hasText: 'other service line' }).count(), 0);
    await shot(page, '08-live-tail');
    await page.locator('.live-btn').click();
  });

  await step('a shared URL opens the same view', async () => {
    const url = page.url();
    const other = await ctx.newPage();
    await other.goto(url);
    const want = count((r) => r.service === 'payments' && r.host !== 'web-1') + 2; // + live and queued lines
    await other.waitForFunction((n) => document.querySelector('.histo')?.dataset.total === String(n), want, { timeout: 10e3 });
    assert.equal(await other.locator('.qb-input').inputValue(), 'service:payments -host:web-1');
    assert.equal(await other.locator('th.c-extra', { hasText: 'user_id' }).count(), 1);
    await shot(other, '09-shared-url');
    await other.close();
  });

  await step('dragging over the histogram zooms to the span', async () => {
    const box = await page.locator('.histo .u-over').boundingBox();
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(() => /from=\d{4}-/.test(location.search), null, { timeout: 5000 });
    await settle(page);
    const hits = await hitsShown(page);
    assert.ok(hits < 90, `zoomed hits ${hits}`);
    await shot(page, '10-zoomed');
  });

  await step('surrounding lines of a hit', async () => {
    await page.goto(base + '/?q=' + encodeURIComponent('"request 40 handled"'));
    await page.waitForFunction(() => document.querySelector('.histo')?.dataset.total === '1', null, { timeout: 10e3 });
    await page.locator('tr.row').first().click();
    await page.locator('.row-detail button', { hasText: 'Surrounding lines' }).click();
    await page.locator('.ctx-line.hit').waitFor();
    // Request 40 is auth on web-1: that stream holds every 6th request (4, 10, …, 88),
    // and a higher number is older. With 15 a side, the view holds the whole stream,
    // oldest first: the 8 older requests, the hit, then the 6 newer ones.
    const msgs = await page.locator('.ctx-line .ctx-msg').allTextContents();
    const nums = msgs.map((m) => Number(/request (\d+) handled/.exec(m)?.[1]));
    assert.deepEqual(nums, [88, 82, 76, 70, 64, 58, 52, 46, 40, 34, 28, 22, 16, 10, 4], msgs.join('\n'));
    assert.equal(await page.locator('.ctx-line.hit .ctx-msg').textContent(), 'request 40 handled in 50 ms');
    // The endpoint gives exactly N a side: 2 before and 2 after, with the hit at its time.
    const rec = data[40];
    const cr = await fetch(base + '/api/v1/context', {
      method: 'POST',
      body: new URLSearchParams({ _stream: await page.locator('.modal .mono.small').textContent(), _time: rec._time, before: '2', after: '2' }),
    });
    assert.equal(cr.status, 200);
    const around = await cr.json();
    const num = (rs) => rs.map((r) => Number(/request (\d+)/.exec(r._msg)[1]));
    assert.deepEqual([num(around.before), num(around.at), num(around.after)], [[52, 46], [40], [34, 28]]);
    await shot(page, '11-context');
    await page.keyboard.press('Escape');
  });

  await step('dark theme', async () => {
    await page.goto(base + '/?q=*');
    await page.waitForFunction(() => Number(document.querySelector('.histo')?.dataset.total) > 0, null, { timeout: 10e3 });
    await page.locator('button[aria-label="Switch theme"]').click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.locator('tr.row').nth(2).click();
    await shot(page, '12-dark');
  });

  await step('status page shows the receiver and the store', async () => {
    await page.goto(base + '/ui/status');
    await page.locator('.receivers td', { hasText: 'jsonline' }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('.health').getAttribute('data-health'), 'ok');
    // No retention is configured: the card must not claim that anything is deleted.
    const retention = page.locator('.card', { hasText: 'Retention' });
    assert.equal(await retention.locator('.card-value').textContent(), 'Forever');
    assert.equal(await retention.locator('.card-sub').textContent(), 'nothing is deleted by age');
    // No part is damaged; the card says how the parts are checked.
    const integrity = page.locator('.card', { hasText: 'Integrity' });
    assert.equal(await integrity.locator('.card-value').textContent(), 'No damaged parts');
    assert.match(await integrity.locator('.card-sub').textContent(), /checked on open and on every read · \d+ partitions? to merge · index .+ in memory/);
    await shot(page, '13-status-dark');
    await page.locator('button[aria-label="Switch theme"]').click();
    await shot(page, '14-status-light');
  });

  await step('a querier\'s status page lists its indexers', async () => {
    // A querier over this node, which is no store indexer (its status
    // names no Kafka group): the querier lists it as down, with why.
    const qport = await freePort();
    const qbase = `http://127.0.0.1:${qport}`;
    querier = spawn(bin, ['serve', '--role', 'querier', '--indexers', base, '--http-addr', `127.0.0.1:${qport}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    querier.exited = new Promise((r) => querier.on('exit', r));
    querier.stdout.on('data', (d) => (serverLog += d));
    querier.stderr.on('data', (d) => (serverLog += d));
    await waitReady(qbase, 15e3);
    await page.goto(qbase + '/ui/status');
    const row = page.locator('table.indexers tr[data-state=down]');
    await row.waitFor({ timeout: 5000 });
    assert.equal(await page.locator('.health').getAttribute('data-health'), 'down');
    assert.equal(await row.locator('td').first().textContent(), base);
    assert.match(await row.textContent(), /not a store indexer/);
    assert.equal(await page.locator('.card', { hasText: 'Indexers up' }).locator('.card-value').textContent(), '0 of 1');
    await shot(page, '15-status-querier');
  });

  await step('a partial answer shows a banner naming the skipped part', async () => {
    // Records of three days ago in a part of their own, damaged on disk:
    // the search that meets it quarantines it and answers the rest.
    const day = new Date(now - 3 * 86400e3);
    await ingest(base, Array.from({ length: 20 }, (_, i) => ({ _time: new Date(day.getTime() + i * 1e3).toISOString(), service: 'old', _msg: `old line ${i}` })));
    const fl = await fetch(base + '/internal/force_flush', { method: 'POST' });
    assert.equal(fl.status, 200);
    const partition = day.toISOString().slice(0, 10).replaceAll('-', '');
    const dir = join(tmp, 'data', 'store', 'partitions', partition);
    const [file] = readdirSync(dir).filter((f) => f.endsWith('.part'));
    const bytes = readFileSync(join(dir, file));
    bytes[9] ^= 0x40; // inside the first block, after the part's magic
    writeFileSync(join(dir, file), bytes);
    await page.goto(base + '/?q=*&from=now-4d');
    await settle(page);
    const banner = page.locator('[data-testid=partial-banner]');
    await banner.waitFor({ timeout: 10e3 });
    const text = await banner.textContent();
    assert.match(text, /Partial results: 1 part in the time range could not be read/);
    assert.ok(text.includes(`part ${partition}/${file.replace('.part', '')}: quarantined:`), text);
    // The rest of the answer is there.
    assert.ok((await hitsShown(page)) >= 90);
    await shot(page, '16-partial-banner');
  });

  await step('with auth on: sign in with a key, switch tenants, sign out', async () => {
    // A second server with auth.enabled: acme and beta hold records of
    // their own, and a key that reads both.
    const keys = join(tmp, 'keys.json');
    const mk = (name, tenants, roles) =>
      execFileSync(bin, ['keys', 'create', '--keys-file', keys, '--name', name, '--tenant', tenants, '--role', roles]).toString().trim();
    const ship = { acme: mk('ship-acme', 'acme', 'ingest'), beta: mk('ship-beta', 'beta', 'ingest') };
    const reader = mk('ui-reader', 'acme,beta', 'query');
    const aport = await freePort();
    const abase = `http://127.0.0.1:${aport}`;
    const config = join(tmp, 'auth.yaml');
    writeFileSync(config, `auth: {enabled: true, keys_file: ${keys}}\nforward: {enabled: false}\nsyslog: {enabled: false}\notlp: {enabled: false}\n`);
    authServer = spawn(bin, ['serve', '--data-dir', join(tmp, 'auth-data'), '--http-addr', `127.0.0.1:${aport}`, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    authServer.exited = new Promise((r) => authServer.on('exit', r));
    authServer.stdout.on('data', (d) => (serverLog += d));
    authServer.stderr.on('data', (d) => (serverLog += d));
    await waitReady(abase, 15e3);
    for (const [tenant, n] of [['acme', 3], ['beta', 5]]) {
      const body = Array.from({ length: n }, (_, i) => JSON.stringify({ service: tenant + '-svc', _msg: `${tenant} line ${i}` })).join('\n');
      const r = await fetch(abase + '/insert/jsonline', { method: 'POST', body, headers: { Authorization: 'Bearer ' + ship[tenant] } });
      assert.equal(r.status, 200, await r.text());
    }
    const actx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const ap = await actx.newPage();
    ap.on('pageerror', (e) => consoleErrors.push(e.message));
    await ap.goto(abase + '/');
    await ap.locator('input[aria-label="API key"]').waitFor({ timeout: 10e3 });
    await shot(ap, '17-sign-in');
    await ap.fill('input[aria-label="API key"]', 'sluice_wrong');
    await ap.click('button[type=submit]');
    await ap.locator('.login .banner.error').waitFor({ timeout: 5e3 });
    await ap.fill('input[aria-label="API key"]', reader);
    await ap.click('button[type=submit]');
    await ap.locator('[data-testid=signed-in]').waitFor({ timeout: 10e3 });
    assert.match(await ap.locator('[data-testid=signed-in]').textContent(), /signed in as ui-reader/);
    await settle(ap);
    await ap.waitForFunction(() => document.querySelectorAll('tr.row').length === 3, null, { timeout: 10e3 });
    for (const m of await ap.locator('tr.row .c-msg').allTextContents()) assert.match(m, /^acme line/);
    await shot(ap, '18-signed-in-acme');
    await ap.selectOption('select[aria-label="Tenant"]', 'beta');
    await ap.waitForFunction(() => document.querySelectorAll('tr.row').length === 5, null, { timeout: 10e3 });
    for (const m of await ap.locator('tr.row .c-msg').allTextContents()) assert.match(m, /^beta line/);
    await shot(ap, '19-tenant-beta');
    // The key lives in this tab's session storage, not in a cookie.
    assert.equal((await actx.cookies()).length, 0);
    assert.equal(await ap.evaluate(() => sessionStorage.getItem('sluice.key')), reader);
    await ap.click('text=Sign out');
    await ap.locator('input[aria-label="API key"]').waitFor({ timeout: 5e3 });
    assert.equal(await ap.evaluate(() => sessionStorage.getItem('sluice.key')), null);
    await actx.close();
  });

  assert.deepEqual(consoleErrors, [], 'browser console errors');
  console.log(`\nall ${steps.length} steps passed; screenshots in ${artifacts}`);
} catch (e) {
  console.error('\nFAILED:', e);
  if (serverLog) console.error('--- sluice output (tail) ---\n' + serverLog.slice(-3000));
  process.exitCode = 1;
} finally {
  await browser?.close();
  if (querier) {
    querier.kill('SIGTERM');
    await querier.exited;
  }
  if (authServer) {
    authServer.kill('SIGTERM');
    await authServer.exited;
  }
  if (server) {
    server.kill('SIGTERM');
    await server.exited;
  }
  rmSync(tmp, { recursive: true, force: true });
}
