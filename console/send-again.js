// Recover (failed deliveries of a range back in the queue) and Replay (stored events again).

import { api } from './api.js';
import { h, notice, plural } from './dom.js';
import { fromInput, inputValue } from './time.js';

export function sendAgain(webhookId, reload) {
  const since = h('input', { id: 'again-since', type: 'datetime-local', required: true, value: inputValue(24) });
  const until = h('input', { id: 'again-until', type: 'datetime-local' });
  const result = h('div', { id: 'again-result' });
  const range = () => {
    const body = { since: fromInput(since.value) };
    if (until.value) body.until = fromInput(until.value);
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
