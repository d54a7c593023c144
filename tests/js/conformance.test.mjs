// Every conformance vector through the npm package's public API. Reads
// $EZTHROTTLE_VECTORS (default: the shared vectors). $EZT_JS_ENTRY picks the
// entry (default: the package's own, in Node its speed-first .wasm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, camelKeys, entry } from './calls.mjs';

const { EZThrottle, EZThrottleError, ValidationError, verifyWebhookSignature, tryVerifyWithSecrets } = entry;

const API_KEY = 'ck_test_cust_abc_123';
const PROXY = 'http://proxy.invalid';
const EZT = 'http://ezt.invalid';
const dir = resolve(process.env.EZTHROTTLE_VECTORS ?? process.env.EZT_DEFAULT_VECTORS);

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Deep comparison where "<uuid4>" matches a fresh UUID v4 (collected). */
function compare(actual, expected, at, uuids) {
  if (expected === '<uuid4>') {
    assert.match(String(actual), UUID4, `${at}: not a UUID v4`);
    uuids.push(actual);
    return;
  }
  if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.ok(actual && typeof actual === 'object', `${at}: expected an object, got ${JSON.stringify(actual)}`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${at}: keys`);
    for (const key of Object.keys(expected)) compare(actual[key], expected[key], `${at}.${key}`, uuids);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${at}: ${JSON.stringify(actual)}`);
    expected.forEach((e, i) => compare(actual[i], e, `${at}[${i}]`, uuids));
    return;
  }
  assert.deepEqual(actual, expected, at);
}

const normalUrl = (url) => new URL(url).href;

/**
 * A scripted network: local calls answer from `answers` (200 when unlisted,
 * "network_error" rejects); the proxy accepts every job as job_1, job_2, ….
 */
function scriptedNetwork(answers = {}, localDefault = 200, urls = []) {
  const net = { local: [], submitted: [], gateway: [] };
  // fetch normalises URLs ("https://a.example" → "https://a.example/"); the
  // vectors speak of them as the step gave them.
  const given = Object.fromEntries(urls.map((u) => [normalUrl(u), u]));
  const statusOf = Object.fromEntries(Object.entries(answers).map(([u, s]) => [normalUrl(u), s]));
  net.fetch = async (request) => {
    const body = await request.text();
    if (request.url.startsWith(PROXY)) {
      net.gateway.push({ url: request.url, headers: [...request.headers], body });
      const envelope = JSON.parse(body);
      net.submitted.push(JSON.parse(envelope.body));
      const answer = { job_id: `job_${net.submitted.length}`, status: 'queued' };
      return new Response(JSON.stringify({
        status: 'allowed',
        forwarded_response: { status_code: 201, body: JSON.stringify(answer) },
      }), { status: 200 });
    }
    const url = given[request.url] ?? request.url;
    net.local.push([request.method, url]);
    const status = statusOf[request.url] ?? localDefault;
    if (status === 'network_error') throw new TypeError('fetch failed');
    return new Response(`body-of ${url}`, { status });
  };
  net.client = new EZThrottle({ apiKey: API_KEY, tracktagsUrl: PROXY, ezthrottleUrl: EZT, fetch: net.fetch });
  return net;
}

function expectValidation(run, vector) {
  let error;
  try { run(); } catch (e) { error = e; }
  assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${error}`);
  assert.equal(error.name, 'ValidationError');
  assert.ok(error.path, `the error names no field: ${error.message}`);
  if (vector.expect_path) assert.equal(error.path, vector.expect_path, error.message);
  return error;
}

/** Options objects whose own keys the official Node SDK spells in camelCase. */
const OPTION_OBJECTS = new Set(['retry_policy', 'trigger']);
const NESTED_JOBS = new Set(['fallback_job', 'on_success', 'on_failure']);

/**
 * A wire-format job as the official Node SDK hands it to submitJob: every
 * field in camelCase, at every depth, the caller's own data (headers,
 * metadata) as it is.
 */
function nodeSdkJob(job) {
  return camelKeys(Object.fromEntries(Object.entries(job).map(([key, value]) => {
    if (NESTED_JOBS.has(key)) return [key, nodeSdkJob(value)];
    if (OPTION_OBJECTS.has(key)) return [key, camelKeys(value)];
    if (key === 'webhooks') return [key, value.map(camelKeys)];
    return [key, value];
  })));
}

/** A gateway request the scripted network saw is the vector's `proxy_request`. */
function checkProxyRequest(sent, expected) {
  compare(sent.url, expected.url, 'proxy_request.url', []);
  const headers = Object.fromEntries(sent.headers.filter(([k]) => k !== 'content-length'));
  const want = Object.fromEntries(Object.entries(expected.headers).map(([k, v]) => [k.toLowerCase(), v]));
  compare(headers, want, 'proxy_request.headers', []);
  const envelope = JSON.parse(sent.body);
  assert.equal(typeof envelope.body, 'string', 'the envelope body is a JSON string');
  envelope.body = JSON.parse(envelope.body);
  compare(envelope, expected.envelope, 'proxy_request.envelope', []);
}

async function runPayload(vector) {
  if (vector.expect_error) {
    expectValidation(() => build(vector.calls).payload(), vector);
    return;
  }
  const step = build(vector.calls);
  const first = []; const second = [];
  compare(step.payload(), vector.payload, 'payload', first);
  compare(JSON.parse(step.payloadJson()), vector.payload, 'payloadJson', second);
  for (const id of first) assert.ok(!second.includes(id), `two builds share the UUID ${id}`);
  if (vector.proxy_request) {
    // Local calls of a FRUGAL step answer 429, so it is forwarded as its job.
    const net = scriptedNetwork({}, 429);
    await step.execute(net.client);
    const sent = net.gateway[0];
    assert.ok(sent, 'nothing reached the gateway');
    checkProxyRequest(sent, vector.proxy_request);
  }
  // The same job, raw and in the Node SDK's spelling, through submitJob: the
  // same job reaches the gateway (a generated key cannot be handed over).
  if (!JSON.stringify(vector.payload).includes('<uuid4>')) {
    const net = scriptedNetwork();
    await net.client.submitJob(nodeSdkJob(vector.payload));
    compare(net.submitted[0], vector.payload, 'submitJob(camelCase job)', []);
  }
}

/** Every URL the calls give, nested steps included. */
function urlsOf(calls) {
  return calls.flatMap(([name, argument]) => {
    if (name === 'url') return [argument];
    if (name === 'on_success') return urlsOf(argument);
    if (name === 'fallback' || name === 'on_failure') return urlsOf(argument.step);
    return [];
  });
}

async function runFrugal(vector) {
  const net = scriptedNetwork(vector.answers, 200, urlsOf(vector.calls));
  let result;
  try {
    result = await build(vector.calls).execute(net.client);
  } catch (error) {
    result = { error: error.code, message: error.message };
  }
  compare(net.local, vector.local_http_calls, 'local_http_calls', []);
  compare(net.submitted, vector.submitted_jobs, 'submitted_jobs', []);
  compare(result, vector.result, 'result', []);
  assert.equal(typeof result.trace, 'string', 'the result carries its trace');
}

function runSignature(vector) {
  const options = { now: vector.now, toleranceSecs: vector.tolerance ?? 300 };
  const check = vector.secondary_secret
    ? tryVerifyWithSecrets(vector.payload, vector.header, vector.secret, vector.secondary_secret, options)
    : verifyWebhookSignature(vector.payload, vector.header, vector.secret, options);
  assert.equal(check.valid, vector.valid, 'valid');
  assert.equal(check.reason, vector.reason_code, 'reason_code');
  // Only the random vectors carry it (for a failed rotation).
  if (vector.primary_reason_code) assert.equal(check.primaryReason, vector.primary_reason_code, 'primary_reason_code');
  // Bytes verify the same as text.
  const bytes = new TextEncoder().encode(vector.payload);
  const again = vector.secondary_secret
    ? tryVerifyWithSecrets(bytes, vector.header, vector.secret, vector.secondary_secret, options)
    : verifyWebhookSignature(bytes, vector.header, vector.secret, options);
  assert.equal(again.reason, check.reason, 'Uint8Array payload');
}

async function runInvalid(vector) {
  const net = scriptedNetwork();
  let step;
  try {
    step = build(vector.calls, net.client);
  } catch (error) {
    expectValidation(() => { throw error; }, vector);
    return;
  }
  expectValidation(() => step.payload(), vector);
  await assert.rejects(step.execute(), ValidationError);
  assert.equal(net.local.length + net.gateway.length, 0, 'nothing may be sent');
}

/**
 * This project's own file (the random vectors): a request handed over by
 * existing code or the legacy call, spelled as the official Node SDK spells
 * it, and the reference's proxy request for it.
 */
async function runForward(vector) {
  const net = scriptedNetwork();
  if (vector.forward) {
    // A forward's fields are a job's (no nested jobs): spelled as nodeSdkJob spells them.
    await net.client.forward(nodeSdkJob(vector.forward));
  } else {
    await net.client.queueRequest(camelKeys(vector.queue_request));
  }
  assert.equal(net.gateway.length, 1, 'one gateway request');
  checkProxyRequest(net.gateway[0], vector.proxy_request);
}

/**
 * This project's own file (the random vectors): the gateway's answer to a
 * submitted job, and the answer or error the reference's reading gives.
 */
async function runGateway(vector) {
  const { status, headers, body } = vector.answer;
  const fetch = async () => new Response(body, { status, headers });
  const client = new EZThrottle({ apiKey: API_KEY, tracktagsUrl: PROXY, ezthrottleUrl: EZT, fetch });
  const before = Date.now();
  let error;
  try {
    const answer = await client.submitJob(vector.job);
    compare(answer, vector.result, 'result', []);
    return;
  } catch (e) {
    error = e;
  }
  const after = Date.now();
  const want = vector.error;
  assert.ok(want, `expected ${JSON.stringify(vector.result)}, got ${error}`);
  assert.ok(error instanceof EZThrottleError, `not an EZThrottleError: ${error}`);
  assert.equal(error.code, want.kind, error.message);
  if ('status' in want) assert.equal(error.status, want.status, 'status');
  if ('body' in want) assert.equal(error.body, want.body, 'body');
  if ('message' in want) assert.ok(error.message.endsWith(want.message), `message: ${error.message}`);
  if ('retry_at' in want) assert.equal(error.retryAt, want.retry_at, 'retryAt');
  if ('retry_after_ms' in want) {
    const at = error.retryAt;
    assert.ok(at >= before + want.retry_after_ms && at <= after + want.retry_after_ms, `retryAt ${at}`);
  }
}

const runners = {
  payloads: runPayload, frugal: runFrugal, signatures: runSignature, invalid: runInvalid, forward: runForward, gateway: runGateway,
};
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const stem = file.replace(/\.json$/, '');
  const run = runners[stem];
  if (!run) continue;
  const vectors = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  vectors.forEach((vector, i) => {
    test(`${stem}::${vector.name ?? `#${i}`}`, () => run(vector));
  });
}
