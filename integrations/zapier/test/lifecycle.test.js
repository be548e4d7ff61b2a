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
/** Stands in for the platform's API behind the gateway: searches and lists ask it. */
const platform = { asked: [] };

let gateway;
let base;
let authData;
let catcherUrl;
let catcherServer;
let platformServer;
let workDir;

before(async () => {
  if (skip) return;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaanha-zapier-'));
  platformServer = http.createServer(async (req, res) => {
    platform.asked.push(req.url);
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    // A dropdown page asks with `limit`; a search with its criteria; any other call is echoed.
    const answer =
      req.method !== 'GET'
        ? { method: req.method, path: req.url, received: JSON.parse(Buffer.concat(chunks).toString() || 'null') }
        : req.url.includes('limit=')
          ? { data: [{ id: 'c1', name: 'Jane Smith' }, { id: 'c2', phone: '+919800000000' }] }
          : [{ id: 'c1', name: 'Jane Smith', email: 'jane@example.com' }];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise((r) => platformServer.listen(0, '127.0.0.1', r));
  const env = {
    ...process.env,
    KAANHA_DATABASE_URL: `sqlite://${path.join(workDir, 'gateway.db')}?mode=rwc`,
    KAANHA_ALLOW_PRIVATE_TARGETS: 'true',
    KAANHA_UPSTREAM_URL: `http://127.0.0.1:${platformServer.address().port}`,
    KAANHA_UPSTREAM_JWT_SECRET: 'a-test-upstream-secret-of-32-bytes-or-more',
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
      catcher.received.push({ url: req.url, body: JSON.parse(body), raw: body, headers: req.headers });
      res.writeHead(catcher.status).end();
    });
  });
  await new Promise((r) => catcherServer.listen(0, '127.0.0.1', r));
  catcherUrl = `http://127.0.0.1:${catcherServer.address().port}`;
});

after(() => {
  if (gateway) gateway.kill();
  if (catcherServer) catcherServer.close();
  if (platformServer) platformServer.close();
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

/** A delivery as Zapier hands it to `perform`: the parsed body and the raw request. */
const asZapierGotIt = (delivered) => ({
  cleanedRequest: delivered.body,
  rawRequest: {
    content: delivered.raw,
    headers: Object.fromEntries(
      Object.entries(delivered.headers).map(([k, v]) => [`Http-${k.replace(/(^|-)(\w)/g, (m) => m.toUpperCase())}`, v]),
    ),
  },
});

test('the app passes zapier-platform-schema validation, with Zapier\'s names and types', () => {
  assert.deepEqual(validateApp(compileApp(App)), []);
  assert.ok(Object.keys(App.triggers).length >= 11, 'a trigger per event type');
  assert.ok(Object.keys(App.creates).length >= 1, 'a create per catalog action');
  const received = App.triggers.message_received;
  assert.equal(received.display.label, 'New Message Received');
  assert.match(received.display.description, /^Triggers when [a-z]/);
  const keys = received.operation.outputFields.map((f) => f.key);
  assert.ok(keys.includes('data__contact__phone') && keys.every((k) => !k.includes('.')), 'nested keys use __');
  const tags = received.operation.outputFields.find((f) => f.key === 'data__contact__tags');
  assert.equal(tags.list, true, 'arrays are lists');
  assert.deepEqual(Object.keys(App.searches), ['find_contact', 'find_conversation']);
  assert.equal(App.searchOrCreates.find_contact.create, 'create_contact');
  const contactId = App.creates.update_contact.operation.inputFields.find((f) => f.key === 'contactId');
  assert.equal(contactId.dynamic, 'list_contacts.id.name', 'a dropdown of contacts');
  assert.equal(App.triggers.list_contacts.display.hidden, true);
  assert.equal(App.creates.api_request.display.label, 'API Request');
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

  assert.ok(subscribeData.secret, 'the app keeps the secret it gave the gateway');

  const published = await publish('message.received', { text: 'Hi from the test' });
  const [delivered] = await arrival(hookPath, 1);
  assert.equal(delivered.body.id, published.id);
  const results = await appTester(App.triggers.message_received.operation.perform, {
    authData,
    subscribeData,
    ...asZapierGotIt(delivered),
  });
  assert.equal(results.length, 1);
  assert.equal(results[0].id, published.id);
  assert.equal(results[0].data.text, 'Hi from the test');
  // Anyone else POSTing to the hook URL is not the gateway.
  const forged = asZapierGotIt({ ...delivered, raw: delivered.raw.replace('Hi from', 'Bye from') });
  await assert.rejects(
    appTester(App.triggers.message_received.operation.perform, { authData, subscribeData, ...forged }),
    /not signed by the gateway/,
  );

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

test('searches, find-or-create, dropdowns and the API request reach the platform through the gateway', { skip }, async () => {
  const found = await appTester(App.searches.find_contact.operation.perform, {
    authData,
    inputData: { email: 'jane@example.com' },
  });
  assert.deepEqual(found, [{ id: 'c1', name: 'Jane Smith', email: 'jane@example.com' }]);
  assert.ok(platform.asked.includes('/api/contacts?email=jane%40example.com'));

  const choices = await appTester(App.triggers.list_contacts.operation.perform, { authData, meta: {} });
  assert.deepEqual(choices, [
    { id: 'c1', name: 'Jane Smith' },
    { id: 'c2', name: '+919800000000' },
  ]);

  // A search without a criterion is the gateway's 422, shown with the field it names.
  await assert.rejects(
    appTester(App.searches.find_contact.operation.perform, { authData, inputData: {} }),
    /body: a search needs at least one of email, phone/,
  );

  // The API request: any allowed path of the platform's API, with the organization's token.
  const request = App.creates.api_request.operation.perform;
  const called = await appTester(request, {
    authData,
    inputData: { method: 'PATCH', path: '/api/contacts/c1', query: { fields: 'name' }, body: '{"name":"Jane S"}' },
  });
  assert.equal(called.status, 200);
  assert.deepEqual(called.body, { method: 'PATCH', path: '/api/contacts/c1?fields=name', received: { name: 'Jane S' } });
  await assert.rejects(
    appTester(request, { authData, inputData: { method: 'GET', path: '/api/admin/users' } }),
    /path: must be below one of/,
  );
  assert.ok(!platform.asked.some((url) => url.startsWith('/api/admin')), 'a refused path never reaches the platform');
});

test('a samples step honours the trigger filters, and a revoked key asks for reconnection', { skip }, async () => {
  await publish('message.received', { message: { type: 'image' } });
  await publish('message.received', { message: { type: 'text' }, n: 1 });
  await publish('message.received', { message: { type: 'image' } });
  const trigger = App.triggers.message_received.operation;
  const texts = await appTester(trigger.performList, { authData, inputData: { message_type: 'text' } });
  assert.ok(texts.length > 0 && texts.every((s) => s.data.message.type === 'text'));
  await assert.rejects(
    appTester(App.authentication.test, { authData: { ...authData, apiKey: 'kgw_revoked' } }),
    (err) => err.name === 'ExpiredAuthError',
  );
});
