// Types of the `ezthrottle` package (every entry: web, node, workerd).

/** How a step runs. */
export declare const StepType: { readonly PERFORMANCE: 'performance'; readonly FRUGAL: 'frugal' };
export type StepType = (typeof StepType)[keyof typeof StepType];
/** How the service deduplicates jobs. */
export declare const IdempotentStrategy: { readonly HASH: 'hash'; readonly UNIQUE: 'unique' };
export type IdempotentStrategy = (typeof IdempotentStrategy)[keyof typeof IdempotentStrategy];
/** What happens when a named region is down. */
export declare const RegionPolicy: { readonly FALLBACK: 'fallback'; readonly STRICT: 'strict' };
export type RegionPolicy = (typeof RegionPolicy)[keyof typeof RegionPolicy];
/** Whether the first region to finish wins, or every region runs. */
export declare const ExecutionMode: { readonly RACE: 'race'; readonly FANOUT: 'fanout' };
export type ExecutionMode = (typeof ExecutionMode)[keyof typeof ExecutionMode];

/** Any JSON value (metadata may hold any). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A fetch function: the global one, or yours (instrumented, scripted in tests). */
export type Fetch = (request: Request) => Promise<Response>;

export interface ClientOptions {
  /** The API key; defaults to `process.env.EZTHROTTLE_API_KEY` where there is one. */
  apiKey?: string;
  /** The account gateway; default the hosted one (ezthrottle-core's `DEFAULT_TRACKTAGS_URL`). */
  tracktagsUrl?: string;
  /** The EZThrottle service; default the hosted one (ezthrottle-core's `DEFAULT_EZTHROTTLE_URL`). */
  ezthrottleUrl?: string;
  /** Timeout of each gateway call in milliseconds; default ezthrottle-core's `DEFAULT_TIMEOUT_MS`. */
  timeoutMs?: number;
  /**
   * A webhook of yours that receives every submitted job's result: on_success /
   * on_failure steps then run in this client (see `webhookHandler`).
   */
  continuationWebhook?: string;
  /**
   * Used instead of the default HTTP: the global `fetch` in browsers and
   * workers, `node:http` with keep-alive in Node.
   */
  fetch?: Fetch;
}

export interface Webhook {
  url: string;
  /** Deliver from these regions. */
  regions?: string[];
  /** Counts toward the quorum (default true). */
  hasQuorumVote?: boolean;
}

export interface RetryPolicy {
  maxRetries?: number;
  maxReroutes?: number;
  /** Retried in the same region. */
  retryCodes?: number[];
  /** Retried in another region. */
  rerouteCodes?: number[];
}

export interface FallbackOptions {
  /** Run the fallback when the step fails with one of these statuses. */
  triggerOnError?: number[];
  /** Run the fallback when the step takes longer than this (ms). */
  triggerOnTimeout?: number;
}

export interface OnFailureOptions {
  /** How long the service waits before declaring the failure (ms). */
  timeoutMs?: number;
}

/** The wire format of a job (PROTOCOL §3), as `step.payload()` returns it. */
export interface JobPayload {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  metadata?: { [key: string]: Json };
  webhooks?: { url: string; regions?: string[]; has_quorum_vote?: boolean }[];
  webhook_quorum?: number;
  regions?: string[];
  region_policy?: RegionPolicy;
  execution_mode?: ExecutionMode;
  retry_policy?: { max_retries?: number; max_reroutes?: number; retry_codes?: number[]; reroute_codes?: number[] };
  retry_at?: number;
  idempotent_key?: string;
  fallback_job?: JobPayload & { trigger?: { type: 'on_error'; codes: number[] } | { type: 'on_timeout'; timeout_ms: number } | Record<string, never> };
  on_success?: JobPayload;
  on_failure?: JobPayload;
  on_failure_timeout_ms?: number;
}

/** A job nested raw in `submitJob`, as the official Node SDK builds it (camelCase or snake_case keys). */
export type NestedJob = { url: string; [field: string]: Json | undefined };

/** `submitJob`'s options: the builder's names, and nested jobs raw. */
export interface SubmitJobOptions extends JobOptions {
  fallbackJob?: NestedJob;
  fallback_job?: NestedJob;
  onSuccess?: NestedJob;
  on_success?: NestedJob;
  onFailure?: NestedJob;
  on_failure?: NestedJob;
  onFailureTimeoutMs?: number;
  on_failure_timeout_ms?: number;
}

/** A job for `submitJob`, in the `Step` builder's names (nested steps need a `Step`). */
export interface JobOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  metadata?: { [key: string]: Json };
  webhooks?: Webhook[];
  webhookQuorum?: number;
  regions?: string[];
  regionPolicy?: RegionPolicy;
  executionMode?: ExecutionMode;
  retryPolicy?: RetryPolicy;
  /** Not run before this instant (ms since the epoch). */
  retryAt?: number;
  idempotentKey?: string;
  idempotentStrategy?: IdempotentStrategy;
  description?: string;
  responseDescription?: string;
}

/** The service's answer to a submitted job. */
export interface SubmitResult {
  job_id: string;
  status: string;
  [field: string]: Json;
}

/** A FRUGAL step that ran locally. */
export type LocalResult =
  | { status: 'success'; executed_locally: true; status_code: number; response: string }
  | { status: 'failed'; executed_locally: true; status_code: number; error: string };

/** What `execute()` resolves to; `trace` (not enumerable) says what ran. */
export type ExecuteResult = (SubmitResult | LocalResult) & { readonly trace: string };

export interface QueueRequestOptions {
  url: string;
  webhookUrl: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  metadata?: { [key: string]: Json };
  /** Not run before this instant (ms since the epoch). */
  retryAt?: number;
}

export interface ForwardOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Deduplication key; a random UUID v4 when absent. */
  idempotentKey?: string;
  metadata?: { [key: string]: Json };
  webhooks?: Webhook[];
  regions?: string[];
  /** The official Node SDK's forward field: accepted and checked; a forward is submitted as it is. */
  fallbackOnError?: number[];
  /** The official Node SDK's forward field: accepted and checked; a forward is submitted as it is. */
  stepType?: 'performance' | 'frugal';
}

export interface SecretAnswer {
  [field: string]: Json;
}

export interface SecretInfo {
  customer_id: string | null;
  /** Masked by the service. */
  primary_secret: string;
  secondary_secret: string | null;
  has_secondary: boolean;
}

export interface WaitOptions {
  /**
   * Reject with a `TimeoutError` after this many milliseconds (default: wait
   * on). A whole number; anything else throws a `ValidationError` whose
   * `path` is `timeout_ms`.
   */
  timeoutMs?: number;
  /** Reject with the signal's reason when it aborts. */
  signal?: AbortSignal;
}

export type SignatureReason =
  | 'valid'
  | 'valid_primary'
  | 'valid_secondary'
  | 'no_signature_header'
  | 'missing_v1_signature'
  | 'timestamp_expired'
  | 'signature_mismatch'
  | 'malformed_header'
  | 'both_secrets_failed'
  | 'replayed';

export interface Verification {
  valid: boolean;
  /** The same as `valid`: the official Node SDK's name. */
  verified: boolean;
  reason: SignatureReason;
  /** For `both_secrets_failed`: why the primary secret failed. */
  primaryReason: SignatureReason | null;
  /** The header's timestamp (unix seconds), when readable. */
  timestamp: number | null;
}

export interface VerifyOptions {
  /** How far (seconds) the timestamp may be from now; default ezthrottle-core's `DEFAULT_TOLERANCE_SECS`. */
  toleranceSecs?: number;
  /** The clock, in unix seconds; default now. */
  now?: number;
}

/** The raw body of a delivery: exactly the bytes received. */
export type Payload = string | Uint8Array | ArrayBuffer;

/** One webhook delivery (PROTOCOL §7). */
export interface WebhookEvent {
  job_id: string;
  idempotent_key: string | null;
  status: 'success' | 'failed';
  response: { status_code: number; headers: Record<string, string>; body: string } | null;
  metadata: { [key: string]: Json };
  [field: string]: Json;
}

/**
 * A follow-up's failure, reported rather than thrown: the fields of the error
 * it would have thrown, as a plain object (it survives `JSON.stringify`).
 */
export interface FollowUpError {
  /** As `EZThrottleError.code`: `rate_limited`, `job_rejected`, `unreachable`, … */
  code: string;
  message: string;
  /** For `job_rejected` and `gateway`: the answer's status and body. */
  status?: number;
  body?: string;
  /** For `rate_limited`: when to retry (ms since the epoch), or null. */
  retryAt?: number | null;
  /** For `validation`: the refused field. */
  path?: string;
}

/** What the handler did with one delivery. */
export interface HandledDelivery {
  /** 200 accepted (or a repeat), 401 bad signature, 400 malformed. */
  status: number;
  /** The JSON body answered. */
  body: string;
  reason: SignatureReason;
  /** The event, when authentic, well-formed and new. */
  event: WebhookEvent | null;
  /** The follow-up step that ran, if the job had one registered. */
  followUp: { result: SubmitResult | LocalResult } | { error: FollowUpError } | null;
}

export interface WebhookHandlerOptions {
  primarySecret: string;
  /** The previous secret, during a rotation. */
  secondarySecret?: string;
  toleranceSecs?: number;
  /**
   * Called for every new, authentic delivery (after its follow-up ran), so
   * its `event` is always there.
   */
  onEvent?: (delivery: HandledDelivery & { event: WebhookEvent }) => void | Promise<void>;
}

export interface WebhookHandlerFunction {
  /** Handle a fetch `Request` (workers, Deno, Bun, Node with `Request`). */
  (request: Request): Promise<Response>;
  /** Handle a raw body and its `X-EZThrottle-Signature` header (Node `http`). */
  receive(body: Payload, signature: string | null | undefined): Promise<HandledDelivery>;
}

export declare class EZThrottle {
  constructor(options?: ClientOptions);
  /** Submit a job as it is (validated first; nothing is sent if it is bad). */
  /** Nested jobs may be given raw, as the official Node SDK passes them (camelCase or snake_case). */
  submitJob(options: SubmitJobOptions): Promise<SubmitResult>;
  /** The legacy single-webhook call. */
  queueRequest(options: QueueRequestOptions): Promise<SubmitResult>;
  forward(request: ForwardOptions | ForwardToEZThrottle): Promise<SubmitResult>;
  /** Submit; only when the service cannot be reached at all, return `fallback()` instead. */
  forwardOrFallback<T>(fallback: () => T | Promise<T>, options: ForwardOptions): Promise<SubmitResult | T>;
  createWebhookSecret(primarySecret: string, secondarySecret?: string): Promise<SecretAnswer>;
  getWebhookSecret(): Promise<SecretInfo>;
  deleteWebhookSecret(): Promise<SecretAnswer>;
  /** `newSecret` becomes primary and `currentSecret` (when given) secondary. */
  rotateWebhookSecret(newSecret: string, currentSecret?: string): Promise<SecretAnswer>;
  webhookHandler(options: WebhookHandlerOptions): WebhookHandlerFunction;
  /**
   * The result of `jobId`, once one of this client's webhook handlers
   * receives it (at once if one already has).
   */
  waitForResult(jobId: string, options?: WaitOptions): Promise<WebhookEvent>;
  readonly pendingContinuations: number;
}

export declare class Step {
  constructor(client?: EZThrottle);
  url(url: string): this;
  method(method: string): this;
  headers(headers: Record<string, string>): this;
  body(body: string): this;
  metadata(metadata: { [key: string]: Json }): this;
  type(type: StepType): this;
  webhooks(webhooks: Webhook[]): this;
  webhookQuorum(quorum: number): this;
  regions(regions: string[]): this;
  regionPolicy(policy: RegionPolicy): this;
  executionMode(mode: ExecutionMode): this;
  retryPolicy(policy: RetryPolicy): this;
  retryAt(at: number | Date): this;
  idempotentKey(key: string): this;
  idempotentStrategy(strategy: IdempotentStrategy): this;
  fallbackOnError(codes: number[]): this;
  /** Timeout of the local (FRUGAL) call, in milliseconds. */
  timeout(ms: number): this;
  /** The same as `timeout`: the official Node SDK's other name. */
  localTimeout(ms: number): this;
  /** How long the service waits before declaring the failure that runs `onFailure` (either order). */
  onFailureTimeout(ms: number): this;
  description(text: string): this;
  responseDescription(text: string): this;
  fallback(step: Step, options?: FallbackOptions): this;
  onSuccess(step: Step): this;
  /** `options` may be a bare timeout in ms, as the official Node SDK passes it. */
  onFailure(step: Step, options?: OnFailureOptions | number | null): this;
  payload(): JobPayload;
  payloadJson(): string;
  toJSON(): JobPayload;
  execute(client?: EZThrottle): Promise<ExecuteResult>;
}

export declare class ForwardToEZThrottle extends Error {
  constructor(options: ForwardOptions);
  readonly url: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly idempotentKey?: string;
  readonly metadata?: { [key: string]: Json };
  readonly webhooks?: Webhook[];
  readonly regions?: string[];
}

/** The official Node SDK's auto-forwarding: a `{ forward }` result is submitted, anything else returned. */
export declare function executeWithForwarding<R>(
  client: EZThrottle,
  fn: () => R | { forward: ForwardOptions } | Promise<R | { forward: ForwardOptions }>,
): Promise<Exclude<R, { forward: ForwardOptions }> | SubmitResult>;
/** `fn` wrapped with `executeWithForwarding`. */
export declare function withAutoForward<A extends unknown[], R>(
  client: EZThrottle,
  fn: (...args: A) => R | { forward: ForwardOptions } | Promise<R | { forward: ForwardOptions }>,
): (...args: A) => Promise<Exclude<R, { forward: ForwardOptions }> | SubmitResult>;

/** Wrap `fn`: a `ForwardToEZThrottle` it throws is submitted, and the answer returned. */
export declare function autoForward<A extends unknown[], R>(
  client: EZThrottle,
  fn: (...args: A) => R | Promise<R>,
): (...args: A) => Promise<R | SubmitResult>;

/** A webhook endpoint without a client: verifies and parses deliveries. */
export declare function webhookHandler(options: WebhookHandlerOptions): WebhookHandlerFunction;
/** `options` may be a bare tolerance in seconds, as the official Node SDK passes it. */
export declare function verifyWebhookSignature(payload: Payload, signature: string | null | undefined, secret: string, options?: VerifyOptions | number): Verification;
export declare function tryVerifyWithSecrets(payload: Payload, signature: string | null | undefined, primarySecret: string, secondarySecret?: string | null, options?: VerifyOptions | number): Verification;
export declare function verifyWebhookSignatureStrict(payload: Payload, signature: string | null | undefined, primarySecret: string, secondarySecret?: string | null, options?: VerifyOptions | number): Verification;
/** The official Node SDK's call: `(payload, header, secret, toleranceSecs)`. */
export declare function verifyWebhookSignatureStrict(payload: Payload, signature: string | null | undefined, secret: string, toleranceSecs: number): Verification;

export declare class EZThrottleError extends Error {
  /** The core's stable code, e.g. `rate_limited`. */
  readonly code: string;
}
export declare class ValidationError extends EZThrottleError {
  readonly name: 'ValidationError';
  /** The field, e.g. `on_success.fallback[0].url`. */
  readonly path: string;
}
export declare class RateLimitError extends EZThrottleError {
  readonly name: 'RateLimitError';
  /** When to try again (ms since the epoch), when known. */
  readonly retryAt: number | null;
}
export declare class AuthenticationError extends EZThrottleError { readonly name: 'AuthenticationError' }
export declare class DeniedError extends EZThrottleError { readonly name: 'DeniedError' }
export declare class JobRejectedError extends EZThrottleError {
  readonly name: 'JobRejectedError';
  readonly status: number;
  readonly body: string;
}
export declare class GatewayError extends EZThrottleError {
  readonly name: 'GatewayError';
  readonly status: number;
  readonly body: string;
}
export declare class SecretsNotConfiguredError extends EZThrottleError { readonly name: 'SecretsNotConfiguredError' }
export declare class ProtocolError extends EZThrottleError { readonly name: 'ProtocolError' }
export declare class TransportError extends EZThrottleError {
  readonly name: 'TransportError';
  readonly code: 'timeout' | 'unreachable' | 'transport';
}
export declare class TimeoutError extends EZThrottleError {
  readonly name: 'TimeoutError';
  readonly code: 'timeout';
}
export declare class SignatureError extends EZThrottleError {
  readonly name: 'SignatureError';
  readonly reason: SignatureReason;
}
/** The official Node SDK's name for `SignatureError` (the same class). */
export declare const WebhookVerificationError: typeof SignatureError;
export type WebhookVerificationError = SignatureError;
