'use strict';
// The gateway's console: Integrations → Webhooks, Add Webhook, Logs. Plain DOM, no framework.
// The API key lives in sessionStorage only (gone when the tab closes), never in a URL.

const KEY = 'kaanha.apiKey';
const view = document.getElementById('view');
const signOut = document.getElementById('sign-out');
let refreshTimer = null;

/** Builds an element; strings become text, never HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Calls the API with the signed-in key; throws the problem (with `status`) on failure. */
async function api(method, path, body) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401) {
    sessionStorage.removeItem(KEY);
    location.hash = '#/sign-in';
  }
  if (!response.ok) {
    const error = new Error((data && (data.detail || data.title)) || response.statusText);
    error.status = response.status;
    error.problem = data;
    throw error;
  }
  return data;
}

function show(title, ...content) {
  clearInterval(refreshTimer);
  document.title = `${title} · Integrations`;
  // Parts a page leaves out are null; `replaceChildren` would print them as the text "null".
  view.replaceChildren(h('h1', {}, title), ...content.filter((part) => part !== null && part !== undefined && part !== false));
  view.focus();
}

const notice = (text, bad) => h('p', { class: bad ? 'notice bad' : 'notice', role: bad ? 'alert' : 'status' }, text);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

// ---- Sign in -------------------------------------------------------------------------------

function signInPage() {
  signOut.hidden = true;
  const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true });
  const error = h('p', { class: 'error', id: 'api-key-error', 'aria-live': 'polite' });
  // The API's messages, next to each field, are the validation (the browser's own would
  // stop some values before the API could name what is wrong).
  const form = h('form', {
    novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      const key = input.value.trim();
      // Checked before it is kept: a wrong key is never stored.
      const response = await fetch('/api/webhooks?limit=1', { headers: { authorization: `Bearer ${key}` } });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        error.textContent = problem.detail || response.statusText;
        return;
      }
      sessionStorage.setItem(KEY, key);
      location.hash = '#/webhooks';
      route();
    },
  },
    h('label', { for: 'api-key' }, 'API key'),
    input,
    error,
    h('p', { class: 'muted' }, 'An organization API key (kgw_…) with the webhooks scope. It is kept in this tab only.'),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  show('Sign in', form);
  input.focus();
}

// ---- Webhooks ------------------------------------------------------------------------------

const SOURCES = { api: 'Dashboard', zapier: 'Zapier', make: 'Make', n8n: 'n8n' };

async function webhooksPage() {
  show('Webhooks', h('p', { class: 'muted' }, 'Loading…'));
  const page = await api('GET', '/api/webhooks?limit=100');
  const rows = await Promise.all(page.data.map(async (webhook) => {
    const last = await api('GET', `/api/webhooks/${encodeURIComponent(webhook.id)}/logs?limit=1`).catch(() => ({ data: [] }));
    return webhookRow(webhook, last.data[0]);
  }));
  const table = rows.length === 0
    ? h('p', {}, 'No webhooks yet.')
    : h('table', {},
      h('thead', {}, h('tr', {}, ['Name', 'URL', 'Source', 'Status', 'Events', 'Last delivery', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows));
  show('Webhooks', h('p', {}, h('a', { class: 'button primary', href: '#/webhooks/new' }, 'Add Webhook')), table);
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
    h('td', {},
      webhook.source === 'api' ? h('a', { href: `#/webhooks/${id}/edit` }, 'Edit') : null, ' ',
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

// ---- Add / edit ----------------------------------------------------------------------------

/** The catalog's event types by group, from the discovery document. */
async function eventGroups() {
  const describe = await api('GET', '/api/integrations/describe');
  const groups = new Map();
  for (const trigger of describe.triggers) {
    if (!groups.has(trigger.group)) groups.set(trigger.group, []);
    groups.get(trigger.group).push(trigger);
  }
  return groups;
}

async function webhookForm(id) {
  const editing = id ? await api('GET', `/api/webhooks/${encodeURIComponent(id)}`) : null;
  const groups = await eventGroups();
  const field = (name, label, input, help) => {
    input.id = `field-${name}`;
    input.setAttribute('aria-describedby', `error-${name}`);
    return h('div', {}, h('label', { for: input.id }, label), input,
      help ? h('p', { class: 'muted' }, help) : null,
      h('p', { class: 'error', id: `error-${name}`, 'aria-live': 'polite' }));
  };
  const name = h('input', { type: 'text', name: 'name', value: editing?.name ?? '' });
  const url = h('input', { type: 'url', name: 'url', value: editing?.url ?? '', placeholder: 'https://' });
  const secret = h('input', { type: 'password', name: 'secret', autocomplete: 'new-password' });
  const ordered = h('input', { type: 'checkbox', name: 'ordered', checked: editing?.ordered ?? false });
  const rateLimit = h('input', { type: 'number', name: 'rateLimit', min: 1, max: 10000, step: 1, inputmode: 'numeric', value: editing?.rateLimit ?? '' });
  const chosen = new Set(editing?.events ?? []);
  const events = h('fieldset', { id: 'field-events', 'aria-describedby': 'error-events' }, h('legend', {}, 'Events'),
    [...groups].map(([group, triggers]) => h('div', { class: 'group' }, h('h3', {}, group),
      triggers.map((t) => h('label', {}, h('input', { type: 'checkbox', name: 'events', value: t.event, checked: chosen.has(t.event) }), t.label)))),
    h('p', { class: 'error', id: 'error-events', 'aria-live': 'polite' }));
  const status = h('div', { 'aria-live': 'polite' });
  // The API's messages, next to each field, are the validation (the browser's own would
  // stop some values before the API could name what is wrong).
  const form = h('form', {
    novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      for (const el of form.querySelectorAll('.error')) el.textContent = '';
      const body = {
        name: name.value,
        url: url.value,
        events: [...form.querySelectorAll('input[name=events]:checked')].map((c) => c.value),
      };
      if (secret.value) body.secret = secret.value;
      // Empty: no limit (a PATCH removes one that was set).
      if (rateLimit.value) body.rateLimit = Number(rateLimit.value);
      else if (editing?.rateLimit) body.rateLimit = null;
      if (ordered.checked || editing?.ordered) body.ordered = ordered.checked;
      try {
        const saved = editing
          ? await api('PATCH', `/api/webhooks/${encodeURIComponent(editing.id)}`, body)
          : await api('POST', '/api/webhooks', body);
        location.hash = `#/webhooks/${encodeURIComponent(saved.id)}/logs${editing ? '' : '?created'}`;
      } catch (problem) {
        const errors = problem.problem?.errors ?? [];
        for (const error of errors) {
          const key = String(error.field).replace(/\[\d+\]$/, '');
          const slot = document.getElementById(`error-${key}`);
          if (slot) slot.textContent = error.message;
        }
        if (errors.length === 0) status.replaceChildren(notice(problem.message, true));
      }
    },
  },
    field('name', 'Name', name),
    field('url', 'URL', url, 'Must be HTTPS and publicly accessible.'),
    events,
    field('secret', 'Secret', secret, editing?.hasSecret ? 'Leave empty to keep the current secret.' : 'Optional: deliveries are then signed (X-Kaanha-Signature).'),
    field('rateLimit', 'Rate limit', rateLimit, 'Optional: most deliveries per second your endpoint takes (1–10,000). The rest wait their turn.'),
    h('div', {}, h('label', {}, ordered, ' Deliver in order'),
      h('p', { class: 'muted' }, 'One delivery at a time, in the order events were published; a retrying one holds back the rest.')),
    status,
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Save'), ' ', h('a', { href: '#/webhooks' }, 'Cancel')));
  show(editing ? `Edit ${editing.name}` : 'Add Webhook', form);
  name.focus();
}

// ---- Chart ---------------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs = {}, ...children) => {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  el.append(...children);
  return el;
};

/** Attempts per hour over 24 hours, stacked by outcome, with hour labels, a scale and the
 * p50 / p99 duration. */
function chart(stats) {
  const left = 40, top = 8, plotWidth = 720, plotHeight = 150, bottom = 22;
  const bar = plotWidth / 24;
  const most = Math.max(1, ...stats.hours.map((x) => x.delivered + x.pending + x.failed));
  const y = (count) => top + plotHeight - (count / most) * plotHeight;
  // The scale: 0, half and the busiest hour, with faint guide lines.
  const scale = [...new Set([0, Math.round(most / 2), most])].map((count) => svg('g', {},
    svg('line', { x1: left, x2: left + plotWidth, y1: y(count), y2: y(count), class: 'guide' }),
    svg('text', { x: left - 6, y: y(count) + 4, class: 'scale', 'text-anchor': 'end' }, String(count))));
  const bars = stats.hours.map((hour, i) => {
    const x = left + i * bar;
    const at = new Date(hour.start);
    const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    let base = top + plotHeight;
    const parts = ['delivered', 'pending', 'failed'].filter((s) => hour[s] > 0).map((status) => {
      const height = (hour[status] / most) * plotHeight;
      base -= height;
      return svg('rect', { x: x + 2, y: base, width: bar - 4, height, class: `bar ${status}` });
    });
    const label = i % 3 === 0
      ? svg('text', { x: x + bar / 2, y: top + plotHeight + 16, class: 'hour', 'text-anchor': 'middle' }, time)
      : null;
    return svg('g', {},
      svg('title', {}, `${time}: ${hour.delivered} delivered, ${hour.pending} pending, ${hour.failed} failed`),
      ...parts, ...(label ? [label] : []));
  });
  const total = stats.hours.reduce((n, x) => n + x.delivered + x.pending + x.failed, 0);
  return h('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${left + plotWidth} ${top + plotHeight + bottom}`, role: 'img', 'aria-label': `Attempts per hour, last 24 hours: ${total} in all, at most ${most} in one hour` },
      ...scale, ...bars),
    h('figcaption', {},
      'Attempts per hour, last 24 hours, by the delivery\'s state after each attempt: ',
      h('span', { class: 'key delivered' }, 'delivered'), ' ',
      h('span', { class: 'key pending' }, 'pending (a retry is scheduled)'), ' ',
      h('span', { class: 'key failed' }, 'failed (every retry spent)'), ' · ',
      h('span', { id: 'durations' }, stats.attempts
        ? `duration p50 ${stats.durationP50Ms} ms, p99 ${stats.durationP99Ms} ms`
        : 'no attempts yet')));
}

// ---- Logs ----------------------------------------------------------------------------------

async function logsPage(id, created) {
  const webhook = await api('GET', `/api/webhooks/${encodeURIComponent(id)}`);
  const base = `/api/webhooks/${encodeURIComponent(id)}/logs`;
  const statusFilter = h('select', { id: 'filter-status' }, ['', 'delivered', 'pending', 'failed'].map((s) => h('option', { value: s }, s || 'All')));
  const eventFilter = h('select', { id: 'filter-event' }, h('option', { value: '' }, 'All'), webhook.events.concat('webhook.test').map((e) => h('option', { value: e }, e)));
  const search = h('input', { id: 'filter-search', type: 'search', placeholder: 'wamid.123 or dlv_…', autocomplete: 'off' });
  const tbody = h('tbody', {});
  const chartSlot = h('div', {});
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor = null;

  const query = () => {
    const params = new URLSearchParams({ limit: '50' });
    if (statusFilter.value) params.set('status', statusFilter.value);
    if (eventFilter.value) params.set('event', eventFilter.value);
    if (search.value.trim()) params.set('search', search.value.trim());
    return params;
  };
  const load = async (append) => {
    const params = query();
    if (append && cursor) params.set('cursor', cursor);
    const [page, stats] = await Promise.all([
      api('GET', `${base}?${params}`),
      append ? null : api('GET', `/api/webhooks/${encodeURIComponent(id)}/stats`),
    ]);
    if (stats) chartSlot.replaceChildren(chart(stats));
    // Retry belongs to a delivery's newest row only: an older failure may since have been retried.
    const newest = new Set();
    const rows = page.data.flatMap((row) => {
      const isNewest = !newest.has(row.deliveryId);
      newest.add(row.deliveryId);
      return logRow(id, row, isNewest);
    });
    if (append) tbody.append(...rows); else tbody.replaceChildren(...rows);
    cursor = page.nextCursor ?? null;
    more.hidden = !cursor;
  };
  statusFilter.addEventListener('change', () => load(false));
  eventFilter.addEventListener('change', () => load(false));
  search.addEventListener('change', () => load(false));
  more.addEventListener('click', () => load(true));

  show(`Logs · ${webhook.name}`,
    created ? notice('Saved. A test event was sent; its delivery appears below within seconds.') : null,
    chartSlot,
    sendAgain(id, () => load(false)),
    h('div', { class: 'toolbar' },
      h('label', { for: 'filter-status' }, 'Status ', statusFilter),
      h('label', { for: 'filter-event' }, 'Event ', eventFilter),
      h('label', { for: 'filter-search' }, 'Event or delivery id ', search),
      h('a', { href: '#/webhooks' }, 'All webhooks')),
    h('table', { id: 'logs' },
      h('thead', {}, h('tr', {}, ['Timestamp', 'Event', 'Status', 'Response Code', 'Duration', 'Attempt', ''].map((t) => h('th', { scope: 'col' }, t)))),
      tbody),
    h('p', {}, more));
  await load(false);
  // While the page is open, newest rows keep coming in (only when no extra pages are shown).
  refreshTimer = setInterval(() => { if (!document.hidden && !more.dataset.extended) load(false).catch(() => {}); }, 3000);
  more.addEventListener('click', () => { more.dataset.extended = '1'; });
}

/** A `datetime-local` value for a time this many hours ago, in the browser's zone. */
function localInput(hoursAgo) {
  const at = new Date(Date.now() - hoursAgo * 3600e3);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
}

/** Recover (failed deliveries of a range back in the queue) and Replay (stored events again). */
function sendAgain(webhookId, reload) {
  const since = h('input', { id: 'again-since', type: 'datetime-local', required: true, value: localInput(24) });
  const until = h('input', { id: 'again-until', type: 'datetime-local' });
  const result = h('div', { id: 'again-result' });
  const range = () => {
    const body = { since: new Date(since.value).toISOString() };
    if (until.value) body.until = new Date(until.value).toISOString();
    return body;
  };
  const run = (action, counted, say) => async () => {
    if (!since.value) { result.replaceChildren(notice('Choose when the range starts.', true)); return; }
    try {
      const answer = await api('POST', `/api/webhooks/${encodeURIComponent(webhookId)}/${action}`, range());
      result.replaceChildren(notice(say(answer[counted])));
      await reload();
    } catch (problem) {
      result.replaceChildren(notice(problem.message, true));
    }
  };
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  return h('details', { class: 'send-again' },
    h('summary', {}, 'Send again…'),
    h('p', { class: 'muted' }, 'Recover puts the deliveries that failed in the range back in the queue (at most 14 days). Replay sends the events published in the range again, marked X-Kaanha-Replay: true, with their original ids.'),
    h('div', { class: 'toolbar' },
      h('label', { for: 'again-since' }, 'From ', since),
      h('label', { for: 'again-until' }, 'To (optional) ', until),
      h('button', { type: 'button', onclick: run('recover', 'requeued', (n) => `${plural(n, 'failed delivery', 'failed deliveries')} back in the queue.`) }, 'Recover failed'),
      h('button', { type: 'button', onclick: run('replay', 'queued', (n) => `${plural(n, 'event', 'events')} queued again.`) }, 'Replay events')),
    result);
}

function logRow(webhookId, row, newestOfItsDelivery) {
  const request = h('div', { class: 'request' }, h('p', { class: 'muted' }, 'Loading the request…'));
  const details = h('tr', { hidden: true }, h('td', { colspan: 7 },
    h('p', {}, h('strong', {}, 'Delivery '), row.deliveryId, ' · ', h('strong', {}, 'Event '), row.eventId),
    row.error ? h('p', {}, h('strong', {}, 'Error: '), row.error) : null,
    request,
    h('p', {}, h('strong', {}, 'Response')),
    h('pre', {}, row.responseBody || '(empty)')));
  let loaded = false;
  const loadRequest = async () => {
    loaded = true;
    try {
      const sent = await api('GET', `/api/webhooks/${encodeURIComponent(webhookId)}/logs/${encodeURIComponent(row.id)}/request`);
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
    main.setAttribute('aria-expanded', String(!details.hidden));
    if (!details.hidden && !loaded) loadRequest();
  };
  const retry = row.status === 'failed' && newestOfItsDelivery
    ? h('button', {
      type: 'button',
      onclick: async (event) => {
        event.stopPropagation();
        await api('POST', `/api/webhooks/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(row.deliveryId)}/retry`);
        event.target.replaceWith(h('span', { class: 'muted' }, 'retrying…'));
      },
    }, 'Retry')
    : null;
  const main = h('tr', {
    class: 'row',
    tabindex: '0',
    'aria-expanded': 'false',
    onclick: toggle,
    onkeydown: (event) => { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); toggle(); } },
  },
    h('td', { 'data-label': 'Timestamp' }, when(row.timestamp)),
    h('td', { 'data-label': 'Event' }, row.event),
    h('td', { 'data-label': 'Status' }, h('span', { class: `status ${row.status}` }, row.status)),
    h('td', { 'data-label': 'Response Code' }, row.responseCode ?? '—'),
    h('td', { 'data-label': 'Duration' }, `${row.durationMs} ms`),
    h('td', { 'data-label': 'Attempt' }, row.attempt),
    h('td', {}, retry));
  return [main, details];
}

// ---- Routing -------------------------------------------------------------------------------

async function route() {
  if (!sessionStorage.getItem(KEY)) return signInPage();
  signOut.hidden = false;
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts[0] === 'webhooks' && parts[1] === 'new') return await webhookForm(null);
    if (parts[0] === 'webhooks' && parts[2] === 'edit') return await webhookForm(parts[1]);
    if (parts[0] === 'webhooks' && parts[2] === 'logs') return await logsPage(parts[1], query === 'created');
    return await webhooksPage();
  } catch (problem) {
    show('Something went wrong', notice(problem.message, true), h('p', {}, h('a', { href: '#/webhooks' }, 'Back to webhooks')));
  }
}

signOut.addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  location.hash = '#/sign-in';
  route();
});
window.addEventListener('hashchange', route);
route();
