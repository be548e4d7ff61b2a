'use strict';
// The console in a real browser (Debian's Chromium through playwright-core) against a real
// gateway and a local receiver: sign in → add a webhook (a validation message first) → its test
// event delivered in Logs → the receiver fails: pending, then failed → Retry → delivered →
// another fails → Recover → delivered.
// Screenshots of each page go to target/console-screenshots (or $CONSOLE_SCREENSHOTS); the
// best are copied to docs/. Needs KAANHA_GATEWAY_BIN and /usr/bin/chromium.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const bin = process.env.KAANHA_GATEWAY_BIN;
const browserPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const skip = !bin
  ? 'set KAANHA_GATEWAY_BIN to a kaanha-gateway binary to run this test'
  : !fs.existsSync(browserPath)
    ? `no browser at ${browserPath} (apt-get install chromium)`
    : false;
const docs = process.env.CONSOLE_SCREENSHOTS || path.join(__dirname, '..', '..', 'target', 'console-screenshots');

let gateway, base, key, receiver, browser, workDir;
const receiverState = { status: 200, received: [] };

const freePort = () =>
  new Promise((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

before(async () => {
  if (skip) return;
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      receiverState.received.push(body);
      res.writeHead(receiverState.status, { 'content-type': 'text/plain' }).end(receiverState.status === 200 ? 'ok' : 'receiver down');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaanha-console-'));
  const env = {
    ...process.env,
    KAANHA_DATABASE_URL: `sqlite://${path.join(workDir, 'gateway.db')}?mode=rwc`,
    KAANHA_ALLOW_PRIVATE_TARGETS: 'true',
    KAANHA_RETRY_SCHEDULE: '2s',
    // The example catalog's event type shows in Add Webhook beside the built-in ones.
    KAANHA_CATALOG: path.join(__dirname, '..', '..', 'examples', 'catalog.json'),
    KAANHA_LOG: 'warn',
  };
  key = execFileSync(bin, ['api-key', 'create', '--org', 'org_console', '--name', 'console', '--scopes', 'webhooks,integrations,events:publish'], {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .toString()
    .trim();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = spawn(bin, ['serve'], { env: { ...env, KAANHA_BIND: `127.0.0.1:${port}` }, stdio: 'inherit' });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 200) throw new Error('the gateway did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({ executablePath: browserPath, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  fs.mkdirSync(docs, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  if (gateway) gateway.kill();
  if (receiver) receiver.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

const logRow = (page, event, status) =>
  page.locator('#logs tbody tr.row', { hasText: event }).filter({ hasText: status }).first();

test('a new user signs in, adds a webhook, and follows its deliveries in Logs', { skip }, async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`${base}/console`);

  // Sign in: a wrong key is refused with a message, the right one lands on Webhooks.
  await page.getByLabel('API key').fill('kgw_not_a_real_key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#api-key-error').filter({ hasText: /not valid/ }).waitFor();
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('kaanha.apiKey')), key);
  assert.ok(!page.url().includes(key), 'the key is never in the URL');

  // Add Webhook: the API's validation message shows next to the field.
  await page.getByRole('link', { name: 'Add Webhook' }).click();
  await page.getByLabel('Name').fill('CRM Sync');
  await page.getByLabel('URL').fill('ftp://example.com/hook');
  await page.getByLabel('Message Received').check();
  await page.getByLabel('Contact Created').check();
  await page.getByRole('heading', { name: 'Orders' }).waitFor();
  await page.getByLabel('Order Shipped').waitFor();
  await page.screenshot({ path: path.join(docs, 'console-add-webhook.png'), fullPage: true });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#error-url').filter({ hasText: /https/ }).waitFor();

  await page.getByLabel('URL').fill(`http://127.0.0.1:${receiver.address().port}/crm`);
  await page.getByLabel('Secret').fill('console-secret-123');
  // A rate limit out of range is named by the API next to its field.
  await page.getByLabel('Rate limit').fill('0');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#error-rateLimit').filter({ hasText: /between 1 and 10000/ }).waitFor();
  await page.getByLabel('Rate limit').fill('50');
  await page.getByLabel('Deliver in order').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Logs · CRM Sync' }).waitFor();
  await logRow(page, 'webhook.test', 'delivered').waitFor({ timeout: 15000 });
  await page.screenshot({ path: path.join(docs, 'console-logs.png'), fullPage: true });

  // The receiver fails: the delivery is pending (a retry is scheduled), then failed.
  receiverState.status = 500;
  const published = await fetch(`${base}/api/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event: 'message.received', data: { text: 'Where is my order?' } }),
  });
  assert.equal(published.status, 202);
  const { id: eventId } = await published.json();
  await logRow(page, 'message.received', 'pending').waitFor({ timeout: 15000 });
  await logRow(page, 'message.received', 'failed').waitFor({ timeout: 15000 });

  // A row opens its details; Retry on the failed one delivers once the receiver is back.
  await logRow(page, 'message.received', 'failed').click();
  await page.getByText('receiver down').first().waitFor();
  // The request as sent: headers with the signature, the exact body; the secret never.
  await page.locator('pre.headers', { hasText: 'x-kaanha-delivery' }).first().waitFor();
  await page.locator('pre.body', { hasText: 'Where is my order?' }).first().waitFor();
  await page.locator('pre.headers', { hasText: 'x-kaanha-signature: sha256=' }).first().waitFor();
  assert.ok(!(await page.content()).includes('console-secret-123'), 'the secret is never shown');
  await page.screenshot({ path: path.join(docs, 'console-logs-failed.png'), fullPage: true });
  receiverState.status = 200;
  await logRow(page, 'message.received', 'failed').getByRole('button', { name: 'Retry' }).click();
  await logRow(page, 'message.received', 'delivered').waitFor({ timeout: 15000 });
  await page.getByRole('button', { name: 'Retry' }).waitFor({ state: 'detached' });

  // Recover: another event fails for good; "Recover failed" puts it back and it is delivered.
  receiverState.status = 500;
  const second = await fetch(`${base}/api/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event: 'contact.created', data: { name: 'Ada' } }),
  });
  assert.equal(second.status, 202);
  await logRow(page, 'contact.created', 'failed').waitFor({ timeout: 15000 });
  receiverState.status = 200;
  await page.getByText('Send again…').click();
  await page.getByLabel('From').waitFor();
  await page.getByRole('button', { name: 'Recover failed' }).click();
  await page.locator('#again-result').filter({ hasText: '1 failed delivery back in the queue.' }).waitFor();
  await logRow(page, 'contact.created', 'delivered').waitFor({ timeout: 15000 });
  await page.screenshot({ path: path.join(docs, 'console-recover.png'), fullPage: true });
  // Nothing failed is left: a second Recover requeues nothing.
  await page.getByRole('button', { name: 'Recover failed' }).click();
  await page.locator('#again-result').filter({ hasText: '0 failed deliveries back in the queue.' }).waitFor();

  // Find one event by its id: only its attempts are listed; clearing the box lists all again.
  await page.getByLabel('Event or delivery id').fill(eventId);
  await page.getByLabel('Event or delivery id').press('Enter');
  await page.locator('#logs tbody tr.row', { hasText: 'contact.created' }).first().waitFor({ state: 'detached' });
  assert.equal(await page.locator('#logs tbody tr.row', { hasText: 'message.received' }).count(), 3);
  assert.equal(await page.locator('#logs tbody tr.row').count(), 3, 'only that event');
  await page.getByLabel('Event or delivery id').fill('');
  await page.getByLabel('Event or delivery id').press('Enter');
  await logRow(page, 'contact.created', 'delivered').waitFor();

  // The chart: this hour's bar, and the durations.
  await page.locator('#durations').filter({ hasText: /p50 \d+ ms, p99 \d+ ms/ }).waitFor({ timeout: 15000 });
  assert.ok((await page.locator('.chart rect.bar.delivered').count()) >= 1, 'a delivered bar');
  assert.ok((await page.locator('.chart rect.bar.failed').count()) >= 1, 'a failed bar');
  assert.equal(await page.locator('.chart text.hour').count(), 8, 'every third hour labelled');
  assert.ok((await page.locator('.chart text.scale').count()) >= 2, 'a scale');
  assert.equal(await page.locator('.chart rect:not(.bar)').count(), 0, 'nothing but bars');
  await page.screenshot({ path: path.join(docs, 'console-logs-chart.png'), fullPage: true });

  // The rate limit was saved with the webhook.
  const saved = await (await fetch(`${base}/api/webhooks`, { headers: { authorization: `Bearer ${key}` } })).json();
  const crm = saved.data.find((w) => w.name === 'CRM Sync');
  assert.equal(crm.rateLimit, 50);
  assert.equal(crm.ordered, true);

  // Back on Webhooks: the source, the status and the last delivery's outcome.
  await page.getByRole('link', { name: 'Webhooks' }).first().click();
  const row = page.locator('tbody tr', { hasText: 'CRM Sync' });
  await row.getByText('Dashboard').waitFor();
  await row.getByText('delivered').waitFor();
  // Logs opened from the list (not right after Save) shows no stray "null" under its title.
  await row.getByRole('link', { name: 'CRM Sync' }).click();
  await page.getByRole('heading', { name: 'Logs · CRM Sync' }).waitFor();
  await logRow(page, 'webhook.test', 'delivered').waitFor();
  assert.ok(!(await page.locator('#view').innerText()).split('\n').includes('null'), 'no stray null');
  await page.getByRole('link', { name: 'Webhooks' }).first().click();
  await row.getByText('Dashboard').waitFor();
  await page.screenshot({ path: path.join(docs, 'console-webhooks.png'), fullPage: true });

  // Readable at a phone's width.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(docs, 'console-phone.png'), fullPage: true });

  // Sign out forgets the key.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('kaanha.apiKey')), null);
  await page.close();
});
