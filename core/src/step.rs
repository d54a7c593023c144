//! The step builder: every option of the reference SDK, typed.
//!
//! A [`Step`] only records what it is told; [`Step::validate`] and
//! [`Step::build_job`] check everything, so a bad value is refused before
//! anything is built or sent, with the path of the field that is wrong.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::error::Result;
use crate::job::Job;
use crate::model::{
    ExecutionMode, IdempotentStrategy, RegionPolicy, RetryPolicy, StepType, Trigger, Webhook,
};

/// The status codes that send a FRUGAL step to EZThrottle when no list is set.
pub const DEFAULT_FALLBACK_ON_ERROR: [u16; 5] = [429, 500, 502, 503, 504];

/// How long a FRUGAL step's local request may take when nothing is set.
pub const DEFAULT_LOCAL_TIMEOUT_MS: u64 = 30_000;

/// One HTTP request and what to do around it: the unit of an EZThrottle workflow.
///
/// ```
/// use ezthrottle_core::{Step, StepType, Trigger, Webhook};
///
/// let step = Step::new()
///     .url("https://api.example.com/charge")
///     .method("post")
///     .header("Content-Type", "application/json")
///     .body(r#"{"amount":1000}"#)
///     .step_type(StepType::Frugal)
///     .webhooks([Webhook::new("https://app.example/hook")])
///     .fallback(Step::new().url("https://backup.example/charge"), Trigger::OnError(vec![503]));
/// let job = step.build_job()?;
/// assert_eq!(job.method, "POST");
/// assert!(job.fallback_job.is_some());
/// # Ok::<(), ezthrottle_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Step {
    // Boxed so that a step moves as a pointer: bindings hold a step and edit
    // it one call at a time, moving it in and out of the by-value builder.
    fields: Box<StepFields>,
}

/// The options of a step; opaque outside the crate (its fields are reached
/// through `Deref` inside it). Use [`Step`]'s methods.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct StepFields {
    pub(crate) url: Option<String>,
    // Borrowed defaults keep `Step::new()` free of allocations.
    pub(crate) method: Cow<'static, str>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<String>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) step_type: StepType,
    pub(crate) webhooks: Vec<Webhook>,
    pub(crate) webhook_quorum: u32,
    pub(crate) regions: Vec<String>,
    pub(crate) region_policy: RegionPolicy,
    pub(crate) execution_mode: ExecutionMode,
    pub(crate) retry_policy: Option<RetryPolicy>,
    pub(crate) retry_at_ms: Option<u64>,
    pub(crate) idempotent_key: Option<String>,
    pub(crate) idempotent_strategy: IdempotentStrategy,
    pub(crate) fallback_on_error: Cow<'static, [u16]>,
    pub(crate) local_timeout_ms: u64,
    pub(crate) fallbacks: Vec<Fallback>,
    pub(crate) on_success: Option<Box<Step>>,
    pub(crate) on_failure: Option<Box<Step>>,
    pub(crate) on_failure_timeout_ms: Option<u64>,
    pub(crate) description: Option<String>,
    pub(crate) response_description: Option<String>,
}

/// A fallback step and the condition under which it is tried.
#[derive(Debug, Clone, PartialEq)]
pub struct Fallback {
    /// The step tried instead.
    pub step: Step,
    /// When it is tried.
    pub trigger: Trigger,
}

impl std::ops::Deref for Step {
    type Target = StepFields;
    fn deref(&self) -> &StepFields {
        &self.fields
    }
}

impl std::ops::DerefMut for Step {
    fn deref_mut(&mut self) -> &mut StepFields {
        &mut self.fields
    }
}

impl Default for StepFields {
    fn default() -> Self {
        Self {
            url: None,
            method: Cow::Borrowed("GET"),
            headers: Vec::new(),
            body: None,
            metadata: Map::new(),
            step_type: StepType::Performance,
            webhooks: Vec::new(),
            webhook_quorum: 1,
            regions: Vec::new(),
            region_policy: RegionPolicy::Fallback,
            execution_mode: ExecutionMode::Race,
            retry_policy: None,
            retry_at_ms: None,
            idempotent_key: None,
            idempotent_strategy: IdempotentStrategy::Hash,
            fallback_on_error: Cow::Borrowed(&DEFAULT_FALLBACK_ON_ERROR),
            local_timeout_ms: DEFAULT_LOCAL_TIMEOUT_MS,
            fallbacks: Vec::new(),
            on_success: None,
            on_failure: None,
            on_failure_timeout_ms: None,
            description: None,
            response_description: None,
        }
    }
}

impl Step {
    /// A PERFORMANCE `GET` step with no URL yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The target URL (absolute http or https).
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The HTTP method; upper-cased (`"post"` becomes `"POST"`).
    #[must_use]
    pub fn method(mut self, method: impl AsRef<str>) -> Self {
        self.method = Cow::Owned(method.as_ref().to_ascii_uppercase());
        self
    }

    /// Replace all request headers, keeping their order.
    #[must_use]
    pub fn headers<I, K, V>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.headers = headers
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self
    }

    /// Add one request header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The request body; an empty body is the same as none.
    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        let body = body.into();
        self.body = (!body.is_empty()).then_some(body);
        self
    }

    /// Replace the metadata delivered back with the job's webhooks.
    #[must_use]
    pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = metadata;
        self
    }

    /// Set one metadata entry.
    #[must_use]
    pub fn metadata_entry(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// PERFORMANCE (submit at once) or FRUGAL (run locally first).
    #[must_use]
    pub fn step_type(mut self, step_type: StepType) -> Self {
        self.step_type = step_type;
        self
    }

    /// Replace the webhooks the result is delivered to.
    #[must_use]
    pub fn webhooks(mut self, webhooks: impl IntoIterator<Item = Webhook>) -> Self {
        self.webhooks = webhooks.into_iter().collect();
        self
    }

    /// Add one webhook.
    #[must_use]
    pub fn webhook(mut self, webhook: Webhook) -> Self {
        self.webhooks.push(webhook);
        self
    }

    /// How many voting webhooks must accept the delivery (default 1).
    #[must_use]
    pub fn webhook_quorum(mut self, quorum: u32) -> Self {
        self.webhook_quorum = quorum;
        self
    }

    /// Regions to run in (`iad`, `lax`, `ord`, …).
    #[must_use]
    pub fn regions<I, S>(mut self, regions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.regions = regions.into_iter().map(Into::into).collect();
        self
    }

    /// What happens when a named region is down.
    #[must_use]
    pub fn region_policy(mut self, policy: RegionPolicy) -> Self {
        self.region_policy = policy;
        self
    }

    /// Race the regions or run them all.
    #[must_use]
    pub fn execution_mode(mut self, mode: ExecutionMode) -> Self {
        self.execution_mode = mode;
        self
    }

    /// How the service retries and reroutes.
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Do not run before this instant, in milliseconds since the Unix epoch.
    #[must_use]
    pub fn retry_at_ms(mut self, retry_at_ms: u64) -> Self {
        self.retry_at_ms = Some(retry_at_ms);
        self
    }

    /// A custom idempotency key; it always wins over the strategy.
    #[must_use]
    pub fn idempotent_key(mut self, key: impl Into<String>) -> Self {
        self.idempotent_key = Some(key.into());
        self
    }

    /// HASH (the service dedupes) or UNIQUE (a fresh UUID per build).
    #[must_use]
    pub fn idempotent_strategy(mut self, strategy: IdempotentStrategy) -> Self {
        self.idempotent_strategy = strategy;
        self
    }

    /// FRUGAL only: the local status codes that forward the job to EZThrottle.
    #[must_use]
    pub fn fallback_on_error(mut self, codes: impl IntoIterator<Item = u16>) -> Self {
        self.fallback_on_error = Cow::Owned(codes.into_iter().collect());
        self
    }

    /// FRUGAL only: the local request's timeout, in whole seconds (default 30).
    #[must_use]
    pub fn local_timeout(self, seconds: u64) -> Self {
        self.local_timeout_ms(seconds.saturating_mul(1000))
    }

    /// FRUGAL only: the local request's timeout, in milliseconds.
    #[must_use]
    pub fn local_timeout_ms(mut self, millis: u64) -> Self {
        self.local_timeout_ms = millis;
        self
    }

    /// Add a fallback, tried in the order added. A fallback's own fallbacks
    /// follow it in the chain (depth-first).
    #[must_use]
    pub fn fallback(mut self, step: Step, trigger: Trigger) -> Self {
        self.fallbacks.push(Fallback { step, trigger });
        self
    }

    /// The step spawned when this one succeeds.
    #[must_use]
    pub fn on_success(mut self, step: Step) -> Self {
        self.on_success = Some(Box::new(step));
        self
    }

    /// The step spawned when every path of this one failed.
    #[must_use]
    pub fn on_failure(mut self, step: Step) -> Self {
        self.on_failure = Some(Box::new(step));
        self
    }

    /// The step spawned on failure, and how long the service waits before
    /// declaring the failure.
    #[must_use]
    pub fn on_failure_after(mut self, step: Step, timeout_ms: u64) -> Self {
        self.on_failure = Some(Box::new(step));
        self.on_failure_timeout_ms = Some(timeout_ms);
        self
    }

    /// How long the service waits before declaring the failure that runs
    /// the `on_failure` step, set apart from it (in either order); a step
    /// with a timeout and no `on_failure` step is refused when built.
    #[must_use]
    pub fn on_failure_timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.on_failure_timeout_ms = Some(timeout_ms);
        self
    }

    /// What this step does, in words (used by the execution trace).
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// What this step's response means, in words (used by the execution trace).
    #[must_use]
    pub fn response_description(mut self, text: impl Into<String>) -> Self {
        self.response_description = Some(text.into());
        self
    }

    /// Check every field of this step and of every nested step.
    pub fn validate(&self) -> Result<()> {
        crate::validate::validate_step(self)
    }

    /// Validate, then build the job payload (PROTOCOL §2). UNIQUE steps get a
    /// fresh random key on every call.
    pub fn build_job(&self) -> Result<Job> {
        self.validate()?;
        Ok(Job::from_valid_step(self))
    }

    /// The job payload serialized as the service expects it.
    pub fn to_json(&self) -> Result<String> {
        self.validate()?;
        Ok(crate::payload::step_json(self))
    }

    /// The key the payload carries: the caller's, a fresh UUID for the
    /// UNIQUE strategy, none for HASH (the service hashes the request).
    pub(crate) fn payload_idempotent_key(&self) -> Option<Cow<'_, str>> {
        match (&self.idempotent_key, self.idempotent_strategy) {
            (Some(key), _) => Some(Cow::Borrowed(key)),
            (None, IdempotentStrategy::Unique) => {
                Some(Cow::Owned(uuid::Uuid::new_v4().to_string()))
            }
            (None, IdempotentStrategy::Hash) => None,
        }
    }

    /// The URL, if set.
    pub fn get_url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// The (upper-cased) method.
    pub fn get_method(&self) -> &str {
        &self.method
    }

    /// PERFORMANCE or FRUGAL.
    pub fn get_step_type(&self) -> StepType {
        self.step_type
    }

    /// The step's description, if set.
    pub fn get_description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The description of the step's response, if set.
    pub fn get_response_description(&self) -> Option<&str> {
        self.response_description.as_deref()
    }

    /// The fallbacks in the order they were added (not flattened).
    pub fn get_fallbacks(&self) -> &[Fallback] {
        &self.fallbacks
    }

    /// The on_success step, if any.
    pub fn get_on_success(&self) -> Option<&Step> {
        self.on_success.as_deref()
    }

    /// The on_failure step, if any.
    pub fn get_on_failure(&self) -> Option<&Step> {
        self.on_failure.as_deref()
    }

    /// The trace label: the description, else `METHOD url`.
    pub fn label(&self) -> String {
        match &self.description {
            Some(text) => text.clone(),
            None => format!("{} {}", self.method, self.url.as_deref().unwrap_or("")),
        }
    }

    /// The fallback chain as the service sees it: first fallback first, each
    /// fallback's own fallbacks right after it (depth-first).
    pub fn flattened_fallbacks(&self) -> Vec<(&Step, &Trigger)> {
        let mut chain = Vec::new();
        fn walk<'a>(step: &'a Step, chain: &mut Vec<(&'a Step, &'a Trigger)>) {
            for fallback in &step.fallbacks {
                chain.push((&fallback.step, &fallback.trigger));
                walk(&fallback.step, chain);
            }
        }
        walk(self, &mut chain);
        chain
    }
}
