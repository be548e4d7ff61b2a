import { keep } from './api.js';
import { h, show } from './dom.js';

export function signInPage(signedIn) {
  const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true });
  const error = h('p', { class: 'error', id: 'api-key-error', 'aria-live': 'polite' });
  // The API's messages, next to each field, are the validation (the browser's own would
  // stop some values before the API could name what is wrong).
  const form = h('form', {
    novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      const key = input.value.trim();
      // Checked before it is kept: a wrong key is never stored. Any scope will do (a key
      // holding only `api-keys` manages keys); 401 is the only refusal of the key itself.
      const response = await fetch('/api/webhooks?limit=1', { headers: { authorization: `Bearer ${key}` } });
      if (response.status === 401 || (!response.ok && response.status !== 403)) {
        const problem = await response.json().catch(() => ({}));
        error.textContent = problem.detail || response.statusText;
        return;
      }
      keep(key);
      signedIn();
    },
  },
    h('label', { for: 'api-key' }, 'API key'),
    input,
    error,
    h('p', { class: 'muted' }, 'An organization API key (kgw_…). It is kept in this tab only.'),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  show('Sign in', form);
  input.focus();
}
