'use strict';
// What the MCP client tests need: the real gateway on a free loopback port, on SQLite or (with
// KAANHA_TEST_DATABASE_URL) a fresh PostgreSQL database; a loopback stand-in of the Kaanha
// platform's API (examples/platform-api) that checks the token the gateway signs and prints the
// organization of every call; a receiver that answers 500, so a delivery fails; keys made with the gateway's own CLI.
// Needs KAANHA_GATEWAY_BIN.

const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const readline = require('node:readline');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const bin = process.env.KAANHA_GATEWAY_BIN;
const skip = bin ? false : 'set KAANHA_GATEWAY_BIN to a kaanha-gateway binary to run this test';
const UPSTREAM_SECRET = 'mcp-test-upstream-secret-0123456789abcdef';

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));

/** The example stand-in of the platform's API (examples/platform-api), on a free port; every
 * call it prints is pushed onto `calls`. */
async function platformApi(calls) {
  const server = spawn(process.execPath, [path.join(__dirname, '..', '..', '..', 'examples', 'platform-api', 'server.js')], {
    env: { ...process.env, PLATFORM_JWT_SECRET: UPSTREAM_SECRET, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: server.stdout });
  const url = await new Promise((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`the platform API stand-in exited (${code})`)));
    lines.on('line', (line) => {
      const listening = line.match(/listening on (http:\S+)/);
      if (listening) resolve(listening[1]);
      else calls.push(JSON.parse(line));
    });
  });
  return { url, server };
}

/** A fresh database: a SQLite file, or a PostgreSQL database made (and later dropped) with psql. */
function database(workDir) {
  const admin = process.env.KAANHA_TEST_DATABASE_URL;
  if (!admin) return { url: `sqlite://${path.join(workDir, 'gateway.db')}?mode=rwc`, drop() {} };
  const name = `kaanha_mcp_${crypto.randomBytes(6).toString('hex')}`;
  execFileSync('psql', [admin, '-qc', `CREATE DATABASE ${name}`]);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => execFileSync('psql', [admin, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]) };
}

async function start() {
  const upstreamCalls = [];
  const platform = await platformApi(upstreamCalls);
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(500, { 'content-type': 'text/plain' }).end('receiver is down for maintenance'));
  });
  const receiverUrl = await listen(receiver);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaanha-mcp-'));
  const db = database(workDir);
  const probe = http.createServer();
  const port = Number(new URL(await listen(probe)).port);
  await new Promise((r) => probe.close(r));
  const env = {
    ...process.env,
    KAANHA_DATABASE_URL: db.url,
    KAANHA_BIND: `127.0.0.1:${port}`,
    KAANHA_ALLOW_PRIVATE_TARGETS: 'true',
    KAANHA_RETRY_SCHEDULE: 'none',
    KAANHA_UPSTREAM_URL: platform.url,
    KAANHA_UPSTREAM_JWT_SECRET: UPSTREAM_SECRET,
    KAANHA_PUBLIC_URL: 'https://hooks.example.com',
    KAANHA_LOG: 'warn',
  };
  // The port was free a moment ago; the gateway binds it now.
  const gateway = spawn(bin, ['serve'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (i > 400) throw new Error('the gateway did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  const keyFor = (org, name, scopes) =>
    execFileSync(bin, ['api-key', 'create', '--org', org, '--name', name, '--scopes', scopes], { env, stdio: ['ignore', 'pipe', 'inherit'] })
      .toString()
      .trim();
  const api = async (key, method, route, body) => {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    const value = await response.json();
    assert.ok(response.ok, `${method} ${route}: ${response.status} ${JSON.stringify(value)}`);
    return value;
  };
  return {
    base,
    mcpUrl: new URL(`${base}/mcp`),
    keyFor,
    api,
    receiverUrl,
    upstreamCalls,
    /** The stand-in reports each call on its standard output, which may arrive after the
     * answer: waits until `n` have been reported (or 10 s have passed). */
    async upstreamCallsReported(n) {
      const deadline = Date.now() + 10_000;
      while (upstreamCalls.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return upstreamCalls;
    },
    async stop() {
      gateway.kill();
      await new Promise((r) => gateway.once('exit', r));
      platform.server.kill();
      receiver.close();
      db.drop();
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** An organization with a webhook whose receiver fails, and one event delivered to it (and failed). */
async function organizationWithFailedDelivery(gw, org, eventId) {
  const admin = gw.keyFor(org, 'setup', 'webhooks integrations events:publish');
  const webhook = await gw.api(admin, 'POST', '/api/webhooks', {
    name: `${org} CRM sync`,
    url: `${gw.receiverUrl}/hooks/${org}`,
    events: ['message.received'],
  });
  await gw.api(admin, 'POST', '/api/events', {
    id: eventId,
    event: 'message.received',
    data: { messageId: eventId, conversationId: 'conv1', contact: { id: 'c1', phone: '+919876543210', name: 'Asha', tags: [] }, message: { type: 'text', text: 'Hi', timestamp: '2026-12-01T10:00:00.000Z' } },
  });
  // Waits for progress: the delivery has failed once its attempt is logged.
  for (let i = 0; ; i++) {
    const found = await gw.api(admin, 'GET', `/api/logs?search=${encodeURIComponent(eventId)}`);
    const row = found.data.find((r) => r.status === 'failed');
    if (row) return { org, webhook, deliveryId: row.deliveryId, eventId };
    if (i > 600) throw new Error(`the delivery of ${eventId} never failed`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

module.exports = { skip, start, organizationWithFailedDelivery };
