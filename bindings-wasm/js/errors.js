// The package's errors. Every one is an EZThrottleError with a stable `name`
// and `code` (the core's code, e.g. "rate_limited"); the WebAssembly core
// creates them, so `instanceof` and `name` checks both work.

export class EZThrottleError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EZThrottleError';
  }
}

function subclass(name) {
  const Class = class extends EZThrottleError {
    constructor(message) {
      super(message);
      this.name = name;
    }
  };
  Object.defineProperty(Class, 'name', { value: name });
  return Class;
}

/** Input refused before anything was sent; `path` names the field. */
export const ValidationError = subclass('ValidationError');
/** The gateway refused the call for a rate limit; `retryAt` is ms since the epoch, or null. */
export const RateLimitError = subclass('RateLimitError');
/** The API key is missing, unknown or revoked. */
export const AuthenticationError = subclass('AuthenticationError');
/** The plan does not allow the call. */
export const DeniedError = subclass('DeniedError');
/** EZThrottle refused the job; `status` and `body` are its answer. */
export const JobRejectedError = subclass('JobRejectedError');
/** The gateway itself failed; `status` and `body` are its answer. */
export const GatewayError = subclass('GatewayError');
/** No webhook secrets are configured for the account. */
export const SecretsNotConfiguredError = subclass('SecretsNotConfiguredError');
/** An answer that does not follow the protocol. */
export const ProtocolError = subclass('ProtocolError');
/** The service could not be reached; `code` is "timeout", "unreachable" or "transport". */
export const TransportError = subclass('TransportError');
/** A webhook signature did not verify; `reason` is the stable reason code. */
export const SignatureError = subclass('SignatureError');
/** The official Node SDK's name for `SignatureError` (the same class). */
export const WebhookVerificationError = SignatureError;
/** A wait ran out of time (`waitForResult`'s `timeoutMs`); `code` is "timeout". */
export const TimeoutError = subclass('TimeoutError');
