//! # ezthrottle-transport
//!
//! Ready HTTP transports for [`ezthrottle_core`], which performs no I/O: a
//! blocking one over `ureq` ([`BlockingTransport`], feature `blocking`) and
//! an async one over `reqwest` ([`AsyncTransport`], feature `async`). Each
//! sends the core's [`HttpRequest`](ezthrottle_core::HttpRequest) within its
//! own deadline and reports failures with the kind the core decides on
//! (`timeout` and `unreachable` drive FRUGAL fallbacks and
//! forward-or-fallback), so a Rust app needs no hand-written `send`.
//! Without either feature it is std alone: the system clock ([`now_ms`]) and
//! a blocking wait for a job's result ([`wait_for_result`]), which the C
//! library, whose host sends, uses too.
//!
//! ```no_run
//! use ezthrottle_core::{Client, ClientOptions, Step, StepType};
//! use ezthrottle_transport::BlockingTransport;
//!
//! let client = Client::new(ClientOptions {
//!     api_key_from_env: std::env::var(ezthrottle_core::API_KEY_ENV).ok(),
//!     ..ClientOptions::default()
//! })?;
//! let mut client = BlockingTransport::default().client(client);
//! let run = client.execute(&Step::new().url("https://api.example.com").step_type(StepType::Frugal))?;
//! println!("{}", run.outcome.to_json());
//! # Ok::<(), ezthrottle_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "async")]
mod asynchronous;
#[cfg(feature = "blocking")]
mod blocking;
#[cfg(feature = "blocking")]
mod cancel;
#[cfg(feature = "blocking")]
mod resolver;
mod wait;
#[cfg(feature = "blocking")]
mod workers;

#[cfg(feature = "async")]
pub use asynchronous::AsyncTransport;
#[cfg(feature = "blocking")]
pub use blocking::BlockingTransport;
pub use wait::wait_for_result;
#[cfg(feature = "blocking")]
pub use workers::{worker_count, IDLE_EXIT, MAX_WORKERS};

/// Milliseconds since the Unix epoch: the clock the core is fed.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The most of a response body either transport reads; the rest is an error
/// (the gateway's answers are small; an upstream's body comes back whole only
/// through FRUGAL local calls).
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;
