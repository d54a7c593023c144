// The source of node.cjs, the package's CommonJS entry (build.sh bundles it
// with esbuild): node.js's API for require() on a Node that cannot load ES
// modules from require (before 20.19). Same .wasm (node.js's, built for
// speed), same modules; only the way it finds the .wasm differs (__dirname,
// in the bundle).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initSync } from './ezthrottle_wasm.js';
import { bind } from './bind.js';
import { send } from './node-http.js';

initSync({ module: readFileSync(join(__dirname, 'ezthrottle_wasm_node.wasm')) });
// Clients given no `fetch` use node:http with keep-alive.
bind(send);

export * from './api.js';
