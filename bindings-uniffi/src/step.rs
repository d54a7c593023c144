//! The step builder: chainable, every option checked when it is set (the
//! core's call parser, so paths and messages match every other binding).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use ezthrottle_core::{ExecutionMode, IdempotentStrategy, RegionPolicy, StepType, Webhook};

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

/// A webhook the result is delivered to: the core's own type.
#[uniffi::remote(Record)]
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

/// A linked fallback of [`StepOptions`]: the step, and when it runs.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FallbackStep {
    pub step: Arc<Step>,
    pub trigger: FallbackTrigger,
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

impl FallbackTrigger {
    /// The core's link options for it.
    fn options(self) -> Value {
        match self {
            Self::Always => Value::Null,
            Self::OnError { codes } => json!({ "trigger_on_error": codes }),
            Self::OnTimeout { timeout_ms } => json!({ "trigger_on_timeout": timeout_ms }),
        }
    }
}

fn on_failure_options(timeout_ms: Option<i64>) -> Value {
    timeout_ms.map_or(Value::Null, |ms| json!({ "timeout_ms": ms }))
}

/// A setter's or `StepOptions` field's value as the core's builder call takes it.
trait CallArgument {
    fn argument(self) -> Result<Value>;
}

macro_rules! plain_arguments {
    ($($ty:ty),*) => {$(
        impl CallArgument for $ty {
            fn argument(self) -> Result<Value> {
                Ok(self.into())
            }
        }
    )*};
}
plain_arguments!(String, i64, Vec<String>, Vec<i32>);

impl CallArgument for HashMap<String, String> {
    /// Sorted by name, so the payload does not depend on the map's order.
    fn argument(self) -> Result<Value> {
        let mut sorted: Vec<_> = self.into_iter().collect();
        sorted.sort();
        Ok(Value::Object(
            sorted.into_iter().map(|(k, v)| (k, v.into())).collect(),
        ))
    }
}

impl CallArgument for RetryPolicy {
    /// Absent counts and lists are `null`, which the core reads as absent.
    fn argument(self) -> Result<Value> {
        Ok(json!({
            "max_retries": self.max_retries,
            "max_reroutes": self.max_reroutes,
            "retry_codes": self.retry_codes,
            "reroute_codes": self.reroute_codes,
        }))
    }
}

/// Caller data given as JSON text: the core's builder takes the value.
fn metadata_argument(json: String) -> Result<Value> {
    parse_json("metadata", &json)
}

pub(crate) fn parse_json(path: &str, json: &str) -> Result<Value> {
    ezthrottle_core::json::parse(json).map_err(|e| EzThrottleError::Validation {
        path: path.into(),
        detail: format!("is not JSON: {e}"),
    })
}

/// One list of a step's options makes both ways to give them: the fields of
/// [`StepOptions`] (in this order, which Java's positional constructor
/// follows) and [`Step`]'s setters of the same names, so neither can lack
/// an option the other has. Each names the core's builder call it makes,
/// which checks the argument, or, for a value of one of the core's own
/// types (nothing to check), `typed` and the core's setter.
macro_rules! step_options {
    ($($(#[doc = $doc:literal])* $field:ident($param:ident: $ty:ty) => [$($how:tt)+];)*) => {
        /// Every option of a step, its linked steps included, for
        /// `Step.withOptions`; absent ones keep the defaults.
        #[derive(Debug, Clone, Default, uniffi::Record)]
        pub struct StepOptions {
            $($(#[doc = $doc])* #[uniffi(default = None)] pub $field: Option<$ty>,)*
            /// Tried in order when this step fails (copies, as `fallback` links).
            #[uniffi(default = None)]
            pub fallbacks: Option<Vec<FallbackStep>>,
            /// Run (a copy) when this step succeeds.
            #[uniffi(default = None)]
            pub on_success: Option<Arc<Step>>,
            /// Run (a copy) when every path failed.
            #[uniffi(default = None)]
            pub on_failure: Option<Arc<Step>>,
            /// Bounds the wait for `onFailure`'s verdict.
            #[uniffi(default = None)]
            pub on_failure_timeout_ms: Option<i64>,
        }

        impl StepOptions {
            /// The options as the core's builder calls, in the fields'
            /// order, then the links.
            fn build(self) -> Result<ezthrottle_core::Step> {
                let mut step = ezthrottle_core::Step::new();
                $(if let Some(value) = self.$field {
                    step_options!(@set step, value, $($how)+);
                })*
                for link in self.fallbacks.unwrap_or_default() {
                    step.attach("fallback", link.step.snapshot(), &link.trigger.options())?;
                }
                if let Some(child) = self.on_success {
                    step.attach("on_success", child.snapshot(), &Value::Null)?;
                }
                if let Some(child) = self.on_failure {
                    step.attach("on_failure", child.snapshot(), &Value::Null)?;
                }
                if let Some(ms) = self.on_failure_timeout_ms {
                    step.apply_call("on_failure_timeout_ms", &ms.into())?;
                }
                Ok(step)
            }
        }

        #[uniffi::export]
        impl Step {
            $($(#[doc = $doc])*
            pub fn $field(self: Arc<Self>, $param: $ty) -> Result<Arc<Self>> {
                step_options!(@set *self.lock(), $param, $($how)+);
                Ok(self)
            })*
        }
    };
    // A builder call by name, which checks the argument (a refusal changes nothing).
    (@set $step:expr, $value:ident, $call:literal) => {
        $step.apply_call($call, &CallArgument::argument($value)?)?
    };
    (@set $step:expr, $value:ident, $call:literal by $convert:path) => {
        $step.apply_call($call, &$convert($value)?)?
    };
    // The core's typed setter, for a value of the core's own type.
    (@set $step:expr, $value:ident, typed $setter:ident) => {{
        let step = &mut $step;
        *step = std::mem::take(step).$setter($value);
    }};
}

step_options! {
    url(url: String) => ["url"];
    method(method: String) => ["method"];
    /// Request headers (sent sorted by name).
    headers(headers: HashMap<String, String>) => ["headers"];
    body(body: String) => ["body"];
    step_type(step_type: StepType) => [typed step_type];
    /// Caller data echoed in the webhook: a JSON object.
    metadata_json(json: String) => ["metadata" by metadata_argument];
    webhooks(webhooks: Vec<Webhook>) => [typed webhooks];
    webhook_quorum(quorum: i64) => ["webhook_quorum"];
    regions(regions: Vec<String>) => ["regions"];
    region_policy(policy: RegionPolicy) => [typed region_policy];
    execution_mode(mode: ExecutionMode) => [typed execution_mode];
    retry_policy(policy: RetryPolicy) => ["retry_policy"];
    /// Not run before this instant (ms since the Unix epoch).
    retry_at_ms(at_ms: i64) => ["retry_at"];
    idempotent_key(key: String) => ["idempotent_key"];
    idempotent_strategy(strategy: IdempotentStrategy) => [typed idempotent_strategy];
    /// Statuses of the local (FRUGAL) call that forward the step.
    fallback_on_error(codes: Vec<i32>) => ["fallback_on_error"];
    /// Timeout of the local (FRUGAL) call; the gateway calls' is
    /// `ClientOptions.timeoutMs`.
    local_timeout_ms(timeout_ms: i64) => ["local_timeout_ms"];
    description(text: String) => ["description"];
    response_description(text: String) => ["response_description"];
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

    /// A step with every option in `options`, its linked steps included,
    /// checked at once: one call into the library however many options (a
    /// chain of setters makes one each). Kotlin's `copy(…)` / Swift's `var`
    /// make variants of one `StepOptions` template cheaply.
    #[uniffi::constructor]
    pub fn with_options(options: StepOptions) -> Result<Arc<Self>> {
        Ok(Arc::new(Self {
            inner: Mutex::new(options.build()?),
        }))
    }

    /// Add one request header (`headers` replaces them all).
    pub fn header(self: Arc<Self>, name: String, value: String) -> Result<Arc<Self>> {
        let mut one = serde_json::Map::new();
        one.insert(name, value.into());
        self.call("add_headers", one.into())
    }

    /// Try a copy of `step` when this one fails as `trigger` says.
    pub fn fallback(
        self: Arc<Self>,
        step: Arc<Step>,
        trigger: FallbackTrigger,
    ) -> Result<Arc<Self>> {
        self.link("fallback", &step, trigger.options())
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
        self.link("on_failure", &step, on_failure_options(timeout_ms))
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
