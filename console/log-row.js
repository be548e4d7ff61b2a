// One attempt in a log table: its row, and below it (opened by its time, a button) the
// error, the request exactly as sent and the answer. Logs and Find both use it.

import { api } from './api.js';
import { h } from './dom.js';
import { when } from './time.js';

/** What was sent for an attempt never changes: fetched once in this tab, so a row the
 * self-refreshing log opens again costs no request. */
const sentCache = new Map();
function requestAsSent(webhookId, attemptId) {
  if (!sentCache.has(attemptId)) {
    const sent = api('GET', `/api/webhooks/${webhookId}/logs/${encodeURIComponent(attemptId)}/request`);
    sentCache.set(attemptId, sent);
    sent.catch(() => sentCache.delete(attemptId));
  }
  return sentCache.get(attemptId);
}

/** The table's columns; `webhook` adds one naming the webhook (Find lists several). */
export const columns = (webhook) => ['Timestamp', ...(webhook ? ['Webhook'] : []), 'Event', 'Status', 'Response Code', 'Duration', 'Attempt', 'Actions'];

/** Replaces `tbody`'s rows with `rows`, keeping open what was open and the keyboard focus
 * where it was (the log refreshes itself while a person reads it). */
export function replaceRows(tbody, rows) {
  const open = new Set([...tbody.querySelectorAll('.toggle[aria-expanded=true]')].map((b) => b.closest('tr').dataset.id));
  const focused = document.activeElement?.closest?.('tr.row');
  const focusedId = focused && tbody.contains(focused) ? focused.dataset.id : null;
  tbody.replaceChildren(...rows);
  for (const row of tbody.querySelectorAll('tr.row')) {
    const opener = row.querySelector('.toggle');
    if (open.has(row.dataset.id)) opener.click();
    if (row.dataset.id === focusedId) opener.focus();
  }
}

/** The rows of one page; Retry belongs to the newest row of a delivery that is failed now (an
 * older failure may since have been retried or recovered). `webhookName` (id → name) adds the
 * webhook column. */
export function logRows(rows, webhookName) {
  const newest = new Set();
  return rows.flatMap((row) => {
    const isNewest = !newest.has(row.deliveryId);
    newest.add(row.deliveryId);
    return logRow(row, isNewest, webhookName);
  });
}

function logRow(row, newestOfItsDelivery, webhookName) {
  const webhookId = encodeURIComponent(row.webhookId);
  const width = columns(webhookName).length;
  const request = h('div', { class: 'request' }, h('p', { class: 'muted' }, 'Loading the request…'));
  const detailsId = `details-${row.id}`;
  const details = h('tr', { hidden: true, class: 'details', id: detailsId }, h('td', { colspan: width },
    h('p', {}, h('strong', {}, 'Delivery '), row.deliveryId, ' · ', h('strong', {}, 'Event '), row.eventId),
    row.error ? h('p', {}, h('strong', {}, 'Error: '), row.error) : null,
    request,
    h('p', {}, h('strong', {}, 'Response')),
    h('pre', {}, row.responseBody || '(empty)')));
  let loaded = false;
  const loadRequest = async () => {
    loaded = true;
    try {
      const sent = await requestAsSent(webhookId, row.id);
      request.replaceChildren(
        h('p', {}, h('strong', {}, 'Request '), `${sent.method} ${sent.url}`),
        h('pre', { class: 'headers' }, sent.headers.map((x) => `${x.name}: ${x.value}`).join('\n')),
        h('pre', { class: 'body' }, sent.body));
    } catch (problem) {
      request.replaceChildren(h('p', { class: 'muted' }, `Request not available: ${problem.message}`));
    }
  };
  const toggle = () => {
    details.hidden = !details.hidden;
    opener.setAttribute('aria-expanded', String(!details.hidden));
    if (!details.hidden && !loaded) loadRequest();
  };
  // The disclosure is a button (keyboard and screen readers know it); a click anywhere else on
  // the row opens it too.
  const opener = h('button', { type: 'button', class: 'toggle', 'aria-expanded': 'false', 'aria-controls': detailsId, onclick: toggle }, when(row.timestamp));
  const retry = (row.deliveryStatus ?? row.status) === 'failed' && newestOfItsDelivery
    ? h('button', {
      type: 'button',
      onclick: async (event) => {
        const button = event.target;
        try {
          await api('POST', `/api/webhooks/${webhookId}/deliveries/${encodeURIComponent(row.deliveryId)}/retry`);
          button.replaceWith(h('span', { class: 'muted', role: 'status' }, 'retrying…'));
        } catch (problem) {
          button.replaceWith(h('span', { class: 'notice bad', role: 'alert' }, problem.message));
        }
      },
    }, 'Retry')
    : null;
  const main = h('tr', {
    class: 'row',
    'data-id': row.id,
    onclick: (event) => { if (!event.target.closest('button, a')) toggle(); },
  },
    h('td', { 'data-label': 'Timestamp' }, opener),
    webhookName ? h('td', { 'data-label': 'Webhook' }, h('a', { href: `#/webhooks/${webhookId}/logs` }, webhookName.get(row.webhookId) ?? row.webhookId)) : null,
    h('td', { 'data-label': 'Event' }, row.event, h('div', { class: 'muted id' }, row.eventId)),
    h('td', { 'data-label': 'Status' }, h('span', { class: `status ${row.status}` }, row.status),
      row.error ? h('div', { class: 'muted' }, row.error.length > 90 ? `${row.error.slice(0, 90)}…` : row.error) : null),
    h('td', { 'data-label': 'Response Code' }, row.responseCode ?? '—'),
    h('td', { 'data-label': 'Duration' }, `${row.durationMs} ms`),
    h('td', { 'data-label': 'Attempt' }, row.attempt),
    h('td', { 'data-label': 'Actions' }, retry));
  return [main, details];
}
