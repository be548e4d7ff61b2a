// A trigger for the platform's events. Activating the workflow subscribes n8n's webhook URL
// through the gateway's REST hooks, with the events and filters chosen and a secret of its own;
// each delivery's Standard Webhooks signature is checked, within five minutes of its timestamp,
// before the workflow runs. Copied as it is by `kaanha-gateway integrations export --platform n8n`.

import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import type {
	IDataObject,
	IHookFunctions,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { api, apiOrGone, catalog, hooksPath } from '../shared';

/** How far a delivery's timestamp may be from now: older ones may be replays. */
const TOLERANCE_SECONDS = 5 * 60;

/** Every trigger filter, once each: the gateway checks them against the events chosen. */
const filterFields: INodeProperties[] = [];
for (const trigger of catalog.triggers) {
	for (const field of trigger.inputFields) {
		if (filterFields.some((f) => f.name === field.key)) continue;
		filterFields.push({
			displayName: field.label,
			name: field.key,
			type: field.choices.length > 0 ? 'options' : 'string',
			default: '',
			description: field.help,
			...(field.choices.length > 0
				? { options: field.choices.map((c) => ({ name: c.label, value: c.value })) }
				: {}),
		});
	}
}

interface HookData {
	hookId?: string;
	secret?: string;
}

function chosenEvents(context: IHookFunctions): string[] {
	return (context.getNodeParameter('events') as string[]).slice().sort();
}

function chosenFilters(context: IHookFunctions): IDataObject {
	const filters = context.getNodeParameter('filters', {}) as IDataObject;
	return Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== '' && v !== null));
}

/** Compares in constant time; false for any difference in length or bytes. */
function same(given: string, expected: string): boolean {
	const a = Buffer.from(given);
	const b = Buffer.from(expected);
	return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a delivery carries a Standard Webhooks signature made with `secret`, timestamped
 * within the tolerance of now. */
export function verified(secret: string, headers: IDataObject, body: Buffer, nowSeconds: number): boolean {
	const id = String(headers['webhook-id'] ?? '');
	const timestamp = Number(headers['webhook-timestamp']);
	const signatures = String(headers['webhook-signature'] ?? '').split(' ');
	if (!id || !Number.isFinite(timestamp) || Math.abs(nowSeconds - timestamp) > TOLERANCE_SECONDS) {
		return false;
	}
	const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
	const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
	const expected = `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
	return signatures.some((s) => same(s, expected));
}

/** Unsubscribes, however often asked (an unknown id is already gone). */
async function removeHook(this: IHookFunctions): Promise<boolean> {
	const data = this.getWorkflowStaticData('node') as HookData;
	if (data.hookId) {
		await apiOrGone(this, 'DELETE', `${hooksPath}/${encodeURIComponent(data.hookId)}`);
	}
	delete data.hookId;
	delete data.secret;
	return true;
}

export class KaanhaTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kaanha Trigger',
		name: 'kaanhaTrigger',
		icon: { light: 'file:kaanha.svg', dark: 'file:kaanha.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].join(", ")}}',
		description: `Starts the workflow when ${catalog.platform.name} sends an event`,
		defaults: { name: 'Kaanha Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'kaanhaApi', required: true }],
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }],
		properties: [
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				default: [],
				description: 'The events that start the workflow',
				options: catalog.triggers.map((t) => ({ name: t.label, value: t.event, description: t.description })),
			},
			{
				displayName: 'Filters',
				name: 'filters',
				type: 'collection',
				placeholder: 'Add Filter',
				default: {},
				description: 'Only events that match every filter start the workflow',
				options: filterFields,
			},
		],
	};

	webhookMethods = {
		default: {
			/** Is the stored subscription still there, for this URL, these events and filters? */
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const data = this.getWorkflowStaticData('node') as HookData;
				if (!data.hookId) return false;
				const hook = await apiOrGone(this, 'GET', `${hooksPath}/${encodeURIComponent(data.hookId)}`);
				if (!hook) {
					delete data.hookId;
					delete data.secret;
					return false;
				}
				const events = ((hook.events as string[]) ?? [hook.event]).slice().sort();
				const unchanged =
					hook.targetUrl === this.getNodeWebhookUrl('default') &&
					JSON.stringify(events) === JSON.stringify(chosenEvents(this)) &&
					JSON.stringify(hook.filters ?? {}) === JSON.stringify(chosenFilters(this));
				if (!unchanged) {
					// The workflow now wants other events, filters or a URL: drop the old one.
					await removeHook.call(this);
					return false;
				}
				return true;
			},

			async create(this: IHookFunctions): Promise<boolean> {
				const secret = `whsec_${randomBytes(24).toString('base64')}`;
				const hook = await api(this, 'POST', hooksPath, {
					targetUrl: this.getNodeWebhookUrl('default'),
					events: chosenEvents(this),
					filters: chosenFilters(this),
					secret,
					// "Listen for test event": one realistic event at once, for the test run only.
					sendSample: this.getMode() === 'manual',
				});
				const data = this.getWorkflowStaticData('node') as HookData;
				data.hookId = String(hook.id);
				data.secret = secret;
				return true;
			},

			async delete(this: IHookFunctions): Promise<boolean> {
				return await removeHook.call(this);
			},
		},
	};

	/** A delivery: run the workflow with the event, or answer 401 to a bad or stale signature. */
	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject();
		const { secret } = this.getWorkflowStaticData('node') as HookData;
		const raw: Buffer = request.rawBody ?? Buffer.from(JSON.stringify(this.getBodyData()));
		const now = Math.floor(Date.now() / 1000);
		if (!secret || !verified(secret, this.getHeaderData() as IDataObject, raw, now)) {
			this.getResponseObject().status(401).send('invalid or stale webhook-signature');
			return { noWebhookResponse: true };
		}
		return { workflowData: [[{ json: this.getBodyData() }]] };
	}
}
