'use strict';
// A trigger for every event type. Activating the workflow subscribes n8n's webhook URL through
// the gateway's REST hooks (with a secret of its own); each delivery's X-Kaanha-Signature is
// checked before the workflow runs. Copied as it is by
// `kaanha-gateway integrations export --platform n8n`.

const crypto = require('node:crypto');
const { catalog, hooksPath, api, statusOf } = require('../shared');

/** Is the stored subscription still there, for this URL and event? */
async function checkExists() {
  const data = this.getWorkflowStaticData('node');
  if (!data.hookId) return false;
  let hook;
  try {
    hook = await api(this, 'GET', `${hooksPath}/${encodeURIComponent(data.hookId)}`);
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    delete data.hookId;
    delete data.secret;
    return false;
  }
  const event = this.getNodeParameter('event');
  const same = hook.targetUrl === this.getNodeWebhookUrl('default') && (hook.events || [hook.event]).includes(event);
  if (!same) {
    // The workflow now wants another event or URL: drop the old subscription.
    await remove.call(this);
    return false;
  }
  return true;
}

async function create() {
  const secret = crypto.randomBytes(24).toString('hex');
  const hook = await api(this, 'POST', hooksPath, {
    targetUrl: this.getNodeWebhookUrl('default'),
    event: this.getNodeParameter('event'),
    secret,
  });
  const data = this.getWorkflowStaticData('node');
  data.hookId = hook.id;
  data.secret = secret;
  return true;
}

async function remove() {
  const data = this.getWorkflowStaticData('node');
  if (data.hookId) {
    try {
      await api(this, 'DELETE', `${hooksPath}/${encodeURIComponent(data.hookId)}`);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }
  delete data.hookId;
  delete data.secret;
  return true;
}

/** Compares in constant time; false for any difference in length or bytes. */
function sameSignature(given, expected) {
  const a = Buffer.from(String(given));
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

class KaanhaTrigger {
  constructor() {
    this.description = {
      displayName: `${catalog.platform.name} Trigger`,
      name: 'kaanhaTrigger',
      icon: 'fa:bolt',
      group: ['trigger'],
      version: 1,
      subtitle: '={{$parameter["event"]}}',
      description: `Starts the workflow when ${catalog.platform.name} sends an event`,
      defaults: { name: `${catalog.platform.name} Trigger` },
      inputs: [],
      outputs: ['main'],
      credentials: [{ name: 'kaanhaApi', required: true }],
      webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }],
      properties: [
        {
          displayName: 'Event',
          name: 'event',
          type: 'options',
          required: true,
          default: catalog.triggers[0].event,
          options: catalog.triggers.map((t) => ({ name: t.label, value: t.event, description: t.description })),
        },
      ],
    };
    this.webhookMethods = { default: { checkExists, create, delete: remove } };
  }

  /** A delivery: run the workflow with the event, or answer 401 to a wrong signature. */
  async webhook() {
    const request = this.getRequestObject();
    const { secret } = this.getWorkflowStaticData('node');
    const raw = request.rawBody ?? Buffer.from(JSON.stringify(this.getBodyData()));
    const expected = `sha256=${crypto.createHmac('sha256', secret || '').update(raw).digest('hex')}`;
    const given = this.getHeaderData()['x-kaanha-signature'] || '';
    if (!secret || !sameSignature(given, expected)) {
      this.getResponseObject().status(401).send('invalid X-Kaanha-Signature');
      return { noWebhookResponse: true };
    }
    return { workflowData: [[{ json: this.getBodyData() }]] };
  }
}

module.exports = { KaanhaTrigger };
