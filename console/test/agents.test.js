'use strict';
// Connect an AI agent: the MCP page shows the server's URL, makes a key for an agent, and fills
// it into every client's configuration; the key it made opens an MCP session whose tools match
// the scopes chosen.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { skip, start, accessible, shoot, noErrors, PUBLIC_URL } = require('./harness');

let gw;
before(async () => {
  if (!skip) gw = await start();
});
after(async () => gw && gw.stop());

/** Opens an MCP session with `key` and lists its tools, as any MCP client would on the wire. */
async function toolNames(key) {
  const post = (body, session) => fetch(`${gw.base}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } : {}) },
    body: JSON.stringify(body),
  });
  const opened = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'console-test', version: '1' } } });
  assert.equal(opened.status, 200);
  const session = opened.headers.get('mcp-session-id');
  await opened.text();
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  const listed = await (await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, session)).text();
  const data = listed.split('\n').find((line) => line.startsWith('data: {'));
  return JSON.parse(data.slice(6)).result.tools.map((t) => t.name);
}

test('the AI agents page makes a key for an agent and fills it into each client’s configuration', { skip }, async () => {
  const admin = gw.keyWith('org_agents', 'admin', 'api-keys,integrations,webhooks');
  const page = await gw.newPage();
  await page.goto(`${gw.base}/console`);
  await page.keyboard.type(admin);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Webhooks' }).waitFor();

  await page.getByRole('link', { name: 'Connect a platform' }).click();
  await page.getByRole('link', { name: 'AI agents (MCP)' }).click();
  await page.getByRole('heading', { name: 'Connect an AI agent (MCP)' }).waitFor();
  assert.equal(await page.locator('#mcp-url').textContent(), `${PUBLIC_URL}/mcp`);
  for (const client of ['Claude Code', 'Cursor', 'VS Code', 'Claude Desktop', 'n8n AI Agent']) {
    assert.match(await page.locator(`pre[data-client="${client}"]`).textContent(), /<YOUR_API_KEY>/);
  }
  await accessible(page, 'Connect an AI agent');

  assert.ok(await page.getByLabel(/^webhooks/).isChecked());
  await page.getByRole('button', { name: 'Create a key for an AI agent' }).click();
  await page.getByText('Copy it now: it is shown only this once').waitFor();
  const key = await page.locator('#new-key').inputValue();
  assert.match(key, /^kgw_/);
  const cursor = JSON.parse(await page.locator('pre[data-client="Cursor"]').textContent());
  assert.deepEqual(cursor.mcpServers.kaanha, { url: `${PUBLIC_URL}/mcp`, headers: { Authorization: `Bearer ${key}` } });
  assert.match(await page.locator('pre[data-client="Claude Code"]').textContent(), new RegExp(`--header "Authorization: Bearer ${key}"`));
  await shoot(page, 'connect-mcp.png');

  // The key works at /mcp, and holds the webhooks scope the page asked for: the delivery tools.
  const names = await toolNames(key);
  assert.ok(names.includes('find_delivery') && names.includes('recover_failed'), names.join(', '));

  // Without webhooks, the next key's agent sees no delivery tool.
  await page.getByLabel(/^webhooks/).uncheck();
  await page.getByRole('button', { name: 'Create a key for an AI agent' }).click();
  await page.waitForFunction((first) => document.getElementById('new-key').value !== first, key);
  const second = await page.locator('#new-key').inputValue();
  assert.ok(!(await toolNames(second)).includes('find_delivery'));
  noErrors(page);
});
