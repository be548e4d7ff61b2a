'use strict';
// What every console test needs: a real gateway (its own SQLite file, the example catalog) on a
// free loopback port, a local receiver whose answer a test can change, Debian's Chromium through
// playwright-core, axe-core run on a page, and moving through a page with the keyboard alone.
// Screenshots go to target/console-screenshots (or $CONSOLE_SCREENSHOTS); the best are copied
// to docs/. Needs KAANHA_GATEWAY_BIN and /usr/bin/chromium.

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
const screenshots = process.env.CONSOLE_SCREENSHOTS || path.join(__dirname, '..', '..', 'target', 'console-screenshots');
/** What the connect pages show as the gateway's address. */
const PUBLIC_URL = 'https://hooks.example.com';

const freePort = () =>
  new Promise((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

/** Starts the receiver, the gateway and the browser; `stop()` ends them. `publicUrl: null`
 * leaves KAANHA_PUBLIC_URL unset (the page's own address is shown then). */
async function start({ publicUrl = PUBLIC_URL } = {}) {
  const receiverState = { status: 200, received: [] };
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      receiverState.received.push({ path: req.url, body });
      res.writeHead(receiverState.status, { 'content-type': 'text/plain' }).end(receiverState.status === 200 ? 'ok' : 'receiver down');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaanha-console-'));
  const env = {
    ...process.env,
    KAANHA_DATABASE_URL: `sqlite://${path.join(workDir, 'gateway.db')}?mode=rwc`,
    KAANHA_ALLOW_PRIVATE_TARGETS: 'true',
    KAANHA_RETRY_SCHEDULE: '2s',
    ...(publicUrl ? { KAANHA_PUBLIC_URL: publicUrl } : {}),
    // The example catalog's event type shows in Add Webhook beside the built-in ones.
    KAANHA_CATALOG: path.join(__dirname, '..', '..', 'examples', 'catalog.json'),
    KAANHA_LOG: 'warn',
  };
  /** A key made with the CLI, as an operator would for the first person. */
  const keyWith = (org, name, scopes) =>
    execFileSync(bin, ['api-key', 'create', '--org', org, '--name', name, '--scopes', scopes], { env, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const gateway = spawn(bin, ['serve'], { env: { ...env, KAANHA_BIND: `127.0.0.1:${port}` }, stdio: 'inherit' });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 200) throw new Error('the gateway did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: browserPath, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  fs.mkdirSync(screenshots, { recursive: true });
  return {
    base,
    browser,
    keyWith,
    receiver,
    receiverState,
    receiverUrl: (p) => `http://127.0.0.1:${receiver.address().port}${p}`,
    /** A page in a browser set to a zone other than UTC, so "local" and "UTC" differ. */
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, timezoneId: 'Asia/Kolkata' });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
      const page = await context.newPage();
      // Checked at the end of each test (`noErrors`): a throw inside the page fails it.
      page.errorsSeen = [];
      page.on('pageerror', (error) => page.errorsSeen.push(String(error.stack || error)));
      return page;
    },
    /** Publishes an event with `key`, as the platform's back end does. */
    async publish(key, event) {
      const response = await fetch(`${base}/api/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(event),
      });
      assert.equal(response.status, 202);
      return response.json();
    },
    async stop() {
      await browser.close();
      gateway.kill();
      receiver.close();
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core on the page as it is now; fails on any serious or critical violation. Read in
 * through the browser's debugging protocol, as the console's policy refuses inline scripts. */
async function accessible(page, what) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const grave = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(grave, [], `${what}: axe-core found serious or critical violations`);
}

/** Presses Tab until the focused element is the one named `name` (its text, label or
 * aria-label), as a person without a mouse would; fails if it is never reached. */
async function tabTo(page, name, { backwards = false, most = 80 } = {}) {
  for (let i = 0; i < most; i++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return '';
      const label = el.labels && el.labels.length ? el.labels[0].textContent : '';
      return [el.getAttribute('aria-label'), label, el.textContent].map((t) => (t || '').trim().replace(/\s+/g, ' '));
    });
    if (Array.isArray(focused) && focused.some((t) => t === name || t.startsWith(`${name} `))) return;
  }
  assert.fail(`“${name}” is never reached with Tab`);
}

/** The page never threw. */
const noErrors = (page) => assert.deepEqual(page.errorsSeen, [], 'errors thrown in the page');

const shoot = (page, name) => page.screenshot({ path: path.join(screenshots, name), fullPage: true });

module.exports = { skip, start, accessible, tabTo, shoot, noErrors, PUBLIC_URL };
