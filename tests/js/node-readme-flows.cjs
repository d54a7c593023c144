// The official Node SDK 1.4 README's examples, in our own words, against the
// sandbox ($SANDBOX_URL, $SANDBOX_KEY): written once here, run from ES
// module code (node-readme.e2e.mjs) and from CommonJS (node-readme.e2e.cjs)
// on the packed package. `ez` is the package as the caller imported it.
const assert = require('node:assert/strict');

const SECRET = 'node_readme_webhook_secret_01';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = async function nodeReadmeFlows(ez, style) {
  const base = process.env.SANDBOX_URL;
  const apiKey = process.env.SANDBOX_KEY;
  assert.ok(base && apiKey, 'SANDBOX_URL and SANDBOX_KEY must be set');
  const run = `node-readme-${style}-${process.pid}-${Date.now()}`;
  // Unique per run: HASH deduplication would answer an earlier job otherwise.
  const upstream = (path) => `${base}/upstream/${path}?run=${run}`;
  const hook = (name) => `${base}/receiver/${run}-${name}`;
  const delivered = async (name) => {
    for (let tries = 0; tries < 400; tries++) {
      const response = await fetch(hook(name));
      const got = await response.json();
      if (got.length > 0) return got[0];
      await sleep(50);
    }
    throw new Error(`${name}: no webhook within 20 s`);
  };

  // Setup, as the README's quick start has it.
  const client = new ez.EZThrottle({ apiKey, tracktagsUrl: base, ezthrottleUrl: base });
  await client.createWebhookSecret(SECRET);
  const secrets = await client.getWebhookSecret();
  assert.equal(typeof secrets.customer_id, 'string');
  assert.equal(secrets.has_secondary, false);

  // PERFORMANCE: submitted, delivered to the webhook, checked the Node way.
  const submitted = await new ez.Step(client)
    .url(upstream('status/200'))
    .method('POST')
    .webhooks([{ url: hook('performance'), hasQuorumVote: true }])
    .execute();
  assert.equal(submitted.status, 'queued');
  const delivery = await delivered('performance');
  const { verified, reason } = ez.verifyWebhookSignature(delivery.body, delivery.signature, SECRET);
  assert.deepEqual({ verified, reason }, { verified: true, reason: 'valid' });
  ez.verifyWebhookSignatureStrict(delivery.body, delivery.signature, SECRET, 300);
  assert.equal(JSON.parse(delivery.body).job_id, submitted.job_id);

  // FRUGAL: run here first; 2xx answers without EZThrottle.
  const local = await new ez.Step(client)
    .url(upstream('status/200'))
    .type(ez.StepType.FRUGAL)
    .fallbackOnError([429, 500, 503])
    .timeout(5000)
    .execute();
  assert.equal(local.status, 'success');
  assert.equal(local.executed_locally, true);

  // A workflow: follow-ups on success and on failure (with its timeout).
  const workflow = await new ez.Step(client)
    .url(upstream('status/200'))
    .onSuccess(new ez.Step().url(upstream(`count/${run}-followed`)))
    .onFailure(new ez.Step().url(upstream('status/200')), 60_000)
    .execute();
  assert.equal(workflow.status, 'queued');

  // Legacy code handing a request over: { forward } results are submitted.
  const charge = ez.withAutoForward(client, async (orderId) => ({
    forward: { url: upstream('status/200'), method: 'POST', idempotentKey: `${run}-${orderId}` },
  }));
  const forwarded = await charge('order_123');
  assert.equal(forwarded.status, 'queued');
  const again = await ez.executeWithForwarding(client, async () => ({
    forward: { url: upstream('status/200'), method: 'POST', idempotentKey: `${run}-order_123` },
  }));
  assert.deepEqual([again.job_id, again.status], [forwarded.job_id, 'duplicate']);

  // forwardOrFallback: the fallback runs only when EZThrottle is unreachable.
  const viaService = await client.forwardOrFallback(async () => 'ran locally', {
    url: upstream('status/200'),
    method: 'POST',
    body: JSON.stringify({ amount: 1000 }),
  });
  assert.equal(viaService.status, 'queued');
};
