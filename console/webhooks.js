// Integrations → Webhooks: every webhook, its status and last delivery; a box to find one
// event or delivery across them.

import { api } from './api.js';
import { h, show } from './dom.js';
import { when } from './time.js';

export const SOURCES = { api: 'Dashboard', zapier: 'Zapier', make: 'Make', n8n: 'n8n' };

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

export async function webhooksPage() {
  show('Webhooks', h('p', { class: 'muted' }, 'Loading…'));
  const page = await api('GET', '/api/webhooks?limit=100');
  const rows = await Promise.all(page.data.map(async (webhook) => {
    const last = await api('GET', `/api/webhooks/${encodeURIComponent(webhook.id)}/logs?limit=1`).catch(() => ({ data: [] }));
    return webhookRow(webhook, last.data[0]);
  }));
  const table = rows.length === 0
    ? h('p', {}, 'No webhooks yet.')
    : h('table', {},
      h('thead', {}, h('tr', {}, ['Name', 'URL', 'Source', 'Status', 'Events', 'Last delivery', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows));
  show('Webhooks', h('p', {}, h('a', { class: 'button primary', href: '#/webhooks/new' }, 'Add Webhook')), findForm(), table);
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
        onclick: async () => { await api('PATCH', `/api/webhooks/${id}`, { status: toggle }); webhooksPage(); },
      }, toggle === 'active' ? 'Enable' : 'Disable'), ' ',
      h('button', {
        type: 'button',
        class: 'danger',
        onclick: async () => {
          if (!confirm(`Delete the webhook “${webhook.name}” with its deliveries and logs?`)) return;
          await api('DELETE', `/api/webhooks/${id}`);
          webhooksPage();
        },
      }, 'Delete')));
}
