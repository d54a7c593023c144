// The Node SDK README's examples from CommonJS (node-readme-flows.cjs), run
// with --no-experimental-require-module as Node 18 behaves.
const test = require('node:test');
const ez = require('ezthrottle');
const nodeReadmeFlows = require('./node-readme-flows.cjs');

test("the Node SDK README's examples run against the sandbox (CommonJS)", () => nodeReadmeFlows(ez, 'cjs'));
