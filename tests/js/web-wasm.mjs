// The package's Node entry (node.js) as it is, but with the browsers' and
// workers' size-first .wasm (ezthrottle_wasm_bg.wasm) in place of its own
// speed-first one: the vectors run in Node through both binaries the package
// ships. Imported by path, past the package's exports map.
import { readFileSync } from 'node:fs';
import { initSync } from './node_modules/ezthrottle/ezthrottle_wasm.js';
import { bind } from './node_modules/ezthrottle/bind.js';
import { send } from './node_modules/ezthrottle/node-http.js';

const wasm = new URL('./node_modules/ezthrottle/ezthrottle_wasm_bg.wasm', import.meta.url);
initSync({ module: readFileSync(wasm) });
bind(send);

export * from './node_modules/ezthrottle/api.js';
