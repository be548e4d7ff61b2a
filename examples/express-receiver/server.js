// The receiver from the Kaanha AI webhooks documentation, as written there, made runnable:
//   WEBHOOK_SECRET=... PORT=3000 node server.js
// It answers 200 to deliveries whose X-Kaanha-Signature verifies and 401 to the rest, and
// prints each event type it accepts.
const express = require('express');
const crypto = require('crypto');

const app = express();

function verifyWebhook(rawBody, signature, secret) {
  const expected = 'sha256=' + crypto
    .createHmac('sha256', secret)
    .update(rawBody)
    .digest('hex');

  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expected)
  );
}

// Express middleware
app.post('/webhook', express.raw({ type: 'application/json' }), (req, res) => {
  const sig = req.headers['x-kaanha-signature'];
  if (!verifyWebhook(req.body, sig, process.env.WEBHOOK_SECRET)) {
    return res.status(401).send('Invalid signature');
  }

  const event = JSON.parse(req.body);
  console.log('Event:', event.event);
  res.status(200).send('OK');
});

// Not in the documentation: a signature of another length makes timingSafeEqual throw; answer
// 401 for it too instead of Express's default 500 page.
app.use((err, req, res, next) => res.status(401).send('Invalid signature'));

const port = Number(process.env.PORT || 3000);
app.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}/webhook`));
