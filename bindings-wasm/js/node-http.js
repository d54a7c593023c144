// The Node entry's HTTP: `node:http` / `node:https` with keep-alive agents,
// for clients given no `fetch`. Node's global fetch builds a Request, a
// Response, a Headers and two streams per exchange; this costs about half
// of that on a loopback submit. Behaves as the Rust transports do: follows
// up to 10 redirects, reads at most 64 MiB of body, one deadline for the
// whole exchange.
import { MAX_BODY_BYTES, SendError, deadline } from './fetch-http.js';

const MAX_REDIRECTS = 10;

// node:http and node:https load on a client's first request of their
// scheme, not at import: together they are a third of a cold import.
const loaders = { 'http:': () => import('node:http'), 'https:': () => import('node:https') };
const stacks = {};

/** The module and keep-alive agent for `protocol`, loaded once; `undefined` for another scheme. */
async function load(protocol) {
  if (!loaders[protocol]) return undefined;
  const { default: module } = await loaders[protocol]();
  stacks[protocol] ??= { module, agent: new module.Agent({ keepAlive: true }) };
  return stacks[protocol];
}

/**
 * One exchange: `headers` and the answer's headers are flat `[name, value, …]`
 * arrays. Resolves to `[status, headers, body]`; rejects with a `SendError`
 * whose `kind` is `timeout`, `unreachable` or `other`.
 */
export function send(method, url, headers, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    let current;
    let settled = false;
    const settle = (then, value) => {
      if (settled) return;
      settled = true;
      cancel();
      then(value);
    };
    const fail = (message, kind) => {
      if (settled) return;
      // Settled first: destroying the request may report its own failure.
      settle(reject, new SendError(message, kind));
      current?.destroy();
    };
    const cancel = deadline(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`, 'timeout'));
    const named = {};
    for (let i = 0; i + 1 < headers.length; i += 2) named[headers[i]] = headers[i + 1];
    if (body !== undefined && !Object.keys(named).some((n) => n.toLowerCase() === 'content-length')) {
      named['content-length'] = Buffer.byteLength(body);
    }
    const exchange = (method, target, headers, body, redirects) => {
      const stack = stacks[target.protocol];
      if (!stack) {
        load(target.protocol).then(
          (loaded) => (loaded ? exchange(method, target, headers, body, redirects)
            : fail(`unsupported protocol ${target.protocol}`, 'unreachable')),
          (error) => fail(error.message, 'other'),
        );
        return;
      }
      current = stack.module.request(target, { method, headers, agent: stack.agent }, (response) => {
        const location = response.headers.location;
        if ([301, 302, 303, 307, 308].includes(response.statusCode) && location && redirects < MAX_REDIRECTS) {
          response.resume();
          const next = new URL(location, target);
          const [nextMethod, nextBody, nextHeaders] = redirected(response.statusCode, method, body, headers, target, next);
          exchange(nextMethod, next, nextHeaders, nextBody, redirects + 1);
          return;
        }
        const chunks = [];
        let size = 0;
        response.on('data', (chunk) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) fail(`the response body is larger than ${MAX_BODY_BYTES} bytes`, 'other');
          else chunks.push(chunk);
        });
        response.on('error', (error) => fail(error.message, 'unreachable'));
        response.on('close', () => response.complete || fail('the connection closed mid-body', 'unreachable'));
        response.on('end', () => {
          const flat = response.rawHeaders;
          for (let i = 0; i < flat.length; i += 2) flat[i] = flat[i].toLowerCase();
          settle(resolve, [response.statusCode, flat, Buffer.concat(chunks, size).toString('utf8')]);
        });
      });
      current.on('error', (error) => fail(`${error.code ?? error.name}: ${error.message}`, 'unreachable'));
      current.end(body);
    };
    try {
      exchange(method, new URL(url), named, body, 0);
    } catch (error) {
      fail(error.message, 'unreachable');
    }
  });
}

/**
 * The request a redirect asks for, as fetch makes it: 303 (and 301/302
 * after a POST) becomes a bodiless GET; credentials never leave the origin.
 */
function redirected(status, method, body, headers, from, to) {
  const next = { ...headers };
  if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
    method = 'GET';
    body = undefined;
    for (const name of Object.keys(next)) {
      if (/^content-(type|length)$/i.test(name)) delete next[name];
    }
  }
  if (from.origin !== to.origin) {
    for (const name of Object.keys(next)) {
      if (/^(authorization|cookie)$/i.test(name)) delete next[name];
    }
  }
  return [method, body, next];
}
