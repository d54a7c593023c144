// The Node SDK README's examples from ES module code (node-readme-flows.cjs).
import { test } from 'node:test';
import * as ez from 'ezthrottle';
import nodeReadmeFlows from './node-readme-flows.cjs';

test("the Node SDK README's examples run against the sandbox (ESM)", () => nodeReadmeFlows(ez, 'esm'));
