// Where the npm package's own time goes in Node, no network: the bench's
// submit and FRUGAL steps driven through the package's API (api.js), with a
// `send` that answers at once (hot: the code and data stay in the caches)
// and with one that answers after a 1 ms timer (cold: the CPU idles, as it
// does during a round trip). Prints the SDK's time before its request is
// handed to `send` and after the answer comes back, per call.
//
//   node phases.mjs RUN_JSON node|web
//
// `node` is the package's Node entry (its speed-first .wasm); `web` the same
// modules over the browsers' size-first .wasm. Run from a project with the
// packed package installed (the bench's node/build.sh makes one).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [runFile, build = 'node'] = process.argv.slice(2);
const pkg = pathToFileURL(resolve('node_modules/ezthrottle') + '/');
const glue = await import(new URL('ezthrottle_wasm.js', pkg));
const wasm = build === 'web' ? 'ezthrottle_wasm_bg.wasm' : 'ezthrottle_wasm_node.wasm';
glue.initSync({ module: readFileSync(new URL(wasm, pkg)) });
const { bind } = await import(new URL('bind.js', pkg));
const { EZThrottle, Step } = await import(new URL('api.js', pkg));

const run = JSON.parse(readFileSync(runFile, 'utf8'));
const gatewayAnswer = JSON.stringify({
  status: 'allowed',
  forwarded_response: {
    status_code: 201,
    body: JSON.stringify({ job_id: 'job_0123456789abcdef', status: 'queued', idempotent_key: 'k' }),
  },
});
const headers = ['content-type', 'application/json', 'date', 'Mon, 07 Dec 2026 17:09:35 GMT'];

let calledAt = 0;
let answeredAt = 0;
let before = 0;
let after = 0;
let idle = false;
bind(async (method, url) => {
  before += performance.now() - calledAt;
  if (idle) await new Promise((resolve) => setTimeout(resolve, 1));
  answeredAt = performance.now();
  return url.includes('/api/v1/proxy') ? [200, headers, gatewayAnswer] : [200, headers, '{"ok":true}'];
});

const client = new EZThrottle({ apiKey: run.api_key, tracktagsUrl: 'http://127.0.0.1:9' });
const submit = Object.fromEntries(run.submit);
const retry = { maxRetries: submit.retry_policy.max_retries, retryCodes: submit.retry_policy.retry_codes };
/** The bench's submit step, built as an app writes it. */
const submitStep = (i) => new Step(client).url(submit.url).method(submit.method).headers(submit.headers)
  .body(submit.body).metadata(submit.metadata).webhooks(submit.webhooks).regions(submit.regions)
  .retryPolicy(retry).retryAt(submit.retry_at).idempotentKey(`phases-${i}`);
const frugal = Object.fromEntries(run.frugal_calls);
const frugalStep = new Step(client).url(frugal.url).method(frugal.method).type('frugal')
  .headers(frugal.headers).body(frugal.body).fallbackOnError(frugal.fallback_on_error);

/** `count` calls of `once(i)`: the SDK's µs per call before and after its request. */
async function measure(count, once) {
  before = 0;
  after = 0;
  for (let i = 0; i < count; i++) {
    calledAt = performance.now();
    await once(i);
    after += performance.now() - answeredAt;
  }
  return { before_us: (before * 1e3) / count, after_us: (after * 1e3) / count };
}

const workloads = {
  submit: (i) => submitStep(i).execute(),
  frugal: () => frugalStep.execute(),
};
const figures = {};
for (const [name, once] of Object.entries(workloads)) {
  // As many as the bench's submits (cold), ten times that (hot).
  for (const [mode, count] of [['hot', 10 * run.submits], ['cold', run.submits]]) {
    idle = mode === 'cold';
    await measure(Math.ceil(count / 10), once); // warm-up
    // The best of five rounds: noise only adds.
    let best = null;
    for (let round = 0; round < 5; round++) {
      const got = await measure(Math.ceil(count / 5), once);
      if (best === null || got.before_us + got.after_us < best.before_us + best.after_us) best = got;
    }
    figures[`${name}_${mode}`] = best;
  }
}
const show = ({ before_us: b, after_us: a }) => `${(b + a).toFixed(1)} µs (${b.toFixed(1)} before the request, ${a.toFixed(1)} after)`;
console.log(`Node ${process.version}, the ${build === 'web' ? "browsers' size-first" : "Node entry's speed-first"} .wasm:`);
for (const [key, value] of Object.entries(figures)) console.log(`  ${key.padEnd(12)} ${show(value)}`);
