// Runs worker.mjs in workerd (Miniflare) with the installed package, the way
// a bundler resolves its "workerd" export: the .wasm as a compiled module.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Miniflare } from 'miniflare';

const require = createRequire(import.meta.url);
const pkg = dirname(require.resolve('ezthrottle/package.json'));
const read = (file) => readFileSync(join(pkg, file));
const here = dirname(new URL(import.meta.url).pathname);
const box = `worker-${process.pid}`;
const base = process.env.SANDBOX_URL;
const SECRET = 'worker_webhook_secret_0123';

const mf = new Miniflare({
  modules: [
    { type: 'ESModule', path: 'worker.mjs', contents: readFileSync(join(here, 'worker.mjs')) },
    { type: 'ESModule', path: 'ezthrottle', contents: read('workerd.js') },
    ...['api.js', 'bind.js', 'errors.js', 'drive.js', 'fetch-http.js', 'ezthrottle_wasm.js'].map((file) => ({ type: 'ESModule', path: file, contents: read(file) })),
    { type: 'CompiledWasm', path: 'ezthrottle_wasm_bg.wasm', contents: read('ezthrottle_wasm_bg.wasm') },
  ],
  compatibilityDate: '2025-01-01',
  bindings: { SANDBOX_URL: base, API_KEY: process.env.SANDBOX_KEY, SECRET, BOX: box },
});

try {
  const response = await mf.dispatchFetch('http://worker.test/run');
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const { frugal, performance, refused } = JSON.parse(text);
  assert.equal(frugal.executed_locally, true);
  assert.equal(frugal.status_code, 200);
  assert.match(frugal.trace, /SUCCESS/);
  assert.equal(performance.status, 'queued');
  assert.deepEqual(refused, { name: 'ValidationError', path: 'url' });

  let deliveries = [];
  for (let tries = 0; tries < 400 && deliveries.length === 0; tries++) {
    const got = await fetch(`${base}/receiver/${box}`, { headers: { authorization: `Bearer ${process.env.SANDBOX_KEY}` } });
    deliveries = await got.json();
    if (!deliveries.length) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(deliveries.length, 1, 'the PERFORMANCE job was delivered');
  const [delivery] = deliveries;
  const post = (signature) => mf.dispatchFetch('http://worker.test/hook', {
    method: 'POST', body: delivery.body, headers: { 'x-ezthrottle-signature': signature },
  });
  const accepted = await post(delivery.signature);
  const body = await accepted.json();
  assert.equal(accepted.status, 200, JSON.stringify(body));
  assert.equal(body.job_id, performance.job_id);
  const replayed = await (await post(delivery.signature)).json();
  assert.equal(replayed.duplicate, true);
  const last = delivery.signature.at(-1);
  const forged = await post(delivery.signature.slice(0, -1) + (last === '0' ? '1' : '0'));
  assert.equal(forged.status, 401);
  console.log(`workerd: FRUGAL ran locally, PERFORMANCE job ${performance.job_id} delivered, webhook verified (200), replay acknowledged, forgery refused (401)`);
} finally {
  await mf.dispose();
}
