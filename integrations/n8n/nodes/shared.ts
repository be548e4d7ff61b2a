// What both nodes need: the catalog, calls to the gateway with the connection's key, and its
// errors as n8n shows them.

import type {
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	ILoadOptionsFunctions,
	INodePropertyOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import catalogJson from '../catalog.json';

/** Field of the discovery document (`GET /api/integrations/describe`). */
export interface Field {
	key: string;
	label: string;
	type: string;
	required: boolean;
	default: unknown;
	help: string;
	choices: { value: string; label: string }[];
	list?: string;
}

export interface Action {
	key: string;
	kind: string;
	noun: string;
	label: string;
	description: string;
	method: string;
	path: string;
	inputFields: Field[];
}

export interface Trigger {
	key: string;
	event: string;
	label: string;
	description: string;
	inputFields: Field[];
	samples: { path: string };
}

export const catalog = catalogJson as unknown as {
	platform: { name: string; baseUrl: string };
	auth: { fields: Field[]; test: { path: string } };
	subscriptions: { subscribe: { path: string } };
	triggers: Trigger[];
	actions: Action[];
	lists: { key: string; label: string; route: { path: string } }[];
	apiCall: { method: string; path: string };
};

/** The REST-hook routes for n8n subscriptions. */
export const hooksPath = catalog.subscriptions.subscribe.path.replace('{platform}', 'n8n');

type Context = IExecuteFunctions | IHookFunctions | ILoadOptionsFunctions;

/** Like `api`, but `null` for a 404: what is looked up or removed is gone already. */
export async function apiOrGone(context: Context, method: string, path: string): Promise<IDataObject | null> {
	try {
		return await request(context, method, path);
	} catch (error) {
		if (statusOf(error) === 404) return null;
		throw gatewayError(context, error);
	}
}

/** Calls the gateway with n8n's authenticated request helper; answers the parsed JSON. A
 * refusal becomes a NodeApiError carrying the gateway's problem detail. */
export async function api(
	context: Context,
	method: string,
	path: string,
	body?: IDataObject,
	qs?: IDataObject,
): Promise<IDataObject> {
	try {
		return await request(context, method, path, body, qs);
	} catch (error) {
		throw new NodeApiError(context.getNode(), error as JsonObject, { message: problemDetail(error) ?? undefined });
	}
}

async function request(
	context: Context,
	method: string,
	path: string,
	body?: IDataObject,
	qs?: IDataObject,
): Promise<IDataObject> {
	const credentials = await context.getCredentials('kaanhaApi');
	const base = String(credentials.baseUrl || catalog.platform.baseUrl).replace(/\/+$/, '');
	return (await context.helpers.httpRequestWithAuthentication.call(context, 'kaanhaApi', {
		method: method as IHttpRequestMethods,
		url: `${base}${path}`,
		body,
		qs,
		json: true,
	})) as IDataObject;
}

/** A refusal as n8n shows it, with the gateway's own words. */
function gatewayError(context: Context, error: unknown): NodeApiError {
	const detail = problemDetail(error);
	return new NodeApiError(context.getNode(), error as JsonObject, {
		message: detail ?? undefined,
		description: detail ?? undefined,
		httpCode: String(statusOf(error) || ''),
	});
}

/** The gateway's own words for a refusal: the problem's fields, else its detail. n8n's
 * request helpers put the answer's body in different places; each is looked at. */
function problemDetail(error: unknown): string | null {
	const e = error as {
		response?: { body?: unknown; data?: unknown };
		cause?: { response?: { body?: unknown; data?: unknown } };
		description?: unknown;
	};
	const bodies = [e.response?.data, e.response?.body, e.cause?.response?.data, e.cause?.response?.body, e.description];
	for (const body of bodies) {
		const problem = (typeof body === 'string' ? safeParse(body) : body) as
			| { detail?: string; errors?: { field: string; message: string }[] }
			| undefined;
		if (!problem || typeof problem !== 'object') continue;
		const fields = (problem.errors ?? []).map((f) => `${f.field}: ${f.message}`);
		const detail = fields.length > 0 ? fields.join('; ') : problem.detail;
		if (detail) return detail;
	}
	return null;
}

function safeParse(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** The HTTP status an n8n request error carries, whichever helper threw it. */
function statusOf(error: unknown): number {
	const e = error as {
		httpCode?: string | number;
		statusCode?: number;
		response?: { status?: number };
		cause?: { status?: number; httpCode?: string | number };
	};
	return Number(e.httpCode ?? e.statusCode ?? e.response?.status ?? e.cause?.status ?? e.cause?.httpCode);
}

/** A dropdown's choices from one of the gateway's lists, narrowed by what the user typed. */
export async function listChoices(
	context: ILoadOptionsFunctions,
	list: string,
): Promise<INodePropertyOptions[]> {
	const route = catalog.lists.find((l) => l.key === list)?.route.path;
	if (!route) return [];
	const page = await api(context, 'GET', route, undefined, { limit: 100 });
	const items = (page.items as { value: string; label: string }[]) ?? [];
	return items.map((item) => ({ name: item.label, value: item.value }));
}
