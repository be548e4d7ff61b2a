'use strict';
// The nodes as built (`npm run build`, to dist/) driven against a real gateway on loopback, with
// the few context functions n8n gives them (parameters, static data, credentials, the
// authenticated request helper, the webhook request). Needs KAANHA_GATEWAY_BIN, the gateway
// binary. Exported with the package by `kaanha-gateway integrations export --platform n8n`.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { KaanhaApi } = require('../dist/credentials/KaanhaApi.credentials');
const { KaanhaTrigger, verified } = require('../dist/nodes/KaanhaTrigger/KaanhaTrigger.node');
const { Kaanha } = require('../dist/nodes/Kaanha/Kaanha.node');

const bin = process.env.KAANHA_GATEWAY_BIN;
const skip = bin ? false : 'set KAANHA_GATEWAY_BIN to a kaanha-gateway binary to run this test';

/** A loopback HTTP server; `handle(req, body, res)` answers. */
const serve = (handle) =>
  new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => handle(req, Buffer.concat(chunks), res));
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
const urlOf = (server) => `http://127.0.0.1:${server.address().port}`;

let gateway, base, credentials, n8nHooks, upstream, workDir;
const arrivals = [];

before(async () => {
  if (skip) return;
  // Stands in for n8n's webhook endpoint: keeps each delivery as n8n would see it.
  n8nHooks = await serve((req, raw, res) => {
    arrivals.push({ url: req.url, headers: req.headers, raw });
    res.writeHead(200).end();
  });
  // Stands in for the platform's API, where actions, searches, lists and calls are forwarded.
  upstream = await serve((req, raw, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const url = new URL(req.url, 'http://upstream');
    if (req.method === 'GET' && url.searchParams.has('limit')) {
      return res.end(JSON.stringify({ data: [{ id: 'c1', name: 'Asha' }, { id: 'c2', name: 'Ravi' }] }));
    }
    if (req.method === 'GET') {
      return res.end(JSON.stringify([{ id: 'c1', email: url.searchParams.get('email'), path: url.pathname }]));
    }
    res.end(JSON.stringify({ id: 'msg_123', path: url.pathname, received: JSON.parse(raw.toString() || '{}') }));
  });
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaanha-n8n-'));
  const env = {
    ...process.env,
    KAANHA_DATABASE_URL: `sqlite://${path.join(workDir, 'gateway.db')}?mode=rwc`,
    KAANHA_ALLOW_PRIVATE_TARGETS: 'true',
    KAANHA_UPSTREAM_URL: urlOf(upstream),
    KAANHA_JWT_SECRET: 'n8n-test-jwt-secret-0123456789abcdef',
    KAANHA_UPSTREAM_JWT_SECRET: 'n8n-test-upstream-secret-0123456789abcdef',
    KAANHA_LOG: 'warn',
  };
  const apiKey = execFileSync(
    bin,
    ['api-key', 'create', '--org', 'org_n8n', '--name', 'n8n', '--scopes', 'webhooks,integrations,events:publish'],
    { env, stdio: ['ignore', 'pipe', 'ignore'] },
  )
    .toString()
    .trim();
  const port = await new Promise((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  base = `http://127.0.0.1:${port}`;
  gateway = spawn(bin, ['serve'], { env: { ...env, KAANHA_BIND: `127.0.0.1:${port}` }, stdio: 'inherit' });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 200) throw new Error('the gateway did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  credentials = { apiKey, baseUrl: base };
});

after(() => {
  for (const server of [n8nHooks, upstream]) if (server) server.close();
  if (gateway) gateway.kill();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

/** n8n's authenticated request: the credential's `authenticate` headers, JSON, errors with httpCode. */
async function httpRequestWithAuthentication(name, options) {
  assert.equal(name, 'kaanhaApi');
  const template = new KaanhaApi().authenticate.properties.headers.Authorization;
  const headers = { Authorization: template.replace('=', '').replace('{{$credentials.apiKey}}', credentials.apiKey) };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const url = new URL(options.url);
  for (const [k, v] of Object.entries(options.qs || {})) url.searchParams.set(k, String(v));
  const response = await fetch(url, {
    method: options.method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  if (!response.ok) {
    // As n8n's helper fails: the status, and the answer's body parsed when it is JSON.
    const error = new Error(`Request failed with status code ${response.status}`);
    error.httpCode = String(response.status);
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {}
    error.response = { status: response.status, data };
    throw error;
  }
  return text ? JSON.parse(text) : {};
}

const node = { name: 'Kaanha', type: 'kaanha', typeVersion: 1, parameters: {} };

/** The context of a trigger's webhook methods; `mode` is n8n's (`manual` when testing). */
const hookContext = (parameters, staticData, webhookUrl, mode = 'trigger') => ({
  getNodeParameter: (name, fallback) => (name in parameters ? parameters[name] : fallback),
  getNodeWebhookUrl: () => webhookUrl,
  getWorkflowStaticData: () => staticData,
  getCredentials: async () => credentials,
  getMode: () => mode,
  getNode: () => node,
  helpers: { httpRequestWithAuthentication },
});

/** The context of the action node's `execute` with these parameters. */
const executeContext = (parameters) => ({
  getInputData: () => [{ json: {} }],
  getNodeParameter: (name, _i, fallback) => (name in parameters ? parameters[name] : fallback),
  getCredentials: async () => credentials,
  getNode: () => node,
  continueOnFail: () => false,
  helpers: { httpRequestWithAuthentication },
});

/** The context of the trigger's `webhook()` for one delivery. */
const deliveryContext = (delivery, staticData) => {
  const response = { code: 200, status(code) { this.code = code; return this; }, send() { return this; } };
  return {
    response,
    getRequestObject: () => ({ rawBody: delivery.raw, headers: delivery.headers }),
    getBodyData: () => JSON.parse(delivery.raw.toString()),
    getHeaderData: () => delivery.headers,
    getWorkflowStaticData: () => staticData,
    getResponseObject: () => response,
  };
};

const publish = async (event, data) => {
  const answer = await fetch(`${base}/api/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credentials.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event, data }),
  });
  assert.equal(answer.status, 202);
  return answer.json();
};

const arrival = async (url, count) => {
  for (let i = 0; i < 200; i++) {
    const got = arrivals.filter((a) => a.url === url);
    if (got.length >= count) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing arrived at ${url}`);
};

test('the nodes describe the catalog: events and filters to trigger on, every action, the API call', () => {
  const catalog = require('../catalog.json');
  const trigger = new KaanhaTrigger().description;
  const events = trigger.properties.find((p) => p.name === 'events');
  assert.equal(events.type, 'multiOptions');
  assert.deepEqual(events.options.map((o) => o.value), catalog.triggers.map((t) => t.event));
  const filters = trigger.properties.find((p) => p.name === 'filters').options.map((o) => o.name);
  assert.ok(filters.includes('message_type') && filters.includes('contact_tag'));
  assert.deepEqual(trigger.webhooks[0].httpMethod, 'POST');
  const action = new Kaanha();
  const actions = action.description.properties.find((p) => p.name === 'action').options;
  assert.deepEqual(actions.map((a) => a.value), [...catalog.actions.map((a) => a.key), 'apiCall']);
  assert.equal(action.description.usableAsTool, true);
  const contactId = action.description.properties.find((p) => p.name === 'update_contact_contactId');
  assert.equal(contactId.typeOptions.loadOptionsMethod, 'contacts', 'a dropdown of contacts');
  assert.deepEqual(Object.keys(action.methods.loadOptions), catalog.lists.map((l) => l.key));
  assert.equal(new KaanhaApi().test.request.url, '/api/integrations/me');
});

test('a Standard Webhooks signature passes only with its secret and within five minutes', () => {
  const secret = `whsec_${crypto.randomBytes(24).toString('base64')}`;
  const body = Buffer.from('{"id":"evt_1"}');
  const sign = (id, ts) =>
    `v1,${crypto.createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${id}.${ts}.${body}`).digest('base64')}`;
  const now = 1_800_000_000;
  const headers = (ts) => ({ 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': `v1,bogus ${sign('evt_1', ts)}` });
  assert.equal(verified(secret, headers(now - 10), body, now), true);
  assert.equal(verified(secret, headers(now - 301), body, now), false, 'too old: a replay');
  assert.equal(verified(secret, headers(now + 301), body, now), false, 'from the future');
  assert.equal(verified(`whsec_${crypto.randomBytes(24).toString('base64')}`, headers(now), body, now), false);
});

test('the credential test request answers for a good key', { skip }, async () => {
  const me = await httpRequestWithAuthentication('kaanhaApi', { method: 'GET', url: `${base}/api/integrations/me` });
  assert.equal(me.organizationId, 'org_n8n');
});

test('trigger: checkExists → create → deliver (signature checked) → checkExists → event change → delete', { skip }, async () => {
  const trigger = new KaanhaTrigger();
  const { checkExists, create, delete: remove } = trigger.webhookMethods.default;
  const staticData = {};
  const webhookUrl = `${urlOf(n8nHooks)}/webhook/abc/webhook`;
  const hooks = hookContext({ events: ['contact.created'], filters: {} }, staticData, webhookUrl);

  assert.equal(await checkExists.call(hooks), false, 'nothing subscribed yet');
  assert.equal(await create.call(hooks), true);
  assert.ok(staticData.hookId && staticData.secret, 'id and secret kept in static data');
  assert.equal(await checkExists.call(hooks), true, 'found again, as after an n8n restart');

  const published = await publish('contact.created', { contactId: 'c_1', name: 'Asha' });
  const [delivery] = await arrival('/webhook/abc/webhook', 1);
  const good = deliveryContext(delivery, staticData);
  const ran = await trigger.webhook.call(good);
  assert.equal(ran.workflowData[0][0].json.id, published.id);
  assert.equal(ran.workflowData[0][0].json.data.name, 'Asha');

  const forged = { ...delivery, raw: Buffer.from(delivery.raw.toString().replace('Asha', 'Mallory')) };
  const refused = deliveryContext(forged, staticData);
  assert.deepEqual(await trigger.webhook.call(refused), { noWebhookResponse: true });
  assert.equal(refused.response.code, 401, 'a body that does not match its signature is refused');
  const unsigned = deliveryContext({ ...delivery, headers: {} }, staticData);
  await trigger.webhook.call(unsigned);
  assert.equal(unsigned.response.code, 401, 'a delivery without a signature is refused');

  const oldId = staticData.hookId;
  const changed = hookContext(
    { events: ['message.received'], filters: { message_type: 'text' } },
    staticData,
    webhookUrl,
  );
  assert.equal(await checkExists.call(changed), false, 'another event means another subscription');
  const gone = await fetch(`${base}/api/integrations/n8n/hooks/${oldId}`, {
    headers: { authorization: `Bearer ${credentials.apiKey}` },
  });
  assert.equal(gone.status, 404, 'the old subscription was removed');

  await create.call(changed);
  const id = staticData.hookId;
  assert.equal(await remove.call(changed), true);
  assert.equal(staticData.hookId, undefined);
  const removed = await fetch(`${base}/api/integrations/n8n/hooks/${id}`, {
    headers: { authorization: `Bearer ${credentials.apiKey}` },
  });
  assert.equal(removed.status, 404, 'deactivating removed the subscription');
});

test('test mode: "Listen for test event" gets a realistic event at once', { skip }, async () => {
  const { create } = new KaanhaTrigger().webhookMethods.default;
  const staticData = {};
  const webhookUrl = `${urlOf(n8nHooks)}/webhook-test/xyz/webhook`;
  await create.call(hookContext({ events: ['payment.completed'], filters: {} }, staticData, webhookUrl, 'manual'));
  const [sample] = await arrival('/webhook-test/xyz/webhook', 1);
  const ran = await new KaanhaTrigger().webhook.call(deliveryContext(sample, staticData));
  assert.equal(ran.workflowData[0][0].json.event, 'payment.completed');
});

test('action node: runs a catalog action, a search, a dropdown and the API call through the gateway', { skip }, async () => {
  const action = new Kaanha();
  const [[sent]] = await action.execute.call(
    executeContext({ action: 'send_message', send_message_phone: '+919876543210', send_message_text: 'Hello' }),
  );
  // The stand-in upstream echoes what the gateway forwarded: exactly the fields that were set.
  assert.equal(sent.json.id, 'msg_123');
  assert.deepEqual(sent.json.received, { phone: '+919876543210', text: 'Hello' });

  const [found] = await action.execute.call(
    executeContext({ action: 'find_contact', find_contact_email: 'asha@example.com' }),
  );
  assert.deepEqual(found.map((r) => r.json), [{ id: 'c1', email: 'asha@example.com', path: '/api/contacts' }]);

  const choices = await action.methods.loadOptions.contacts.call(executeContext({}));
  assert.deepEqual(choices, [
    { name: 'Asha', value: 'c1' },
    { name: 'Ravi', value: 'c2' },
  ]);

  const [[called]] = await action.execute.call(
    executeContext({ action: 'apiCall', method: 'PATCH', path: '/api/contacts/c1', query: '{}', body: '{"name":"Asha K"}' }),
  );
  assert.equal(called.json.status, 200);
  assert.deepEqual(called.json.body.received, { name: 'Asha K' });
  assert.equal(called.json.body.path, '/api/contacts/c1');

  // The gateway's refusal, as n8n shows it: a NodeApiError naming the field.
  await assert.rejects(
    action.execute.call(executeContext({ action: 'apiCall', method: 'GET', path: '/api/admin', query: '{}' })),
    (error) => error.name === 'NodeApiError' && /path: must be below one of/.test(error.message),
  );
});
