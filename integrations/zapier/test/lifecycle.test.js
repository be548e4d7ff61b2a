'use strict';
// The app against a real gateway on loopback: schema validation, the connection test, and a
// REST hook's whole life as Zapier runs it. Needs KAANHA_GATEWAY_BIN, the gateway binary.
// Exported with the app by `kaanha-gateway integrations export --platform zapier`.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

process.env.LOGGING_ENDPOINT = 'http://127.0.0.1:9/'; // never log anywhere
const zapier = require('zapier-platform-core');
// What `zapier validate` runs: functions compiled to the schema's form, then validated.
const { compileApp, validateApp } = require('zapier-platform-core/src/tools/schema');
const App = require('..');

const bin = process.env.KAANHA_GATEWAY_BIN;
const skip = bin ? false : 'set KAANHA_GATEWAY_BIN to a kaanha-gateway binary to run this test';
const appTester = zapier.createAppTester(App);

const freePort = () =>
  new Promise((resolve) => {
    const server = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Stands in for hooks.zapier.com: records what arrives, answers 200 or, once told, 410. */
const catcher = { received: [], status: 200 };

let gateway;
let base;
let authData;
let catcherUrl;
let catcherServer;
let workDir;

before(async () => {
  if (skip) return;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaanha-zapier-'));
  const env = {
    ...process.env,
    KAANHA_DATABASE_URL: `sqlite://${path.join(workDir, 'gateway.db')}?mode=rwc`,
    KAANHA_ALLOW_PRIVATE_TARGETS: 'true',
    KAANHA_LOG: 'warn',
  };
  const key = execFileSync(
    bin,
    ['api-key', 'create', '--org', 'org_zapier', '--name', 'zapier', '--scopes', 'webhooks,integrations,events:publish'],
    { env },
  )
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
  authData = { apiKey: key, baseUrl: base };
  catcherServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      catcher.received.push({ url: req.url, body: JSON.parse(body) });
      res.writeHead(catcher.status).end();
    });
  });
  await new Promise((r) => catcherServer.listen(0, '127.0.0.1', r));
  catcherUrl = `http://127.0.0.1:${catcherServer.address().port}`;
});

after(() => {
  if (gateway) gateway.kill();
  if (catcherServer) catcherServer.close();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

const publish = async (event, data) => {
  const response = await fetch(`${base}/api/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${authData.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event, data }),
  });
  assert.equal(response.status, 202);
  return response.json();
};

const arrival = async (hookPath, count) => {
  for (let i = 0; i < 200; i++) {
    const got = catcher.received.filter((r) => r.url === hookPath);
    if (got.length >= count) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing arrived at ${hookPath}`);
};

test('the app passes zapier-platform-schema validation', () => {
  assert.deepEqual(validateApp(compileApp(App)), []);
  assert.ok(Object.keys(App.triggers).length >= 11, 'a trigger per event type');
  assert.ok(Object.keys(App.creates).length >= 1, 'a create per catalog action');
});

test('the connection test calls /api/integrations/me and labels the connection', { skip }, async () => {
  const me = await appTester(App.authentication.test, { authData });
  assert.equal(me.organizationId, 'org_zapier');
  const label = App.authentication.connectionLabel(null, { inputData: me });
  assert.ok(label && label.length > 0);
  await assert.rejects(appTester(App.authentication.test, { authData: { ...authData, apiKey: 'kgw_wrong' } }));
});

test('a REST hook lives as Zapier runs it: subscribe, deliver, perform, samples, unsubscribe, 410', { skip }, async () => {
  const trigger = App.triggers.message_received.operation;
  const hookPath = '/hooks/standard/1/a';
  const subscribeData = await appTester(trigger.performSubscribe, {
    authData,
    targetUrl: `${catcherUrl}${hookPath}`,
    inputData: {},
  });
  assert.ok(subscribeData.id, 'the subscription has an id');

  const published = await publish('message.received', { text: 'Hi from the test' });
  const [delivered] = await arrival(hookPath, 1);
  assert.equal(delivered.body.id, published.id);
  const results = await appTester(App.triggers.message_received.operation.perform, {
    authData,
    cleanedRequest: delivered.body,
  });
  assert.equal(results.length, 1);
  assert.equal(results[0].id, published.id);
  assert.equal(results[0].data.text, 'Hi from the test');

  const samples = await appTester(trigger.performList, { authData, inputData: {} });
  assert.ok(Array.isArray(samples) && samples.length > 0);
  assert.ok(samples.every((s) => s.id), 'every sample has an id');
  assert.equal(samples[0].id, published.id, 'the newest real event comes first');

  await appTester(trigger.performUnsubscribe, { authData, subscribeData });
  const gone = await fetch(`${base}/api/integrations/zapier/hooks/${subscribeData.id}`, {
    headers: { authorization: `Bearer ${authData.apiKey}` },
  });
  assert.equal(gone.status, 404, 'unsubscribed');

  // A Zap deleted without unsubscribing: Zapier answers 410, and the gateway drops the hook.
  const orphanPath = '/hooks/standard/1/b';
  const orphan = await appTester(trigger.performSubscribe, {
    authData,
    targetUrl: `${catcherUrl}${orphanPath}`,
    inputData: {},
  });
  catcher.status = 410;
  await publish('message.received', { text: 'nobody listens' });
  await arrival(orphanPath, 1);
  let status = 200;
  for (let i = 0; i < 100 && status !== 404; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (
      await fetch(`${base}/api/integrations/zapier/hooks/${orphan.id}`, {
        headers: { authorization: `Bearer ${authData.apiKey}` },
      })
    ).status;
  }
  assert.equal(status, 404, 'a 410 removed the subscription');
  catcher.status = 200;
});
