'use strict';
// A Zapier app (CLI style, zapier-platform-core) for a kaanha-gateway, built from its discovery
// document in catalog.json. `kaanha-gateway integrations export --platform zapier` writes
// catalog.json and copies this runtime as it is; change the runtime here, never the catalog.

const zapier = require('zapier-platform-core');
const catalog = require('./catalog.json');

const hooksPath = catalog.subscriptions.subscribe.path.replace('{platform}', 'zapier');

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

// Zapier's input types; the catalog's `enum` becomes a string with choices.
const INPUT_TYPES = new Set(['string', 'text', 'integer', 'number', 'boolean', 'datetime', 'json']);
const OUTPUT_TYPES = new Set(['string', 'number', 'boolean', 'datetime', 'integer']);

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
  if (field.default !== '' && field.default !== null && typeof field.default !== 'object') {
    out.default = String(field.default);
  }
  return out;
};

const outputField = (field) => ({
  key: field.key,
  label: field.label,
  type: OUTPUT_TYPES.has(field.type) ? field.type : 'string',
  primary: field.primary || undefined,
});

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

/** A REST-hook trigger: subscribe on Zap on, unsubscribe on Zap off, samples for the editor. */
const hookTrigger = (trigger) => ({
  key: trigger.key,
  noun: trigger.noun,
  display: { label: trigger.label, description: trigger.description },
  operation: {
    type: 'hook',
    inputFields: trigger.inputFields.map(inputField),
    performSubscribe: async (z, bundle) => {
      const response = await z.request({
        url: `${gateway(bundle)}${hooksPath}`,
        method: 'POST',
        body: { targetUrl: bundle.targetUrl, event: trigger.event, filters: bundle.inputData },
      });
      return response.data;
    },
    performUnsubscribe: async (z, bundle) => {
      const id = encodeURIComponent(bundle.subscribeData.id);
      await z.request({ url: `${gateway(bundle)}${hooksPath}/${id}`, method: 'DELETE' });
      return {};
    },
    // The delivery's body is the event: id, event, organizationId, timestamp, data.
    perform: (z, bundle) => [bundle.cleanedRequest],
    performList: async (z, bundle) => {
      const response = await z.request({ url: `${gateway(bundle)}${trigger.samples.path}` });
      return response.data;
    },
    sample: trigger.sample,
    outputFields: trigger.outputFields.map(outputField),
  },
});

/** An action: the catalog's route, with the step's fields as the JSON body. */
const create = (action) => ({
  key: action.key,
  noun: action.noun,
  display: { label: action.label, description: action.description },
  operation: {
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
  },
});

const byKey = (items) => Object.fromEntries(items.map((item) => [item.key, item]));

module.exports = {
  version: require('./package.json').version,
  platformVersion: zapier.version,
  authentication,
  beforeRequest: [addApiKey],
  triggers: byKey(catalog.triggers.map(hookTrigger)),
  creates: byKey(catalog.actions.map(create)),
};
