// Integrations → Webhooks → [Name] → Logs: the chart, the attempts newest first (filtered by
// status, event, id and time), each opening to the request as sent; Send again.

import { api } from './api.js';
import { h, keepFresh, notice, show } from './dom.js';
import { chart } from './chart.js';
import { columns, logRows, replaceRows } from './log-row.js';
import { sendAgain } from './send-again.js';
import { fromInput } from './time.js';

export async function logsPage(id, created) {
  const webhook = await api('GET', `/api/webhooks/${encodeURIComponent(id)}`);
  const base = `/api/webhooks/${encodeURIComponent(id)}/logs`;
  const statusFilter = h('select', { id: 'filter-status' }, ['', 'delivered', 'pending', 'failed'].map((s) => h('option', { value: s }, s || 'All')));
  const eventFilter = h('select', { id: 'filter-event' }, h('option', { value: '' }, 'All'), webhook.events.concat('webhook.test').map((e) => h('option', { value: e }, e)));
  const search = h('input', { id: 'filter-search', type: 'search', placeholder: 'wamid.123 or dlv_…', autocomplete: 'off' });
  const since = h('input', { id: 'filter-since', type: 'datetime-local' });
  const until = h('input', { id: 'filter-until', type: 'datetime-local' });
  const problem = h('div', { 'aria-live': 'polite' });
  const searched = h('div', { 'aria-live': 'polite' });
  const tbody = h('tbody', {});
  const chartSlot = h('div', {});
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor = null;
  let extended = false;

  const query = () => {
    const params = new URLSearchParams({ limit: '50' });
    if (statusFilter.value) params.set('status', statusFilter.value);
    if (eventFilter.value) params.set('event', eventFilter.value);
    if (search.value.trim()) params.set('search', search.value.trim());
    if (since.value) params.set('since', fromInput(since.value));
    if (until.value) params.set('until', fromInput(until.value));
    return params;
  };
  const load = async (append) => {
    const params = query();
    if (append && cursor) params.set('cursor', cursor);
    let page, stats;
    try {
      [page, stats] = await Promise.all([
        api('GET', `${base}?${params}`),
        append ? null : api('GET', `/api/webhooks/${encodeURIComponent(id)}/stats`),
      ]);
    } catch (error) {
      // A range the API refuses (until before since) is named; the rows stay as they were.
      problem.replaceChildren(notice(error.message, true));
      return;
    }
    problem.replaceChildren();
    if (stats) chartSlot.replaceChildren(chart(stats));
    const rows = logRows(page.data);
    if (append) tbody.append(...rows); else replaceRows(tbody, rows);
    cursor = page.nextCursor ?? null;
    more.hidden = !cursor;
    // A filtered page looks through a bounded stretch of the log, so it can come back empty
    // with more to look through.
    const unseen = cursor && !tbody.querySelector('tr.row');
    searched.replaceChildren(unseen ? notice('No match among the attempts looked through so far; Load more looks further back.') : '');
  };
  for (const filter of [statusFilter, eventFilter, search, since, until]) filter.addEventListener('change', () => load(false));
  more.addEventListener('click', () => { extended = true; load(true); });

  show(`Logs · ${webhook.name}`,
    created ? notice('Saved. A test event was sent; its delivery appears below within seconds.') : null,
    chartSlot,
    sendAgain(id, () => load(false)),
    h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Filters' },
      h('label', { for: 'filter-status' }, 'Status ', statusFilter),
      h('label', { for: 'filter-event' }, 'Event ', eventFilter),
      h('label', { for: 'filter-search' }, 'Event or delivery id ', search),
      h('label', { for: 'filter-since' }, 'Since ', since),
      h('label', { for: 'filter-until' }, 'Until ', until),
      h('a', { href: '#/webhooks' }, 'All webhooks')),
    problem,
    h('table', { id: 'logs' },
      h('thead', {}, h('tr', {}, columns(false).map((t) => h('th', { scope: 'col' }, t)))),
      tbody),
    searched,
    h('p', {}, more));
  await load(false);
  // While the page is open, newest rows keep coming in (only when no extra pages are shown).
  keepFresh(() => { if (!extended) load(false).catch(() => {}); });
}
