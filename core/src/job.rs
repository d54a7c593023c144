//! The job payload (PROTOCOL §2): what a step becomes on the wire.
//!
//! Its JSON text is written by `payload.rs` (fields in the protocol's order, a
//! field at its default left out), so it is deterministic and equal to the
//! reference SDK's.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::model::{ExecutionMode, RegionPolicy, RetryPolicy, Trigger, Webhook};
use crate::step::Step;
use crate::validate;

/// A job as the service receives it. Build one with [`Step::build_job`];
/// parse one from the wire with [`Job::from_json`] (unknown fields are refused).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// The target URL.
    pub url: String,
    /// The HTTP method, upper case.
    #[serde(default = "default_method")]
    pub method: String,
    /// Request headers, in order.
    #[serde(default)]
    pub headers: Headers,
    /// The request body.
    #[serde(default)]
    pub body: Option<String>,
    /// Caller data echoed in the webhook delivery.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Where the result is delivered.
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
    /// How many voting webhooks must accept the delivery.
    #[serde(default = "one")]
    pub webhook_quorum: u32,
    /// Regions to run in.
    #[serde(default)]
    pub regions: Vec<String>,
    /// What happens when a named region is down.
    #[serde(default)]
    pub region_policy: RegionPolicy,
    /// Race the regions or run them all.
    #[serde(default)]
    pub execution_mode: ExecutionMode,
    /// How the service retries.
    #[serde(default)]
    pub retry_policy: Option<RetryPolicy>,
    /// Not run before this instant (ms since the Unix epoch).
    #[serde(default)]
    pub retry_at: Option<u64>,
    /// The deduplication key; absent means the service hashes the request.
    #[serde(default)]
    pub idempotent_key: Option<String>,
    /// Set on fallback jobs only: when this fallback is tried.
    #[serde(default)]
    pub trigger: Option<Trigger>,
    /// The next job of the fallback chain.
    #[serde(default)]
    pub fallback_job: Option<Box<Job>>,
    /// Spawned when this job succeeds.
    #[serde(default)]
    pub on_success: Option<Box<Job>>,
    /// Spawned when every path of this job failed.
    #[serde(default)]
    pub on_failure: Option<Box<Job>>,
    /// How long to wait before declaring failure.
    #[serde(default)]
    pub on_failure_timeout_ms: Option<u64>,
}

fn default_method() -> String {
    "GET".to_owned()
}
fn one() -> u32 {
    1
}

impl Job {
    /// A `GET` job for `url` with every other field at its default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            method: default_method(),
            headers: Headers::default(),
            body: None,
            metadata: Map::new(),
            webhooks: Vec::new(),
            webhook_quorum: 1,
            regions: Vec::new(),
            region_policy: RegionPolicy::default(),
            execution_mode: ExecutionMode::default(),
            retry_policy: None,
            retry_at: None,
            idempotent_key: None,
            trigger: None,
            fallback_job: None,
            on_success: None,
            on_failure: None,
            on_failure_timeout_ms: None,
        }
    }

    /// A job for one plain request (what `queue_request` and forwarding
    /// submit): an empty method is `GET`, an empty body is none.
    pub(crate) fn for_request(
        url: &str,
        method: &str,
        headers: &[(String, String)],
        body: Option<&str>,
        metadata: &Map<String, Value>,
    ) -> Self {
        let mut job = Self::new(url);
        if !method.is_empty() {
            job.method = method.to_ascii_uppercase();
        }
        job.headers = Headers(headers.to_vec());
        job.body = body.filter(|b| !b.is_empty()).map(str::to_owned);
        job.metadata = metadata.clone();
        job
    }

    /// Build from a step that has passed validation.
    pub(crate) fn from_valid_step(step: &Step) -> Self {
        let mut job = Self::without_chain(step);
        let mut chain: Option<Box<Job>> = None;
        for (fallback, trigger) in step.flattened_fallbacks().into_iter().rev() {
            let mut link = Self::without_chain(fallback);
            link.trigger = Some(trigger.clone());
            link.fallback_job = chain;
            chain = Some(Box::new(link));
        }
        job.fallback_job = chain;
        job
    }

    // A step's own fallbacks are flattened into the chain of whoever holds it,
    // so a job built for a chain link leaves them out.
    fn without_chain(step: &Step) -> Self {
        let idempotent_key = step.payload_idempotent_key().map(Cow::into_owned);
        Self {
            url: step.url.clone().unwrap_or_default(),
            method: step.method.clone().into_owned(),
            headers: Headers(step.headers.clone()),
            body: step.body.clone(),
            metadata: step.metadata.clone(),
            webhooks: step.webhooks.clone(),
            webhook_quorum: step.webhook_quorum,
            regions: step.regions.clone(),
            region_policy: step.region_policy,
            execution_mode: step.execution_mode,
            retry_policy: step.retry_policy.clone().filter(|p| !p.is_empty()),
            retry_at: step.retry_at_ms,
            idempotent_key,
            trigger: None,
            fallback_job: None,
            on_success: step
                .on_success
                .as_deref()
                .map(|s| Box::new(Self::from_valid_step(s))),
            on_failure: step
                .on_failure
                .as_deref()
                .map(|s| Box::new(Self::from_valid_step(s))),
            on_failure_timeout_ms: step.on_failure_timeout_ms,
        }
    }

    /// Parse a job from its JSON form and validate it. Errors name the field,
    /// nested jobs included (`fallback_job.on_success.url`).
    pub fn from_json(json: &str) -> Result<Self> {
        let value = crate::json::parse_refusing_repeated_keys(json)
            .map_err(|e| crate::Error::validation("job", e.to_string()))?;
        let job: Self = serde_json::from_value(value)
            .map_err(|e| crate::Error::validation("job", e.to_string()))?;
        job.validate()?;
        Ok(job)
    }

    /// Check every field of this job and of every nested job.
    pub fn validate(&self) -> Result<()> {
        validate::validate_job(self)
    }

    /// The JSON text the service receives.
    pub fn to_json(&self) -> String {
        crate::payload::job_json(self)
    }

    /// The JSON value of the job (its JSON text, parsed).
    pub fn to_value(&self) -> Value {
        crate::json::parse(&self.to_json()).unwrap_or(Value::Null)
    }
}

/// Request headers in the order they were given, sent as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first value of `name`, ignoring case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Iterate over `(name, value)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

// The webhook event serializes the upstream's headers as an object too.
impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Headers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of header names to string values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Headers, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    pairs.push((k, v));
                }
                Ok(Headers(pairs))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
