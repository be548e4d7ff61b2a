'use strict';
// A stand-in of the Kaanha platform's own API, to try the gateway's actions, searches, lists
// and MCP tools without the platform: contacts, conversations, messages, tags and payment
// links, kept in memory per organization. It accepts only the token the gateway signs
// (HS256 with PLATFORM_JWT_SECRET, the gateway's KAANHA_UPSTREAM_JWT_SECRET), and prints one
// JSON line per request: what the gateway asked, for which organization.
//
//   PLATFORM_JWT_SECRET=... PORT=4000 node server.js
//
// A search for the email down@example.com answers 503, to see how an outage of the platform
// reaches a Zap or an agent. No dependencies: Node's http and crypto.

const crypto = require('node:crypto');
const http = require('node:http');

const secret = process.env.PLATFORM_JWT_SECRET;
if (!secret) {
  console.error('set PLATFORM_JWT_SECRET to the gateway\'s KAANHA_UPSTREAM_JWT_SECRET');
  process.exit(1);
}

/** The token's claims when the gateway signed it for this API and it has not expired. */
function claimsOf(req) {
  const [head, body, signature] = (req.headers.authorization || '').replace(/^Bearer /, '').split('.');
  if (!signature) return null;
  const expected = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  const audience = [].concat(claims.aud);
  return audience.includes('kaanha-platform-api') && claims.exp * 1000 > Date.now() ? claims : null;
}

const organizations = new Map();
/** One organization's data, seeded with a contact and a conversation on first use. */
function dataOf(org) {
  if (!organizations.has(org)) {
    organizations.set(org, {
      contacts: [{ id: 'c1', phone: '+919876543210', name: 'Asha', email: 'asha@example.com', tags: ['vip'], createdAt: '2026-03-24T10:30:00.000Z' }],
      conversations: [{ id: 'conv1', contactId: 'c1', status: 'open', channel: 'whatsapp', openedAt: '2026-03-24T10:29:58.000Z' }],
      tags: [{ name: 'vip', label: 'VIP' }, { name: 'lead', label: 'Lead' }],
    });
  }
  return organizations.get(org);
}

const id = (prefix) => `${prefix}${crypto.randomBytes(6).toString('hex')}`;
const matches = (item, q) => !q || ['name', 'phone', 'email', 'id'].some((k) => String(item[k] || '').toLowerCase().includes(q.toLowerCase()));

/** The answer to one request: [status, body]. */
function answer(method, path, query, input, data) {
  const [, api, kind, key, sub] = path.split('/');
  if (api !== 'api') return [404, { error: 'not found' }];
  if (kind === 'contacts' && !key && method === 'GET') {
    if (query.get('email') === 'down@example.com') return [503, { error: 'the contacts service is down' }];
    return [200, data.contacts.filter((c) => (!query.get('email') || c.email === query.get('email'))
      && (!query.get('phone') || c.phone === query.get('phone')) && matches(c, query.get('q')))];
  }
  if (kind === 'contacts' && !key && method === 'POST') {
    const contact = { id: id('c_'), tags: [], createdAt: new Date().toISOString(), ...input };
    data.contacts.push(contact);
    return [201, contact];
  }
  const contact = kind === 'contacts' && data.contacts.find((c) => c.id === key);
  if (kind === 'contacts' && !contact) return [404, { error: `no contact ${key}` }];
  if (contact && method === 'PATCH') return [200, Object.assign(contact, input)];
  if (contact && sub === 'tags') {
    const given = input.tags || [];
    contact.tags = input.mode === 'remove' ? contact.tags.filter((t) => !given.includes(t))
      : input.mode === 'replace' ? given : [...new Set([...contact.tags, ...given])];
    return [200, contact];
  }
  if (kind === 'conversations' && !key) {
    return [200, data.conversations.filter((c) => (!query.get('contactId') || c.contactId === query.get('contactId')) && (!query.get('status') || c.status === query.get('status')))];
  }
  const conversation = kind === 'conversations' && data.conversations.find((c) => c.id === key);
  if (conversation && sub === 'resolve') return [200, Object.assign(conversation, { status: 'resolved', resolvedAt: new Date().toISOString() })];
  if (kind === 'messages' && method === 'POST') return [201, { messageId: id('wamid.'), status: 'sent', ...input }];
  if (kind === 'payment-links' && method === 'POST') return [201, { id: id('pl_'), url: 'https://pay.example.com/x', status: 'created', ...input }];
  if (kind === 'tags') return [200, data.tags];
  return [404, { error: `no route ${method} ${path}` }];
}

const server = http.createServer((req, res) => {
  let text = '';
  req.on('data', (chunk) => (text += chunk));
  req.on('end', () => {
    const url = new URL(req.url, 'http://platform');
    const claims = claimsOf(req);
    let [status, body] = [401, { error: 'the token is not one the gateway signed for this API' }];
    if (claims) {
      let input = {};
      try {
        input = text ? JSON.parse(text) : {};
      } catch {
        [status, body] = [400, { error: 'the body is not JSON' }];
      }
      if (status !== 400) [status, body] = answer(req.method, url.pathname, url.searchParams, input, dataOf(claims.org));
    }
    // Printed before the answer leaves, so a reader of this log sees the call before its effect.
    console.log(JSON.stringify({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), org: claims && claims.org, action: claims && claims.action, status }));
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
});

server.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => {
  console.log(`platform API listening on http://127.0.0.1:${server.address().port}`);
});
