'use strict';
// A Zapier app (CLI style, zapier-platform-core) for a kaanha-gateway, built from its discovery
// document in catalog.json. `kaanha-gateway integrations export --platform zapier` writes
// catalog.json and copies this runtime as it is; change the runtime here, never the catalog.

const crypto = require('node:crypto');
const zapier = require('zapier-platform-core');
const catalog = require('./catalog.json');

const hooksPath = catalog.subscriptions.subscribe.path.replace('{platform}', 'zapier');
const signatureHeader = catalog.delivery.signatureHeader.toLowerCase();

/** The gateway to call: the connection's own URL, else the one the app was exported for. */
const gateway = (bundle) =>
  String(bundle.authData.baseUrl || catalog.platform.baseUrl).replace(/\/+$/, '');

const addApiKey = (request, z, bundle) => {
  if (bundle.authData.apiKey) {
    request.headers = request.headers || {};
    request.headers.Authorization = `Bearer ${bundle.authData.apiKey}`;
  }
  return request;
};

/** Errors a person can act on: an expired key asks for reconnection, a 4xx shows its detail. */
const explainErrors = (response, z) => {
  if (response.status === 401) {
    throw new z.errors.ExpiredAuthError(
      'The API key was refused (revoked, or from another gateway). Reconnect with a valid key.',
    );
  }
  if (response.status >= 400) {
    let detail = response.content;
    try {
      const problem = JSON.parse(response.content);
      const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`);
      detail = fields.length > 0 ? fields.join('; ') : problem.detail || problem.title;
    } catch {}
    throw new z.errors.Error(String(detail).slice(0, 500), 'GatewayError', response.status);
  }
  return response;
};

// Zapier names nested fields with `__` (`data__contact__phone`), as it flattens them.
const zapierKey = (key) => key.split('.').join('__');

// Zapier's input types; the catalog's `enum` becomes a string with choices.
const INPUT_TYPES = new Set(['string', 'text', 'integer', 'number', 'boolean', 'datetime', 'json']);
const OUTPUT_TYPES = new Set(['string', 'number', 'boolean', 'datetime', 'integer']);

/** The hidden trigger that fills a dropdown from one of the gateway's lists. */
const listTriggerKey = (list) => `list_${list}`;

const inputField = (field) => {
  const out = {
    key: field.key,
    label: field.label,
    type: INPUT_TYPES.has(field.type) ? field.type : 'string',
    required: field.required,
    helpText: field.help || undefined,
  };
  if (field.type === 'array') {
    out.list = true;
  }
  const choices = (field.choices || []).filter((c) => c.value !== '');
  if (choices.length > 0) {
    out.choices = Object.fromEntries(choices.map((c) => [c.value, c.label]));
  }
  if (field.list) {
    out.dynamic = `${listTriggerKey(field.list)}.id.name`;
    out.altersDynamicFields = false;
  }
  if (field.default !== '' && field.default !== null && typeof field.default !== 'object') {
    out.default = String(field.default);
  }
  return out;
};

const outputField = (field) => {
  const out = {
    key: zapierKey(field.key),
    label: field.label,
    type: OUTPUT_TYPES.has(field.type) ? field.type : 'string',
    primary: field.primary || undefined,
  };
  if (field.type === 'array') {
    out.list = true;
  }
  return out;
};

const authentication = {
  type: 'custom',
  fields: [
    ...catalog.auth.fields.map(inputField),
    {
      key: 'baseUrl',
      label: 'Gateway URL',
      type: 'string',
      required: false,
      default: catalog.platform.baseUrl,
      helpText: `Where your ${catalog.platform.name} gateway is served.`,
    },
  ],
  test: async (z, bundle) => {
    const response = await z.request({ url: `${gateway(bundle)}${catalog.auth.test.path}` });
    return response.data;
  },
  connectionLabel: (z, bundle) => bundle.inputData[catalog.auth.connectionLabel],
};

/** The trigger's filters as the user set them, blank ones left out. */
const filtersOf = (bundle) =>
  Object.fromEntries(
    Object.entries(bundle.inputData || {}).filter(([, v]) => v !== '' && v !== null && v !== undefined),
  );

/** "Contact sends you a message" → "Triggers when a contact sends you a message." */
const triggerDescription = (trigger) => {
  const what = trigger.description.replace(/^Triggers when:?\s*/i, '').replace(/\.$/, '');
  return `Triggers when ${what.charAt(0).toLowerCase()}${what.slice(1)}.`;
};

/** Whether a delivery is signed with the secret this app gave the gateway at subscribe. */
const signedBy = (secret, rawRequest) => {
  const headers = Object.fromEntries(
    Object.entries((rawRequest && rawRequest.headers) || {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  const given = headers[`http-${signatureHeader}`] || headers[signatureHeader] || '';
  const expected = `sha256=${crypto.createHmac('sha256', secret).update(rawRequest.content || '').digest('hex')}`;
  return given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
};

/** A REST-hook trigger: subscribe on Zap on, unsubscribe on Zap off, samples for the editor. */
const hookTrigger = (trigger) => ({
  key: trigger.key,
  noun: trigger.noun,
  display: {
    label: trigger.label.startsWith('New ') ? trigger.label : `New ${trigger.label}`,
    description: triggerDescription(trigger),
  },
  operation: {
    type: 'hook',
    inputFields: trigger.inputFields.map(inputField),
    performSubscribe: async (z, bundle) => {
      // A secret of this subscription's own: deliveries are checked against it in `perform`.
      const secret = crypto.randomBytes(24).toString('hex');
      const response = await z.request({
        url: `${gateway(bundle)}${hooksPath}`,
        method: 'POST',
        body: { targetUrl: bundle.targetUrl, event: trigger.event, filters: filtersOf(bundle), secret },
      });
      return { ...response.data, secret };
    },
    performUnsubscribe: async (z, bundle) => {
      const id = encodeURIComponent(bundle.subscribeData.id);
      await z.request({ url: `${gateway(bundle)}${hooksPath}/${id}`, method: 'DELETE' });
      return {};
    },
    // The delivery's body is the event: id, event, organizationId, timestamp, data. One not
    // signed with this subscription's secret did not come from the gateway.
    perform: (z, bundle) => {
      const secret = bundle.subscribeData && bundle.subscribeData.secret;
      if (secret && !signedBy(secret, bundle.rawRequest)) {
        throw new z.errors.HaltedError('The request was not signed by the gateway; ignored.');
      }
      return [bundle.cleanedRequest];
    },
    performList: async (z, bundle) => {
      const filters = filtersOf(bundle);
      const response = await z.request({
        url: `${gateway(bundle)}${trigger.samples.path}`,
        params: Object.keys(filters).length > 0 ? { filters: JSON.stringify(filters) } : {},
      });
      return response.data;
    },
    sample: trigger.sample,
    outputFields: trigger.outputFields.map(outputField),
  },
});

/** A hidden trigger listing one of the gateway's lists, for dynamic dropdowns. */
const listTrigger = (list) => ({
  key: listTriggerKey(list.key),
  noun: list.label.replace(/s$/, ''),
  display: { label: `List ${list.label}`, description: `Choices for ${list.label.toLowerCase()} dropdowns.`, hidden: true },
  operation: {
    canPaginate: true,
    perform: async (z, bundle) => {
      const cursor = bundle.meta && bundle.meta.page ? await z.cursor.get() : undefined;
      const response = await z.request({
        url: `${gateway(bundle)}${list.route.path}`,
        params: cursor ? { cursor } : {},
      });
      if (response.data.nextCursor) {
        await z.cursor.set(response.data.nextCursor);
      }
      return response.data.items.map((item) => ({ id: item.value, name: item.label }));
    },
    sample: { id: 'clx...', name: 'Jane Smith' },
  },
});

/** An action: the catalog's route, with the step's fields as the JSON body. */
const operation = (action) => ({
  inputFields: action.inputFields.map(inputField),
  perform: async (z, bundle) => {
    const response = await z.request({
      url: `${gateway(bundle)}${action.path}`,
      method: action.method,
      body: bundle.inputData,
    });
    return response.data;
  },
  sample: action.sample,
  outputFields: action.outputFields.map(outputField),
});

const create = (action) => ({
  key: action.key,
  noun: action.noun,
  display: { label: action.label, description: `${action.description.replace(/\.$/, '')}.` },
  operation: operation(action),
});

const search = (action) => ({
  key: action.key,
  noun: action.noun,
  display: { label: action.label, description: `${action.description.replace(/\.$/, '')}.` },
  operation: operation(action),
});

/** Any call to the platform's API, through the gateway's `apiCall` route (which allows only some
 * paths, with the organization's token): for what the catalog's actions do not cover yet. */
const apiRequest = {
  key: 'api_request',
  noun: 'API Request',
  display: {
    label: 'API Request',
    description: `Makes an authorized call to the ${catalog.platform.name} API, below the paths the gateway allows.`,
  },
  operation: {
    inputFields: [
      {
        key: 'method',
        label: 'Method',
        required: true,
        default: 'GET',
        choices: { GET: 'GET', POST: 'POST', PUT: 'PUT', PATCH: 'PATCH', DELETE: 'DELETE' },
      },
      { key: 'path', label: 'Path', required: true, helpText: 'A path of the API, e.g. `/api/contacts/clx123`.' },
      { key: 'query', label: 'Query String', dict: true, required: false },
      { key: 'body', label: 'Body', type: 'text', required: false, helpText: 'JSON, sent with any method but GET.' },
    ],
    perform: async (z, bundle) => {
      const { method, path, query, body } = bundle.inputData;
      const call = { method, path, query: query || {} };
      if (method !== 'GET' && body) {
        try {
          call.body = JSON.parse(body);
        } catch {
          throw new z.errors.Error('Body: not valid JSON.', 'InvalidBody', 400);
        }
      }
      const response = await z.request({
        url: `${gateway(bundle)}${catalog.apiCall.path}`,
        method: catalog.apiCall.method,
        body: call,
      });
      return response.data;
    },
    sample: { status: 200, body: { id: 'clx...' } },
    outputFields: [
      { key: 'status', label: 'Status Code', type: 'integer' },
      { key: 'body', label: 'Body' },
    ],
  },
};

const byKey = (items) => Object.fromEntries(items.map((item) => [item.key, item]));
const creates = catalog.actions.filter((a) => a.kind !== 'search');
const searches = catalog.actions.filter((a) => a.kind === 'search');

/** "Find or create": a search paired with the create of the same noun. */
const searchOrCreates = searches
  .map((s) => [s, creates.find((c) => c.kind === 'create' && c.noun === s.noun)])
  .filter(([, c]) => c)
  .map(([s, c]) => ({
    key: s.key,
    display: { label: `Find or Create ${s.noun}`, description: `Finds a ${s.noun.toLowerCase()}, or creates one if none is found.` },
    search: s.key,
    create: c.key,
  }));

module.exports = {
  version: require('./package.json').version,
  platformVersion: zapier.version,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [explainErrors],
  triggers: byKey([...catalog.triggers.map(hookTrigger), ...(catalog.lists || []).map(listTrigger)]),
  creates: byKey([...creates.map(create), ...(catalog.apiCall ? [apiRequest] : [])]),
  searches: byKey(searches.map(search)),
  searchOrCreates: byKey(searchOrCreates),
};
