// The connection: an organization API key and the gateway's URL, tested against
// /api/integrations/me. Copied as it is by `kaanha-gateway integrations export --platform n8n`;
// the catalog it reads is generated.

import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import catalogJson from '../catalog.json';

const catalog = catalogJson as unknown as {
	platform: { name: string; baseUrl: string };
	auth: { fields: { help: string }[]; test: { path: string } };
};

export class KaanhaApi implements ICredentialType {
	name = 'kaanhaApi';

	displayName = 'Kaanha API';

	icon: Icon = { light: 'file:../nodes/Kaanha/kaanha.svg', dark: 'file:../nodes/Kaanha/kaanha.dark.svg' };

	documentationUrl = 'https://github.com/kaanha-ai/kaanha-gateway/tree/main/integrations/n8n#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: catalog.auth.fields[0].help,
		},
		{
			displayName: 'Gateway URL',
			name: 'baseUrl',
			type: 'string',
			default: catalog.platform.baseUrl,
			required: true,
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
	};

	test: ICredentialTestRequest = {
		request: { baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}', url: catalog.auth.test.path },
	};
}
