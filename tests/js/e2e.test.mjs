// The end-to-end scenarios through the installed npm package, against a
// running sandbox ($SANDBOX_URL, $SANDBOX_KEY), over Node's real fetch. Every
// webhook is verified with the package's signature check; the webhook
// handler runs follow-ups from a real Node HTTP server the sandbox calls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  AuthenticationError, EZThrottle, ForwardToEZThrottle, IdempotentStrategy, SecretsNotConfiguredError,
  SignatureError, Step, StepType, TimeoutError, TransportError, ValidationError, autoForward,
  verifyWebhookSignatureStrict,
  webhookHandler,
} from 'ezthrottle';

const base = process.env.SANDBOX_URL;
const apiKey = process.env.SANDBOX_KEY;
const SECRET = 'js_suite_webhook_secret_0123';
const run = `js-${process.pid}-${Date.now()}`;
const client = new EZThrottle({ apiKey, tracktagsUrl: base, ezthrottleUrl: base, timeoutMs: 10000 });
const upstream = (path) => `${base}/upstream/${path}`;
const hook = (name) => `${base}/receiver/${run}-${name}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function getJson(url) {
  const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  return response.json();
}

/** Wait for `count` deliveries at a receiver box; each verified, then parsed. */
async function webhooks(name, count = 1) {
  for (let tries = 0; tries < 400; tries++) {
    const got = await getJson(hook(name));
    if (got.length >= count) {
      return got.slice(0, count).map((delivery) => {
        const check = verifyWebhookSignatureStrict(delivery.body, delivery.signature, SECRET);
        assert.ok(check.valid);
        return JSON.parse(delivery.body);
      });
    }
    await sleep(50);
  }
  throw new Error(`${name}: waited 20 s for ${count} webhook(s)`);
}

before(async () => {
  assert.ok(base && apiKey, 'SANDBOX_URL and SANDBOX_KEY must be set');
  await client.createWebhookSecret(SECRET);
});

test('PERFORMANCE basic: submitted, delivered, signed', async () => {
  const result = await new Step(client).url(upstream('status/200')).method('POST')
    .webhooks([{ url: hook('basic') }]).execute();
  assert.equal(result.status, 'queued');
  const [event] = await webhooks('basic');
  assert.equal(event.job_id, result.job_id);
  assert.equal(event.status, 'success');
  assert.equal(event.response.status_code, 200);
});

test('multi-region race runs in every region', async () => {
  const result = await new Step(client).url(upstream('delay/100')).regions(['iad', 'lax', 'ord'])
    .executionMode('race').webhooks([{ url: hook('race') }]).execute();
  const [event] = await webhooks('race');
  assert.equal(event.status, 'success');
  const report = await getJson(`${base}/api/v1/jobs/${result.job_id}`);
  assert.equal(report.attempts.length, 3);
});

test('fallback chain: 500, then a timeout, then 200', async () => {
  const slow = new Step().url(upstream('delay/3000'));
  const good = new Step().url(upstream('status/200'));
  await new Step(client).url(upstream('status/500')).retryPolicy({ maxRetries: 0 })
    .webhooks([{ url: hook('fallback') }])
    .fallback(slow, { triggerOnError: [500] })
    .fallback(good, { triggerOnTimeout: 1000 })
    .execute();
  const [event] = await webhooks('fallback');
  assert.equal(event.status, 'success');
  assert.equal(event.response.body, 'status 200');
});

test('on_success workflow: the child is its own job with its own webhook', async () => {
  const child = new Step().url(upstream('echo')).webhooks([{ url: hook('child') }]);
  const result = await new Step(client).url(upstream('status/200')).webhooks([{ url: hook('parent') }])
    .onSuccess(child).execute();
  const [parent] = await webhooks('parent');
  const [second] = await webhooks('child');
  assert.equal(parent.job_id, result.job_id);
  assert.notEqual(second.job_id, result.job_id);
  assert.equal(second.status, 'success');
});

test('HASH dedupe: the same request is the same job', async () => {
  const step = new Step(client).url(upstream(`count/${run}-hash`)).method('POST').body('{"amount":1000}');
  const one = await step.execute();
  const two = await step.execute();
  assert.equal(two.job_id, one.job_id);
  assert.equal(two.status, 'duplicate');
});

test('UNIQUE: every execute is a new job', async () => {
  const step = new Step(client).url(upstream('status/200')).idempotentStrategy(IdempotentStrategy.UNIQUE);
  const one = await step.execute();
  const two = await step.execute();
  assert.ok(one.job_id && one.job_id !== two.job_id);
});

test('FRUGAL: a local success is never submitted', async () => {
  const result = await new Step(client).url(upstream('status/200')).type(StepType.FRUGAL).execute();
  assert.deepEqual({ ...result }, {
    status: 'success', executed_locally: true, status_code: 200, response: 'status 200',
  });
  assert.match(result.trace, /\[SUCCESS\]/);
});

test('FRUGAL: a local 429 is forwarded and completed by EZThrottle', async () => {
  const result = await new Step(client).url(upstream(`flaky/${run}/1/429`)).type('frugal')
    .webhooks([{ url: hook('frugal') }]).execute();
  assert.ok(result.job_id, 'forwarded as a job');
  const [event] = await webhooks('frugal');
  assert.equal(event.job_id, result.job_id);
  assert.equal(event.status, 'success');
});

test('forwarding: forward, autoForward, forwardOrFallback, queueRequest', async () => {
  const request = { url: upstream('status/200'), method: 'POST', metadata: { order: 7 }, webhooks: [{ url: hook('forward') }] };
  const answer = await client.forward(request);
  assert.equal(answer.status, 'queued');
  const [event] = await webhooks('forward');
  assert.deepEqual(event.metadata, { order: 7 });

  const legacy = autoForward(client, async (fail) => {
    if (fail) throw new ForwardToEZThrottle({ url: upstream('status/200'), idempotentKey: `${run}-auto` });
    return 'done locally';
  });
  assert.equal(await legacy(false), 'done locally');
  const forwarded = await legacy(true);
  assert.equal(forwarded.status, 'queued');
  await assert.rejects(autoForward(client, async () => { throw new RangeError('other'); })(), RangeError);

  let fallbacks = 0;
  const up = await client.forwardOrFallback(() => { fallbacks += 1; return 'fallback'; }, request);
  assert.equal(up.status, 'queued');
  assert.equal(fallbacks, 0, 'the service is up: no fallback');
  const down = new EZThrottle({ apiKey, tracktagsUrl: 'http://127.0.0.1:9', timeoutMs: 2000 });
  assert.equal(await down.forwardOrFallback(async () => 'ran locally', request), 'ran locally');
  await assert.rejects(down.forward(request), (e) => e instanceof TransportError && e.code === 'unreachable');

  const queued = await client.queueRequest({ url: upstream(`status/200?legacy=${run}`), webhookUrl: hook('legacy'), metadata: { legacy: true } });
  assert.equal(queued.status, 'queued');
  const [legacyEvent] = await webhooks('legacy');
  assert.deepEqual(legacyEvent.metadata, { legacy: true });
});

test('errors reach JS as their classes; nothing is sent when validation fails', async () => {
  const stranger = new EZThrottle({ apiKey: 'ck_not_a_customer_key', tracktagsUrl: base });
  await assert.rejects(new Step(stranger).url(upstream('status/200')).execute(), (e) => {
    assert.ok(e instanceof AuthenticationError && e.name === 'AuthenticationError' && e.code === 'authentication');
    assert.ok(!e.message.includes('ck_not_a_customer_key'), 'the key never shows');
    return true;
  });
  const before = await getJson(upstream(`hits/${run}-never`));
  await assert.rejects(new Step(client).url(upstream(`count/${run}-never`)).type('frugal').webhookQuorum(2).execute(),
    (e) => e instanceof ValidationError && e.path === 'webhook_quorum');
  assert.deepEqual(await getJson(upstream(`hits/${run}-never`)), before);
  assert.throws(() => new Step().url('https://a.example').fallback(new Step().url('ftp://b'), { triggerOnError: [500] }).payload(),
    (e) => e instanceof ValidationError && e.path === 'fallback[0].url');
  assert.throws(() => new Step().fallback({}, {}), TypeError);
  assert.throws(() => verifyWebhookSignatureStrict('{}', 't=1,v1=00', SECRET), SignatureError);
});

test('secrets: rotate keeps the old one as secondary; delete leaves none', async () => {
  const NEXT = 'js_suite_webhook_secret_next';
  await client.rotateWebhookSecret(NEXT, SECRET);
  const info = await client.getWebhookSecret();
  assert.ok(info.primary_secret.includes('****') && info.secondary_secret);
  await new Step(client).url(upstream('status/200')).idempotentStrategy('unique')
    .webhooks([{ url: hook('rotated') }]).execute();
  const [delivery] = await getJsonUntil(hook('rotated'));
  const handler = webhookHandler({ primarySecret: NEXT, secondarySecret: SECRET });
  const handled = await handler.receive(delivery.body, delivery.signature);
  assert.equal(handled.status, 200);
  assert.ok(handled.reason.startsWith('valid'));
  const forged = await handler.receive(delivery.body, 't=1,v1=00');
  assert.equal(forged.status, 401);
  await client.deleteWebhookSecret();
  await assert.rejects(client.getWebhookSecret(), SecretsNotConfiguredError);
  await client.createWebhookSecret(SECRET);
});

async function getJsonUntil(url) {
  for (let tries = 0; tries < 400; tries++) {
    const got = await getJson(url);
    if (got.length) return got;
    await sleep(50);
  }
  throw new Error(`no delivery at ${url}`);
}

// Follow-ups run in this client when their job's webhook reaches our handler.
let server;
let hooksUrl;
let delivered;
const handled = [];

before(async () => {
  delivered = new Promise((resolve) => {
    server = createServer(async (req, res) => {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const outcome = await app.receive(Buffer.concat(chunks), req.headers['x-ezthrottle-signature']);
      res.writeHead(outcome.status, { 'content-type': 'application/json' }).end(outcome.body);
      if (outcome.event) { handled.push(outcome); resolve(outcome); }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  hooksUrl = `http://127.0.0.1:${server.address().port}/hooks`;
});
after(() => server?.close());

let app;
let continued; // { client, jobId } of the continuation test, for the late wait
test('continuations: on_success runs here when the webhook arrives', async () => {
  const local = new EZThrottle({ apiKey, tracktagsUrl: base, ezthrottleUrl: base, continuationWebhook: hooksUrl });
  app = local.webhookHandler({ primarySecret: SECRET });
  const followUp = new Step().url(upstream(`count/${run}-follow`)).type('frugal');
  const result = await new Step(local).url(upstream('status/200')).idempotentStrategy('unique')
    .onSuccess(followUp).execute();
  // The handler runs the follow-up; or, when the webhook beat the submit
  // answer home, execute ran it last (it is in its trace).
  const ranInExecute = result.trace.includes(`count/${run}-follow`);
  assert.equal(local.pendingContinuations, ranInExecute ? 0 : 1);
  const event = await local.waitForResult(result.job_id, { timeoutMs: 20000 });
  continued = { client: local, jobId: result.job_id };
  assert.equal(event.job_id, result.job_id);
  assert.equal(event.status, 'success');
  assert.equal(event.response.status_code, 200);
  const outcome = await delivered;
  assert.equal(outcome.event.job_id, result.job_id);
  assert.equal(outcome.followUp?.result?.status === 'success', !ranInExecute);
  assert.equal(local.pendingContinuations, 0);
  assert.deepEqual(await getJson(upstream(`hits/${run}-follow`)), { key: `${run}-follow`, hits: 1 });

  // The same handler answers a fetch Request with a Response.
  const body = JSON.stringify({ job_id: 'j-x', status: 'success' });
  const response = await app(new Request(hooksUrl, { method: 'POST', body, headers: { 'x-ezthrottle-signature': 't=1,v1=00' } }));
  assert.equal(response.status, 401);
  assert.equal((await response.json()).error, 'invalid_signature');
});

test('waitForResult: a late wait ends at once; timeouts and aborts reject and free the wait', async () => {
  const waiting = new EZThrottle({ apiKey, tracktagsUrl: base });
  await assert.rejects(waiting.waitForResult('job-that-never-ran', { timeoutMs: 20 }),
    (e) => e instanceof TimeoutError && e.name === 'TimeoutError' && e.code === 'timeout' &&
      e.message === 'no result for job "job-that-never-ran" within 20 ms');
  const controller = new AbortController();
  const aborted = waiting.waitForResult('job-that-never-ran', { signal: controller.signal });
  controller.abort(new Error('stop'));
  await assert.rejects(aborted, { message: 'stop' });
  await assert.rejects(waiting.waitForResult('job-x', { signal: AbortSignal.abort(new Error('already')) }), { message: 'already' });
  // The limit is refused as every binding refuses a timeout, naming it.
  const isTimeout = (e) => e instanceof ValidationError && e.path === 'timeout_ms';
  for (const timeoutMs of [-1, 1.5, NaN, Infinity, '100', true]) {
    assert.throws(() => waiting.waitForResult('job-x', { timeoutMs }), isTimeout, String(timeoutMs));
  }
  assert.throws(() => waiting.waitForResult(42), (e) => e instanceof ValidationError && e.path === 'job_id');
  // A limit past setTimeout's 32-bit range still waits (it would fire at once).
  const far = new AbortController();
  const long = waiting.waitForResult('job-that-never-ran', { timeoutMs: 3e9, signal: far.signal });
  setTimeout(() => far.abort(new Error('still waiting')), 50);
  await assert.rejects(long, { message: 'still waiting' });

  // A wait started before its delivery ends when one of its client's handlers
  // receives it, and only then; another client's wait is not ended by it.
  const { createHmac } = await import('node:crypto');
  const signed = (body) => {
    const t = Math.floor(Date.now() / 1000);
    return `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`;
  };
  const handler = waiting.webhookHandler({ primarySecret: SECRET });
  const other = new EZThrottle({ apiKey, tracktagsUrl: base });
  const early = waiting.waitForResult('job-early', { timeoutMs: 5000 });
  const elsewhere = other.waitForResult('job-early', { timeoutMs: 300 });
  let settled = false;
  early.then(() => { settled = true; }, () => { settled = true; });
  const unrelated = JSON.stringify({ job_id: 'job-unrelated', status: 'success' });
  assert.equal((await handler.receive(unrelated, signed(unrelated))).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(settled, false, 'another job\'s delivery does not end the wait');
  const body = JSON.stringify({ job_id: 'job-early', status: 'success', response: { status_code: 201, body: 'ok', headers: {} } });
  assert.equal((await handler.receive(body, signed(body))).status, 200);
  const arrived = await early;
  assert.equal(arrived.job_id, 'job-early');
  assert.equal(arrived.response.status_code, 201);
  await assert.rejects(elsewhere, TimeoutError);

  // The continuation test's job already reached its client's handler: a new wait ends at once.
  assert.ok(continued, 'the continuation test ran first');
  const late = await continued.client.waitForResult(continued.jobId, { timeoutMs: 1000 });
  assert.equal(late.job_id, continued.jobId);
});
