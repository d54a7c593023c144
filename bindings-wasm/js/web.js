// Browsers and bundlers: fetches the .wasm next to this file.
import init from './ezthrottle_wasm.js';
import { bind } from './bind.js';

await init({ module_or_path: new URL('./ezthrottle_wasm_bg.wasm', import.meta.url) });
bind();

export * from './api.js';
