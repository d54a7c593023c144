//! # ezthrottle-wasm
//!
//! The EZThrottle SDK for JavaScript (browsers, Node, edge workers): the
//! wasm-bindgen layer over `ezthrottle-core`. It converts JS values to the
//! core's types, drives the core's sans-IO operations over `fetch` (or, in
//! Node, `node:http`), with `Date.now()` as the clock and Web Crypto as the random
//! source, and maps the core's errors to the package's `Error` subclasses.
//!
//! The exports here are the package's internals: `js/api.js` wraps them in
//! the public, chainable API (`EZThrottle`, `Step`, …) that the npm package's
//! `index.d.ts` describes. Every decision stays in the core.
#![forbid(unsafe_code)]

mod client;
mod convert;
mod errors;
mod exchange;
mod step;
mod webhook;

pub use client::ClientHandle;
pub use errors::set_error_classes;
pub use exchange::Exchange;
pub use step::StepHandle;
pub use webhook::{verify_signature, WebhookHandler};
