// A stand-in for the part of Make's API (`/api/v2/sdk/apps/…`) that apps are deployed through,
// on loopback, keeping what it is sent. It holds Make to the rules its SDK and apps SDK publish
// and that a deployment can trip over: names Make chooses for connections and webhooks (the app
// name, then with 2, 3, …), app names with a random suffix, module and RPC id patterns, module
// type ids, an instant trigger's webhook and every connection reference existing, sections
// only among those the SDK names, sent as `application/jsonc` that parses, a 512×512 PNG icon,
// and the `Token` key on every call. It answers Make's error shape, `{message, detail}`.

import { createServer } from 'node:http';

const MODULE_TYPE_IDS = new Set([1, 4, 9, 10, 11, 12]);
const SECTIONS = {
  app: ['base', 'groups', 'install', 'installSpec'],
  connection: ['api', 'parameters', 'scopes', 'scope', 'install', 'installSpec'],
  webhook: ['api', 'parameters', 'attach', 'detach', 'scope', 'update'],
  module: ['api', 'epoch', 'parameters', 'expect', 'interface', 'samples', 'scope'],
  rpc: ['api', 'parameters'],
};

class Refusal extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export async function startMakeApi({ apiKey }) {
  const apps = new Map();
  const calls = [];
  const names = { connection: new Map(), webhook: new Map() };

  const appOf = (name) => {
    const app = apps.get(name);
    if (!app) throw new Refusal(404, `App ${name} not found.`);
    return app;
  };
  const owned = (kind, name) => {
    for (const app of apps.values()) {
      const component = app[kind].get(name);
      if (component) return { app, component };
    }
    throw new Refusal(404, `${kind} ${name} not found.`);
  };
  const needConnection = (app, name) => {
    if (name && !app.connection.has(name)) throw new Refusal(400, `Connection ${name} does not exist in ${app.name}.`);
  };
  const section = (kind, component, name, request, body) => {
    if (!SECTIONS[kind].includes(name)) throw new Refusal(400, `A ${kind} has no section ${name}.`);
    if (request.headers['content-type'] !== 'application/jsonc') throw new Refusal(415, `Section ${name} must be sent as application/jsonc.`);
    try {
      component.sections[name] = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new Refusal(400, `Section ${name} is not valid JSON: ${error.message}`);
    }
    return {};
  };
  const nextName = (kind, app) => {
    const n = (names[kind].get(app.name) ?? 0) + 1;
    names[kind].set(app.name, n);
    return n === 1 ? app.name : `${app.name}${n}`;
  };

  const routes = [
    ['POST', /^\/sdk\/apps$/, (_m, json) => {
      for (const field of ['name', 'label', 'theme', 'language', 'audience']) {
        if (!json[field]) throw new Refusal(400, `${field} is required.`);
      }
      if (!/^[a-z][0-9a-z-]{1,28}[0-9a-z]$/.test(json.name)) throw new Refusal(400, `Invalid app name ${json.name}.`);
      const name = `${json.name}-${Math.random().toString(36).slice(2, 8)}`;
      const app = { name, version: 1, meta: json, sections: {}, connection: new Map(), webhook: new Map(), module: new Map(), rpc: new Map() };
      apps.set(name, app);
      return { app: { name, label: json.label, version: 1, theme: json.theme, public: false, approved: false } };
    }],
    ['GET', /^\/sdk\/apps\/([^/]+)\/(\d+)$/, ([name]) => ({ app: { name: appOf(name).name, version: 1 } })],
    ['PUT', /^\/sdk\/apps\/([^/]+)\/(\d+)\/(base|groups|install|installSpec)$/, ([name, , part], _j, req, body) => section('app', appOf(name), part, req, body)],
    ['PUT', /^\/sdk\/apps\/([^/]+)\/(\d+)\/readme$/, ([name], _j, req, body) => {
      if (req.headers['content-type'] !== 'text/markdown') throw new Refusal(415, 'The readme is markdown.');
      appOf(name).readme = body.toString('utf8');
      return { changed: true };
    }],
    ['PUT', /^\/sdk\/apps\/([^/]+)\/(\d+)\/icon$/, ([name], _j, req, body) => {
      if (req.headers['content-type'] !== 'image/png') throw new Refusal(415, 'The icon is a PNG.');
      const width = body.readUInt32BE(16);
      const height = body.readUInt32BE(20);
      if (width !== 512 || height !== 512) throw new Refusal(400, `The icon must be 512x512, not ${width}x${height}.`);
      appOf(name).icon = body;
      return { changed: true };
    }],
    // Connections and webhooks belong to the app, not to a version, and Make names them.
    ['GET', /^\/sdk\/apps\/([^/]+)\/(connections|webhooks)$/, ([name, plural]) => {
      const kind = plural.slice(0, -1);
      const list = [...appOf(name)[kind].values()].map(({ sections, ...meta }) => meta);
      return { [`app${plural[0].toUpperCase()}${plural.slice(1)}`]: list };
    }],
    ['POST', /^\/sdk\/apps\/([^/]+)\/(connections|webhooks)$/, ([name, plural], json) => {
      const kind = plural.slice(0, -1);
      const app = appOf(name);
      const types = kind === 'connection' ? ['basic', 'oauth'] : ['web', 'web-shared'];
      if (!types.includes(json.type)) throw new Refusal(400, `Invalid ${kind} type ${json.type}.`);
      if (!json.label) throw new Refusal(400, 'label is required.');
      needConnection(app, json.connection);
      const meta = { name: nextName(kind, app), label: json.label, type: json.type, ...(json.connection && { connection: json.connection }) };
      app[kind].set(meta.name, { ...meta, sections: {} });
      return { [kind === 'connection' ? 'appConnection' : 'appWebhook']: meta };
    }],
    ['PATCH', /^\/sdk\/apps\/(connections|webhooks)\/([^/]+)$/, ([plural, name], json) => {
      const kind = plural.slice(0, -1);
      const { app, component } = owned(kind, name);
      needConnection(app, json.connection);
      Object.assign(component, json);
      const { sections, ...meta } = component;
      return { [kind === 'connection' ? 'appConnection' : 'appWebhook']: meta };
    }],
    ['PUT', /^\/sdk\/apps\/(connections|webhooks)\/([^/]+)\/(\w+)$/, ([plural, name, part], _j, req, body) => {
      const kind = plural.slice(0, -1);
      return section(kind, owned(kind, name).component, part, req, body);
    }],
    // Modules and RPCs belong to a version, under the names the app gives them.
    ['GET', /^\/sdk\/apps\/([^/]+)\/(\d+)\/(modules|rpcs)$/, ([name, , plural]) => {
      const kind = plural.slice(0, -1);
      const list = [...appOf(name)[kind].values()].map(({ sections, ...meta }) => meta);
      return { [kind === 'module' ? 'appModules' : 'appRpcs']: list };
    }],
    ['POST', /^\/sdk\/apps\/([^/]+)\/(\d+)\/(modules|rpcs)$/, ([name, , plural], json) => {
      const kind = plural.slice(0, -1);
      const app = appOf(name);
      if (!/^[a-zA-Z][0-9a-zA-Z]{3,47}$/.test(json.name ?? '')) throw new Refusal(400, `Invalid ${kind} name ${json.name}.`);
      if (app[kind].has(json.name)) throw new Refusal(400, `${kind} ${json.name} already exists.`);
      if (!json.label) throw new Refusal(400, 'label is required.');
      needConnection(app, json.connection);
      if (kind === 'module') {
        if (!MODULE_TYPE_IDS.has(json.typeId)) throw new Refusal(400, `Invalid module type ${json.typeId}.`);
        if (json.typeId === 10 && !app.webhook.has(json.webhook)) throw new Refusal(400, `An instant trigger needs a webhook of ${app.name}, not ${json.webhook}.`);
        if (json.typeId === 12 && !json.subtype) throw new Refusal(400, 'subtype is required for a universal module.');
      }
      const meta = { name: json.name, label: json.label, description: json.description ?? '', typeId: json.typeId, connection: json.connection ?? null, webhook: json.webhook ?? null };
      app[kind].set(json.name, { ...meta, sections: {} });
      return { [kind === 'module' ? 'appModule' : 'appRpc']: meta };
    }],
    ['PATCH', /^\/sdk\/apps\/([^/]+)\/(\d+)\/(modules|rpcs)\/([^/]+)$/, ([name, , plural, component], json) => {
      const kind = plural.slice(0, -1);
      const app = appOf(name);
      const existing = app[kind].get(component);
      if (!existing) throw new Refusal(404, `${kind} ${component} not found.`);
      needConnection(app, json.connection);
      if (json.webhook && !app.webhook.has(json.webhook)) throw new Refusal(400, `Webhook ${json.webhook} does not exist.`);
      Object.assign(existing, json);
      const { sections, ...meta } = existing;
      return { [kind === 'module' ? 'appModule' : 'appRpc']: meta };
    }],
    ['PUT', /^\/sdk\/apps\/([^/]+)\/(\d+)\/(modules|rpcs)\/([^/]+)\/(\w+)$/, ([name, , plural, component, part], _j, req, body) => {
      const kind = plural.slice(0, -1);
      const existing = appOf(name)[kind].get(component);
      if (!existing) throw new Refusal(404, `${kind} ${component} not found.`);
      return section(kind, existing, part, req, body);
    }],
  ];

  const server = createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const path = new URL(request.url, 'http://x').pathname.replace(/^\/api\/v2/, '');
    calls.push({ method: request.method, path });
    const answer = (status, json) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(json));
    };
    try {
      if (request.headers.authorization !== `Token ${apiKey}`) throw new Refusal(401, 'Access denied.');
      for (const [method, pattern, handle] of routes) {
        const match = method === request.method && pattern.exec(path);
        if (!match) continue;
        const json = request.headers['content-type'] === 'application/json' ? JSON.parse(body.toString('utf8')) : {};
        return answer(200, await handle(match.slice(1), json, request, body));
      }
      throw new Refusal(404, `No route ${request.method} ${path}.`);
    } catch (error) {
      answer(error.status ?? 500, { message: 'Error', detail: error.message });
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}/api`,
    apps,
    calls,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
