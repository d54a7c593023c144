// The packed package in a real page, as a browser app gets it: served as
// native ES modules (an import map to node_modules), and bundled by Vite
// from the npm registry. Headless Chromium (playwright-core driving
// /usr/bin/chromium) loads each page, which runs page/app.js: a FRUGAL step,
// a PERFORMANCE submit against the sandbox, and a signature check.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { build } from 'vite';

const sandbox = process.env.SANDBOX_URL;
const apiKey = process.env.SANDBOX_KEY;
const project = process.cwd();
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

// URL prefix → directory; nothing outside these is served.
const roots = {
  '/dist/': join(project, 'page-dist'),
  '/node_modules/': join(project, 'node_modules'),
  '/': join(project, 'page'),
};

let server;
let origin;
let browser;

before(async () => {
  await build({
    root: join(project, 'page'),
    base: './',
    logLevel: 'warn',
    build: { outDir: join(project, 'page-dist'), emptyOutDir: true, target: 'es2022' },
  });
  server = http.createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    const prefix = Object.keys(roots).find((p) => path.startsWith(p));
    const file = normalize(join(roots[prefix], path.slice(prefix.length)));
    try {
      if (!file.startsWith(roots[prefix])) throw new Error('outside the served roots');
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  server?.close();
});

/** Load `path` with a fresh config; resolves to the page's outcome and the URLs it loaded. */
async function visit(path) {
  const secret = `whsec_page_${randomUUID()}`;
  const payload = JSON.stringify({ job_id: 'job_page', status: 'success' });
  const t = Math.floor(Date.now() / 1000);
  const signature = `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex')}`;
  const config = { sandbox, apiKey, key: `page-${randomUUID()}`, payload, signature, secret };
  const page = await browser.newPage();
  const loaded = [];
  const problems = [];
  page.on('request', (request) => loaded.push(request.url()));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
  try {
    await page.goto(`${origin}${path}?config=${encodeURIComponent(JSON.stringify(config))}`);
    await page.waitForFunction(() => window.outcome !== undefined, null, { timeout: 30_000 });
    const outcome = await page.evaluate(() => window.outcome);
    assert.equal(outcome.error, undefined, `the page failed: ${outcome.error}; ${problems.join('; ')}`);
    return { ...outcome.ok, loaded, problems, config };
  } finally {
    await page.close();
  }
}

/** The three results every page must show. */
async function assertWorks({ frugal, submitted, signature, forged, problems, config }) {
  assert.deepEqual(problems, []);
  assert.equal(frugal.status, 'success');
  assert.equal(frugal.executed_locally, true);
  assert.equal(frugal.status_code, 200);
  assert.equal(submitted.status, 'queued');
  assert.match(submitted.job_id, /\S/);
  // The job reached the sandbox, under the page's key.
  const job = await fetch(`${sandbox}/api/v1/jobs/${submitted.job_id}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  assert.equal(job.status, 200);
  assert.equal((await job.json()).idempotent_key, config.key);
  assert.equal(signature.valid, true);
  assert.equal(signature.reason, 'valid');
  assert.equal(forged.valid, false);
  assert.equal(forged.reason, 'signature_mismatch');
}

test('as native ES modules: web.js and its .wasm from node_modules', async () => {
  const outcome = await visit('/native.html');
  await assertWorks(outcome);
  assert.ok(outcome.loaded.some((u) => u.endsWith('/node_modules/ezthrottle/ezthrottle_wasm_bg.wasm')), outcome.loaded.join('\n'));
});

test('bundled by Vite: the .wasm emitted as one of its assets', async () => {
  const outcome = await visit('/dist/index.html');
  await assertWorks(outcome);
  assert.ok(!outcome.loaded.some((u) => u.includes('/node_modules/')), outcome.loaded.join('\n'));
  assert.ok(outcome.loaded.some((u) => /\/dist\/assets\/.*\.wasm$/.test(u)), outcome.loaded.join('\n'));
});
