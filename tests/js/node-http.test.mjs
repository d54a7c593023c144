// The Node entry's own HTTP (node:http with keep-alive, used when a client
// is given no `fetch`), against servers on loopback that this test starts:
// connections are reused, redirects are followed as fetch follows them,
// credentials stay on their origin, and a timeout, a refused connection, a
// hang-up and a good answer each come back as the core expects them.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test, after } from 'node:test';
import { EZThrottle, Step, StepType, TransportError } from 'ezthrottle';

const servers = [];

/** A loopback server answering with `handle`; records each request and counts connections. */
async function serve(handle) {
  const seen = { requests: [], connections: 0 };
  const server = http.createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    seen.requests.push({ method: request.method, url: request.url, headers: request.headers, body });
    handle(request, response, body);
  });
  server.on('connection', () => seen.connections++);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${server.address().port}`, seen };
}

after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

const client = new EZThrottle({ apiKey: 'ck_local_only', tracktagsUrl: 'http://127.0.0.1:9' });
const frugal = (url) => new Step(client).url(url).type(StepType.FRUGAL).fallbackOnError([500]);

test('sequential requests reuse one kept-alive connection', async () => {
  const local = await serve((request, response) => response.end('{"ok":true}'));
  for (let i = 0; i < 5; i++) {
    const result = await frugal(`${local.url}/ping`).execute();
    assert.equal(result.status_code, 200);
  }
  assert.equal(local.seen.requests.length, 5);
  assert.equal(local.seen.connections, 1);
});

test('a 307 keeps the method and body; a 303 becomes a bodiless GET', async () => {
  const local = await serve((request, response) => {
    if (request.url === '/keep') response.writeHead(307, { Location: '/final' }).end();
    else if (request.url === '/see-other') response.writeHead(303, { Location: '/final' }).end();
    else response.end(JSON.stringify({ method: request.method }));
  });
  const kept = await frugal(`${local.url}/keep`).method('POST').body('{"n":1}').execute();
  assert.equal(kept.response, '{"method":"POST"}');
  assert.deepEqual(local.seen.requests.at(-1), {
    ...local.seen.requests.at(-1), method: 'POST', url: '/final', body: '{"n":1}',
  });
  const changed = await frugal(`${local.url}/see-other`).method('POST').body('{"n":2}').execute();
  assert.equal(changed.response, '{"method":"GET"}');
  assert.equal(local.seen.requests.at(-1).body, '');
  assert.equal(local.seen.requests.at(-1).headers['content-type'], undefined);
});

test('credentials are not carried to another origin', async () => {
  const other = await serve((request, response) => response.end('{}'));
  const first = await serve((request, response) => response.writeHead(302, { Location: `${other.url}/landed` }).end());
  await frugal(`${first.url}/go`).headers({ Authorization: 'Bearer secret-token', 'X-Trace': 't1' }).execute();
  assert.equal(first.seen.requests[0].headers.authorization, 'Bearer secret-token');
  const landed = other.seen.requests[0];
  assert.equal(landed.url, '/landed');
  assert.equal(landed.headers.authorization, undefined);
  assert.equal(landed.headers['x-trace'], 't1');
});

test('a redirect loop ends after 10 redirects with the last answer', async () => {
  const local = await serve((request, response) => response.writeHead(302, { Location: '/again' }).end());
  const result = await frugal(`${local.url}/start`).fallbackOnError([500]).execute();
  assert.equal(result.status_code, 302);
  assert.equal(local.seen.requests.length, 11);
});

test('a gateway that does not answer in time is a transport timeout', async () => {
  const silent = await serve(() => {});
  const impatient = new EZThrottle({ apiKey: 'ck_local_only', tracktagsUrl: silent.url, timeoutMs: 200 });
  const started = Date.now();
  await assert.rejects(new Step(impatient).url('http://127.0.0.1:9/x').execute(), (error) => {
    assert.ok(error instanceof TransportError, `${error.name}: ${error.message}`);
    assert.equal(error.code, 'timeout');
    return true;
  });
  assert.ok(Date.now() - started < 5000);
});

test('a status no server can send (999) is the transport\'s failure, as in every binding', async () => {
  const odd = await serve((request, response) => {
    response.writeHead(999);
    response.end('{}');
  });
  const client = new EZThrottle({ apiKey: 'ck_local_only', tracktagsUrl: odd.url });
  await assert.rejects(new Step(client).url('http://127.0.0.1:9/x').execute(), (error) => {
    assert.ok(error instanceof TransportError, `${error.name}: ${error.message}`);
    assert.match(error.message, /answered 999 is not an HTTP status code/);
    return true;
  });
});

test('an answer over 64 MiB is refused, over node:http and over fetch alike', async () => {
  const huge = await serve((request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(1024 * 1024, 120);
    let sent = 0;
    const more = () => {
      while (sent < 65 && !response.destroyed) {
        sent++;
        if (!response.write(chunk)) return response.once('drain', more);
      }
      response.end();
    };
    more();
  });
  // The gateway's answer, so that no FRUGAL forwarding stands between.
  const viaNodeHttp = new EZThrottle({ apiKey: 'ck_local_only', tracktagsUrl: huge.url });
  const viaFetch = new EZThrottle({ apiKey: 'ck_local_only', tracktagsUrl: huge.url, fetch: globalThis.fetch });
  for (const stack of [viaNodeHttp, viaFetch]) {
    await assert.rejects(new Step(stack).url('http://127.0.0.1:9/x').execute(), (error) => {
      assert.ok(error instanceof TransportError, `${error.name}: ${error.message}`);
      assert.equal(error.code, 'transport');
      assert.match(error.message, /larger than 67108864 bytes/);
      return true;
    });
  }
});

test('a refused connection is unreachable: forwardOrFallback runs the fallback', async () => {
  const down = new EZThrottle({ apiKey: 'ck_local_only', tracktagsUrl: 'http://127.0.0.1:9' });
  await assert.rejects(new Step(down).url('http://127.0.0.1:9/x').execute(), (error) => {
    assert.ok(error instanceof TransportError, `${error.name}: ${error.message}`);
    assert.equal(error.code, 'unreachable');
    return true;
  });
  const value = await down.forwardOrFallback(() => 'ran locally', { url: 'http://127.0.0.1:9/x' });
  assert.equal(value, 'ran locally');
});

test('a gateway that hangs up is unreachable too, over node:http and over fetch: the fallback runs', async () => {
  const gateway = await serve((request, response) => response.socket.destroy());
  for (const [stack, options] of [['node:http', {}], ['fetch', { fetch: (request) => fetch(request) }]]) {
    const hangsUp = new EZThrottle({ apiKey: 'ck_local_only', tracktagsUrl: gateway.url, ...options });
    const value = await hangsUp.forwardOrFallback(() => 'ran locally', { url: 'http://127.0.0.1:9/x' });
    assert.equal(value, 'ran locally', stack);
  }
  assert.equal(gateway.seen.requests.length, 2);
});
