// An action node with every action and search of the catalog, and the generic API call. The
// chosen action's fields become the JSON body of its route (a search's, its query); fields
// that name a list get a dropdown read from the gateway. Copied as it is by
// `kaanha-gateway integrations export --platform n8n`.

import type {
	IDataObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeExecutionData,
	INodeProperties,
	INodePropertyOptions,
	INodeType,
	INodeTypeDescription,
	NodePropertyTypes,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import type { Action, Field } from '../shared';
import { api, catalog, listChoices } from '../shared';

/** The generic call's own choice in the action list. */
const API_CALL = 'apiCall';

const TYPES: Record<string, NodePropertyTypes> = {
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
const parameterName = (action: Action, field: Field) => `${action.key}_${field.key}`;

function property(action: Action, field: Field): INodeProperties {
	let type = TYPES[field.type] ?? 'string';
	if (field.list) type = field.type === 'array' ? 'multiOptions' : 'options';
	const defaults: Partial<Record<NodePropertyTypes, unknown>> = {
		json: '{}',
		number: 0,
		boolean: false,
		multiOptions: [],
	};
	const out: INodeProperties = {
		displayName: field.label,
		name: parameterName(action, field),
		type,
		required: field.required,
		default: (defaults[type] ?? '') as string,
		description: field.type === 'array' && !field.list ? `${field.help} (comma-separated)` : field.help,
		displayOptions: { show: { action: [action.key] } },
	};
	if (field.list) {
		out.typeOptions = { loadOptionsMethod: field.list };
		out.description = `${field.help} Choose from the list, or specify an ID using an expression.`;
	} else if (type === 'options') {
		out.options = field.choices.map((c) => ({ name: c.label, value: c.value }));
		out.default = String(field.default ?? field.choices[0]?.value ?? '');
	}
	if (field.type === 'text') out.typeOptions = { rows: 4 };
	return out;
}

/** The value as the action's route takes it. */
function value(field: Field, raw: unknown): unknown {
	if (field.type === 'array' && typeof raw === 'string') {
		return raw
			.split(',')
			.map((s) => s.trim())
			.filter(Boolean);
	}
	if (field.type === 'json' && typeof raw === 'string') return JSON.parse(raw || '{}');
	return raw;
}

const apiCallProperties: INodeProperties[] = [
	{
		displayName: 'Method',
		name: 'method',
		type: 'options',
		default: 'GET',
		options: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => ({ name: m, value: m })),
		displayOptions: { show: { action: [API_CALL] } },
	},
	{
		displayName: 'Path',
		name: 'path',
		type: 'string',
		default: '/api/contacts',
		required: true,
		description: "A path of the platform's API, e.g. /api/contacts/clx123",
		displayOptions: { show: { action: [API_CALL] } },
	},
	{
		displayName: 'Query',
		name: 'query',
		type: 'json',
		default: '{}',
		description: 'Query parameters as a JSON object',
		displayOptions: { show: { action: [API_CALL] } },
	},
	{
		displayName: 'Body',
		name: 'body',
		type: 'json',
		default: '{}',
		description: 'A JSON body (not with GET)',
		displayOptions: { show: { action: [API_CALL], method: ['POST', 'PUT', 'PATCH', 'DELETE'] } },
	},
];

/** Every action and search of the catalog, then the generic call. */
const actionOptions: INodePropertyOptions[] = [
	...catalog.actions.map((a) => ({ name: a.label, value: a.key, description: a.description, action: a.label })),
	{
		name: 'Make an API Call',
		value: API_CALL,
		description: "Any request to the platform's API the gateway allows",
		action: 'Make an API call',
	},
];

const firstAction = String(actionOptions[0].value);

/** One dropdown loader per list of the catalog. */
const loadOptions: Record<string, (this: ILoadOptionsFunctions) => Promise<INodePropertyOptions[]>> =
	Object.fromEntries(
		catalog.lists.map((list) => [
			list.key,
			async function (this: ILoadOptionsFunctions) {
				return await listChoices(this, list.key);
			},
		]),
	);

export class Kaanha implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kaanha',
		name: 'kaanha',
		icon: { light: 'file:kaanha.svg', dark: 'file:kaanha.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["action"]}}',
		description: `Runs ${catalog.platform.name} actions and searches, or any call to its API`,
		defaults: { name: 'Kaanha' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		credentials: [{ name: 'kaanhaApi', required: true }],
		properties: [
			{
				displayName: 'Action',
				name: 'action',
				type: 'options',
				noDataExpression: true,
				default: firstAction,
				options: actionOptions,
			},
			...catalog.actions.flatMap((action) => action.inputFields.map((field) => property(action, field))),
			...apiCallProperties,
		],
	};

	methods = { loadOptions };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const results: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			const key = this.getNodeParameter('action', i) as string;
			if (key === API_CALL) {
				const json = (name: string) => {
					const raw = this.getNodeParameter(name, i, '{}');
					return (typeof raw === 'string' ? JSON.parse(raw || '{}') : raw) as IDataObject;
				};
				const method = this.getNodeParameter('method', i) as string;
				const call: IDataObject = { method, path: this.getNodeParameter('path', i), query: json('query') };
				if (method !== 'GET') call.body = json('body');
				const answer = await api(this, catalog.apiCall.method, catalog.apiCall.path, call);
				results.push({ json: answer, pairedItem: { item: i } });
				continue;
			}
			const action = catalog.actions.find((a) => a.key === key);
			if (!action) {
				throw new NodeOperationError(this.getNode(), `Unknown action: ${key}`, { itemIndex: i });
			}
			const body: IDataObject = {};
			for (const field of action.inputFields) {
				const raw = this.getNodeParameter(parameterName(action, field), i, '');
				const blank = raw === '' || raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0);
				if (!blank) body[field.key] = value(field, raw) as IDataObject[keyof IDataObject];
			}
			const answer = await api(this, action.method, action.path, body);
			// A search answers a list: one item per result.
			const found = Array.isArray(answer) ? (answer as IDataObject[]) : [answer];
			for (const json of found) results.push({ json, pairedItem: { item: i } });
		}
		return [results];
	}
}
