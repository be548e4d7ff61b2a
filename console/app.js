// The gateway's console: routing between its pages, and the header (what the signed-in key
// may open, the time zone, sign out). Plain DOM, no framework. The API key lives in
// sessionStorage only (gone when the tab closes), never in a URL.

import { can, forget, leavePage, signedIn } from './api.js';
import { h, notice, show } from './dom.js';
import { connectPage } from './connect.js';
import { findPage } from './find.js';
import { keysPage } from './keys.js';
import { logsPage } from './logs.js';
import { signInPage } from './sign-in.js';
import { chooseZone, inUtc, localZone } from './time.js';
import { webhookForm } from './webhook-form.js';
import { webhooksPage } from './webhooks.js';

const signOut = document.getElementById('sign-out');
const zone = document.getElementById('time-zone');

/** Shows in the header only the pages the signed-in key may open. */
function header(allowed) {
  for (const link of document.querySelectorAll('nav a[data-needs]')) link.hidden = !allowed[link.dataset.needs];
  signOut.hidden = !allowed.signedIn;
  const here = location.hash.split('?')[0];
  for (const link of document.querySelectorAll('header nav a')) {
    const path = link.getAttribute('href');
    if (here.startsWith(path.replace(/\/zapier$/, ''))) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function route() {
  leavePage();
  if (!signedIn()) {
    header({});
    return signInPage(() => { if (location.hash === '#/') route(); else location.hash = '#/'; });
  }
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    const allowed = await can();
    header({ ...allowed, signedIn: true });
    const lacking = (scope) => show('Not with this key', notice(`This page needs a key with the ${scope} scope.`, true));
    if (parts[0] === 'connect') return await connectPage(parts[1]);
    if (parts[0] === 'keys') return allowed.apiKeys ? await keysPage() : lacking('api-keys');
    if (!allowed.webhooks) {
      // A key for keys only (api-keys) lands on its keys; any other on Connect.
      if (parts.length === 0 && allowed.apiKeys) return await keysPage();
      if (parts.length === 0) return await connectPage('zapier');
      return lacking('webhooks');
    }
    if (parts[0] === 'find') return await findPage(params.get('q') ?? '');
    if (parts[0] === 'webhooks' && parts[1] === 'new') return await webhookForm(null, params.get('preset'));
    if (parts[0] === 'webhooks' && parts[2] === 'edit') return await webhookForm(parts[1]);
    if (parts[0] === 'webhooks' && parts[2] === 'logs') return await logsPage(parts[1], params.has('created'));
    return await webhooksPage(params.get('cursor'));
  } catch (problem) {
    if (!signedIn()) return route();
    show('Something went wrong', notice(problem.message, true), h('p', {}, h('a', { href: '#/webhooks' }, 'Back to webhooks')));
  }
}

zone.replaceChildren(
  h('option', { value: 'local', selected: !inUtc() }, `Local (${localZone})`),
  h('option', { value: 'UTC', selected: inUtc() }, 'UTC'));
zone.addEventListener('change', () => { chooseZone(zone.value); route(); });
signOut.addEventListener('click', () => {
  forget();
  location.hash = '#/sign-in';
  route();
});
window.addEventListener('hashchange', route);
route();
