// Integrations → Webhooks: the webhooks, a page at a time, each with its status and newest
// attempt (all from one request); a box to find one event or delivery across them.

import { api } from './api.js';
import { h, notice, show } from './dom.js';
import { when } from './time.js';

export const SOURCES = { api: 'API', zapier: 'Zapier', make: 'Make', n8n: 'n8n' };

const PAGE = 50;

/** A form that opens Find with an event or delivery id. */
export function findForm(value = '') {
  const input = h('input', { id: 'find-id', type: 'search', name: 'q', value, placeholder: 'wamid.123 or dlv_…', autocomplete: 'off' });
  return h('form', {
    class: 'inline',
    role: 'search',
    onsubmit: (event) => {
      event.preventDefault();
      if (input.value.trim()) location.hash = `#/find?q=${encodeURIComponent(input.value.trim())}`;
    },
  },
    h('label', { for: 'find-id' }, 'Find an event or delivery by id'),
    h('div', { class: 'toolbar' }, input, h('button', { type: 'submit' }, 'Find')));
}

/** A page of webhooks: the first, or the one after `cursor`. */
export async function webhooksPage(cursor) {
  show('Webhooks', h('p', { class: 'muted' }, 'Loading…'));
  const query = new URLSearchParams({ limit: PAGE, ...(cursor ? { cursor } : {}) });
  const page = await api('GET', `/api/webhooks?${query}`);
  const rows = page.data.map((webhook) => webhookRow(webhook, webhook.lastAttempt));
  const table = rows.length === 0
    ? h('p', {}, cursor ? 'No more webhooks.' : 'No webhooks yet.')
    : h('table', {},
      h('thead', {}, h('tr', {}, ['Name', 'URL', 'Source', 'Status', 'Events', 'Last delivery', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows));
  const paging = h('nav', { 'aria-label': 'Pages of webhooks', class: 'toolbar' },
    cursor ? h('a', { href: '#/webhooks' }, 'First page') : null,
    page.nextCursor ? h('a', { href: `#/webhooks?cursor=${encodeURIComponent(page.nextCursor)}` }, 'Next page') : null);
  const said = h('div', { id: 'webhooks-said', 'aria-live': 'polite' });
  show('Webhooks', h('p', {}, h('a', { class: 'button primary', href: '#/webhooks/new' }, 'Add Webhook')), findForm(), said, table, paging);
}

/** Runs a button's request, then shows the same page again; a refusal is said on the page,
 * never dropped. */
async function act(request) {
  try {
    await request();
    webhooksPage(new URLSearchParams(location.hash.split('?')[1] ?? '').get('cursor'));
  } catch (problem) {
    document.getElementById('webhooks-said').replaceChildren(notice(problem.message, true));
  }
}

function webhookRow(webhook, last) {
  const id = encodeURIComponent(webhook.id);
  const toggle = webhook.status === 'active' ? 'disabled' : 'active';
  return h('tr', {},
    h('td', { 'data-label': 'Name' }, h('a', { href: `#/webhooks/${id}/logs` }, webhook.name)),
    h('td', { 'data-label': 'URL' }, webhook.url),
    h('td', { 'data-label': 'Source' }, SOURCES[webhook.source] || webhook.source),
    h('td', { 'data-label': 'Status' }, h('span', { class: `status ${webhook.status}` }, webhook.status),
      webhook.disabledReason ? h('div', { class: 'muted' }, webhook.disabledReason) : null),
    h('td', { 'data-label': 'Events' }, webhook.events.join(', ')),
    h('td', { 'data-label': 'Last delivery' }, last
      ? [h('span', { class: `status ${last.status}` }, last.status), ` ${last.responseCode ?? ''} · ${when(last.timestamp)}`]
      : h('span', { class: 'muted' }, 'none yet')),
    h('td', { 'data-label': 'Actions' },
      webhook.source === 'api' ? h('a', { href: `#/webhooks/${id}/edit`, 'aria-label': `Edit ${webhook.name}` }, 'Edit') : null, ' ',
      h('button', {
        type: 'button',
        onclick: () => act(() => api('PATCH', `/api/webhooks/${id}`, { status: toggle })),
      }, toggle === 'active' ? 'Enable' : 'Disable'), ' ',
      h('button', {
        type: 'button',
        class: 'danger',
        onclick: () => {
          if (!confirm(`Delete the webhook “${webhook.name}” with its deliveries and logs?`)) return;
          act(() => api('DELETE', `/api/webhooks/${id}`));
        },
      }, 'Delete')));
}
