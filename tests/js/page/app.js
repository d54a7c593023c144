// What a browser app does with the package: a FRUGAL step run from the page,
// a PERFORMANCE submit, and a webhook signature check. Shared by the native
// ESM page and the bundled one; `config` comes from the page's URL.
import { EZThrottle, Step, StepType, verifyWebhookSignature } from 'ezthrottle';

export async function run(config) {
  const client = new EZThrottle({ apiKey: config.apiKey, tracktagsUrl: config.sandbox });
  const frugal = await new Step(client)
    .url(`${config.sandbox}/upstream/status/200`)
    .type(StepType.FRUGAL)
    .execute();
  const submitted = await new Step(client)
    .url(`${config.sandbox}/upstream/status/200`)
    .webhooks([{ url: `${config.sandbox}/receiver/page` }])
    .idempotentKey(config.key)
    .execute();
  const signature = verifyWebhookSignature(config.payload, config.signature, config.secret);
  const forged = verifyWebhookSignature(config.payload, config.signature, `${config.secret}-not`);
  return { frugal, submitted, signature, forged };
}

/** Runs `run` with the page URL's `?config=` and leaves the outcome on `window.outcome`. */
export async function start() {
  try {
    const config = JSON.parse(new URLSearchParams(location.search).get('config'));
    window.outcome = { ok: await run(config) };
  } catch (error) {
    window.outcome = { error: `${error?.name}: ${error?.message}` };
  }
}
