// API keys: the organization's keys (never the keys themselves), a new key shown once with a
// copy button, revoking with a confirmation. The server decides what a key may grant: one
// never grants a scope it lacks.

import { api, can } from './api.js';
import { h, notice, show } from './dom.js';
import { when } from './time.js';

export const SCOPES = [
  ['webhooks', 'Webhooks, their logs and retries'],
  ['integrations', 'Zapier, Make and n8n connections, and the event list of Add Webhook'],
  ['events:publish', 'Publishing events (your back end)'],
  ['api-keys', 'Creating and revoking keys'],
];

/** The key just created, shown once: a read-only field, selected for copying, and Copy. */
export function shownOnce(created) {
  const field = h('input', { id: 'new-key', type: 'text', readonly: true, value: created.key, 'aria-describedby': 'new-key-help', spellcheck: 'false' });
  const said = h('span', { class: 'muted', 'aria-live': 'polite' });
  const copy = h('button', {
    type: 'button',
    class: 'primary',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(created.key);
        said.textContent = 'Copied.';
      } catch {
        field.select();
        said.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
      }
    },
  }, 'Copy key');
  return h('div', { class: 'notice key-once', role: 'status' },
    h('p', {}, h('strong', {}, `“${created.name}” was created with ${created.scopes.join(', ')}.`)),
    h('label', { for: 'new-key' }, 'Your new API key'),
    field,
    h('p', { id: 'new-key-help' }, 'Copy it now: it is shown only this once and stored nowhere in clear.'),
    h('p', {}, copy, ' ', said));
}

export async function keysPage(note) {
  const { me } = await can();
  const held = me ? new Set(me.scopes) : null;
  const name = h('input', { id: 'key-name', type: 'text', name: 'name', value: 'Zapier connection', 'aria-describedby': 'error-name' });
  const scopeBoxes = SCOPES.map(([scope, says]) => {
    // A scope the signed-in key lacks cannot be granted by it: said here, refused by the API.
    const lacking = held && !held.has(scope);
    return h('label', {}, h('input', { type: 'checkbox', name: 'scopes', value: scope, checked: scope === 'integrations' && !lacking, disabled: lacking }),
      h('code', {}, scope), ` — ${says}`, lacking ? h('span', { class: 'muted' }, ' (your key lacks it)') : null);
  });
  const result = h('div', { id: 'key-result' });
  const form = h('form', {
    novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      for (const el of form.querySelectorAll('.error')) el.textContent = '';
      const scopes = [...form.querySelectorAll('input[name=scopes]:checked')].map((c) => c.value);
      try {
        const created = await api('POST', '/api/api-keys', { name: name.value, scopes });
        await keysPage(shownOnce(created));
      } catch (problem) {
        const errors = problem.problem?.errors ?? [];
        for (const error of errors) {
          const slot = document.getElementById(`error-${String(error.field).replace(/\[\d+\]$/, '')}`);
          if (slot) slot.textContent = error.message;
        }
        if (errors.length === 0) result.replaceChildren(notice(problem.message, true));
      }
    },
  },
    h('h2', {}, 'Create a key'),
    h('label', { for: 'key-name' }, 'Name'),
    name,
    h('p', { class: 'error', id: 'error-name', 'aria-live': 'polite' }),
    h('fieldset', { class: 'scopes', 'aria-describedby': 'error-scopes' }, h('legend', {}, 'Scopes'), scopeBoxes,
      h('p', { class: 'muted' }, 'A Zapier, Make or n8n connection needs integrations only; someone using this console, webhooks and integrations.'),
      h('p', { class: 'error', id: 'error-scopes', 'aria-live': 'polite' })),
    result,
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Create key')));

  const tbody = h('tbody', {});
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor = null;
  const load = async () => {
    const page = await api('GET', `/api/api-keys?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    tbody.append(...page.data.map((key) => keyRow(key, me?.keyId)));
    cursor = page.nextCursor ?? null;
    more.hidden = !cursor;
  };
  more.addEventListener('click', load);
  show('API keys', note ?? null, form,
    h('h2', {}, 'Keys of this organization'),
    h('table', { id: 'keys' },
      h('thead', {}, h('tr', {}, ['Name', 'Prefix', 'Scopes', 'Created', 'Last used', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody),
    h('p', {}, more));
  // Focus first: the list may take a moment, the key just made should not wait for it.
  (document.getElementById('new-key') ?? name).focus();
  await load();
}

function keyRow(key, signedInId) {
  const mine = key.id === signedInId;
  const revoke = key.revokedAt
    ? h('span', { class: 'muted' }, `revoked ${when(key.revokedAt)}`)
    : h('button', {
      type: 'button',
      class: 'danger',
      'aria-label': `Revoke ${key.name}`,
      onclick: async () => {
        const warning = mine ? ' You are signed in with it: you will be signed out.' : '';
        if (!confirm(`Revoke the key “${key.name}” (${key.prefix}…)? Everything using it — Zaps, scenarios, workflows, scripts — stops working at once.${warning}`)) return;
        await api('DELETE', `/api/api-keys/${encodeURIComponent(key.id)}`);
        if (!mine) await keysPage(notice(`“${key.name}” is revoked.`));
        else location.reload();
      },
    }, 'Revoke');
  return h('tr', { class: key.revokedAt ? 'revoked' : null },
    h('td', { 'data-label': 'Name' }, key.name, mine ? h('span', { class: 'muted' }, ' (signed in with it)') : null),
    h('td', { 'data-label': 'Prefix' }, h('code', {}, `${key.prefix}…`)),
    h('td', { 'data-label': 'Scopes' }, key.scopes.join(', ')),
    h('td', { 'data-label': 'Created' }, when(key.createdAt)),
    h('td', { 'data-label': 'Last used' }, key.lastUsedAt ? when(key.lastUsedAt) : h('span', { class: 'muted' }, 'never')),
    h('td', { 'data-label': 'Actions' }, revoke));
}
