'use strict';
// An action node with every action of the catalog: the chosen action's fields become the JSON
// body of its route. Copied as it is by `kaanha-gateway integrations export --platform n8n`.

const { catalog, api } = require('../shared');

const TYPES = {
  string: 'string',
  text: 'string',
  integer: 'number',
  number: 'number',
  boolean: 'boolean',
  datetime: 'dateTime',
  enum: 'options',
  array: 'string',
  json: 'json',
  password: 'string',
};

/** A parameter's name: unique per action, as two actions may share a field key. */
const parameterName = (action, field) => `${action.key}_${field.key}`;

function property(action, field) {
  const type = TYPES[field.type] || 'string';
  const property = {
    displayName: field.label,
    name: parameterName(action, field),
    type,
    required: field.required,
    default: type === 'json' ? '{}' : type === 'number' ? 0 : type === 'boolean' ? false : '',
    description: field.help || undefined,
    displayOptions: { show: { action: [action.key] } },
  };
  if (type === 'options') {
    property.options = field.choices.map((c) => ({ name: c.label, value: c.value }));
    property.default = field.default ?? field.choices[0]?.value ?? '';
  }
  if (field.type === 'text') property.typeOptions = { rows: 4 };
  if (field.type === 'array') property.description = `${field.help || ''} (comma-separated)`.trim();
  return property;
}

/** The value as the action's route takes it. */
function value(field, raw) {
  if (field.type === 'array' && typeof raw === 'string') {
    return raw.split(',').map((s) => s.trim()).filter(Boolean);
  }
  if (field.type === 'json' && typeof raw === 'string') return JSON.parse(raw || '{}');
  return raw;
}

class Kaanha {
  constructor() {
    this.description = {
      displayName: catalog.platform.name,
      name: 'kaanha',
      icon: 'fa:paper-plane',
      group: ['transform'],
      version: 1,
      subtitle: '={{$parameter["action"]}}',
      description: `Runs ${catalog.platform.name} actions`,
      defaults: { name: catalog.platform.name },
      inputs: ['main'],
      outputs: ['main'],
      credentials: [{ name: 'kaanhaApi', required: true }],
      properties: [
        {
          displayName: 'Action',
          name: 'action',
          type: 'options',
          noDataExpression: true,
          default: catalog.actions[0].key,
          options: catalog.actions.map((a) => ({ name: a.label, value: a.key, description: a.description })),
        },
        ...catalog.actions.flatMap((action) => action.inputFields.map((field) => property(action, field))),
      ],
    };
  }

  async execute() {
    const items = this.getInputData();
    const results = [];
    for (let i = 0; i < items.length; i++) {
      const key = this.getNodeParameter('action', i);
      const action = catalog.actions.find((a) => a.key === key);
      const body = {};
      for (const field of action.inputFields) {
        const raw = this.getNodeParameter(parameterName(action, field), i, '');
        if (raw !== '' && raw !== undefined && raw !== null) body[field.key] = value(field, raw);
      }
      const answer = await api(this, action.method, action.path, body);
      results.push({ json: answer, pairedItem: { item: i } });
    }
    return [results];
  }
}

module.exports = { Kaanha };
