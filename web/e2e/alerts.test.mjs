// End-to-end test of the alerts page (/ui/alerts): the real `sluice serve`
// with a rule and a flow, records that fire both, and Debian's Chromium
// through playwright-core checking what the page shows, creating a silence
// with the page's form and expiring it. Screenshots go to e2e/artifacts/.
//
//   SLUICE_BIN=../bin/sluice node e2e/alerts.test.mjs

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
const tmp = mkdtempSync(join(tmpdir(), 'sluice-ui-alerts-'));

let server, browser, serverLog = '';

async function step(name, fn) {
  const t0 = Date.now();
  process.stdout.write(`• ${name} … `);
  await fn();
  console.log(`ok (${Date.now() - t0} ms)`);
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

try {
  let bin = process.env.SLUICE_BIN && resolve(process.env.SLUICE_BIN);
  if (!bin) {
    bin = join(tmp, 'sluice');
    execFileSync('go', ['build', '-o', bin, './cmd/sluice'], { cwd: repo, stdio: 'inherit' });
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  await step('start sluice serve with a rule and a flow', async () => {
    const config = join(tmp, 'sluice.yaml');
    writeFileSync(
      config,
      `forward: {enabled: false}
syslog: {enabled: false}
otlp: {enabled: false}
alerts:
  rules:
    - {name: errors, query: 'level:error | stats count() as n by service', every: 1s, window: 5m, condition: 'n > 2'}
  flows:
    - {name: order-paid, start: 'event:order_created', end: 'event:order_paid', key: order_id, within: 1s}
    - {name: signup, start: 'event:signup_started', end: 'event:signup_done', key: user, within: 1h}
`,
    );
    server = spawn(bin, ['serve', '--data-dir', join(tmp, 'data'), '--http-addr', `127.0.0.1:${port}`, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout.on('data', (d) => (serverLog += d));
    server.stderr.on('data', (d) => (serverLog += d));
    for (let end = Date.now() + 15e3; ; ) {
      try {
        if ((await fetch(base + '/readyz')).ok) break;
      } catch {}
      if (Date.now() > end) throw new Error('sluice did not become ready:\n' + serverLog);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  await step('ingest 3 errors of payments, 1 of auth, 3 orders of which 2 are paid (1 late), 3 signups of which 1 is done', async () => {
    const now = Date.now();
    const t = new Date(now).toISOString();
    const at = (ms) => new Date(now + ms).toISOString();
    const recs = [
      ...[1, 2, 3].map((i) => ({ _time: t, service: 'payments', level: 'error', _msg: `declined ${i}` })),
      { _time: t, service: 'auth', level: 'error', _msg: 'denied' },
      { _time: t, event: 'order_created', order_id: 'o-1' },
      { _time: t, event: 'order_created', order_id: 'o-2' },
      { _time: at(250), event: 'order_paid', order_id: 'o-1' },
      // o-3 paid 5 s after its creation: late, but both arrive together and
      // the end first, so that no sweep between them can fire it.
      { _time: t, event: 'order_paid', order_id: 'o-3' },
      { _time: at(-5000), event: 'order_created', order_id: 'o-3' },
      { _time: at(-3000), event: 'signup_started', user: 'u-1' },
      { _time: at(-2000), event: 'signup_started', user: 'u-2' },
      { _time: at(-1000), event: 'signup_started', user: 'u-3' },
      { _time: t, event: 'signup_done', user: 'u-2' },
    ];
    const r = await fetch(base + '/insert/jsonline', { method: 'POST', body: recs.map((x) => JSON.stringify(x)).join('\n') });
    assert.equal(r.status, 200);
  });

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await step('the alerts page shows the rule alert of payments and the flow alert of o-2 only', async () => {
    // The page reads the alerts every 5 s: open it once both fired.
    for (let end = Date.now() + 20e3; (await (await fetch(base + '/api/v1/alerts')).json()).alerts.filter((a) => a.state === 'firing').length < 2; ) {
      if (Date.now() > end) throw new Error('the rule and the flow did not fire');
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.goto(base + '/ui/alerts');
    await page.locator('nav a.on', { hasText: 'Alerts' }).waitFor();
    const rows = page.locator('[data-testid=alerts] tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=alerts] tbody tr.state-firing').length === 2, null, { timeout: 20e3 });
    const texts = (await rows.allTextContents()).sort();
    assert.equal(texts.length, 2, texts.join('\n'));
    assert.match(texts[0], /^firingerrors.*service=payments/);
    assert.match(texts[1], /^firingorder-paid.*order_id=o-2/);
    assert.match(await page.locator('[data-testid=flows] tbody tr').first().textContent(), /order-paid/);
    await page.screenshot({ path: join(artifacts, 'alerts-01-firing.png'), fullPage: true });
  });

  await step('a silence made with the form mutes the flow alert; expiring it unmutes it', async () => {
    await page.getByLabel('Matcher').fill('order_id=o-2');
    await page.getByLabel('Comment').fill('known');
    await page.getByRole('button', { name: 'Silence' }).click();
    await page.locator('[data-testid=silences] tr', { hasText: 'order_id=o-2' }).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=alerts] tbody tr')].some((r) => r.textContent.startsWith('silencedorder-paid')), null, { timeout: 15e3 });
    await page.screenshot({ path: join(artifacts, 'alerts-02-silenced.png'), fullPage: true });
    await page.locator('[data-testid=silences] tr', { hasText: 'order_id=o-2' }).getByRole('button', { name: 'Expire' }).click();
    await page.waitForFunction(() => !document.querySelector('[data-testid=silences] tr'), null, { timeout: 15e3 });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=alerts] tbody tr')].some((r) => r.textContent.startsWith('firingorder-paid')), null, { timeout: 15e3 });
  });

  await step('the flows page: open keys oldest first, completions and their latency, the violation linked to Discover', async () => {
    await page.getByRole('link', { name: 'Flows', exact: true }).click();
    await page.locator('nav a.on', { hasText: 'Flows' }).waitFor();
    const orders = page.locator('[data-testid=flow-order-paid]');
    await orders.locator('[data-testid=violations] tbody tr').first().waitFor();
    assert.deepEqual(await orders.locator('[data-testid=violations] tbody tr').allInnerTexts(), [await orders.locator('[data-testid=violations] tbody tr').first().innerText()]);
    assert.match(await orders.locator('[data-testid=violations] tbody tr').first().innerText(), /^o-2\t.*\tmissing$/);
    assert.match(await orders.locator('.card', { hasText: 'Completed' }).innerText(), /Completed\s+2\b/);
    // 250 ms is in the third tenth of 1 s; 5 s is late.
    assert.deepEqual(await orders.locator('.flow-histo g').evaluateAll((gs) => gs.map((g) => Number(g.dataset.count))), [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.match(await orders.locator('[data-testid=latency]').innerText(), /p99 5\.00 s · max 5\.00 s/);
    const signup = page.locator('[data-testid=flow-signup]');
    const open = await signup.locator('[data-testid=open-keys] tbody tr').allInnerTexts();
    assert.equal(open.length, 2, open.join('\n'));
    assert.match(open[0], /^u-1\t.*\t\d+s$/);
    assert.match(open[1], /^u-3\t/);
    assert.match(await signup.locator('.card', { hasText: 'Open' }).innerText(), /Open\s+2\b/);
    assert.equal(await signup.locator('[data-testid=violations]').count(), 0);
    await page.screenshot({ path: join(artifacts, 'flows-01.png'), fullPage: true });
    await orders.getByRole('link', { name: 'o-2' }).click();
    await page.locator('nav a.on', { hasText: 'Discover' }).waitFor();
    assert.equal(new URL(page.url()).searchParams.get('q'), 'order_id:o-2');
    await page.waitForFunction(() => document.querySelector('[data-testid=hits]')?.textContent === '1 hit', null, { timeout: 10e3 });
    await page.goBack();
    await page.locator('nav a.on', { hasText: 'Flows' }).waitFor();
  });

  await step('a late end makes the violation late', async () => {
    const r = await fetch(base + '/insert/jsonline', { method: 'POST', body: JSON.stringify({ _time: new Date().toISOString(), event: 'order_paid', order_id: 'o-2' }) });
    assert.equal(r.status, 200);
    await page.reload();
    await page.waitForFunction(() => /late, after/.test(document.querySelector('[data-testid=flow-order-paid] [data-testid=violations] tbody tr')?.textContent || ''), null, { timeout: 15e3 });
  });

  await step('saved searches: save the query and range, open it in another browser, delete it', async () => {
    await page.goto(base + '/?q=service%3Apayments&from=now-1h');
    await page.waitForFunction(() => document.querySelector('[data-testid=hits]')?.textContent === '3 hits', null, { timeout: 10e3 });
    await page.getByRole('button', { name: 'Saved', exact: true }).click();
    await page.getByLabel('Saved search name').fill('payments errors');
    await page.getByRole('dialog').getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('[data-testid=saved-searches] tr', { hasText: 'payments errors' }).waitFor();
    const list = await (await fetch(base + '/api/v1/saved_searches')).json();
    assert.deepEqual(list.saved_searches.map((x) => [x.name, x.query, x.from, x.to]), [['payments errors', 'service:payments', 'now-1h', 'now']]);
    await page.keyboard.press('Escape');
    // Another browser (no storage in common) lists it: it is the server's.
    const other = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    other.on('pageerror', (e) => errors.push(e.message));
    await other.goto(base + '/');
    await other.getByRole('button', { name: 'Saved', exact: true }).click();
    await other.locator('[data-testid=saved-searches] tr', { hasText: 'payments errors' }).waitFor();
    await other.screenshot({ path: join(artifacts, 'saved-01-list.png') });
    await other.getByRole('button', { name: 'payments errors', exact: true }).click();
    await other.waitForFunction(() => document.querySelector('[data-testid=hits]')?.textContent === '3 hits', null, { timeout: 10e3 });
    const u = new URL(other.url());
    assert.deepEqual([u.searchParams.get('q'), u.searchParams.get('from')], ['service:payments', 'now-1h']);
    assert.equal(await other.getByRole('dialog').count(), 0);
    await other.getByRole('button', { name: 'Saved', exact: true }).click();
    await other.getByRole('button', { name: 'Delete payments errors' }).click();
    await other.getByText('No saved search yet.').waitFor();
    assert.deepEqual((await (await fetch(base + '/api/v1/saved_searches')).json()).saved_searches, []);
    await other.context().close();
  });

  await step('create alert from Discover: the query counted, a rule made on the server that fires, then deleted', async () => {
    await page.goto(base + '/?q=service%3Apayments&from=now-1h');
    await page.waitForFunction(() => document.querySelector('[data-testid=hits]')?.textContent === '3 hits', null, { timeout: 10e3 });
    await page.getByRole('button', { name: 'Create alert' }).click();
    const dlg = page.getByRole('dialog', { name: 'Create alert' });
    assert.equal(await dlg.getByLabel('Rule query').inputValue(), 'service:payments | stats count() as n');
    assert.equal(await dlg.getByLabel('Window').inputValue(), '1h');
    assert.equal(await dlg.getByLabel('Condition').inputValue(), 'n > 0');
    await dlg.getByLabel('Name').fill('payments-many');
    await dlg.getByLabel('Condition').fill('n > 2');
    await dlg.getByLabel('Every').fill('1s');
    await dlg.getByRole('button', { name: 'YAML for the configuration' }).click();
    await dlg.getByLabel('Labels').fill('team=payments'); // the YAML follows
    assert.equal(
      await dlg.getByTestId('rule-yaml').textContent(),
      "- name: 'payments-many'\n  query: 'service:payments | stats count() as n'\n  every: 1s\n  window: 1h\n  condition: 'n > 2'\n  labels: {'team': 'payments'}\n",
    );
    await page.screenshot({ path: join(artifacts, 'create-alert-01-form.png') });
    await dlg.getByRole('button', { name: 'Create rule' }).click();
    await dlg.getByTestId('rule-created').waitFor();
    const rules = (await (await fetch(base + '/api/v1/rules')).json()).rules;
    assert.deepEqual(rules.filter((r) => r.runtime).map((r) => [r.name, r.query, r.condition, r.every, r.window, r.labels]), [['payments-many', 'service:payments | stats count() as n', 'n > 2', '1s', '1h0m0s', { team: 'payments' }]]);
    // The page reads the alerts every 5 s: open it once the rule fired.
    for (let end = Date.now() + 15e3; !(await (await fetch(base + '/api/v1/alerts')).json()).alerts.some((a) => a.source === 'payments-many' && a.state === 'firing'); ) {
      if (Date.now() > end) throw new Error('payments-many did not fire');
      await new Promise((r) => setTimeout(r, 100));
    }
    await dlg.getByRole('link', { name: 'Open the alerts page' }).click();
    await page.locator('nav a.on', { hasText: 'Alerts' }).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=alerts] tbody tr.state-firing')].some((r) => r.textContent.startsWith('firingpayments-many') && r.textContent.includes('team=payments')), null, { timeout: 15e3 });
    await page.screenshot({ path: join(artifacts, 'create-alert-02-firing.png'), fullPage: true });
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Delete rule payments-many' }).click();
    // Its rule row goes; its alert resolves (shown so until it is sent).
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=rules] tr, [data-testid=alerts] tr:not(.state-resolved)')].some((r) => r.textContent.includes('payments-many')), null, { timeout: 15e3 });
    assert.equal((await (await fetch(base + '/api/v1/rules')).json()).rules.filter((r) => r.runtime).length, 0);
  });
  assert.deepEqual(errors, []);
  console.log('alerts page: all steps passed');
} catch (e) {
  console.error(e);
  console.error('server output:\n' + serverLog.slice(-4000));
  process.exitCode = 1;
} finally {
  await browser?.close();
  if (server && server.exitCode === null) {
    // Wait for it: on shutdown it writes its alert state into tmp.
    const exited = new Promise((res) => server.once('exit', res));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(tmp, { recursive: true, force: true });
}
