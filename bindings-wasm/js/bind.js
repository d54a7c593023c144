// Hands the error classes to the WebAssembly core once it is instantiated.
import { __setErrorClasses } from './ezthrottle_wasm.js';
import * as errors from './errors.js';

export function bind() {
  __setErrorClasses({ ...errors });
}
