//! # ezthrottle-sandbox
//!
//! A local EZThrottle-compatible backend: the account gateway
//! (`POST /api/v1/proxy`), the jobs service (queueing, idempotency, regions,
//! retries, fallback chains, child jobs), signed webhook delivery with retries,
//! and webhook secrets, all state in SQLite. A demo upstream API and a webhook
//! receiver are served beside it (see [`testkit`]).
//!
//! Job payloads, validation and webhook signing come from `ezthrottle-core`.

mod app;
pub mod bucket;
pub mod config;
mod delivery;
pub mod demo;
pub mod driver;
mod executor;
mod gateway;
pub mod limits;
pub mod service;
mod slots;
pub mod state;
pub mod store;
pub mod testkit;

pub use app::Sandbox;
pub use config::{Rate, SandboxConfig};
pub use state::{now_ms, App};
