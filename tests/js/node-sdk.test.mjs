// Code written for the official Node SDK 1.4 runs on this package unchanged:
// its call shapes, checked through the payloads they build (nothing is sent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Step, StepType } from 'ezthrottle';

test("the Node SDK's workflow and timeout calls build the same job", () => {
  const alert = new Step().url('https://alerts.example.com/page').method('POST');
  const numeric = new Step()
    .url('https://api.example.com/charge')
    .type(StepType.FRUGAL)
    .localTimeout(2_000)
    .onFailure(alert, 5_000)
    .payload();
  const split = new Step()
    .url('https://api.example.com/charge')
    .type(StepType.FRUGAL)
    .onFailureTimeout(5_000)
    .timeout(2_000)
    .onFailure(alert)
    .payload();
  assert.deepEqual(numeric, split);
  assert.equal(numeric.on_failure_timeout_ms, 5_000);
  assert.equal(numeric.on_failure.url, 'https://alerts.example.com/page');
  // The Node SDK's default for the on_failure timeout is null: none.
  assert.equal(new Step().url('https://a.example').onFailure(alert, null).payload().on_failure_timeout_ms, undefined);
});
