'use strict';
// The connection: an organization API key and the gateway's URL, tested against
// /api/integrations/me. `kaanha-gateway integrations export --platform n8n` copies this file as
// it is; the catalog it reads is generated.

const catalog = require('../catalog.json');

class KaanhaApi {
  constructor() {
    this.name = 'kaanhaApi';
    this.displayName = `${catalog.platform.name} API`;
    this.documentationUrl = `${catalog.platform.baseUrl}/docs`;
    this.properties = [
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
    this.authenticate = {
      type: 'generic',
      properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
    };
    this.test = {
      request: { baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}', url: catalog.auth.test.path },
    };
  }
}

module.exports = { KaanhaApi };
