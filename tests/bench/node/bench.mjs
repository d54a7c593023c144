// The Node client of the side-by-side benchmark: the npm package `ezthrottle`
// (WebAssembly core, its default node:http keep-alive transport), the way a
// Node app uses it. The baselines are the same requests made plainly through
// the same stack: node:http with a keep-alive agent.
// `node bench.mjs RUN_JSON` prints one JSON line of figures.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { EZThrottle } from 'ezthrottle';
import { build } from './calls.mjs';

const run = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const client = new EZThrottle({ apiKey: run.api_key, tracktagsUrl: run.sandbox });
const agent = new http.Agent({ keepAlive: true });

/** One request through node:http; resolves to [status, body text]. */
function request(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const sent = http.request(url, { method, headers, agent }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve([response.statusCode, Buffer.concat(chunks).toString()]));
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end(body);
  });
}
const now = () => performance.now() / 1e3;
const percentileMs = (sorted, p) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * p))) - 1] * 1e3;

/** `count` timed calls of `once(i)`: rate and latency percentiles. */
async function timed(count, once) {
  const latencies = [];
  const started = now();
  for (let i = 0; i < count; i++) {
    const t = now();
    await once(i);
    latencies.push(now() - t);
  }
  const seconds = now() - started;
  latencies.sort((a, b) => a - b);
  return {
    n: count, seconds, per_sec: count / seconds,
    p50_ms: percentileMs(latencies, 0.5), p99_ms: percentileMs(latencies, 0.99),
  };
}

const submitOnce = (tag) => async (i) => {
  const step = build(run.submit, client).idempotentKey(`bench-${run.run_id}-node-${tag}-${i}`);
  const result = await step.execute();
  if (result.status !== 'queued') throw new Error(`unexpected ${JSON.stringify(result)}`);
};

/**
 * The submit's own request (the gateway envelope the SDK sends, caught once
 * through a recording `fetch`), to replay plainly with fresh keys.
 */
async function envelope() {
  let caught;
  const recording = new EZThrottle({
    apiKey: run.api_key, tracktagsUrl: run.sandbox,
    fetch: async (sent) => {
      caught = { method: sent.method, url: sent.url, headers: Object.fromEntries(sent.headers), body: await sent.clone().text() };
      return fetch(sent);
    },
  });
  await build(run.submit, recording).idempotentKey(`bench-${run.run_id}-node-envelope`).execute();
  return caught;
}

const plainSubmitOnce = (sent, tag) => async (i) => {
  const key = `bench-${run.run_id}-plain-${tag}-${i}`;
  const body = sent.body.replace(/(idempotent_key\\?":\\?")bench-[^"\\]*/, `$1${key}`);
  if (body === sent.body) throw new Error('no idempotent_key in the envelope');
  const [status, text] = await request(sent.method, sent.url, { ...sent.headers, 'content-length': Buffer.byteLength(body) }, body);
  if (status !== 200 || !text.includes('queued')) throw new Error(`plain submit: ${status} ${text}`);
};

/**
 * The SDK's submits and the same envelope POSTed plainly, in alternating
 * rounds so that drift in the sandbox (its growing job table) weighs on both.
 */
async function submitAndPlain() {
  const sent = await envelope();
  const rounds = 10;
  const per = Math.max(1, Math.floor(run.submits / rounds));
  for (let i = 0; i < 50; i++) await plainSubmitOnce(sent, 'warm')(i);
  for (let i = 0; i < 50; i++) await submitOnce('warm')(i);
  const sdk = [];
  const plainRuns = [];
  for (let r = 0; r < rounds; r++) {
    plainRuns.push(await timed(per, (i) => plainSubmitOnce(sent, r)(i)));
    sdk.push(await timed(per, (i) => submitOnce(r)(i)));
  }
  return [merge(sdk), merge(plainRuns)];
}

/** Rounds of `timed` as one: total rate, the rounds' median percentiles. */
function merge(parts) {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const seconds = parts.reduce((a, p) => a + p.seconds, 0);
  const median = (key) => parts.map((p) => p[key]).sort((a, b) => a - b)[Math.floor(parts.length / 2)];
  return { n, seconds, per_sec: n / seconds, p50_ms: median('p50_ms'), p99_ms: median('p99_ms') };
}

async function plain(sent) {
  const [status, text] = await request(sent.method, sent.url, sent.headers, sent.body);
  if (status < 200 || status > 299) throw new Error(`plain request: ${status}`);
  return text;
}

async function frugal(step) {
  const result = await step.execute();
  if (!result.executed_locally) throw new Error(`not local: ${JSON.stringify(result)}`);
}

async function frugalOverhead() {
  const count = run.frugal;
  const step = build(run.frugal_calls, client);
  for (let i = 0; i < 100; i++) {
    await plain(run.frugal_plain);
    await frugal(step);
  }
  let plainTime = 0;
  let stepTime = 0;
  for (let i = 0; i < count; i++) {
    const t = now();
    await plain(run.frugal_plain);
    const u = now();
    await frugal(step);
    plainTime += u - t;
    stepTime += now() - u;
  }
  const plainMs = (plainTime * 1e3) / count;
  const stepMs = (stepTime * 1e3) / count;
  return { n: count, step_ms: stepMs, plain_ms: plainMs, overhead_pct: ((stepMs - plainMs) / plainMs) * 100 };
}

/** Twenty rounds of a twentieth each; the fastest counts (noise only adds). */
function builds() {
  const count = run.builds;
  const rounds = 20;
  const step = build(run.build);
  let total = 0;
  for (let i = 0; i < 1000; i++) total += step.payloadJson().length;
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const started = now();
    for (let i = 0; i < count / rounds; i++) total += step.payloadJson().length;
    best = Math.min(best, (now() - started) / (count / rounds));
  }
  if (total === 0) throw new Error('empty payloads');
  return { n: count, per_sec: 1 / best, us: best * 1e6 };
}

const [submit, submitPlain] = await submitAndPlain();
submit.plain = { ...submitPlain, overhead_pct: ((submitPlain.per_sec / submit.per_sec) - 1) * 100 };
const overhead = await frugalOverhead();
console.log(JSON.stringify({
  client: `Node ${process.version} (npm ezthrottle, wasm)`, submit, frugal: overhead, build: builds(),
}));
