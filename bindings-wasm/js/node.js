// Node: reads the .wasm next to this file and instantiates it synchronously:
// ezthrottle_wasm_node.wasm, the same code as the browsers' .wasm built for
// speed rather than size (same glue, same exports; see build.sh).
import { readFileSync } from 'node:fs';
import { initSync } from './ezthrottle_wasm.js';
import { bind } from './bind.js';
import { send } from './node-http.js';

initSync({ module: readFileSync(new URL('./ezthrottle_wasm_node.wasm', import.meta.url)) });
// Clients given no `fetch` use node:http with keep-alive.
bind(send);

export * from './api.js';
