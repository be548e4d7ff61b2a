'use strict';
// The gateway's MCP server, driven by the official TypeScript SDK (@modelcontextprotocol/sdk) as
// an agent's client would: over Streamable HTTP, with an API key, against the real gateway and a
// loopback stand-in of the platform's API.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { ErrorCode, LATEST_PROTOCOL_VERSION } = require('@modelcontextprotocol/sdk/types.js');
const { skip, start, organizationWithFailedDelivery } = require('./harness');

let gw, ada, bea, keys;

before(async () => {
  if (skip) return;
  gw = await start();
  ada = await organizationWithFailedDelivery(gw, 'org_ada', 'wamid.123');
  bea = await organizationWithFailedDelivery(gw, 'org_bea', 'wamid.999');
  keys = {
    ada: gw.keyFor('org_ada', 'Claude (Ada)', 'integrations webhooks'),
    adaIntegrations: gw.keyFor('org_ada', 'Cursor (Ada)', 'integrations'),
    adaWebhooks: gw.keyFor('org_ada', 'Support bot (Ada)', 'webhooks'),
  };
});

after(async () => gw && gw.stop());

/** A connected SDK client holding `key` (none: no Authorization header). */
async function connect(key, name = 'kaanha-sdk-test') {
  const headers = key ? { authorization: `Bearer ${key}` } : {};
  const transport = new StreamableHTTPClientTransport(gw.mcpUrl, { requestInit: { headers } });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

const text = (result) => result.content.map((c) => c.text).join('\n');

test('a client initializes, negotiates the current protocol and lists every catalog action, list and delivery tool', { skip }, async () => {
  const { client, transport } = await connect(keys.ada);
  assert.equal(transport.protocolVersion, LATEST_PROTOCOL_VERSION);
  assert.ok(transport.sessionId, 'the gateway gave the session an Mcp-Session-Id');
  assert.equal(client.getServerVersion().name, 'kaanha-gateway');
  assert.match(client.getInstructions(), /debug_delivery/);

  const { tools } = await client.listTools();
  const byName = new Map(tools.map((t) => [t.name, t]));
  const describe = await gw.api(keys.ada, 'GET', '/api/integrations/describe');
  for (const action of describe.actions) assert.ok(byName.has(action.key), `tool for the action ${action.key}`);
  for (const name of ['list_contacts', 'list_conversations', 'list_tags', 'api_call', 'list_webhooks', 'find_delivery', 'webhook_logs', 'retry_delivery', 'send_test_event', 'recover_failed']) {
    assert.ok(byName.has(name), `tool ${name}`);
  }
  const create = byName.get('create_contact');
  assert.ok(create.inputSchema.required.includes('phone'));
  assert.equal(create.inputSchema.additionalProperties, false);
  assert.equal(create.outputSchema.type, 'object');
  assert.equal(create.annotations.destructiveHint, false);
  assert.equal(byName.get('update_contact').annotations.destructiveHint, true);
  assert.match(byName.get('update_contact').inputSchema.properties.contactId.description, /list_contacts/);
  assert.equal(byName.get('find_contact').annotations.readOnlyHint, true);
  assert.equal(byName.get('webhook_logs').annotations.readOnlyHint, true);
  assert.equal(byName.get('retry_delivery').annotations.idempotentHint, false);
  const currency = byName.get('create_payment_link').inputSchema.properties.currency;
  assert.ok(Array.isArray(currency.enum) && currency.enum.length > 0, 'choices become an enum');
  await client.close();
});

test('one tool of each kind runs, through the same routes and the same upstream token as the REST API', { skip }, async () => {
  const { client } = await connect(keys.ada);
  gw.upstreamCalls.length = 0;

  const search = await client.callTool({ name: 'find_contact', arguments: { email: 'asha@example.com' } });
  assert.equal(search.isError, false, text(search));
  assert.equal(search.structuredContent.results[0].id, 'c1');

  const created = await client.callTool({ name: 'create_contact', arguments: { phone: '+919812345678', name: 'Ravi' } });
  assert.equal(created.isError, false, text(created));
  assert.equal(created.structuredContent.name, 'Ravi');

  const list = await client.callTool({ name: 'list_contacts', arguments: { query: 'Ash' } });
  assert.deepEqual(list.structuredContent.items, [{ value: 'c1', label: 'Asha' }]);

  const call = await client.callTool({ name: 'api_call', arguments: { method: 'GET', path: '/api/tags' } });
  assert.equal(call.structuredContent.status, 200);

  await gw.upstreamCallsReported(4);
  assert.deepEqual(
    gw.upstreamCalls.map((c) => [c.method, c.path, c.org]),
    [
      ['GET', '/api/contacts', 'org_ada'],
      ['POST', '/api/contacts', 'org_ada'],
      ['GET', '/api/contacts', 'org_ada'],
      ['GET', '/api/tags', 'org_ada'],
    ],
  );
  assert.equal(gw.upstreamCalls[2].query.q, 'Ash');
  await client.close();
});

test('the delivery tools find a failed delivery, say why, and send it again', { skip }, async () => {
  const { client } = await connect(keys.ada);
  const found = await client.callTool({ name: 'find_delivery', arguments: { id: 'wamid.123' } });
  assert.equal(found.isError, false, text(found));
  const [row] = found.structuredContent.data;
  assert.equal(row.status, 'failed');
  assert.equal(row.responseCode, 500);
  assert.match(row.responseBody, /receiver is down for maintenance/);
  assert.equal(row.webhookId, ada.webhook.id);

  const logs = await client.callTool({ name: 'webhook_logs', arguments: { webhookId: ada.webhook.id, status: 'failed' } });
  assert.ok(logs.structuredContent.data.some((r) => r.eventId === 'wamid.123'));

  const hooks = await client.callTool({ name: 'list_webhooks', arguments: {} });
  assert.deepEqual(hooks.structuredContent.data.map((w) => w.id), [ada.webhook.id]);

  const retried = await client.callTool({ name: 'retry_delivery', arguments: { webhookId: ada.webhook.id, deliveryId: ada.deliveryId } });
  assert.equal(retried.isError, false, text(retried));
  const tested = await client.callTool({ name: 'send_test_event', arguments: { webhookId: ada.webhook.id } });
  assert.equal(tested.isError, false, text(tested));
  assert.ok(tested.structuredContent.eventId);
  const since = new Date(Date.now() - 3600 * 1000).toISOString();
  const recovered = await client.callTool({ name: 'recover_failed', arguments: { webhookId: ada.webhook.id, since } });
  assert.equal(recovered.isError, false, text(recovered));
  assert.equal(typeof recovered.structuredContent.requeued, 'number');

  const prompt = await client.getPrompt({ name: 'debug_delivery', arguments: { reference: 'wamid.123' } });
  assert.match(prompt.messages[0].content.text, /find_delivery/);
  await client.close();
});

test('resources: the describe document and each trigger\'s newest real events', { skip }, async () => {
  const { client } = await connect(keys.ada);
  const { resources } = await client.listResources();
  const uris = resources.map((r) => r.uri);
  assert.ok(uris.includes('kaanha://catalog'));
  assert.ok(uris.includes('kaanha://samples/message.received'));
  const catalog = await client.readResource({ uri: 'kaanha://catalog' });
  assert.ok(JSON.parse(catalog.contents[0].text).triggers.some((t) => t.event === 'message.received'));
  const samples = await client.readResource({ uri: 'kaanha://samples/message.received' });
  const events = JSON.parse(samples.contents[0].text);
  assert.equal(events[0].id, 'wamid.123', 'the newest real event, not the catalog sample');
  await client.close();
});

test('an upstream failure and bad arguments are tool errors naming the cause, not protocol errors', { skip }, async () => {
  const { client } = await connect(keys.ada);
  const failed = await client.callTool({ name: 'find_contact', arguments: { email: 'down@example.com' } });
  assert.equal(failed.isError, true);
  assert.match(text(failed), /^502: .*503.*contacts service is down/);
  const bad = await client.callTool({ name: 'create_contact', arguments: { name: 7 } });
  assert.equal(bad.isError, true);
  assert.match(text(bad), /phone/);
  assert.match(text(bad), /name/);
  const badDelivery = await client.callTool({ name: 'webhook_logs', arguments: { webhookId: ada.webhook.id, status: 'lost', colour: 'red' } });
  assert.equal(badDelivery.isError, true);
  assert.match(text(badDelivery), /`status`/);
  assert.match(text(badDelivery), /`colour`/);
  await client.close();
});

test('without a credential the endpoint answers 401 with WWW-Authenticate, and the SDK cannot connect', { skip }, async () => {
  const response = await fetch(gw.mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
  });
  assert.equal(response.status, 401);
  assert.match(response.headers.get('www-authenticate'), /^Bearer/);
  await assert.rejects(connect(undefined));
  await assert.rejects(connect('kgw_0000000000000000000000000000000000000000000000'));
});

test('scopes decide which tools exist: one outside the key\'s scopes is unknown', { skip }, async () => {
  const { client } = await connect(keys.adaIntegrations);
  const names = (await client.listTools()).tools.map((t) => t.name);
  assert.ok(names.includes('find_contact'));
  assert.ok(!names.includes('find_delivery'));
  await assert.rejects(client.callTool({ name: 'find_delivery', arguments: { id: 'wamid.123' } }), (err) => err.code === ErrorCode.InvalidParams && /Unknown tool/.test(err.message));
  assert.deepEqual((await client.listPrompts()).prompts, []);
  await client.close();

  const { client: webhooksOnly } = await connect(keys.adaWebhooks);
  const theirs = (await webhooksOnly.listTools()).tools.map((t) => t.name);
  assert.ok(theirs.includes('find_delivery'));
  assert.ok(!theirs.includes('find_contact') && !theirs.includes('api_call'));
  assert.deepEqual((await webhooksOnly.listResources()).resources, []);
  await assert.rejects(webhooksOnly.readResource({ uri: 'kaanha://catalog' }));
  await webhooksOnly.close();
});

test('no tool reaches another organization: every tool, called with the other\'s ids', { skip }, async () => {
  const { client } = await connect(keys.ada);
  const { tools } = await client.listTools();
  gw.upstreamCalls.length = 0;
  const theirs = { webhookId: bea.webhook.id, deliveryId: bea.deliveryId, id: bea.eventId, contactId: 'c1', conversationId: 'conv1' };
  for (const tool of tools) {
    const args = {};
    for (const [name, schema] of Object.entries(tool.inputSchema.properties || {})) {
      if (name in theirs) args[name] = theirs[name];
      else if ((tool.inputSchema.required || []).includes(name)) args[name] = schema.enum ? schema.enum[0] : schema.type === 'number' || schema.type === 'integer' ? 1 : schema.format === 'date-time' ? new Date(Date.now() - 60000).toISOString() : schema.type === 'array' ? ['x'] : schema.type === 'boolean' ? true : 'x';
    }
    if (tool.name === 'api_call') Object.assign(args, { method: 'GET', path: '/api/contacts' });
    const result = await client.callTool({ name: tool.name, arguments: args });
    const said = JSON.stringify(result);
    // A 404 repeats the id it was asked for; nothing else of the other organization may show.
    const notFound = result.isError && /^404: No [a-z ]+ with id/.test(text(result));
    for (const secret of [bea.eventId, bea.deliveryId, bea.webhook.url, 'org_bea']) {
      assert.ok(!said.includes(secret) || notFound, `${tool.name} showed ${secret}: ${said}`);
    }
    if (Object.values(args).includes(bea.webhook.id)) assert.equal(result.isError, true, `${tool.name} acted on another organization's webhook`);
  }
  const found = await client.callTool({ name: 'find_delivery', arguments: { id: bea.deliveryId } });
  assert.deepEqual(found.structuredContent.data, []);
  assert.ok(gw.upstreamCalls.length > 0);
  assert.deepEqual([...new Set(gw.upstreamCalls.map((c) => c.org))], ['org_ada']);
  await client.close();
});

test('a session belongs to its credential, ends with DELETE, and Origin is checked', { skip }, async () => {
  const { client, transport } = await connect(keys.ada);
  const sessionId = transport.sessionId;
  const post = (key, headers = {}) =>
    fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': LATEST_PROTOCOL_VERSION, ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
  const other = gw.keyFor('org_bea', 'Claude (Bea)', 'integrations webhooks');
  assert.equal((await post(other, { 'mcp-session-id': sessionId })).status, 404, "another organization's key cannot use the session");
  assert.equal((await post(keys.ada, { 'mcp-session-id': sessionId })).status, 200);
  assert.equal((await post(keys.ada, { origin: 'https://evil.example' })).status, 403);
  await transport.terminateSession();
  assert.equal((await post(keys.ada, { 'mcp-session-id': sessionId })).status, 404, 'the session ended');
  await client.close();
});
