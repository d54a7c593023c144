// require('ezthrottle') from a CommonJS app on a Node that cannot load ES
// modules from require (run with --no-experimental-require-module, as Node
// 18 and 20 before 20.19 are): the package's require entry answers with the
// same API, beside the same .wasm.
const test = require('node:test');
const assert = require('node:assert/strict');
const ez = require('ezthrottle');

test('require() resolves to the CommonJS entry', () => {
  assert.match(require.resolve('ezthrottle'), /node\.cjs$/);
  assert.match(require.resolve('ezthrottle/node'), /node\.cjs$/);
});

test('the CommonJS entry builds steps, verifies signatures and throws typed errors', () => {
  const payload = new ez.Step().url('https://api.example.com/x').type(ez.StepType.FRUGAL).payload();
  assert.equal(payload.url, 'https://api.example.com/x');
  const check = ez.verifyWebhookSignature('{}', 't=1,v1=00', 'whsec_primary_0123456789', { now: 1 });
  assert.deepEqual([check.valid, check.reason], [false, 'signature_mismatch']);
  assert.throws(
    () => new ez.Step().url('ftp://example.com').payload(),
    (e) => e instanceof ez.ValidationError && e.name === 'ValidationError' && e instanceof ez.EZThrottleError,
  );
  assert.equal(typeof ez.EZThrottle, 'function');
});
