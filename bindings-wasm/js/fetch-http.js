// HTTP over `fetch` for the core (see src/exchange.rs for the contract):
// the global fetch in browsers and workers, or a caller's own, which is
// handed a `Request`. The deadline is an AbortController and a timer, not
// `AbortSignal.timeout` (Node makes that signal transferable: ~40 µs).
// Also what both sends share (node-http.js imports it).

// The longest delay JS timers honour (about 24.8 days; Node fires a longer
// one at once). The core's timeouts are at most a day, but a send takes any.
const MAX_TIMER_MS = 2 ** 31 - 1;
/** As the Rust transports: a larger answer is refused. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Call `fire` after `ms` milliseconds, however large `ms` is (past
 * MAX_TIMER_MS, in steps); returns the function that cancels it. `unref`:
 * in Node, the pending deadline does not keep the process alive.
 */
export function deadline(ms, fire, unref = false) {
  let timer;
  const arm = (left) => {
    timer = left > MAX_TIMER_MS ? setTimeout(() => arm(left - MAX_TIMER_MS), MAX_TIMER_MS) : setTimeout(fire, left);
    if (unref) timer?.unref?.();
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/** A failed exchange; `kind` is how the core classifies it (`timeout`, `unreachable`, `other`). */
export class SendError extends Error {
  constructor(message, kind) {
    super(message);
    this.name = 'SendError';
    this.kind = kind;
  }
}

const describe = (error) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** A `send` over `fetchFn`, or over the global fetch (called with a URL and init, no `Request` to build). */
export function fetchSend(fetchFn) {
  return async (method, url, headers, body, timeoutMs) => {
    const controller = new AbortController();
    // Node: a pending deadline must not keep the process alive.
    const cancel = deadline(timeoutMs, () => controller.abort(), true);
    // A rejection after our timer fired is the deadline; any other means no answer came back.
    const failed = (error) => new SendError(describe(error), controller.signal.aborted ? 'timeout' : 'unreachable');
    try {
      const pairs = [];
      for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([headers[i], headers[i + 1]]);
      const init = { method, headers: pairs, body, signal: controller.signal };
      let response;
      try {
        response = await (fetchFn ? fetchFn(new Request(url, init)) : fetch(url, init));
      } catch (error) {
        throw failed(error);
      }
      if (!(response instanceof Response)) {
        throw new SendError('the fetch function did not resolve to a Response', 'other');
      }
      const flat = [];
      response.headers.forEach((value, name) => flat.push(name, value));
      // Invalid UTF-8 becomes U+FFFD, as the Rust transports read it; a BOM is kept.
      return [response.status, flat, new TextDecoder('utf-8', { ignoreBOM: true }).decode(await read(response, failed))];
    } finally {
      cancel();
    }
  };
}

/** The whole body, at most MAX_BODY_BYTES of it, read as it streams. */
async function read(response, failed) {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > MAX_BODY_BYTES) {
        reader.cancel().catch(() => {});
        throw new SendError(`the response body is larger than ${MAX_BODY_BYTES} bytes`, 'other');
      }
      chunks.push(value);
    }
  } catch (error) {
    throw error instanceof SendError ? error : failed(error);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
