// The public API: thin, chainable classes over the WebAssembly core. Every
// decision (validation, payloads, FRUGAL, signatures) is taken in the core;
// this file only spells things the JavaScript way.
import {
  ClientHandle,
  StepHandle,
  WebhookHandler,
  verifySignature as coreVerify,
} from './ezthrottle_wasm.js';
import { EZThrottleError, TimeoutError } from './errors.js';
import { entrySend } from './bind.js';
import { drive } from './drive.js';
import { deadline, fetchSend } from './fetch-http.js';

export * from './errors.js';

/** How a step runs: submitted at once, or locally first. */
export const StepType = Object.freeze({ PERFORMANCE: 'performance', FRUGAL: 'frugal' });
/** How the service deduplicates: by a hash of the request, or never. */
export const IdempotentStrategy = Object.freeze({ HASH: 'hash', UNIQUE: 'unique' });
/** What happens when a named region is down. */
export const RegionPolicy = Object.freeze({ FALLBACK: 'fallback', STRICT: 'strict' });
/** Whether the first region to finish wins, or every region runs. */
export const ExecutionMode = Object.freeze({ RACE: 'race', FANOUT: 'fanout' });

/**
 * Each client's core handle, HTTP (`send`), and the polls of its pending
 * `waitForResult` calls (run after each delivery its handlers receive).
 */
const clients = new WeakMap();

function clientOf(client) {
  const entry = clients.get(client);
  if (!entry) {
    throw new TypeError('expected an EZThrottle client');
  }
  return entry;
}

const handleOf = (client) => clientOf(client).handle;

/** Run the client's `call` (a method of its core handle returning an Exchange) over its HTTP. */
async function run(client, call, ...args) {
  const { handle, send } = clientOf(client);
  return drive(handle[call](...args), send);
}

/** A client of the EZThrottle service. */
export class EZThrottle {
  constructor(options = {}) {
    const { fetch, ...config } = options ?? {};
    if (fetch !== undefined && typeof fetch !== 'function') {
      throw new TypeError('options.fetch must be a function');
    }
    // The caller's fetch, else the entry point's own HTTP (Node), else the global fetch.
    const send = fetch !== undefined ? fetchSend(fetch) : (entrySend ?? fetchSend());
    clients.set(this, { handle: new ClientHandle(config), send, waits: new Set() });
  }

  /** Submit a job described with the Step builder's option names (`{ url, method, webhooks, … }`). */
  submitJob(job) {
    return run(this, 'submitJob', job);
  }

  /** The legacy single-webhook call: `{ url, webhookUrl, method?, headers?, body?, metadata?, retryAt? }`. */
  queueRequest(options) {
    return run(this, 'queueRequest', options);
  }

  /** Submit a request taken over from existing code (a `ForwardToEZThrottle` or its fields). */
  forward(request) {
    return run(this, 'forward', forwardFields(request));
  }

  /**
   * Submit `options` as a job; only when the service cannot be reached at all,
   * call `fallback` and return its value instead.
   */
  async forwardOrFallback(fallback, options) {
    if (typeof fallback !== 'function') {
      throw new TypeError('fallback must be a function');
    }
    const outcome = await run(this, 'forwardOrFallback', forwardFields(options));
    return 'submitted' in outcome ? outcome.submitted : fallback();
  }

  createWebhookSecret(primarySecret, secondarySecret) {
    return run(this, 'createWebhookSecret', primarySecret, secondarySecret);
  }

  getWebhookSecret() {
    return run(this, 'getWebhookSecret');
  }

  deleteWebhookSecret() {
    return run(this, 'deleteWebhookSecret');
  }

  rotateWebhookSecret(newSecret, currentSecret) {
    return run(this, 'rotateWebhookSecret', newSecret, currentSecret);
  }

  /**
   * A webhook endpoint for this client: `handler(request)` resolves to the
   * `Response` to send; `handler.receive(body, signature)` serves Node's
   * `http` servers. Follow-ups registered by this client's executions run
   * when their job's webhook arrives.
   */
  webhookHandler(options) {
    const { handle, send, waits } = clientOf(this);
    return handlerFunction(handle.webhookHandler(options), options, send, waits);
  }

  /**
   * Resolves to the result (the webhook event) of `jobId` once one of this
   * client's webhook handlers receives it, at once if one already has.
   * Rejects with a `TimeoutError` after `timeoutMs` (a whole number; none
   * waits without limit), or with the signal's reason when `signal` aborts;
   * either way the wait is freed.
   */
  waitForResult(jobId, { timeoutMs, signal } = {}) {
    const { handle, waits } = clientOf(this);
    const wait = handle.waitForResult(jobId, timeoutMs);
    const limit = wait.timeoutMs;
    return new Promise((resolve, reject) => {
      let cancel;
      const end = () => {
        cancel?.();
        signal?.removeEventListener('abort', onAbort);
        waits.delete(poll);
        wait.free(); // the core forgets the waiter
      };
      const onAbort = () => {
        end();
        reject(signal.reason);
      };
      // Run now and after each delivery this client's handlers receive.
      const poll = () => {
        const event = wait.poll();
        if (event === undefined) return false;
        end();
        resolve(event);
        return true;
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      if (poll()) return;
      waits.add(poll);
      signal?.addEventListener('abort', onAbort, { once: true });
      const expire = () => {
        const error = new TimeoutError(wait.timeoutMessage); // before end() frees the wait
        end();
        error.code = 'timeout';
        reject(error);
      };
      if (limit !== undefined) cancel = deadline(limit, expire);
    });
  }

  /** How many submitted jobs wait for their webhook to run a follow-up. */
  get pendingContinuations() {
    return handleOf(this).pendingContinuations();
  }

  toString() {
    return '[EZThrottle client]';
  }
}

/** A webhook endpoint without a client: verifies and parses deliveries. */
export function webhookHandler(options) {
  return handlerFunction(new WebhookHandler(options), options, noSend);
}

/** A stand-alone handler's HTTP: it has no client, so its deliveries send nothing. */
async function noSend() {
  throw new EZThrottleError('a stand-alone webhook handler has no client to send with');
}

const SIGNATURE_HEADER = 'x-ezthrottle-signature';

function handlerFunction(handler, { onEvent } = {}, send, waits) {
  if (onEvent !== undefined && typeof onEvent !== 'function') {
    throw new TypeError('options.onEvent must be a function');
  }
  const receive = async (body, signature) => {
    const handled = await drive(handler.receive(body, signature ?? undefined), send);
    if (handled.event !== null) {
      if (waits) for (const poll of waits) poll();
      if (onEvent) await onEvent(handled);
    }
    return handled;
  };
  const handle = async (request) => {
    if (!(request instanceof Request)) {
      throw new TypeError('expected a fetch Request');
    }
    const body = new Uint8Array(await request.arrayBuffer());
    const handled = await receive(body, request.headers.get(SIGNATURE_HEADER));
    return new Response(handled.body, {
      status: handled.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  handle.receive = receive;
  return handle;
}

/**
 * The steps whose core copy is kept for their next use, least recently used
 * first. Without a bound, each step's copy waited for the garbage collector
 * to run wasm-bindgen's finalizer: a synchronous loop of one-shot steps grew
 * the WebAssembly memory (which never shrinks) by ~1.2 KB a step and slowed
 * every later call. A step whose copy was dropped builds it again when used.
 */
const kept = new Set();
const KEPT_STEPS = 16;

/**
 * A request to run through EZThrottle, built by chaining. The calls are kept
 * here and cross into the core once, when the step is first used (`execute`,
 * `payload`): that is where every option is checked, and a `ValidationError`
 * names the field (`fallback[0].url`). Values are read then, too.
 */
export class Step {
  #client;
  #calls = [];
  /** The core's step for the current calls, while it is among the `kept`. */
  #built = null;

  constructor(client) {
    this.#client = client;
  }

  #call(name, value) {
    this.#calls.push([name, value]);
    this.#drop();
    return this;
  }

  #drop() {
    if (this.#built !== null) {
      this.#built.free();
      this.#built = null;
      kept.delete(this);
    }
  }

  /** The core's step for the calls as they are now: kept for the next use, among the last `KEPT_STEPS` used. */
  #handle() {
    if (this.#built === null) {
      this.#built = StepHandle.fromCalls(this.#calls);
      if (kept.size >= KEPT_STEPS) kept.values().next().value.#drop();
    }
    kept.delete(this);
    kept.add(this);
    return this.#built;
  }

  /** A linked step's calls as they are now (later changes to it do not reach this step). */
  static #callsOf(step, what) {
    if (!(step instanceof Object && #calls in step)) {
      throw new TypeError(`${what} must be a Step`);
    }
    return [...step.#calls];
  }

  url(url) { return this.#call('url', url); }
  method(method) { return this.#call('method', method); }
  headers(headers) { return this.#call('headers', headers); }
  body(body) { return this.#call('body', body); }
  metadata(metadata) { return this.#call('metadata', metadata); }
  type(type) { return this.#call('type', type); }
  webhooks(webhooks) { return this.#call('webhooks', webhooks); }
  webhookQuorum(quorum) { return this.#call('webhook_quorum', quorum); }
  regions(regions) { return this.#call('regions', regions); }
  regionPolicy(policy) { return this.#call('region_policy', policy); }
  executionMode(mode) { return this.#call('execution_mode', mode); }
  retryPolicy(policy) { return this.#call('retry_policy', policy); }
  /** Not run before this instant (ms since the epoch, or a Date). */
  retryAt(at) { return this.#call('retry_at', at instanceof Date ? at.getTime() : at); }
  idempotentKey(key) { return this.#call('idempotent_key', key); }
  idempotentStrategy(strategy) { return this.#call('idempotent_strategy', strategy); }
  /** Statuses of the local (FRUGAL) call that forward the step to EZThrottle. */
  fallbackOnError(codes) { return this.#call('fallback_on_error', codes); }
  /** Timeout of the local (FRUGAL) call, in milliseconds. */
  timeout(ms) { return this.#call('local_timeout_ms', ms); }
  /** The same as `timeout`: the official Node SDK's other name. */
  localTimeout(ms) { return this.#call('local_timeout_ms', ms); }
  /** How long the service waits before declaring the failure that runs `onFailure`. */
  onFailureTimeout(ms) { return this.#call('on_failure_timeout_ms', ms); }
  description(text) { return this.#call('description', text); }
  responseDescription(text) { return this.#call('response_description', text); }

  /** Try `step` when this one fails: `{ triggerOnError: [codes] }`, `{ triggerOnTimeout: ms }`, or always. */
  fallback(step, options) {
    return this.#call('fallback', link(Step.#callsOf(step, 'fallback'), options));
  }

  /** Run `step` when this one succeeds. */
  onSuccess(step) {
    return this.#call('on_success', Step.#callsOf(step, 'onSuccess'));
  }

  /** Run `step` when every path failed; `{ timeoutMs }` (or a bare number, as the official Node SDK passes it) bounds the wait for that verdict. */
  onFailure(step, options) {
    const timeout = typeof options === 'number' ? { timeoutMs: options } : options;
    return this.#call('on_failure', link(Step.#callsOf(step, 'onFailure'), timeout));
  }

  /** The job payload this step submits, as an object (nothing is sent). */
  payload() {
    return this.#handle().payload();
  }

  /** The job payload as JSON text (nothing is sent). */
  payloadJson() {
    return this.#handle().payloadJson();
  }

  toJSON() {
    return this.payload();
  }

  /**
   * Run the step: PERFORMANCE submits it; FRUGAL runs it locally first and
   * forwards it on the chosen errors. Resolves to the reference SDK's result
   * shape; its non-enumerable `trace` says what ran.
   */
  async execute(client = this.#client) {
    if (client === undefined) {
      throw new EZThrottleError('execute() needs a client: new Step(client) or step.execute(client)');
    }
    const { result, trace } = await run(client, 'execute', this.#handle());
    Object.defineProperty(result, 'trace', { value: trace, enumerable: false });
    return result;
  }
}

/** A link's options with its step; options that are not an object go to the core as they are, to be refused there. */
function link(step, options) {
  if (options === undefined || options === null) return { step };
  return typeof options === 'object' && !Array.isArray(options) ? { ...options, step } : options;
}

/** A request's own fields (an error's `name`, `message` and `stack` are not). */
function forwardFields(request) {
  if (request === null || typeof request !== 'object') {
    return request;
  }
  const fields = {};
  for (const key of Object.keys(request)) {
    if (key !== 'name' && key !== 'message' && key !== 'stack' && request[key] !== undefined) {
      fields[key] = request[key];
    }
  }
  return fields;
}

/**
 * Thrown by existing code to hand a request over to EZThrottle; an
 * `autoForward` wrapper catches it and submits the request instead.
 */
export class ForwardToEZThrottle extends Error {
  constructor(options) {
    super(`forwarding ${String(options?.method ?? 'GET').toUpperCase()} ${options?.url} to EZThrottle`);
    this.name = 'ForwardToEZThrottle';
    // Every field is kept as given; the core reads (and refuses) them.
    Object.assign(this, forwardFields(options));
  }
}

/**
 * Wrap an async function: when it throws `ForwardToEZThrottle`, the request
 * is submitted and the service's answer returned instead.
 */
export function autoForward(client, fn) {
  handleOf(client);
  return async function forwarding(...args) {
    try {
      return await fn.apply(this, args);
    } catch (error) {
      if (error instanceof ForwardToEZThrottle) {
        return client.forward(error);
      }
      throw error;
    }
  };
}

/**
 * The official Node SDK's auto-forwarding: when `fn` resolves to
 * `{ forward: { url, … } }`, that request is submitted to EZThrottle and the
 * service's answer returned; any other value is returned as it is. The
 * request is submitted once, not run here again first (the Node SDK re-runs
 * it locally for its default FRUGAL type).
 */
export async function executeWithForwarding(client, fn) {
  handleOf(client);
  const result = await fn();
  if (result !== null && typeof result === 'object' && 'forward' in result) {
    return client.forward(result.forward);
  }
  return result;
}

/** `fn` wrapped with `executeWithForwarding`: the official Node SDK's decorator form. */
export function withAutoForward(client, fn) {
  handleOf(client);
  return (...args) => executeWithForwarding(client, () => fn(...args));
}

// The official Node SDK passes the tolerance as a bare number of seconds.
const verifyOptions = (options) => (typeof options === 'number' ? { toleranceSecs: options } : options);

/** Check a webhook's signature with one secret: `{ valid, verified, reason }`. Never throws for a bad signature. */
export function verifyWebhookSignature(payload, signature, secret, options) {
  return coreVerify('one', payload, signature ?? undefined, secret, undefined, verifyOptions(options));
}

/** Check with the primary secret, then the secondary (during a rotation): `{ valid, verified, reason }`. */
export function tryVerifyWithSecrets(payload, signature, primarySecret, secondarySecret, options) {
  return coreVerify('both', payload, signature ?? undefined, primarySecret, secondarySecret ?? undefined, verifyOptions(options));
}

/** Like `tryVerifyWithSecrets`, but a refused signature throws a `SignatureError`. */
export function verifyWebhookSignatureStrict(payload, signature, primarySecret, secondarySecret, options) {
  if (typeof secondarySecret === 'number') {
    [secondarySecret, options] = [undefined, secondarySecret];
  }
  return coreVerify('strict', payload, signature ?? undefined, primarySecret, secondarySecret ?? undefined, verifyOptions(options));
}
