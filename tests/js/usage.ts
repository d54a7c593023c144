// Type-checked (tsc --noEmit, strict) against the package's declarations: the
// README's examples in TypeScript. Never run.
import {
  EZThrottle, Step, StepType, IdempotentStrategy, ForwardToEZThrottle, autoForward,
  RateLimitError, ValidationError, TimeoutError, verifyWebhookSignature, tryVerifyWithSecrets,
  verifyWebhookSignatureStrict, WebhookVerificationError,
  type ExecuteResult, type Verification, type HandledDelivery, type WebhookEvent, type SecretInfo,
} from 'ezthrottle';

export async function usage(): Promise<void> {
  const client = new EZThrottle({ apiKey: 'ck_live_cust_123_abc', timeoutMs: 10_000 });
  const step = new Step(client)
    .url('https://api.example.com/charge')
    .method('POST')
    .headers({ 'content-type': 'application/json' })
    .body(JSON.stringify({ amount: 1000 }))
    .metadata({ order: 7, tags: ['a'], nested: { ok: true } })
    .type(StepType.FRUGAL)
    .fallbackOnError([429, 503])
    .timeout(5_000)
    .webhooks([{ url: 'https://app.example.com/hook', hasQuorumVote: true, regions: ['iad'] }])
    .webhookQuorum(1)
    .regions(['iad', 'lax'])
    .regionPolicy('fallback')
    .executionMode('race')
    .retryPolicy({ maxRetries: 3, retryCodes: [429] })
    .retryAt(new Date())
    .idempotentStrategy(IdempotentStrategy.UNIQUE)
    .fallback(new Step().url('https://backup.example.com'), { triggerOnError: [500] })
    .onSuccess(new Step().url('https://notify.example.com'))
    .onFailure(new Step().url('https://alert.example.com'), { timeoutMs: 60_000 });
  const payload = step.payload();
  const url: string = payload.url;
  try {
    const result: ExecuteResult = await step.execute();
    if ('job_id' in result) {
      const id: string = result.job_id;
      void id;
    } else if (result.status === 'success') {
      const body: string = result.response;
      void body;
    }
    const trace: string = result.trace;
    void trace;
  } catch (error) {
    if (error instanceof RateLimitError) {
      const at: number | null = error.retryAt;
      void at;
    } else if (error instanceof ValidationError) {
      const path: string = error.path;
      void path;
    }
  }
  const submitted = await client.submitJob({ url, method: 'GET' });
  // The official Node SDK's raw nested jobs.
  await client.submitJob({
    url, method: 'POST', webhookQuorum: 1, onFailureTimeoutMs: 5000,
    fallbackJob: { url, idempotentKey: 'fb', trigger: { type: 'on_error', codes: [500] } },
    onSuccess: { url }, onFailure: { url },
  });
  const fetched = autoForward(client, async (id: number): Promise<string> => {
    if (id < 0) throw new ForwardToEZThrottle({ url: 'https://api.example.com', idempotentKey: `k-${id}` });
    return 'ok';
  });
  const answer: string | { job_id: string } = await fetched(1);
  const value: number | { job_id: string } = await client.forwardOrFallback(() => 42, { url });
  const check: Verification = verifyWebhookSignature('{}', 't=1,v1=00', 'whsec_x', { toleranceSecs: 300 });
  const rotated: Verification = tryVerifyWithSecrets(new Uint8Array(), null, 'a', 'b');
  // The official Node SDK's shapes: a bare tolerance, `verified`, its error's name.
  const { verified, reason }: { verified: boolean; reason: string } = verifyWebhookSignature('{}', 't=1,v1=00', 'whsec_x', 300);
  try {
    verifyWebhookSignatureStrict('{}', 't=1,v1=00', 'whsec_x', 300);
  } catch (error) {
    if (error instanceof WebhookVerificationError) void error.reason;
  }
  void [verified, reason];
  const handler = client.webhookHandler({
    primarySecret: 'whsec_primary_0123456789',
    // onEvent only sees deliveries that carry an event: no null check.
    onEvent: ({ event }) => {
      if (event.status === 'success') void event.job_id;
    },
  });
  // A handler typed for any delivery fits too.
  client.webhookHandler({ primarySecret: 'whsec_primary_0123456789', onEvent: (delivery: HandledDelivery) => void delivery.event });
  const response: Response = await handler(new Request('https://app.example.com/hook', { method: 'POST' }));
  // The job's result, once the handler above receives its webhook.
  let result: WebhookEvent | undefined;
  try {
    result = await client.waitForResult('job_1', { timeoutMs: 30_000, signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
  }
  const secrets: SecretInfo = await client.getWebhookSecret();
  const hasSecondary: boolean = secrets.has_secondary;
  void [submitted, answer, value, check, rotated, response, client.pendingContinuations, result, hasSecondary];
}
