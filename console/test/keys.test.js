'use strict';
// The console's second job, done with the keyboard alone: a person whose key holds `api-keys`
// creates a key for Zapier (shown once, copied), sees how to connect Zapier, Make and n8n with
// the values to paste, checks a key live, and revokes one after a confirmation. Then the
// simplest path without an app: a webhook to the platform's own webhook trigger, from a preset.
// axe-core checks every page.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { skip, start, accessible, tabTo, shoot, noErrors, PUBLIC_URL } = require('./harness');

let gw;

before(async () => {
  if (skip) return;
  gw = await start();
});

after(async () => {
  if (gw) await gw.stop();
});

const me = async (key) => {
  const response = await fetch(`${gw.base}/api/integrations/me`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: await response.json() };
};

test('with the keyboard alone, a key holding api-keys creates a key for Zapier, connects each platform, and revokes a key', { skip }, async () => {
  const admin = gw.keyWith('org_keys', 'admin', 'api-keys,integrations');
  const page = await gw.newPage();
  await page.goto(`${gw.base}/console`);

  // Sign in: the key field has the focus; Enter signs in. This key manages keys only, so it
  // lands on API keys, and no Webhooks page is offered.
  await page.keyboard.type(admin);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Webhooks' }).count(), 0);
  // The scopes this key lacks cannot be granted by it: said, and not offered.
  assert.ok(await page.getByLabel('webhooks — Webhooks').isDisabled());
  assert.ok(await page.getByLabel('events:publish').isDisabled());
  assert.ok(await page.getByLabel('integrations').isChecked());
  await accessible(page, 'API keys');

  // Create: the name has the focus; Tab to "Create key", Enter.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'key-name');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Zapier (Ada)');
  await tabTo(page, 'Create key');
  await page.keyboard.press('Enter');
  await page.getByText('Copy it now: it is shown only this once').waitFor();
  // The key is shown once, focused, and Copy puts it on the clipboard.
  assert.equal(await page.evaluate(() => document.activeElement.id), 'new-key');
  const shown = await page.locator('#new-key').inputValue();
  assert.match(shown, /^kgw_[0-9a-f]{48}$/);
  await tabTo(page, 'Copy key');
  await page.keyboard.press('Enter');
  await page.getByText('Copied.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shown);
  const created = await me(shown);
  assert.equal(created.status, 200);
  assert.equal(created.body.keyName, 'Zapier (Ada)');
  assert.deepEqual(created.body.scopes, ['integrations']);
  // Listed without the key itself: name, prefix, scopes, never used.
  const row = page.locator('#keys tbody tr', { hasText: 'Zapier (Ada)' });
  await row.getByText(`${shown.slice(0, 12)}…`).waitFor();
  await row.getByText('never').waitFor();
  assert.equal(await page.locator('#keys').getByText(shown).count(), 0, 'the list never shows a key');
  await accessible(page, 'API keys, a key shown once');
  await shoot(page, 'console-api-keys.png');

  // Connect a platform: the values to paste, from the header by keyboard.
  await tabTo(page, 'Connect a platform', { backwards: true });
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Connect Zapier' }).waitFor();
  assert.equal(await page.locator('#gateway-url').innerText(), PUBLIC_URL, 'KAANHA_PUBLIC_URL');
  await page.getByText('search for “Kaanha AI”').waitFor();
  await accessible(page, 'Connect Zapier');
  // A key for Zapier in one step: shown once, and checked at once as Zapier will.
  await tabTo(page, 'Create a key for Zapier');
  await page.keyboard.press('Enter');
  await page.locator('#check-result').filter({ hasText: 'This key works for Zapier' }).waitFor();
  await page.locator('#check-result').filter({ hasText: 'Kaanha AI · org_keys · Zapier connection' }).waitFor();
  const forZapier = await page.locator('#new-key').inputValue();
  assert.equal((await me(forZapier)).body.keyName, 'Zapier connection');
  await accessible(page, 'Connect Zapier, a key made');
  await shoot(page, 'console-connect-zapier.png');
  // Check a key by hand: a wrong one is named as such.
  await tabTo(page, 'The key you give Zapier');
  await page.keyboard.type('kgw_0000');
  await page.keyboard.press('Enter');
  await page.locator('#check-result').filter({ hasText: 'This key is not valid' }).waitFor();

  // Make and n8n: their own steps and the same two values.
  await tabTo(page, 'Make', { backwards: true });
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Connect Make' }).waitFor();
  await page.getByText('Watch Message Received').waitFor();
  assert.equal(await page.locator('#gateway-url').innerText(), PUBLIC_URL);
  await accessible(page, 'Connect Make');
  await shoot(page, 'console-connect-make.png');
  await tabTo(page, 'n8n');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Connect n8n' }).waitFor();
  await page.getByText('n8n-nodes-kaanha').waitFor();
  await accessible(page, 'Connect n8n');
  // A key holding integrations checks as valid here too.
  await tabTo(page, 'The key you give n8n');
  await page.keyboard.type(shown);
  await page.keyboard.press('Enter');
  await page.locator('#check-result').filter({ hasText: 'This key works for n8n' }).waitFor();

  // Revoke, with a confirmation: dismissed, nothing happens; accepted, the key stops working.
  await tabTo(page, 'API keys', { backwards: true });
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  await tabTo(page, 'Revoke Zapier (Ada)');
  let asked = '';
  page.once('dialog', (dialog) => { asked = dialog.message(); dialog.dismiss(); });
  await page.keyboard.press('Enter');
  for (let i = 0; !asked && i < 50; i++) await page.waitForTimeout(100);
  assert.match(asked, /Revoke the key “Zapier \(Ada\)”.*stops working at once/);
  assert.equal((await me(shown)).status, 200, 'dismissed: still works');
  page.once('dialog', (dialog) => dialog.accept());
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: '“Zapier (Ada)” is revoked.' }).waitFor();
  await row.getByText(/revoked/).waitFor();
  assert.equal((await me(shown)).status, 401, 'revoked: refused at once');
  assert.equal((await me(forZapier)).status, 200, 'the other key is untouched');
  await accessible(page, 'API keys, one revoked');
  noErrors(page);
  await page.context().close();
});

test('a webhook to Webhooks by Zapier, Make or n8n starts from a preset', { skip }, async () => {
  const key = gw.keyWith('org_presets', 'console', 'webhooks,integrations');
  const page = await gw.newPage();
  await page.goto(`${gw.base}/console`);
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
  // Without the api-keys scope, Connect says how to get a key instead of making one.
  await page.getByRole('link', { name: 'Connect a platform' }).click();
  await page.getByText('Ask someone whose key holds the api-keys scope').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create a key for Zapier' }).count(), 0);

  // Zapier: the preset names the webhook and says where its URL comes from; an address that is
  // not Zapier's is caught before anything is saved.
  await page.getByRole('link', { name: 'Add a webhook to Webhooks by Zapier' }).click();
  await page.getByRole('heading', { name: 'Add Webhook' }).waitFor();
  assert.equal(await page.getByLabel('Name').inputValue(), 'Zapier');
  await page.getByText('“Webhooks by Zapier” → “Catch Hook”').waitFor();
  await page.getByRole('button', { name: 'Webhooks by Zapier', pressed: true }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'field-url');
  await page.keyboard.type(gw.receiverUrl('/not-zapier'));
  await page.getByLabel('Contact Created').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#error-url').filter({ hasText: 'This is not a hooks.zapier.com address' }).waitFor();
  await accessible(page, 'Add Webhook, Zapier preset');
  await shoot(page, 'console-preset-zapier.png');
  const before = await (await fetch(`${gw.base}/api/webhooks`, { headers: { authorization: `Bearer ${key}` } })).json();
  assert.equal(before.data.length, 0, 'nothing saved');

  // n8n (any host: n8n runs anywhere), chosen on the form with the keyboard, saved and
  // delivered to.
  await page.goto(`${gw.base}/console#/webhooks/new`);
  await page.getByRole('heading', { name: 'Add Webhook' }).waitFor();
  await tabTo(page, 'n8n Webhook', { backwards: true });
  await page.keyboard.press('Enter');
  assert.equal(await page.getByLabel('Name').inputValue(), 'n8n');
  await page.getByRole('button', { name: 'n8n Webhook', pressed: true }).waitFor();
  await page.getByText('copy its Production URL').waitFor();
  await page.keyboard.type(gw.receiverUrl('/n8n'));
  await tabTo(page, 'Contact Created');
  await page.keyboard.press('Space');
  await tabTo(page, 'Save');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Logs · n8n' }).waitFor();
  await page.locator('#logs tbody tr.row', { hasText: 'webhook.test' }).filter({ hasText: 'delivered' }).waitFor({ timeout: 15000 });
  assert.ok(gw.receiverState.received.some((r) => r.path === '/n8n'), 'the test event reached the n8n URL');
  // The attempt opens with the keyboard: its time is a button.
  const opener = page.locator('#logs tbody .toggle').first();
  await tabTo(page, (await opener.innerText()).replace(/\s+/g, ' '));
  await page.keyboard.press('Enter');
  assert.equal(await opener.getAttribute('aria-expanded'), 'true');
  await page.locator('pre.body', { hasText: 'webhook.test' }).waitFor();
  noErrors(page);
  await page.context().close();
});
