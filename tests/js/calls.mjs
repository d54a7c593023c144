// A Step from the conformance vectors' `[name, argument]` calls, through the
// JS builder names; shared by the conformance suite and the benchmark.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The package's API: its own entry, or the module $EZT_JS_ENTRY names (a path). */
export const entry = await import(process.env.EZT_JS_ENTRY
  ? pathToFileURL(resolve(process.env.EZT_JS_ENTRY)).href : 'ezthrottle');
const { Step } = entry;

const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
export const camelKeys = (object) => Object.fromEntries(Object.entries(object).map(([k, v]) => [camel(k), v]));

/** A step from `[name, argument]` calls, through the JS builder names. */
export function build(calls, client) {
  const step = new Step(client);
  for (const [name, argument] of calls) {
    switch (name) {
      case 'fallback': {
        const { step: child, ...trigger } = argument;
        step.fallback(build(child), camelKeys(trigger));
        break;
      }
      case 'on_success':
        step.onSuccess(build(argument));
        break;
      case 'on_failure': {
        const { step: child, ...options } = argument;
        step.onFailure(build(child), camelKeys(options));
        break;
      }
      case 'local_timeout':
        step.timeout(typeof argument === 'number' ? argument * 1000 : argument);
        break;
      case 'retry_policy':
        step.retryPolicy(argument && typeof argument === 'object' ? camelKeys(argument) : argument);
        break;
      case 'webhooks':
        step.webhooks(Array.isArray(argument)
          ? argument.map((w) => (w && typeof w === 'object' ? camelKeys(w) : w)) : argument);
        break;
      default: {
        const method = camel(name);
        if (typeof step[method] !== 'function') throw new Error(`no builder method ${method}`);
        step[method](argument);
      }
    }
  }
  return step;
}
