// Add Webhook / Edit: name, URL, events, secret, rate limit, order. A preset fills in the
// document's simplest path to a no-code platform: a webhook pointing at the URL the
// platform's own webhook trigger gives.

import { api } from './api.js';
import { h, notice, show } from './dom.js';

/** The platforms' own "catch a webhook" triggers. */
export const PRESETS = {
  zapier: {
    label: 'Webhooks by Zapier',
    name: 'Zapier',
    placeholder: 'https://hooks.zapier.com/hooks/catch/…',
    hosts: ['hooks.zapier.com'],
    steps: 'In Zapier: create a Zap, choose the trigger “Webhooks by Zapier” → “Catch Hook”, and copy the URL it shows.',
  },
  make: {
    label: 'Make Webhooks',
    name: 'Make',
    placeholder: 'https://hook.eu1.make.com/…',
    hosts: ['make.com', 'integromat.com'],
    steps: 'In Make: add the module “Webhooks” → “Custom webhook”, click Add, and copy the address it shows.',
  },
  n8n: {
    label: 'n8n Webhook',
    name: 'n8n',
    placeholder: 'https://your-n8n.example.com/webhook/…',
    hosts: [],
    steps: 'In n8n: add a “Webhook” trigger node with the method POST, and copy its Production URL.',
  },
};

const hostOf = (value) => { try { return new URL(value).hostname; } catch { return ''; } };

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

export async function webhookForm(id, presetKey) {
  const editing = id ? await api('GET', `/api/webhooks/${encodeURIComponent(id)}`) : null;
  const groups = await eventGroups();
  const field = (key, label, input, help) => {
    input.id = `field-${key}`;
    input.setAttribute('aria-describedby', `help-${key} error-${key}`);
    return h('div', {}, h('label', { for: input.id }, label), input,
      h('p', { class: 'muted', id: `help-${key}` }, help ?? ''),
      h('p', { class: 'error', id: `error-${key}`, 'aria-live': 'polite' }));
  };
  const name = h('input', { type: 'text', name: 'name', value: editing?.name ?? '' });
  const url = h('input', { type: 'url', name: 'url', value: editing?.url ?? '', placeholder: 'https://' });
  const secret = h('input', { type: 'password', name: 'secret', autocomplete: 'new-password' });
  const ordered = h('input', { type: 'checkbox', name: 'ordered', checked: editing?.ordered ?? false });
  const rateLimit = h('input', { type: 'number', name: 'rateLimit', min: 1, max: 10000, step: 1, inputmode: 'numeric', value: editing?.rateLimit ?? '' });
  const chosen = new Set(editing?.events ?? []);
  const events = h('fieldset', { id: 'field-events', 'aria-describedby': 'error-events' }, h('legend', {}, 'Events'),
    [...groups].map(([group, triggers]) => h('div', { class: 'group' }, h('h2', {}, group),
      triggers.map((t) => h('label', {}, h('input', { type: 'checkbox', name: 'events', value: t.event, checked: chosen.has(t.event) }), t.label)))),
    h('p', { class: 'error', id: 'error-events', 'aria-live': 'polite' }));
  const status = h('div', { 'aria-live': 'polite' });
  const urlField = field('url', 'URL', url, 'Must be HTTPS and publicly accessible.');
  const urlHelp = urlField.querySelector('.muted');

  const usePreset = (key) => {
    const preset = PRESETS[key];
    if (!preset) return;
    if (!name.value) name.value = preset.name;
    url.placeholder = preset.placeholder;
    urlHelp.textContent = `${preset.steps} Then paste it here.`;
    url.dataset.hosts = preset.hosts.join(' ');
    for (const button of form.querySelectorAll('button[data-preset]')) button.setAttribute('aria-pressed', String(button.dataset.preset === key));
    url.focus();
  };
  const presets = editing ? null : h('div', { class: 'presets' },
    h('p', { id: 'presets-help' }, 'Sending to a no-code platform? Start from its webhook trigger:'),
    h('div', { class: 'toolbar' }, Object.entries(PRESETS).map(([key, preset]) => h('button', {
      type: 'button',
      'data-preset': key,
      'aria-pressed': 'false',
      'aria-describedby': 'presets-help',
      onclick: () => usePreset(key),
    }, preset.label))));

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
      // A preset's platform hands out URLs on its own host: another host is most likely a
      // paste from the wrong place.
      const hosts = (url.dataset.hosts || '').split(' ').filter(Boolean);
      if (hosts.length > 0 && url.value && !hosts.some((host) => hostOf(url.value).endsWith(host))) {
        document.getElementById('error-url').textContent = `This is not a ${hosts[0]} address; copy the URL the platform shows.`;
        url.focus();
        return;
      }
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
        let first = null;
        for (const error of errors) {
          const key = String(error.field).replace(/\[\d+\]$/, '');
          const slot = document.getElementById(`error-${key}`);
          if (slot) slot.textContent = error.message;
          first ??= document.getElementById(`field-${key}`);
        }
        if (errors.length === 0) status.replaceChildren(notice(problem.message, true));
        first?.focus();
      }
    },
  },
    presets,
    field('name', 'Name', name),
    urlField,
    events,
    field('secret', 'Secret', secret, editing?.hasSecret ? 'Leave empty to keep the current secret.' : 'Optional: deliveries are then signed (X-Kaanha-Signature).'),
    field('rateLimit', 'Rate limit', rateLimit, 'Optional: most deliveries per second your endpoint takes (1–10,000). The rest wait their turn.'),
    h('div', {}, h('label', {}, ordered, ' Deliver in order'),
      h('p', { class: 'muted' }, 'One delivery at a time, in the order events were published; a retrying one holds back the rest.')),
    status,
    h('p', {}, h('button', { type: 'submit', class: 'primary' }, 'Save'), ' ', h('a', { href: '#/webhooks' }, 'Cancel')));
  show(editing ? `Edit ${editing.name}` : 'Add Webhook', form);
  if (presetKey) usePreset(presetKey); else name.focus();
}
