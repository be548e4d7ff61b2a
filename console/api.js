// The API, called with the signed-in key; what that key may do; the console's settings.

const KEY = 'kaanha.apiKey';

export const signedIn = () => sessionStorage.getItem(KEY) !== null;
export const forget = () => { sessionStorage.removeItem(KEY); capabilities = null; };
export const keep = (key) => { sessionStorage.setItem(KEY, key); capabilities = null; };

// Every page drawn is a new generation. An answer that arrives after the user has moved on is
// dropped: its promise never settles, so a slow page left behind can never draw itself over
// the page now shown (a webhooks list still loading once replaced the Logs opened after it).
let generation = 0;
export const leavePage = () => { generation += 1; };

/** Calls the API with `key` (the signed-in one by default); throws the problem, with
 * `status`, on failure. Never settles if the page that asked has been left. */
export async function api(method, path, body, key = sessionStorage.getItem(KEY)) {
  const askedOn = generation;
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (askedOn !== generation) return new Promise(() => {});
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (response.status === 401 && key === sessionStorage.getItem(KEY)) {
    forget();
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

let capabilities = null;

/** What the signed-in key may do, asked of the API itself (a 403 means the scope is missing;
 * the server's rules decide, the console only hides what would be refused). */
export async function can() {
  if (capabilities) return capabilities;
  const allowed = (path) => api('GET', path).then((data) => data ?? true, (problem) => {
    if (problem.status === 403) return false;
    throw problem;
  });
  const [webhooks, apiKeys, me] = await Promise.all([
    allowed('/api/webhooks?limit=1'),
    allowed('/api/api-keys?limit=1'),
    allowed('/api/integrations/me'),
  ]);
  capabilities = { webhooks: Boolean(webhooks), apiKeys: Boolean(apiKeys), me: me || null };
  return capabilities;
}

let settings = null;

/** The gateway's public address and where the platform apps are (`/console/settings.json`). */
export async function consoleSettings() {
  if (!settings) settings = await (await fetch('/console/settings.json')).json();
  return { ...settings, publicUrl: settings.publicUrl || location.origin };
}
