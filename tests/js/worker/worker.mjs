// A module worker using the package as an edge app would: a FRUGAL and a
// PERFORMANCE step against the sandbox, and a signed-webhook endpoint.
import { EZThrottle, Step, StepType, webhookHandler } from 'ezthrottle';

let hooks;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    hooks ??= webhookHandler({ primarySecret: env.SECRET });
    if (url.pathname === '/hook') {
      return hooks(request);
    }
    if (url.pathname === '/run') {
      const client = new EZThrottle({ apiKey: env.API_KEY, tracktagsUrl: env.SANDBOX_URL, ezthrottleUrl: env.SANDBOX_URL });
      await client.createWebhookSecret(env.SECRET);
      const frugal = await new Step(client).url(`${env.SANDBOX_URL}/upstream/status/200`)
        .type(StepType.FRUGAL).execute();
      const performance = await new Step(client).url(`${env.SANDBOX_URL}/upstream/status/201`)
        .idempotentStrategy('unique')
        .webhooks([{ url: `${env.SANDBOX_URL}/receiver/${env.BOX}` }]).execute();
      let refused;
      try {
        new Step().url('ftp://nope').payload();
      } catch (error) {
        refused = { name: error.name, path: error.path };
      }
      return Response.json({ frugal: { ...frugal, trace: frugal.trace }, performance, refused });
    }
    return new Response('not found', { status: 404 });
  },
};
