// Hands the error classes to the WebAssembly core once it is instantiated,
// and keeps the entry point's own HTTP (`send`), if it has one, for clients
// given no `fetch`.
import { __setErrorClasses } from './ezthrottle_wasm.js';
import * as errors from './errors.js';

export let entrySend;

export function bind(send) {
  __setErrorClasses({ ...errors });
  entrySend = send;
}
