// The Node client of the side-by-side benchmark: the npm package `ezthrottle`
// (WebAssembly core, Node's fetch), the way a Node app uses it.
// `node bench.mjs RUN_JSON` prints one JSON line of figures.
import { readFileSync } from 'node:fs';
import { EZThrottle } from 'ezthrottle';
import { build } from './calls.mjs';

const run = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const client = new EZThrottle({ apiKey: run.api_key, tracktagsUrl: run.sandbox });
const now = () => performance.now() / 1e3;
const percentileMs = (sorted, p) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * p))) - 1] * 1e3;

async function submits() {
  const count = run.submits;
  const latencies = [];
  const started = now();
  for (let i = 0; i < count; i++) {
    const t = now();
    const step = build(run.submit, client).idempotentKey(`bench-${run.run_id}-node-${i}`);
    const result = await step.execute();
    if (result.status !== 'queued') throw new Error(`unexpected ${JSON.stringify(result)}`);
    latencies.push(now() - t);
  }
  const seconds = now() - started;
  latencies.sort((a, b) => a - b);
  return {
    n: count, seconds, per_sec: count / seconds,
    p50_ms: percentileMs(latencies, 0.5), p99_ms: percentileMs(latencies, 0.99),
  };
}

async function plain(request) {
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
  if (!response.ok) throw new Error(`plain request: ${response.status}`);
  return response.text();
}

async function frugal(step) {
  const result = await step.execute();
  if (!result.executed_locally) throw new Error(`not local: ${JSON.stringify(result)}`);
}

async function frugalOverhead() {
  const count = run.frugal;
  const rounds = 10;
  const step = build(run.frugal_calls, client);
  for (let i = 0; i < 100; i++) {
    await plain(run.frugal_plain);
    await frugal(step);
  }
  let plainTime = 0;
  let stepTime = 0;
  for (let r = 0; r < rounds; r++) {
    let t = now();
    for (let i = 0; i < count / rounds; i++) await plain(run.frugal_plain);
    plainTime += now() - t;
    t = now();
    for (let i = 0; i < count / rounds; i++) await frugal(step);
    stepTime += now() - t;
  }
  const done = Math.floor(count / rounds) * rounds;
  const plainMs = (plainTime * 1e3) / done;
  const stepMs = (stepTime * 1e3) / done;
  return { n: done, step_ms: stepMs, plain_ms: plainMs, overhead_pct: ((stepMs - plainMs) / plainMs) * 100 };
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

const submit = await submits();
const overhead = await frugalOverhead();
console.log(JSON.stringify({
  client: `Node ${process.version} (npm ezthrottle, wasm)`, submit, frugal: overhead, build: builds(),
}));
