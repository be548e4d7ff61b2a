#!/usr/bin/env node
// Deploys this Make app (the local project `makecomapp.json` describes) into an app on Make,
// through Make's own SDK: every step is one of the tools `@makehq/sdk` publishes (the same that
// `make-cli sdk-apps …`, `sdk-modules …` run), its arguments checked against the tool's
// published input schema before it is sent.
//
//   MAKE_API_KEY=… node deploy.mjs --base-url https://eu1.make.com/api --create
//   MAKE_API_KEY=… node deploy.mjs --base-url https://eu1.make.com/api --app kaanha-x1y2z3
//
// Make names connections and webhooks itself (`kaanha-x1y2z3`, `kaanha-x1y2z32`, …). The local
// ids stay in the files; what each deployment's names are is kept in its origin's `idMapping`
// in `makecomapp.json`, exactly as the Make Apps Editor VS Code extension keeps it, so either
// tool can deploy the same project afterwards. A deployment whose mapping was lost is paired
// again by label (connections, webhooks) or name (modules, RPCs), never duplicated.

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Make } from '@makehq/sdk';
import { MakeTools } from '@makehq/sdk/tools';
import Ajv from 'ajv';

/** Make's module types, by the `moduleType` of `makecomapp.json`. */
const MODULE_TYPE_IDS = { trigger: 1, action: 4, search: 9, instant_trigger: 10, responder: 11, universal: 12 };

/** Which API section each code of `makecomapp.json` is, per kind of component. */
const SECTIONS = {
  connection: { communication: 'api', params: 'parameters' },
  webhook: { communication: 'api', params: 'parameters', attach: 'attach', detach: 'detach', update: 'update', requiredScope: 'scope' },
  module: { communication: 'api', epoch: 'epoch', staticParams: 'parameters', mappableParams: 'expect', interface: 'interface', samples: 'samples', scope: 'scope' },
  rpc: { communication: 'api', params: 'parameters' },
};

/** Make's rules for the ids of modules and RPCs, as its apps SDK checks them. */
const VALID_NAME = /^[a-zA-Z][0-9a-zA-Z]{3,47}$/;

/** Connections before what references them; webhooks before the instant triggers on them. */
const ORDER = ['connection', 'webhook', 'rpc', 'module'];

const APP = {
  label: 'Kaanha AI',
  description: 'Every Kaanha AI event as it happens, and actions on contacts, conversations and payments.',
  theme: '#25D366',
  language: 'en',
  audience: 'global',
};

const HELP = `Usage: node deploy.mjs --base-url <https://<zone>/api> (--app <app name> | --create) [--version 1] [--project <dir>]
The project: the directory of makecomapp.json (this script's, unless given). The API key: MAKE_API_KEY, or the project's .secrets/apikey (the extension's place). Scopes: sdk-apps:read, sdk-apps:write.`;

export async function deploy({ projectDir, baseUrl, appName, create, version, apiKey, log = console.log }) {
  const manifestPath = path.join(projectDir, 'makecomapp.json');
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
  checkIds(manifest);
  const make = client(baseUrl, apiKey);
  const call = toolCaller(make);

  let origin;
  if (create) {
    const app = await call('sdk-apps_create', { name: 'kaanha', ...APP, private: true });
    log(`created app ${app.name}`);
    origin = { label: `Make (${app.name})`, baseUrl, appId: app.name, appVersion: app.version ?? version, apikeyFile: '.secrets/apikey' };
    manifest.origins.push(origin);
  } else {
    origin = manifest.origins.find((o) => o.baseUrl === baseUrl && o.appId === appName && o.appVersion === version);
    if (!origin) {
      origin = { label: `Make (${appName})`, baseUrl, appId: appName, appVersion: version, apikeyFile: '.secrets/apikey' };
      manifest.origins.push(origin);
    }
    await call('sdk-apps_get', { name: appName, version });
  }
  origin.idMapping ??= { connection: [], webhook: [], module: [], rpc: [], function: [], endpoint: [] };
  const app = { appName: origin.appId, appVersion: origin.appVersion };

  const remoteName = (kind, localId) => {
    if (!localId) return undefined;
    const item = origin.idMapping[kind].find((m) => m.local === localId);
    if (!item?.remote) throw new Error(`${kind} "${localId}" is referenced before it is deployed`);
    return item.remote;
  };

  for (const kind of ORDER) {
    const existing = await listRemote(call, kind, app);
    for (const [localId, component] of Object.entries(manifest.components[kind])) {
      const refs = {
        connection: remoteName('connection', component.connection),
        webhook: kind === 'module' ? remoteName('webhook', component.webhook) : undefined,
      };
      let name = origin.idMapping[kind].find((m) => m.local === localId)?.remote;
      name ??= pair(kind, localId, component, existing, origin.idMapping[kind]);
      if (!name) {
        name = await createRemote(call, kind, localId, component, refs, app);
        log(`created ${kind} ${localId} as ${name}`);
      } else {
        await updateRemote(call, kind, name, component, refs, app);
      }
      const mapping = origin.idMapping[kind].filter((m) => m.local !== localId);
      origin.idMapping[kind] = [...mapping, { local: localId, remote: name }];
      for (const [code, file] of Object.entries(component.codeFiles)) {
        if (file === null) continue;
        const section = SECTIONS[kind][code];
        if (!section) throw new Error(`${kind} "${localId}": Make has no "${code}" code for a ${kind}`);
        const body = await readFile(path.join(projectDir, file), 'utf8');
        await setSection(call, kind, name, section, body, app);
      }
    }
  }

  const general = manifest.generalCodeFiles;
  const read = (file) => readFile(path.join(projectDir, file), 'utf8');
  const where = { name: app.appName, version: app.appVersion };
  for (const section of ['base', 'groups']) {
    if (general[section]) await call('sdk-apps_set-section', { ...where, section, body: await read(general[section]) });
  }
  if (general.readme) await call('sdk-apps_set-docs', { ...where, docs: await read(general.readme) });
  const icon = await readFile(path.join(projectDir, 'general/icon.png'));
  await call('sdk-apps_set-icon', { ...where, dataBase64: icon.toString('base64') });

  await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  log(`deployed into ${app.appName} (version ${app.appVersion}); makecomapp.json keeps its names`);
  return origin;
}

/** Refuses ids Make would refuse, before anything is sent. */
function checkIds(manifest) {
  for (const kind of ['module', 'rpc']) {
    for (const id of Object.keys(manifest.components[kind] ?? {})) {
      if (!VALID_NAME.test(id)) throw new Error(`${kind} id "${id}" is not one Make accepts (${VALID_NAME})`);
    }
  }
  for (const [id, module] of Object.entries(manifest.components.module ?? {})) {
    if (!(module.moduleType in MODULE_TYPE_IDS)) throw new Error(`module "${id}": unknown moduleType "${module.moduleType}"`);
    if (module.moduleType === 'instant_trigger' && !manifest.components.webhook?.[module.webhook]) {
      throw new Error(`module "${id}": an instant trigger needs a webhook of this project, not "${module.webhook}"`);
    }
  }
}

/** Make's SDK client for a zone URL such as `https://eu1.make.com/api`. */
function client(baseUrl, apiKey) {
  const url = new URL(baseUrl);
  if (!url.pathname.replace(/\/$/, '').endsWith('/api')) throw new Error(`--base-url must end with /api, not ${baseUrl}`);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
  if (url.protocol !== 'https:' && !loopback) throw new Error('--base-url must be https (the API key travels with every call)');
  const make = new Make(apiKey, url.host);
  make.protocol = url.protocol.replace(':', '');
  return make;
}

/** Runs one of the SDK's published tools, its arguments checked against its input schema. */
function toolCaller(make) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const checks = new Map();
  return async (name, args) => {
    const tool = MakeTools.find((t) => t.name === name);
    if (!tool) throw new Error(`@makehq/sdk has no tool ${name}`);
    if (!checks.has(name)) checks.set(name, ajv.compile(tool.inputSchema));
    const valid = checks.get(name);
    if (!valid(args)) throw new Error(`${name}: ${ajv.errorsText(valid.errors)}`);
    try {
      return await tool.execute(make, args);
    } catch (error) {
      throw new Error(`${name}: ${error.message}`, { cause: error });
    }
  };
}

async function listRemote(call, kind, app) {
  switch (kind) {
    case 'connection':
      return call('sdk-connections_list', { appName: app.appName });
    case 'webhook':
      return call('sdk-webhooks_list', { appName: app.appName });
    case 'module':
      return call('sdk-modules_list', app);
    case 'rpc':
      return call('sdk-rpcs_list', app);
  }
}

/** A remote component not in the mapping yet, found again: by name where the name is ours, by
 * label where Make chose the name. Only one not already paired with another local id. */
function pair(kind, localId, component, existing, mapping) {
  const taken = new Set(mapping.map((m) => m.remote));
  const free = existing.filter((remote) => !taken.has(remote.name));
  const match = ['module', 'rpc'].includes(kind)
    ? free.filter((remote) => remote.name === localId)
    : free.filter((remote) => remote.label === component.label);
  return match.length === 1 ? match[0].name : undefined;
}

async function createRemote(call, kind, localId, component, refs, app) {
  switch (kind) {
    case 'connection':
      return (await call('sdk-connections_create', { appName: app.appName, type: component.connectionType, label: component.label })).name;
    case 'webhook':
      return (
        await call('sdk-webhooks_create', {
          appName: app.appName,
          type: component.webhookType,
          label: component.label,
          ...(refs.connection && { connection: refs.connection }),
        })
      ).name;
    case 'module': {
      const created = await call('sdk-modules_create', {
        ...app,
        name: localId,
        typeId: MODULE_TYPE_IDS[component.moduleType],
        label: component.label,
        description: component.description,
        ...(refs.connection && { connection: refs.connection }),
        ...(refs.webhook && { webhook: refs.webhook }),
        // Make's API insists on a subtype for a universal module.
        ...(component.moduleType === 'universal' && { subtype: 'Universal' }),
      });
      return created.name;
    }
    case 'rpc': {
      const created = await call('sdk-rpcs_create', { ...app, name: localId, label: component.label });
      await call('sdk-rpcs_update', { ...app, rpcName: created.name, ...(refs.connection && { connection: refs.connection }) });
      return created.name;
    }
  }
}

async function updateRemote(call, kind, name, component, refs, app) {
  switch (kind) {
    case 'connection':
      return call('sdk-connections_update', { connectionName: name, label: component.label });
    case 'webhook':
      return call('sdk-webhooks_update', { webhookName: name, label: component.label });
    case 'module':
      return call('sdk-modules_update', {
        ...app,
        moduleName: name,
        label: component.label,
        description: component.description,
        ...(refs.connection && { connection: refs.connection }),
        ...(refs.webhook && { webhook: refs.webhook }),
      });
    case 'rpc':
      return call('sdk-rpcs_update', { ...app, rpcName: name, label: component.label, ...(refs.connection && { connection: refs.connection }) });
  }
}

function setSection(call, kind, name, section, body, app) {
  switch (kind) {
    case 'connection':
      return call('sdk-connections_set-section', { connectionName: name, section, body });
    case 'webhook':
      return call('sdk-webhooks_set-section', { webhookName: name, section, body });
    case 'module':
      return call('sdk-modules_set-section', { ...app, moduleName: name, section, body });
    case 'rpc':
      return call('sdk-rpcs_set-section', { ...app, rpcName: name, section, body });
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      'base-url': { type: 'string' },
      app: { type: 'string' },
      create: { type: 'boolean', default: false },
      version: { type: 'string', default: '1' },
      project: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values['base-url'] || values.create === Boolean(values.app)) {
    console.error(HELP);
    process.exit(values.help ? 0 : 2);
  }
  const projectDir = values.project ?? path.dirname(fileURLToPath(import.meta.url));
  const apiKey = process.env.MAKE_API_KEY ?? (await readFile(path.join(projectDir, '.secrets/apikey'), 'utf8').catch(() => '')).trim();
  if (!apiKey) {
    console.error('No API key: set MAKE_API_KEY, or put it in .secrets/apikey.');
    process.exit(2);
  }
  await deploy({
    projectDir,
    baseUrl: values['base-url'],
    appName: values.app,
    create: values.create,
    version: Number(values.version),
    apiKey,
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`deploy failed: ${error.message}`);
    process.exit(1);
  });
}
