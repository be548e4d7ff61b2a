// Find a delivery: every attempt of one event id (the `id` a receiver logs) or delivery id,
// to whichever webhook it went, each opening to the request as sent.

import { api } from './api.js';
import { h, plural, show } from './dom.js';
import { columns, logRows } from './log-row.js';
import { findForm } from './webhooks.js';

export async function findPage(id) {
  const form = findForm(id);
  if (!id) {
    show('Find a delivery', form,
      h('p', { class: 'muted' }, 'The event id is the "id" your server logs (e.g. wamid.123); the delivery id is the X-Kaanha-Delivery header.'));
    form.querySelector('input').focus();
    return;
  }
  const found = await api('GET', `/api/logs?search=${encodeURIComponent(id)}&limit=100`);
  // Only the webhooks the attempts went to (an organization may have many more).
  const names = new Map(await Promise.all([...new Set(found.data.map((row) => row.webhookId))].map(async (webhookId) => {
    const webhook = await api('GET', `/api/webhooks/${encodeURIComponent(webhookId)}`).catch(() => null);
    return [webhookId, webhook?.name ?? webhookId];
  })));
  const deliveries = new Set(found.data.map((row) => row.deliveryId)).size;
  const summary = found.data.length === 0
    ? h('p', { class: 'notice', role: 'status' }, `No attempt of “${id}” was found. Events are kept for the log's retention period; an event that matched no webhook has no attempts.`)
    : h('p', { class: 'notice', role: 'status' }, `${plural(found.data.length, 'attempt', 'attempts')} of “${id}”, in ${plural(deliveries, 'delivery', 'deliveries')}. Open a row for the request as sent and the answer.`);
  show(`Find · ${id}`, form, summary,
    found.data.length === 0 ? null : h('table', { id: 'found' },
      h('thead', {}, h('tr', {}, columns(true).map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, logRows(found.data, names))));
}
