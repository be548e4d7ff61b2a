'use strict';
// What both nodes need: the catalog, and calls to the gateway with the connection's key.

const catalog = require('../catalog.json');

/** The REST-hook routes for n8n subscriptions. */
const hooksPath = catalog.subscriptions.subscribe.path.replace('{platform}', 'n8n');

/** Calls the gateway with n8n's authenticated request helper; answers the parsed JSON. */
async function api(context, method, path, body) {
  const credentials = await context.getCredentials('kaanhaApi');
  const base = String(credentials.baseUrl || catalog.platform.baseUrl).replace(/\/+$/, '');
  return context.helpers.httpRequestWithAuthentication.call(context, 'kaanhaApi', {
    method,
    url: `${base}${path}`,
    body,
    json: true,
  });
}

/** The HTTP status an n8n request error carries, whichever helper threw it. */
function statusOf(error) {
  return Number(error.httpCode ?? error.statusCode ?? error.response?.status ?? error.cause?.status);
}

module.exports = { catalog, hooksPath, api, statusOf };
