// Connect a platform: for Zapier, Make and n8n, the two values their Kaanha AI app asks for
// (an API key with the integrations scope, the gateway's URL), where to find the app, a live
// check of a key, and the simplest path without the app (a webhook to the platform's own
// webhook trigger).

import { agentsPage } from './agents.js';
import { api, can, consoleSettings } from './api.js';
import { h, notice, show } from './dom.js';
import { shownOnce } from './keys.js';
import { PRESETS } from './webhook-form.js';

const PLATFORMS = {
  zapier: {
    name: 'Zapier',
    find: 'When choosing an app in a Zap, search for “Kaanha AI”.',
    steps: [
      'Create a Zap. For the trigger, choose the app “Kaanha AI” and an event, e.g. “New Message Received”.',
      'Click Sign in and fill in the two values above.',
      'Zapier checks the key at once and names the connection after it (“Kaanha AI · your organization · key name”).',
      'Test the trigger: Zapier shows the newest real events of that type, or a sample.',
    ],
  },
  make: {
    name: 'Make',
    find: 'In a scenario, add a module and search for “Kaanha AI”.',
    steps: [
      'Create a scenario and add a “Kaanha AI” module, e.g. “Watch Message Received”.',
      'Click Create a connection and fill in the two values above.',
      'Make creates its webhook at the gateway when the module is saved, and removes it when the webhook is deleted in Make.',
    ],
  },
  n8n: {
    name: 'n8n',
    find: 'In n8n (self-hosted): Settings → Community nodes → Install, and enter the package n8n-nodes-kaanha.',
    steps: [
      'Add the “Kaanha Trigger” node (or “Kaanha” for actions) to a workflow.',
      'Create the credential “Kaanha API” and fill in the two values above.',
      'Activate the workflow: n8n subscribes at the gateway; deactivating it unsubscribes.',
    ],
  },
};

/** Why the platform may not reach `url` (loopback or plain http), or null. Zapier and Make
 * call from their clouds; n8n from wherever it runs. */
function unreachable(url, key) {
  const { protocol, hostname } = new URL(url);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(hostname) || hostname.startsWith('127.');
  if (loopback) {
    return key === 'n8n'
      ? `${url} is this machine's own address: only an n8n running on this same machine can reach it. Set KAANHA_PUBLIC_URL to an address n8n can reach.`
      : `${platformName(key)} calls from its cloud and cannot reach ${url}, this machine's own address. Set KAANHA_PUBLIC_URL to the gateway's public https address.`;
  }
  if (protocol !== 'https:') return `${url} is not https: ${platformName(key)} would send the key in clear, and Zapier and Make refuse such URLs. Put the gateway behind TLS and set KAANHA_PUBLIC_URL to its https address.`;
  return null;
}

const platformName = (key) => PLATFORMS[key]?.name ?? key;

/** Asks `/api/integrations/me` with `key` (kept nowhere) and says what the platform will see. */
async function check(key, out, platform) {
  out.replaceChildren(h('p', { class: 'muted' }, 'Checking…'));
  try {
    const me = await api('GET', '/api/integrations/me', undefined, key);
    out.replaceChildren(notice(`This key works for ${platform}: organization ${me.organizationId}${me.keyName ? `, key “${me.keyName}”` : ''}, scopes ${me.scopes.join(', ')}. ${platform} will name the connection “${me.label}”.`));
  } catch (problem) {
    const why = problem.status === 403
      ? `This key is valid but lacks the integrations scope, which ${platform} needs. Create a key with it.`
      : problem.status === 401
        ? 'This key is not valid: mistyped, or revoked.'
        : problem.message;
    out.replaceChildren(notice(why, true));
  }
}

/** The tabs of the Connect pages, `key` the one shown. */
function tabs(key) {
  const pages = [...Object.entries(PLATFORMS).map(([k, p]) => [k, p.name]), ['mcp', 'AI agents (MCP)']];
  return h('nav', { 'aria-label': 'Platforms', class: 'tabs' }, pages.map(([k, name]) => h('a', {
    href: `#/connect/${k}`,
    'aria-current': k === key ? 'page' : null,
  }, name)));
}

export async function connectPage(key) {
  if (key === 'mcp') return agentsPage(tabs(key));
  const platform = PLATFORMS[key] ?? PLATFORMS.zapier;
  const [settings, { apiKeys, webhooks }] = await Promise.all([consoleSettings(), can()]);
  const warning = unreachable(settings.publicUrl, PLATFORMS[key] ? key : 'zapier');
  const invite = settings.apps?.[key];
  const checked = h('div', { id: 'check-result', 'aria-live': 'polite' });
  const created = h('div', {});
  const keyToCheck = h('input', { id: 'check-key', type: 'password', autocomplete: 'off', placeholder: 'kgw_…' });
  const createKey = apiKeys
    ? h('button', {
      type: 'button',
      class: 'primary',
      onclick: async () => {
        try {
          const made = await api('POST', '/api/api-keys', { name: `${platform.name} connection`, scopes: ['integrations'] });
          created.replaceChildren(shownOnce(made));
          document.getElementById('new-key').focus();
          await check(made.key, checked, platform.name);
        } catch (problem) {
          created.replaceChildren(notice(problem.message, true));
        }
      },
    }, `Create a key for ${platform.name}`)
    : h('span', { class: 'muted' }, 'Ask someone whose key holds the api-keys scope to create one, or use one you have.');

  show(`Connect ${platform.name}`,
    tabs(key),
    h('h2', {}, 'Where to find the app'),
    h('p', {}, platform.find, invite ? [' Your platform shares it privately: ', h('a', { href: invite, target: '_blank', rel: 'noopener' }, `open the ${platform.name} invite`), '.'] : null),
    h('h2', {}, 'What to fill in'),
    h('table', { class: 'values' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Value'))),
      h('tbody', {},
        h('tr', {}, h('th', { scope: 'row' }, 'API Key'), h('td', {}, 'A key of this organization with the ', h('code', {}, 'integrations'), ' scope (nothing more is needed). ', createKey, created)),
        h('tr', {}, h('th', { scope: 'row' }, 'Gateway URL'), h('td', {}, h('code', { id: 'gateway-url' }, settings.publicUrl),
          warning ? notice(warning, true) : null)))),
    h('h2', {}, 'Steps'),
    h('ol', {}, platform.steps.map((step) => h('li', {}, step))),
    h('h2', {}, 'Check a key'),
    h('form', {
      class: 'inline',
      onsubmit: (event) => { event.preventDefault(); check(keyToCheck.value.trim(), checked, platform.name); },
    },
      h('label', { for: 'check-key' }, `The key you give ${platform.name}`),
      h('div', { class: 'toolbar' }, keyToCheck, h('button', { type: 'submit' }, 'Check key')),
      h('p', { class: 'muted' }, 'Asks the gateway who the key is, as the platform will; the key is not kept.'),
      checked),
    h('h2', {}, 'Without the app'),
    h('p', {}, `${PRESETS[key].steps} Then add a webhook pointing at that URL: every event you choose is posted to it, signed if you set a secret.`),
    webhooks ? h('p', {}, h('a', { class: 'button', href: `#/webhooks/new?preset=${key}` }, `Add a webhook to ${PRESETS[key].label}`)) : null);
}
