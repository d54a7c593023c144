//! The step builder: chainable, every option checked when it is set (the
//! core's call parser, so paths and messages match every other binding).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use ezthrottle_core::{ExecutionMode, IdempotentStrategy, RegionPolicy, StepType};

use crate::error::{EzThrottleError, Result};

// The core's own enums cross the FFI as they are (uniffi remote types): the
// spelling sent for each is the core's `as_str`, never a second table here.

/// How a step runs: submitted at once, or locally first.
#[uniffi::remote(Enum)]
pub enum StepType {
    /// Submitted to EZThrottle at once.
    Performance,
    /// Run locally first, forwarded on chosen errors.
    Frugal,
}

/// How the service deduplicates: by a hash of the request, or never.
#[uniffi::remote(Enum)]
pub enum IdempotentStrategy {
    /// By a hash of the request.
    Hash,
    /// Never: a fresh key per build.
    Unique,
}

/// What happens when a named region is down.
#[uniffi::remote(Enum)]
pub enum RegionPolicy {
    Fallback,
    Strict,
}

/// Whether the first region to finish wins, or every region runs.
#[uniffi::remote(Enum)]
pub enum ExecutionMode {
    Race,
    Fanout,
}

/// A webhook the result is delivered to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Webhook {
    pub url: String,
    #[uniffi(default = None)]
    pub regions: Option<Vec<String>>,
    #[uniffi(default = None)]
    pub has_quorum_vote: Option<bool>,
}

/// How the service retries.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct RetryPolicy {
    #[uniffi(default = None)]
    pub max_retries: Option<i64>,
    #[uniffi(default = None)]
    pub max_reroutes: Option<i64>,
    #[uniffi(default = None)]
    pub retry_codes: Option<Vec<i32>>,
    #[uniffi(default = None)]
    pub reroute_codes: Option<Vec<i32>>,
}

/// When a fallback runs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum FallbackTrigger {
    /// Whenever the step fails.
    Always,
    /// When it fails with one of these statuses.
    OnError { codes: Vec<i32> },
    /// When it takes longer than this.
    OnTimeout { timeout_ms: i64 },
}

/// Every option of a step, for `Step.withOptions`; absent ones keep the
/// defaults. The setters of [`Step`] document each.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct StepOptions {
    #[uniffi(default = None)]
    pub url: Option<String>,
    #[uniffi(default = None)]
    pub method: Option<String>,
    #[uniffi(default = None)]
    pub headers: Option<HashMap<String, String>>,
    #[uniffi(default = None)]
    pub body: Option<String>,
    #[uniffi(default = None)]
    pub step_type: Option<StepType>,
    /// A JSON object echoed in the webhook.
    #[uniffi(default = None)]
    pub metadata_json: Option<String>,
    #[uniffi(default = None)]
    pub webhooks: Option<Vec<Webhook>>,
    #[uniffi(default = None)]
    pub webhook_quorum: Option<i64>,
    #[uniffi(default = None)]
    pub regions: Option<Vec<String>>,
    #[uniffi(default = None)]
    pub region_policy: Option<RegionPolicy>,
    #[uniffi(default = None)]
    pub execution_mode: Option<ExecutionMode>,
    #[uniffi(default = None)]
    pub retry_policy: Option<RetryPolicy>,
    /// Not run before this instant (ms since the Unix epoch).
    #[uniffi(default = None)]
    pub retry_at_ms: Option<i64>,
    #[uniffi(default = None)]
    pub idempotent_key: Option<String>,
    #[uniffi(default = None)]
    pub idempotent_strategy: Option<IdempotentStrategy>,
    /// Statuses of the local (FRUGAL) call that forward the step.
    #[uniffi(default = None)]
    pub fallback_on_error: Option<Vec<i32>>,
    /// Timeout of the local (FRUGAL) call.
    #[uniffi(default = None)]
    pub local_timeout_ms: Option<i64>,
    #[uniffi(default = None)]
    pub description: Option<String>,
    #[uniffi(default = None)]
    pub response_description: Option<String>,
}

impl StepOptions {
    /// The options as the core's builder calls, in the setters' order.
    fn calls(self) -> Result<Vec<(&'static str, Value)>> {
        let metadata = self
            .metadata_json
            .map(|json| parse_json("metadata", &json))
            .transpose()?;
        let calls = [
            ("url", self.url.map(Value::from)),
            ("method", self.method.map(Value::from)),
            ("headers", self.headers.map(headers_value)),
            ("body", self.body.map(Value::from)),
            ("type", self.step_type.map(|t| t.as_str().into())),
            ("metadata", metadata),
            ("webhooks", self.webhooks.map(webhooks_value)),
            ("webhook_quorum", self.webhook_quorum.map(Value::from)),
            ("regions", self.regions.map(Value::from)),
            (
                "region_policy",
                self.region_policy.map(|p| p.as_str().into()),
            ),
            (
                "execution_mode",
                self.execution_mode.map(|m| m.as_str().into()),
            ),
            ("retry_policy", self.retry_policy.map(retry_policy_value)),
            ("retry_at", self.retry_at_ms.map(Value::from)),
            ("idempotent_key", self.idempotent_key.map(Value::from)),
            (
                "idempotent_strategy",
                self.idempotent_strategy.map(|s| s.as_str().into()),
            ),
            ("fallback_on_error", self.fallback_on_error.map(Value::from)),
            ("local_timeout_ms", self.local_timeout_ms.map(Value::from)),
            ("description", self.description.map(Value::from)),
            (
                "response_description",
                self.response_description.map(Value::from),
            ),
        ];
        Ok(calls
            .into_iter()
            .filter_map(|(name, value)| Some((name, value?)))
            .collect())
    }
}

fn parse_json(path: &str, json: &str) -> Result<Value> {
    ezthrottle_core::json::parse(json).map_err(|e| EzThrottleError::Validation {
        path: path.into(),
        detail: format!("is not JSON: {e}"),
    })
}

/// Sorted by name, so the payload does not depend on the map's order.
fn headers_value(headers: HashMap<String, String>) -> Value {
    let mut sorted: Vec<_> = headers.into_iter().collect();
    sorted.sort();
    Value::Object(sorted.into_iter().map(|(k, v)| (k, v.into())).collect())
}

fn webhooks_value(webhooks: Vec<Webhook>) -> Value {
    let list = webhooks.into_iter().map(|w| {
        let mut hook = json!({ "url": w.url });
        if let Some(regions) = w.regions {
            hook["regions"] = regions.into();
        }
        if let Some(vote) = w.has_quorum_vote {
            hook["has_quorum_vote"] = vote.into();
        }
        hook
    });
    Value::Array(list.collect())
}

fn retry_policy_value(policy: RetryPolicy) -> Value {
    let fields = [
        ("max_retries", json!(policy.max_retries)),
        ("max_reroutes", json!(policy.max_reroutes)),
        ("retry_codes", json!(policy.retry_codes)),
        ("reroute_codes", json!(policy.reroute_codes)),
    ];
    let present = fields.into_iter().filter(|(_, v)| !v.is_null());
    Value::Object(present.map(|(k, v)| (k.to_owned(), v)).collect())
}

/// A request to run through EZThrottle. Methods return the same step, so
/// calls chain; a refused option throws `Validation` and changes nothing.
#[derive(Debug, Default, uniffi::Object)]
pub struct Step {
    inner: Mutex<ezthrottle_core::Step>,
}

impl Step {
    fn lock(&self) -> MutexGuard<'_, ezthrottle_core::Step> {
        // A panic cannot happen while the lock is held (the core's calls
        // return errors), so a poisoned lock still holds a consistent step.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the core step (for execution).
    pub(crate) fn snapshot(&self) -> ezthrottle_core::Step {
        self.lock().clone()
    }

    fn call(self: Arc<Self>, name: &str, argument: Value) -> Result<Arc<Self>> {
        self.lock().apply_call(name, &argument)?;
        Ok(self)
    }

    fn link(self: Arc<Self>, name: &str, child: &Step, options: Value) -> Result<Arc<Self>> {
        let child = child.snapshot();
        self.lock().attach(name, child, &options)?;
        Ok(self)
    }
}

#[uniffi::export]
impl Step {
    /// An empty step.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// A step with every option in `options`, checked at once: one call
    /// into the library however many options (a chain of setters makes
    /// one each). Kotlin's `copy(…)` / Swift's `var` make variants of one
    /// `StepOptions` template cheaply.
    #[uniffi::constructor]
    pub fn with_options(options: StepOptions) -> Result<Arc<Self>> {
        let mut step = ezthrottle_core::Step::new();
        for (name, argument) in options.calls()? {
            step.apply_call(name, &argument)?;
        }
        Ok(Arc::new(Self {
            inner: Mutex::new(step),
        }))
    }

    pub fn url(self: Arc<Self>, url: String) -> Result<Arc<Self>> {
        self.call("url", url.into())
    }

    pub fn method(self: Arc<Self>, method: String) -> Result<Arc<Self>> {
        self.call("method", method.into())
    }

    /// Request headers (sent sorted by name).
    pub fn headers(self: Arc<Self>, headers: HashMap<String, String>) -> Result<Arc<Self>> {
        self.call("headers", headers_value(headers))
    }

    pub fn body(self: Arc<Self>, body: String) -> Result<Arc<Self>> {
        self.call("body", body.into())
    }

    /// Caller data echoed in the webhook: a JSON object.
    pub fn metadata_json(self: Arc<Self>, json: String) -> Result<Arc<Self>> {
        self.call("metadata", parse_json("metadata", &json)?)
    }

    pub fn step_type(self: Arc<Self>, step_type: StepType) -> Result<Arc<Self>> {
        self.call("type", step_type.as_str().into())
    }

    pub fn webhooks(self: Arc<Self>, webhooks: Vec<Webhook>) -> Result<Arc<Self>> {
        self.call("webhooks", webhooks_value(webhooks))
    }

    pub fn webhook_quorum(self: Arc<Self>, quorum: i64) -> Result<Arc<Self>> {
        self.call("webhook_quorum", quorum.into())
    }

    pub fn regions(self: Arc<Self>, regions: Vec<String>) -> Result<Arc<Self>> {
        self.call("regions", regions.into())
    }

    pub fn region_policy(self: Arc<Self>, policy: RegionPolicy) -> Result<Arc<Self>> {
        self.call("region_policy", policy.as_str().into())
    }

    pub fn execution_mode(self: Arc<Self>, mode: ExecutionMode) -> Result<Arc<Self>> {
        self.call("execution_mode", mode.as_str().into())
    }

    pub fn retry_policy(self: Arc<Self>, policy: RetryPolicy) -> Result<Arc<Self>> {
        self.call("retry_policy", retry_policy_value(policy))
    }

    /// Not run before this instant (ms since the Unix epoch).
    pub fn retry_at_ms(self: Arc<Self>, at_ms: i64) -> Result<Arc<Self>> {
        self.call("retry_at", at_ms.into())
    }

    /// Add one request header (`headers` replaces them all).
    pub fn header(self: Arc<Self>, name: String, value: String) -> Result<Arc<Self>> {
        let mut one = serde_json::Map::new();
        one.insert(name, value.into());
        self.call("add_headers", one.into())
    }

    pub fn idempotent_key(self: Arc<Self>, key: String) -> Result<Arc<Self>> {
        self.call("idempotent_key", key.into())
    }

    pub fn idempotent_strategy(self: Arc<Self>, strategy: IdempotentStrategy) -> Result<Arc<Self>> {
        self.call("idempotent_strategy", strategy.as_str().into())
    }

    /// Statuses of the local (FRUGAL) call that forward the step.
    pub fn fallback_on_error(self: Arc<Self>, codes: Vec<i32>) -> Result<Arc<Self>> {
        self.call("fallback_on_error", codes.into())
    }

    /// Timeout of the local (FRUGAL) call; the gateway calls' is
    /// `ClientOptions.timeoutMs`.
    pub fn local_timeout_ms(self: Arc<Self>, timeout_ms: i64) -> Result<Arc<Self>> {
        self.call("local_timeout_ms", timeout_ms.into())
    }

    pub fn description(self: Arc<Self>, text: String) -> Result<Arc<Self>> {
        self.call("description", text.into())
    }

    pub fn response_description(self: Arc<Self>, text: String) -> Result<Arc<Self>> {
        self.call("response_description", text.into())
    }

    /// Try a copy of `step` when this one fails as `trigger` says.
    pub fn fallback(
        self: Arc<Self>,
        step: Arc<Step>,
        trigger: FallbackTrigger,
    ) -> Result<Arc<Self>> {
        let options = match trigger {
            FallbackTrigger::Always => Value::Null,
            FallbackTrigger::OnError { codes } => json!({ "trigger_on_error": codes }),
            FallbackTrigger::OnTimeout { timeout_ms } => {
                json!({ "trigger_on_timeout": timeout_ms })
            }
        };
        self.link("fallback", &step, options)
    }

    /// Run a copy of `step` when this one succeeds.
    pub fn on_success(self: Arc<Self>, step: Arc<Step>) -> Result<Arc<Self>> {
        self.link("on_success", &step, Value::Null)
    }

    /// Run a copy of `step` when every path failed; `timeout_ms` bounds the
    /// wait for that verdict.
    pub fn on_failure(
        self: Arc<Self>,
        step: Arc<Step>,
        timeout_ms: Option<i64>,
    ) -> Result<Arc<Self>> {
        let options = timeout_ms.map_or(Value::Null, |ms| json!({ "timeout_ms": ms }));
        self.link("on_failure", &step, options)
    }

    /// Any builder call by its snake_case name with a JSON argument (the
    /// conformance vectors' format): `apply_json("retry_policy", "{…}")`.
    pub fn apply_json(self: Arc<Self>, name: String, json: String) -> Result<Arc<Self>> {
        let value = parse_json(&name, &json)?;
        self.call(&name, value)
    }

    /// The job payload this step submits, as JSON (validated; nothing is sent).
    pub fn payload_json(&self) -> Result<String> {
        Ok(self.lock().to_json()?)
    }

    /// An independent copy, for reuse as a template.
    pub fn copy(&self) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(self.snapshot()),
        })
    }
}
