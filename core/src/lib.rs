//! # ezthrottle-core
//!
//! The sans-IO core of the EZThrottle SDK. It holds every decision of the SDK,
//! once: the job model and its validation, the payload JSON, the gateway
//! requests and the reading of their answers, the FRUGAL / PERFORMANCE
//! workflow, forwarding, and webhook signatures. It performs no I/O: it says
//! "send this request" ([`Action::Send`]) and is told what came back
//! ([`Operation::feed`]), with the time given by the caller.
//!
//! ```
//! use ezthrottle_core::{ClientConfig, Step, StepType, Webhook};
//!
//! let config = ClientConfig::builder("ck_live_cust_123_abc")
//!     .tracktags_url("http://127.0.0.1:8080")
//!     .build()?;
//! let step = Step::new()
//!     .url("https://api.example.com/endpoint")
//!     .method("POST")
//!     .step_type(StepType::Performance)
//!     .webhooks([Webhook::new("https://your-app.com/webhook")]);
//! assert_eq!(
//!     step.to_json()?,
//!     r#"{"url":"https://api.example.com/endpoint","method":"POST","webhooks":[{"url":"https://your-app.com/webhook"}]}"#
//! );
//! let execution = config.execute(&step)?; // drive it with any transport
//! # drop(execution);
//! # Ok::<(), ezthrottle_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blocking;
mod calls;
mod charset;
mod client;
mod config;
mod error;
mod forward;
mod gateway;
mod http;
mod job;
pub mod json;
mod lenient;
mod model;
mod operation;
mod payload;
pub mod spelling;
mod step;
mod trace;
pub mod validate;
pub mod webhook;
mod wire_calls;
mod workflow;

// The README's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

pub use blocking::{BlockingClient, Run};
pub use calls::{json_object, non_negative, whole_number};
pub use client::{
    Client, ClientExecution, ClientOptions, ClientReceiver, Delivery, ForwardCall, Handled,
    ResultWait, RESULTS_KEPT,
};
pub use config::{
    ApiKey, ClientConfig, ClientConfigBuilder, API_KEY_ENV, DEFAULT_EZTHROTTLE_URL,
    DEFAULT_TIMEOUT_MS, DEFAULT_TRACKTAGS_URL,
};
pub use error::{Error, Result, TransportError, TransportErrorKind};
pub use forward::{AutoForwarded, ForwardOrFallback, ForwardToEZThrottle};
pub use gateway::{
    check_webhook_secret, read_gateway_answer, Envelope, Forwarded, SecretInfo, SubmitAnswer,
    JOBS_PATH, MIN_SECRET_LEN, PROXY_PATH, SECRETS_PATH,
};
pub use http::{shown_header_value, HttpRequest, HttpResponse, Target};
pub use job::{Headers, Job};
pub use model::{
    ExecutionMode, IdempotentStrategy, LocalFailure, RegionPolicy, RetryPolicy, StepType, Trigger,
    Webhook,
};
pub use operation::{
    run_async, Action, GatewayCall, Operation, QueueRequest, Reply, SecretRotation,
};
pub use step::{Fallback, Step, DEFAULT_FALLBACK_ON_ERROR, DEFAULT_LOCAL_TIMEOUT_MS};
pub use trace::{Trace, TraceEntry, TraceStatus};
pub use workflow::{result_to_json, Execution, Outcome};
