// Every error variant reaches JS as its class, and hostile input to every
// entry point is refused with an EZThrottleError or TypeError: never a
// WebAssembly trap (RuntimeError), never a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  AuthenticationError, DeniedError, EZThrottle, EZThrottleError, GatewayError, JobRejectedError,
  ProtocolError, RateLimitError, SecretsNotConfiguredError, SignatureError, Step, TransportError, ValidationError,
  WebhookVerificationError,
  tryVerifyWithSecrets, verifyWebhookSignature, verifyWebhookSignatureStrict, webhookHandler,
} from 'ezthrottle';

const gateway = (status, body, headers = {}) => async () => new Response(body, { status, headers });
const allowed = (status, body) => gateway(200, JSON.stringify({ status: 'allowed', forwarded_response: { status_code: status, body } }));
const clientWith = (fetch) => new EZThrottle({ apiKey: 'ck_secret_never_shown', tracktagsUrl: 'http://gw.invalid', fetch, timeoutMs: 300 });
const submit = (fetch) => new Step(clientWith(fetch)).url('https://api.example.com').execute();

test('each gateway answer becomes its error class', async () => {
  const before = Date.now();
  await assert.rejects(submit(gateway(429, '{"error":"slow down"}', { 'retry-after': '7' })), (e) => {
    assert.ok(e instanceof RateLimitError && e instanceof EZThrottleError && e instanceof Error);
    assert.equal(e.name, 'RateLimitError');
    assert.equal(e.code, 'rate_limited');
    assert.ok(e.retryAt >= before + 7000 && e.retryAt <= Date.now() + 7000, String(e.retryAt));
    return true;
  });
  await assert.rejects(submit(gateway(401, '{"error":"bad key"}')), AuthenticationError);
  await assert.rejects(submit(gateway(200, '{"status":"denied","error":"plan"}')), DeniedError);
  await assert.rejects(submit(allowed(400, 'no such region')), (e) =>
    e instanceof JobRejectedError && e.status === 400 && e.body === 'no such region');
  await assert.rejects(submit(gateway(502, 'upstream down')), (e) => e instanceof GatewayError && e.status === 502);
  await assert.rejects(submit(gateway(200, 'not json')), ProtocolError);
  await assert.rejects(submit(allowed(201, '{"no_job_id":1}')), ProtocolError);
  await assert.rejects(clientWith(allowed(404, '')).getWebhookSecret(), SecretsNotConfiguredError);
  for (const error of [await submit(gateway(401, '{}')).catch((e) => e)]) {
    assert.ok(!error.message.includes('ck_secret_never_shown') && !error.stack.includes('ck_secret_never_shown'));
  }
});

test("a follow-up's failure is reported with the fields of the error it would throw, as plain data", async () => {
  let calls = 0;
  const fetch = async () => (++calls === 1 ? allowed(201, '{"job_id":"job_1","status":"queued"}') : gateway(502, 'upstream down'))();
  const client = new EZThrottle({
    apiKey: 'ck_secret_never_shown', tracktagsUrl: 'http://gw.invalid', fetch, continuationWebhook: 'https://app.example/hooks',
  });
  await new Step(client).url('https://api.example.com/a').onSuccess(new Step().url('https://api.example.com/b')).execute();
  const secret = 'whsec_follow_up_0123456789';
  const body = JSON.stringify({ job_id: 'job_1', status: 'success' });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  const handled = await client.webhookHandler({ primarySecret: secret }).receive(body, `t=${t},v1=${v1}`);
  assert.equal(handled.status, 200);
  const { message } = handled.followUp.error;
  assert.ok(message.includes('502') && !message.includes('ck_secret_never_shown'), message);
  assert.deepEqual(JSON.parse(JSON.stringify(handled.followUp)),
    { error: { code: 'gateway', message, status: 502, body: 'upstream down' } });
});

test('a missing apiKey is read from process.env.EZTHROTTLE_API_KEY', async () => {
  let sent;
  const capture = async (request) => {
    sent = request.headers.get('authorization');
    return allowed(201, '{"job_id":"j","status":"queued"}')();
  };
  process.env.EZTHROTTLE_API_KEY = 'ck_from_the_environment';
  try {
    await new Step(new EZThrottle({ tracktagsUrl: 'http://gw.invalid', fetch: capture })).url('https://a.example').execute();
  } finally {
    delete process.env.EZTHROTTLE_API_KEY;
  }
  assert.equal(sent, 'Bearer ck_from_the_environment');
  assert.throws(() => new EZThrottle({ tracktagsUrl: 'http://gw.invalid' }), ValidationError);
});

test('transport failures are typed: unreachable, timeout, a fetch that is not one', async () => {
  await assert.rejects(submit(async () => { throw new TypeError('fetch failed'); }),
    (e) => e instanceof TransportError && e.code === 'unreachable');
  // Node's AbortSignal.timeout does not hold the event loop open (a real
  // socket would): this timer does, for as long as the fetch hangs.
  const hanging = (request) => new Promise((_, reject) => {
    const alive = setTimeout(() => reject(new Error('the deadline never fired')), 5000);
    request.signal.addEventListener('abort', () => { clearTimeout(alive); reject(request.signal.reason); });
  });
  await assert.rejects(submit(hanging), (e) => e instanceof TransportError && e.code === 'timeout');
  await assert.rejects(submit(async () => 'not a Response'), (e) => e instanceof TransportError);
  await assert.rejects(submit(() => { throw new Error('synchronous'); }), TransportError);
  assert.throws(() => new EZThrottle({ apiKey: 'k', fetch: 42 }), TypeError);
});

const hostile = [
  undefined, null, NaN, -1, 2 ** 64, 2 ** 60, 1.5, '', ' ', '\u0000', 'x'.repeat(100_000), [], [[]], {}, { url: {} },
  () => 1, Symbol('s'), 10n, new Date(), new Uint8Array(3), Object.create(null), { toJSON() { throw new Error('no'); } },
];
const cyclic = {};
cyclic.self = cyclic;
hostile.push(cyclic);

const refusedCleanly = (e) => {
  assert.ok(!(e instanceof WebAssembly.RuntimeError), `a wasm trap: ${e}`);
  assert.ok(e instanceof EZThrottleError || e instanceof TypeError, `${e?.name}: ${e?.message}`);
  return true;
};

test('hostile input to every builder method is refused, never a trap', () => {
  const methods = Object.getOwnPropertyNames(Step.prototype)
    .filter((m) => !['constructor', 'execute', 'payload', 'payloadJson', 'toJSON'].includes(m));
  for (const method of methods) {
    for (const value of hostile) {
      const step = new Step().url('https://a.example');
      try {
        step[method](value, value);
        step.payloadJson();
      } catch (e) {
        refusedCleanly(e);
      }
    }
  }
  // The module still works after all of that.
  assert.equal(new Step().url('https://a.example').payload().url, 'https://a.example');
});

test("the official Node SDK's signature calls work unchanged: a bare tolerance, { verified, reason }, WebhookVerificationError", async () => {
  const { createHmac } = await import('node:crypto');
  const secret = 'whsec_primary_0123456789';
  const body = '{"job_id":"job_1","status":"success"}';
  const t = Math.floor(Date.now() / 1000);
  const header = `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  assert.deepEqual(
    [verifyWebhookSignature(body, header, secret, 300)].map(({ verified, reason }) => ({ verified, reason })),
    [{ verified: true, reason: 'valid' }],
  );
  const old = `t=${t - 120},v1=00`;
  assert.equal(verifyWebhookSignature(body, old, secret, 60).reason, 'timestamp_expired');
  assert.equal(tryVerifyWithSecrets(body, header, 'whsec_other_000000000000', secret, 300).reason, 'valid_secondary');
  verifyWebhookSignatureStrict(body, header, secret, 300);
  assert.throws(
    () => verifyWebhookSignatureStrict(body, header, 'whsec_other_000000000000', 300),
    (e) => e instanceof WebhookVerificationError && e instanceof SignatureError,
  );
});

test('a tolerance is a whole number of seconds, not negative, in every signature call and the handler', () => {
  const signed = (tolerance) => verifyWebhookSignature('{}', 't=1,v1=00', 'whsec_primary_0123456789', tolerance);
  const isTolerance = (e) => e instanceof ValidationError && e.path === 'tolerance_secs';
  for (const bad of [-1, 1.5, '300', true]) {
    assert.throws(() => signed({ toleranceSecs: bad }), isTolerance, `${bad}`);
    assert.throws(() => signed(bad), typeof bad === 'number' ? isTolerance : undefined, `${bad}`);
    assert.throws(() => webhookHandler({ primarySecret: 'whsec_primary_0123456789', toleranceSecs: bad }), isTolerance);
  }
  assert.equal(signed({ toleranceSecs: 0, now: 1 }).reason, 'signature_mismatch');
  assert.throws(() => signed({ now: 1.5 }), (e) => e instanceof ValidationError && e.path === 'now');
  assert.throws(() => webhookHandler({}), (e) => e instanceof ValidationError && e.path === 'primary_secret');
});

test('every refusal names its field as the core and the other bindings do (snake_case)', async () => {
  const at = (path) => (e) => e instanceof ValidationError && e.path === path;
  for (const bad of [-1, 1.5, 'soon']) {
    assert.throws(() => new EZThrottle({ apiKey: 'k', timeoutMs: bad }), at('timeout_ms'), `${bad}`);
  }
  const client = clientWith(allowed(201, '{}'));
  await assert.rejects(async () => client.createWebhookSecret(42), at('primary_secret'));
  await assert.rejects(async () => client.createWebhookSecret('whsec_primary_0123456789', 42), at('secondary_secret'));
  await assert.rejects(async () => client.rotateWebhookSecret(42), at('new_secret'));
  await assert.rejects(async () => client.waitForResult(42), at('job_id'));
  assert.throws(() => tryVerifyWithSecrets('{}', 't=1,v1=00', 42, 's'), at('primary_secret'));
  assert.throws(() => tryVerifyWithSecrets('{}', 't=1,v1=00', 's', 42), at('secondary_secret'));
  assert.throws(() => verifyWebhookSignatureStrict('{}', 't=1,v1=00', 42, 300), at('primary_secret'));
});

test('NaN and the infinities are refused, not written as null (which JSON.stringify does quietly)', () => {
  const client = new EZThrottle({ apiKey: 'k', tracktagsUrl: 'http://gw.invalid' });
  const step = () => new Step(client).url('https://a.example');
  const refused = (path, where) => (e) => e instanceof ValidationError && e.path === path && e.message.includes(where);
  for (const bad of [NaN, Infinity, -Infinity]) {
    const name = String(bad);
    // A null here would clear the policy: the step would build without it.
    assert.throws(() => step().retryPolicy({ maxRetries: bad }).payloadJson(), refused('retry_policy', `maxRetries is ${name}`), name);
    assert.throws(() => step().metadata({ order: { total: bad } }).payloadJson(), refused('metadata', `order.total is ${name}`), name);
    assert.throws(() => step().retryAt(bad).payloadJson(), refused('retry_at', name), name);
    assert.throws(() => step().regions(['iad', bad]).payloadJson(), refused('regions', `[1] is ${name}`), name);
    assert.throws(() => new EZThrottle({ apiKey: 'k', timeoutMs: bad }), refused('options', `timeoutMs is ${name}`), name);
    assert.throws(() => verifyWebhookSignature('{}', 't=1,v1=00', 'whsec_primary_0123456789', { toleranceSecs: bad }), refused('options', `toleranceSecs is ${name}`), name);
  }
  // Deep values are refused too, and the search for the NaN stops where the
  // core's reader stops (127 levels), whatever the JS stack allows.
  const nested = (depth) => { let v = { n: NaN }; for (let i = 0; i < depth; i++) v = { a: v }; return v; };
  assert.throws(() => step().metadata(nested(100)).payloadJson(), refused('metadata', `${'a.'.repeat(100)}n is NaN`));
  assert.throws(() => step().metadata(nested(2000)).payloadJson(), (e) => e instanceof ValidationError && e.path === 'metadata');
  // A null that is really there is still a null.
  assert.match(step().metadata({ note: null }).payloadJson(), /"note":null/);
});

test('an empty secret, primary or secondary, verifies nothing (anyone can sign with it)', () => {
  const forged = 't=1764320000,v1=15c70733a562cb0253be2cf3b940df3548c4991445e59e072137fe30e8e23e15';
  const options = { now: 1764320000 };
  assert.equal(verifyWebhookSignature('{"job_id":"j"}', forged, '', options).reason, 'signature_mismatch');
  assert.equal(tryVerifyWithSecrets('{"job_id":"j"}', forged, 'whsec_primary_0123456789', '', options).reason, 'both_secrets_failed');
  assert.throws(() => verifyWebhookSignatureStrict('{"job_id":"j"}', forged, '', '', options));
});

test('hostile input to the client, signatures and handlers is refused, never a trap', async () => {
  for (const value of hostile) {
    for (const make of [
      () => new EZThrottle(value),
      () => new EZThrottle({ apiKey: value }),
      () => new EZThrottle({ apiKey: 'k', tracktagsUrl: value }),
      () => new EZThrottle({ apiKey: 'k', timeoutMs: value }),
      () => verifyWebhookSignature(value, value, value, value),
      () => tryVerifyWithSecrets('{}', 't=1,v1=a', 's', value, value),
      () => verifyWebhookSignatureStrict(value, 't=1', 's'),
      () => webhookHandler(value),
      () => webhookHandler({ primarySecret: value }),
    ]) {
      try { make(); } catch (e) { refusedCleanly(e); }
    }
    const client = clientWith(allowed(201, '{"job_id":"j","status":"queued"}'));
    for (const call of [
      () => client.submitJob(value),
      () => client.queueRequest(value),
      () => client.forward(value),
      () => client.forwardOrFallback(() => 1, value),
      () => client.createWebhookSecret(value, value),
      () => client.rotateWebhookSecret(value),
      () => webhookHandler({ primarySecret: 'whsec_primary_0123456789' }).receive(value, value),
    ]) {
      try { await call(); } catch (e) { refusedCleanly(e); }
    }
  }
  assert.throws(() => new EZThrottle({ apiKey: 'k', timeoutMs: 2 ** 60 }),
    (e) => e instanceof ValidationError && e.path === 'timeout_ms');
  const answer = await clientWith(allowed(201, '{"job_id":"j","status":"queued"}')).submitJob({ url: 'https://a.example', webhookQuorum: 1 });
  assert.equal(answer.job_id, 'j');
  await assert.rejects(clientWith(allowed(201, '{}')).submitJob({ url: 'https://a.example', nope: 1 }),
    (e) => e instanceof ValidationError && e.path === 'nope');
});

test('one-shot steps do not pile up in the WebAssembly memory; a step whose core copy was dropped builds it again', async () => {
  // Finalizers cannot run inside a synchronous loop, so a copy left for the
  // garbage collector grows the memory, which never shrinks. A fresh process,
  // so that no earlier test's free memory absorbs the growth.
  const { execFileSync } = await import('node:child_process');
  const loop = `
    import { Step } from 'ezthrottle';
    const build = (i) => new Step().url('https://api.example.com/x').body('x'.repeat(300)).idempotentKey('k' + i);
    for (let i = 0; i < 1000; i++) build(i).payloadJson();
    const before = process.memoryUsage().external;
    for (let i = 0; i < 20000; i++) { build(i).payloadJson(); build(i).payload(); }
    console.log(process.memoryUsage().external - before);`;
  const grown = Number(execFileSync(process.execPath, ['--input-type=module', '-e', loop], { encoding: 'utf8' }));
  assert.ok(grown < 2e6, `the WebAssembly memory grew by ${(grown / 1e6).toFixed(1)} MB over 40,000 uses`);
  const reused = new Step().url('https://api.example.com/reused').idempotentKey('r1');
  const first = reused.payloadJson();
  for (let i = 0; i < 40; i++) new Step().url(`https://api.example.com/${i}`).payloadJson();
  assert.equal(reused.payloadJson(), first);
  for (let i = 0; i < 40; i++) new Step().url(`https://api.example.com/${i}`).payloadJson();
  assert.equal(reused.method('POST').payload().method, 'POST');
});
