// Connect an AI agent: the gateway's MCP server (`/mcp`), a key made for it (integrations, and
// webhooks if the agent should read delivery logs), and the configuration each common client
// takes, with the key filled in once it is made.

import { api, can, consoleSettings } from './api.js';
import { h, notice, show } from './dom.js';
import { shownOnce } from './keys.js';

const PLACEHOLDER = '<YOUR_API_KEY>';

/** Each client's configuration for `url` with `key`, as its documentation spells it. */
const CLIENTS = [
  {
    name: 'Claude Code',
    where: 'Run in a terminal:',
    text: (url, key) => `claude mcp add --transport http kaanha ${url} --header "Authorization: Bearer ${key}"`,
  },
  {
    name: 'Cursor',
    where: 'In ~/.cursor/mcp.json (or .cursor/mcp.json in a project):',
    text: (url, key) => JSON.stringify({ mcpServers: { kaanha: { url, headers: { Authorization: `Bearer ${key}` } } } }, null, 2),
  },
  {
    name: 'VS Code',
    where: 'In .vscode/mcp.json:',
    text: (url, key) => JSON.stringify({ servers: { kaanha: { type: 'http', url, headers: { Authorization: `Bearer ${key}` } } } }, null, 2),
  },
  {
    name: 'Claude Desktop',
    where: 'In claude_desktop_config.json (through mcp-remote, which needs Node.js):',
    text: (url, key) => JSON.stringify({
      mcpServers: { kaanha: { command: 'npx', args: ['mcp-remote', url, '--header', 'Authorization:${AUTH_HEADER}'], env: { AUTH_HEADER: `Bearer ${key}` } } },
    }, null, 2),
  },
  {
    name: 'n8n AI Agent',
    where: 'Add the “MCP Client Tool” to the agent and set:',
    text: (url, key) => `Endpoint: ${url}\nServer Transport: HTTP Streamable\nAuthentication: Bearer Auth (token: ${key})`,
  },
];

/** The configuration blocks, for `key` or the placeholder. */
function configurations(url, key) {
  return CLIENTS.map((client) => h('section', { class: 'client', 'aria-label': client.name },
    h('h3', {}, client.name),
    h('p', {}, client.where),
    h('pre', { 'data-client': client.name }, client.text(url, key))));
}

export async function agentsPage(tabs) {
  const [settings, { apiKeys }] = await Promise.all([consoleSettings(), can()]);
  const url = `${settings.publicUrl.replace(/\/$/, '')}/mcp`;
  const configs = h('div', { id: 'mcp-configs' }, configurations(url, PLACEHOLDER));
  const created = h('div', {});
  const withWebhooks = h('input', { type: 'checkbox', checked: true });
  const createKey = apiKeys
    ? h('form', {
      class: 'inline',
      onsubmit: async (event) => {
        event.preventDefault();
        const scopes = withWebhooks.checked ? ['integrations', 'webhooks'] : ['integrations'];
        try {
          const made = await api('POST', '/api/api-keys', { name: 'AI agent (MCP)', scopes });
          created.replaceChildren(shownOnce(made));
          configs.replaceChildren(...configurations(url, made.key));
          document.getElementById('new-key').focus();
        } catch (problem) {
          created.replaceChildren(notice(problem.message, true));
        }
      },
    },
    h('fieldset', {},
      h('legend', {}, 'Scopes'),
      h('label', {}, h('input', { type: 'checkbox', checked: true, disabled: true }),
        h('code', {}, 'integrations'), ' — the platform’s actions, searches and lists (always)'),
      h('label', {}, withWebhooks, h('code', {}, 'webhooks'), ' — read delivery logs, retry, recover and send test events')),
    h('button', { type: 'submit', class: 'primary' }, 'Create a key for an AI agent'))
    : h('p', { class: 'muted' }, 'Ask someone whose key holds the api-keys scope to create one, or use one you have.');

  show('Connect an AI agent (MCP)',
    tabs,
    h('p', {}, 'Any client of the Model Context Protocol (Claude, Cursor, VS Code, n8n’s AI Agent, …) can act on this organization’s Kaanha data and find out why a delivery did or did not arrive.'),
    h('h2', {}, 'The server'),
    h('table', { class: 'values' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Value'))),
      h('tbody', {},
        h('tr', {}, h('th', { scope: 'row' }, 'URL'), h('td', {}, h('code', { id: 'mcp-url' }, url))),
        h('tr', {}, h('th', { scope: 'row' }, 'Transport'), h('td', {}, 'Streamable HTTP')),
        h('tr', {}, h('th', { scope: 'row' }, 'Header'), h('td', {}, h('code', {}, `Authorization: Bearer ${PLACEHOLDER}`))))),
    h('h2', {}, 'A key for the agent'),
    h('p', {}, 'The agent gets the tools its key’s scopes allow, and only this organization’s data.'),
    createKey,
    created,
    h('h2', {}, 'Configuration'),
    configs,
    h('h2', {}, 'Try it'),
    h('p', {}, 'Ask the agent: “Find the contact asha@example.com”, or “Why didn’t my Zap fire for wamid.123?” (it uses the debug_delivery prompt’s steps: find_delivery, then the attempts’ codes and errors).'));
}
