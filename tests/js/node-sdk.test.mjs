// Code written for the official Node SDK 1.4 runs on this package unchanged:
// its call shapes, checked through the payloads they build (nothing is sent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EZThrottle, Step, StepType, ValidationError, executeWithForwarding, withAutoForward } from 'ezthrottle';

test("the Node SDK's workflow and timeout calls build the same job", () => {
  const alert = new Step().url('https://alerts.example.com/page').method('POST');
  const numeric = new Step()
    .url('https://api.example.com/charge')
    .type(StepType.FRUGAL)
    .localTimeout(2_000)
    .onFailure(alert, 5_000)
    .payload();
  const split = new Step()
    .url('https://api.example.com/charge')
    .type(StepType.FRUGAL)
    .onFailureTimeout(5_000)
    .timeout(2_000)
    .onFailure(alert)
    .payload();
  assert.deepEqual(numeric, split);
  assert.equal(numeric.on_failure_timeout_ms, 5_000);
  assert.equal(numeric.on_failure.url, 'https://alerts.example.com/page');
  // The Node SDK's default for the on_failure timeout is null: none.
  assert.equal(new Step().url('https://a.example').onFailure(alert, null).payload().on_failure_timeout_ms, undefined);
});

test("executeWithForwarding and withAutoForward submit a { forward } result once, and pass anything else through", async () => {
  const seen = [];
  const fetch = async (input, init) => {
    const request = new Request(input, init);
    seen.push({ url: request.url, body: await request.text() });
    const answer = { job_id: 'job_fwd', status: 'queued' };
    return new Response(JSON.stringify({ status: 'allowed', forwarded_response: { status_code: 201, body: JSON.stringify(answer) } }));
  };
  const client = new EZThrottle({ apiKey: 'ck_test_cust_node_1', tracktagsUrl: 'http://gw.invalid', fetch });
  const processPayment = async (orderId) =>
    orderId === 'busy'
      ? { forward: { url: 'https://api.example.com/charges', method: 'POST', idempotentKey: `order_${orderId}`,
          webhooks: [{ url: 'https://app.example.com/hook', hasQuorumVote: true }], stepType: 'frugal', fallbackOnError: [429] } }
      : { charged: orderId };
  assert.deepEqual(await executeWithForwarding(client, () => processPayment('ok')), { charged: 'ok' });
  const answer = await withAutoForward(client, processPayment)('busy');
  assert.equal(answer.job_id, 'job_fwd');
  // One request, to the gateway: the forward was not run here again first.
  assert.deepEqual(seen.map((s) => s.url), ['http://gw.invalid/api/v1/proxy']);
  const job = JSON.parse(JSON.parse(seen[0].body).body);
  assert.equal(job.idempotent_key, 'order_busy');
  assert.deepEqual(job.webhooks, [{ url: 'https://app.example.com/hook', has_quorum_vote: true }]);
  await assert.rejects(
    executeWithForwarding(client, async () => ({ forward: { url: 'https://a.example', stepType: 'sideways' } })),
    (e) => e instanceof ValidationError && e.path === 'step_type',
  );
});

test("submitJob takes the Node SDK's raw nested jobs, camelCase or snake_case, and refuses unknown fields", async () => {
  const sent = [];
  const fetch = async (input, init) => {
    const request = new Request(input, init);
    sent.push(JSON.parse(JSON.parse(await request.text()).body));
    return new Response(JSON.stringify({ status: 'allowed', forwarded_response: { status_code: 201, body: '{"job_id":"j","status":"queued"}' } }));
  };
  const client = new EZThrottle({ apiKey: 'ck_test_cust_node_1', tracktagsUrl: 'http://gw.invalid', fetch });
  await client.submitJob({
    url: 'https://api.example.com/charge',
    method: 'POST',
    headers: { 'X-Keep-Case': '1' },
    webhookQuorum: 1,
    fallbackJob: { url: 'https://backup.example.com', idempotentKey: 'fb', trigger: { type: 'on_error', codes: [500] } },
    onSuccess: { url: 'https://next.example.com', webhooks: [{ url: 'https://hook.example.com', hasQuorumVote: true }] },
    onFailure: { url: 'https://alert.example.com' },
    onFailureTimeoutMs: 5000,
  });
  const [job] = sent;
  assert.deepEqual(job.headers, { 'X-Keep-Case': '1' });
  assert.equal(job.fallback_job.idempotent_key, 'fb');
  assert.deepEqual(job.fallback_job.trigger, { type: 'on_error', codes: [500] });
  assert.deepEqual(job.on_success.webhooks, [{ url: 'https://hook.example.com', has_quorum_vote: true }]);
  assert.equal(job.on_failure_timeout_ms, 5000);
  await assert.rejects(
    client.submitJob({ url: 'https://a.example', onSuccess: { url: 'https://b.example', idempotentKye: 'typo' } }),
    (e) => e instanceof ValidationError && /idempotent_kye/.test(e.message),
  );
  assert.equal(sent.length, 1, 'nothing was sent for the refused job');
});
