// Edge workers (workerd / Cloudflare): the .wasm is imported as a compiled module.
import wasmModule from './ezthrottle_wasm_bg.wasm';
import { initSync } from './ezthrottle_wasm.js';
import { bind } from './bind.js';

initSync({ module: wasmModule });
bind();

export * from './api.js';
