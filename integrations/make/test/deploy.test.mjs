// The app deployed by `deploy.mjs` through Make's own SDK into a stand-in of Make's API on
// loopback: every component arrives with its sections, under the names Make gives it, each
// instant trigger on its own event's webhook; a second deployment, and one whose mapping was
// lost, create nothing twice; what Make or the SDK's schemas would refuse stops the deployment
// before anything is sent.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { startMakeApi } from './make-api.mjs';

const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEPLOY = path.join(APP_DIR, 'deploy.mjs');
const API_KEY = '6f1f9f4e-5a7b-4c1d-9e2f-3a4b5c6d7e8f';

let make;
before(async () => {
  make = await startMakeApi({ apiKey: API_KEY });
});
after(() => make.close());

/** A copy of the project, as a user holds it after `integrations export`. */
async function project() {
  const dir = await mkdtemp(path.join(tmpdir(), 'kaanha-make-'));
  for (const entry of ['makecomapp.json', 'general', 'connections', 'webhooks', 'modules', 'rpcs']) {
    await cp(path.join(APP_DIR, entry), path.join(dir, entry), { recursive: true });
  }
  return dir;
}

async function run(dir, ...args) {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [DEPLOY, '--project', dir, '--base-url', make.baseUrl, ...args], {
      env: { ...process.env, MAKE_API_KEY: API_KEY },
    });
    return { code: 0, output: stdout };
  } catch (error) {
    return { code: error.code, output: `${error.stdout}${error.stderr}` };
  }
}

const manifestOf = async (dir) => JSON.parse(await readFile(path.join(dir, 'makecomapp.json'), 'utf8'));
const jsonOf = async (dir, file) => JSON.parse(await readFile(path.join(dir, file), 'utf8'));
const creations = () => make.calls.filter((c) => c.method === 'POST').length;

test('deploys every component with its sections, under the names Make gives, each trigger on its own event', async () => {
  const dir = await project();
  const local = await manifestOf(dir);
  const deployed = await run(dir, '--create');
  assert.equal(deployed.code, 0, deployed.output);

  const [origin] = (await manifestOf(dir)).origins;
  const app = make.apps.get(origin.appId);
  assert.ok(app, `the origin names the app Make created (${origin.appId})`);
  assert.match(app.name, /^kaanha-[0-9a-z]+$/);

  // Make named the connection and the webhooks; the files still use the local ids.
  const remote = (kind, id) => origin.idMapping[kind].find((m) => m.local === id)?.remote;
  const connection = remote('connection', 'kaanha');
  assert.equal(connection, app.name);
  const webhooks = Object.keys(local.components.webhook);
  assert.equal(app.webhook.size, webhooks.length);
  for (const id of webhooks) {
    const name = remote('webhook', id);
    assert.ok(name.startsWith(app.name) && name !== id, `${id} deployed as ${name}`);
    const hook = app.webhook.get(name);
    assert.equal(hook.connection, connection);
    for (const [code, section] of [['communication', 'api'], ['params', 'parameters'], ['attach', 'attach'], ['detach', 'detach']]) {
      assert.deepEqual(hook.sections[section], await jsonOf(dir, local.components.webhook[id].codeFiles[code]), `${id} ${section}`);
    }
  }

  for (const [id, module] of Object.entries(local.components.module)) {
    const deployedModule = app.module.get(id);
    assert.ok(deployedModule, `module ${id}`);
    assert.equal(deployedModule.connection, connection, `${id} uses the connection`);
    for (const [code, file] of Object.entries(module.codeFiles)) {
      const section = { communication: 'api', mappableParams: 'expect', interface: 'interface', samples: 'samples' }[code];
      assert.deepEqual(deployedModule.sections[section], await jsonOf(dir, file), `${id} ${section}`);
    }
    if (module.moduleType === 'instant_trigger') {
      // The trigger listens on the webhook that subscribes to its own event, under Make's name.
      const expected = (await jsonOf(dir, local.components.webhook[module.webhook].codeFiles.attach)).body.event;
      assert.equal(app.webhook.get(deployedModule.webhook).sections.attach.body.event, expected, id);
    }
  }
  assert.equal(app.module.get('watchMessageReceived').typeId, 10);
  assert.equal(app.module.get('sendMessage').typeId, 4);
  assert.equal(app.module.get('findContact').typeId, 9);
  assert.equal(app.module.get('makeApiCall').typeId, 12);
  for (const id of Object.keys(local.components.rpc)) {
    assert.equal(app.rpc.get(id).connection, connection, id);
    assert.ok(app.rpc.get(id).sections.api.url.startsWith('/api/integrations/lists/'), id);
  }
  assert.deepEqual(app.sections.groups, await jsonOf(dir, 'general/groups.json'));
  assert.deepEqual(app.sections.base, await jsonOf(dir, 'general/base.imljson'));
  assert.match(app.readme, /^# Kaanha AI/);
  assert.equal(app.icon.length, (await readFile(path.join(dir, 'general/icon.png'))).length);
  await rm(dir, { recursive: true });
});

test('deploying again, or after the mapping was lost, creates nothing twice', async () => {
  const dir = await project();
  assert.equal((await run(dir, '--create')).code, 0);
  const [origin] = (await manifestOf(dir)).origins;
  const app = make.apps.get(origin.appId);
  const counts = () => ['connection', 'webhook', 'module', 'rpc'].map((kind) => app[kind].size);
  const before = counts();

  // A changed label reaches Make on the next deployment, into the same webhook.
  const manifest = await manifestOf(dir);
  manifest.components.webhook.messageReceivedHook.label = 'Message Received (renamed)';
  await writeFile(path.join(dir, 'makecomapp.json'), JSON.stringify(manifest, null, 2));
  const posts = creations();
  assert.equal((await run(dir, '--app', origin.appId)).code, 0);
  assert.equal(creations(), posts, 'nothing created');
  assert.deepEqual(counts(), before);
  const renamed = (await manifestOf(dir)).origins[0].idMapping.webhook.find((m) => m.local === 'messageReceivedHook').remote;
  assert.equal(app.webhook.get(renamed).label, 'Message Received (renamed)');

  // The origins gone (a fresh export over a lost checkout): paired again by label and name.
  const lost = await manifestOf(dir);
  lost.origins = [];
  await writeFile(path.join(dir, 'makecomapp.json'), JSON.stringify(lost, null, 2));
  assert.equal((await run(dir, '--app', origin.appId)).code, 0);
  assert.equal(creations(), posts, 'nothing created');
  assert.deepEqual(counts(), before);
  assert.deepEqual((await manifestOf(dir)).origins[0].idMapping.webhook.length, before[1]);
  await rm(dir, { recursive: true });
});

test('what Make or its SDK would refuse stops the deployment before anything is sent', async () => {
  const cases = [
    // Make's id rule for modules: no underscores.
    [(m) => { m.components.module.watch_message_received = m.components.module.watchMessageReceived; }, /module id "watch_message_received"/],
    // An instant trigger on a webhook the project does not have.
    [(m) => { m.components.module.watchMessageReceived.webhook = 'nowhere'; }, /instant trigger needs a webhook/],
    // The SDK's published schema for creating a connection requires its type.
    [(m) => { delete m.components.connection.kaanha.connectionType; }, /sdk-connections_create: .*type/],
  ];
  for (const [change, refusal] of cases) {
    const dir = await project();
    const manifest = await manifestOf(dir);
    change(manifest);
    await writeFile(path.join(dir, 'makecomapp.json'), JSON.stringify(manifest, null, 2));
    const appsBefore = make.apps.size;
    const connectionsBefore = make.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/connections')).length;
    const result = await run(dir, '--create');
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, refusal);
    assert.equal(
      make.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/connections')).length,
      connectionsBefore,
      'no connection was created',
    );
    assert.ok(make.apps.size - appsBefore <= 1);
    await rm(dir, { recursive: true });
  }
});
