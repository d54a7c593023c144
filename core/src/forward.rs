//! Forwarding from existing code (PROTOCOL §6): `ForwardToEZThrottle` is what
//! legacy code raises when it wants a request taken over by EZThrottle.

use serde_json::{Map, Value};

use crate::error::Result;
use crate::job::Job;
use crate::model::Webhook;

/// A request that existing code hands to EZThrottle instead of running it.
///
/// Return it as the error of a closure run by an auto-forwarding driver
/// (`BlockingClient::auto_forward`, `autoForward` in JS, …): the driver submits
/// it as a job and returns the service's answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ForwardToEZThrottle {
    /// Target URL.
    pub url: String,
    /// Method; `GET` when empty.
    pub method: String,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Option<String>,
    /// Deduplication key; a random UUID v4 when `None`.
    pub idempotent_key: Option<String>,
    /// Caller data echoed in the webhook.
    pub metadata: Map<String, Value>,
    /// Where the result is delivered.
    pub webhooks: Vec<Webhook>,
    /// Regions to run in.
    pub regions: Vec<String>,
}

impl std::fmt::Display for ForwardToEZThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "forwarding {} {} to EZThrottle",
            self.method_or_get(),
            self.url
        )
    }
}

impl std::error::Error for ForwardToEZThrottle {}

impl ForwardToEZThrottle {
    /// A `GET` of `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    fn method_or_get(&self) -> String {
        if self.method.is_empty() {
            "GET".to_owned()
        } else {
            self.method.to_ascii_uppercase()
        }
    }

    /// The job submitted for this request (validated; a UUID v4 key when none
    /// was given, so a forwarded request is never deduplicated by hash).
    pub fn to_job(&self) -> Result<Job> {
        let mut job = Job::for_request(
            &self.url,
            &self.method,
            &self.headers,
            self.body.as_deref(),
            &self.metadata,
        );
        job.webhooks = self.webhooks.clone();
        job.regions = self.regions.clone();
        job.idempotent_key = Some(
            self.idempotent_key
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        );
        job.validate()?;
        Ok(job)
    }
}

/// What an auto-forwarding wrapper returns.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoForwarded<T> {
    /// The wrapped code completed by itself.
    Completed(T),
    /// The wrapped code asked for forwarding; this is the service's answer.
    Forwarded(crate::gateway::SubmitAnswer),
}

/// What `forward_or_fallback` returns.
#[derive(Debug, Clone, PartialEq)]
pub enum ForwardOrFallback<T> {
    /// The job was submitted.
    Submitted(crate::gateway::SubmitAnswer),
    /// The service could not be reached; this is the fallback's value.
    Fallback(T),
}
