//! Building a step from loosely typed input: `[name, argument]` builder calls,
//! the format of the conformance vectors (`conformance/README.md`).
//!
//! Bindings whose callers hand over JSON-like values (JS option objects, the C
//! API's JSON setters) convert through here, so that every language accepts and
//! refuses exactly the same input with the same field paths.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::forward::ForwardToEZThrottle;
use crate::model::{RetryPolicy, Trigger, Webhook};
use crate::operation::QueueRequest;
use crate::step::Step;
use crate::validate::{check_status_code, join_path, MAX_NESTING};

impl Step {
    /// Build a step from a JSON array of `[name, argument]` calls.
    ///
    /// ```
    /// use ezthrottle_core::Step;
    /// let calls = serde_json::json!([["url", "https://a.example"], ["method", "post"]]);
    /// let step = Step::from_calls(&calls)?;
    /// assert_eq!(step.get_method(), "POST");
    /// # Ok::<(), ezthrottle_core::Error>(())
    /// ```
    pub fn from_calls(calls: &Value) -> Result<Step> {
        from_calls_at(calls, "", 0)
    }

    /// Apply one builder call by name (`"webhook_quorum"`, `"fallback"`, …)
    /// with a JSON argument. Errors name the call and, inside nested steps,
    /// where they sit.
    pub fn apply_call(&mut self, name: &str, argument: &Value) -> Result<()> {
        apply_at(self, name, argument, "", 0)
    }

    /// Link an already built step, for bindings whose callers hold step
    /// objects: `"fallback"` with options `{trigger_on_error?,
    /// trigger_on_timeout?}`, `"on_success"`, or `"on_failure"` with
    /// `{timeout_ms?}`. `null` options are none. A refused link leaves the
    /// step unchanged.
    ///
    /// ```
    /// use ezthrottle_core::Step;
    /// let backup = Step::new().url("https://backup.example");
    /// let mut step = Step::new().url("https://a.example");
    /// step.attach("fallback", backup, &serde_json::json!({"trigger_on_error": [500]}))?;
    /// assert_eq!(step.get_fallbacks().len(), 1);
    /// # Ok::<(), ezthrottle_core::Error>(())
    /// ```
    pub fn attach(&mut self, name: &str, child: Step, options: &Value) -> Result<()> {
        let empty = Map::new();
        let options = match options {
            Value::Null => &empty,
            other => object(other, name)?,
        };
        let edit: Edit = match name {
            "fallback" => {
                let here = format!("fallback[{}]", self.fallbacks.len());
                only_keys(options, &TRIGGER_FIELDS, &here)?;
                set((child, trigger(options, &here)?), |s, (child, trigger)| {
                    s.fallback(child, trigger)
                })
            }
            "on_success" => {
                only_keys(options, &[], name)?;
                set(child, |s, v| s.on_success(v))
            }
            "on_failure" => {
                only_keys(options, &["timeout_ms"], name)?;
                on_failure(child, options, name)?
            }
            other => {
                return Err(Error::validation(
                    other,
                    "is not a call that links a step (fallback, on_success, on_failure)",
                ))
            }
        };
        *self = edit(std::mem::take(self));
        Ok(())
    }
}

const TRIGGER_FIELDS: [&str; 2] = ["trigger_on_error", "trigger_on_timeout"];

impl ForwardToEZThrottle {
    /// Read a forward from JSON: `{"url", "method"?, "headers"?, "body"?,
    /// "idempotent_key"?, "metadata"?, "webhooks"?, "regions"?,
    /// "fallback_on_error"?, "step_type"?}` (unknown fields refused, `null`
    /// is absent). Errors name the field.
    ///
    /// `fallback_on_error` and `step_type` are the official Node SDK's
    /// forward fields: checked, then not used, since a forward is submitted
    /// as it is (the caller already tried the request; the Node SDK runs it
    /// locally once more for its default FRUGAL type).
    pub fn from_value(value: &Value) -> Result<Self> {
        const FIELDS: [&str; 10] = [
            "url",
            "method",
            "headers",
            "body",
            "idempotent_key",
            "metadata",
            "webhooks",
            "regions",
            "fallback_on_error",
            "step_type",
        ];
        let spec = object(value, "forward")?;
        only_keys(spec, &FIELDS, "")?;
        read(spec, "fallback_on_error", status_codes)?;
        read(spec, "step_type", parse_enum::<crate::StepType>)?;
        Ok(Self {
            url: required_text(spec, "url")?,
            method: optional_text(spec, "method")?.unwrap_or_default(),
            headers: read(spec, "headers", headers)?.unwrap_or_default(),
            body: optional_text(spec, "body")?,
            idempotent_key: optional_text(spec, "idempotent_key")?,
            metadata: read(spec, "metadata", |v, at| object(v, at).cloned())?.unwrap_or_default(),
            webhooks: read(spec, "webhooks", webhooks)?.unwrap_or_default(),
            regions: read(spec, "regions", strings)?.unwrap_or_default(),
        })
    }
}

impl QueueRequest {
    /// Read a legacy request from JSON: `{"url", "webhook_url", "method"?,
    /// "headers"?, "body"?, "metadata"?, "retry_at"?}` (unknown fields
    /// refused, `null` is absent). Errors name the field.
    pub fn from_value(value: &Value) -> Result<Self> {
        const FIELDS: [&str; 7] = [
            "url",
            "webhook_url",
            "method",
            "headers",
            "body",
            "metadata",
            "retry_at",
        ];
        let spec = object(value, "request")?;
        only_keys(spec, &FIELDS, "")?;
        let mut request = QueueRequest::new(
            required_text(spec, "url")?,
            required_text(spec, "webhook_url")?,
        );
        request.method = optional_text(spec, "method")?;
        request.body = optional_text(spec, "body")?;
        request.headers = read(spec, "headers", headers)?.unwrap_or_default();
        request.metadata =
            read(spec, "metadata", |v, at| object(v, at).cloned())?.unwrap_or_default();
        request.retry_at_ms = read(spec, "retry_at", |v, at| integer(v, at, u64::MAX))?;
        Ok(request)
    }
}

/// A top-level field that must be a string.
fn required_text(spec: &Map<String, Value>, key: &str) -> Result<String> {
    string(field(spec, key, "")?, key).map(str::to_owned)
}

/// A top-level string field; absent or `null` is `None`.
fn optional_text(spec: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    read(spec, key, |v, at| string(v, at).map(str::to_owned))
}

/// A top-level field read by `parse` (given the field's path); absent or
/// `null` is `None`.
fn read<'v, T>(
    spec: &'v Map<String, Value>,
    key: &str,
    parse: impl FnOnce(&'v Value, &str) -> Result<T>,
) -> Result<Option<T>> {
    optional(spec, key).map(|v| parse(v, key)).transpose()
}

fn from_calls_at(calls: &Value, prefix: &str, depth: usize) -> Result<Step> {
    if depth > MAX_NESTING {
        return Err(Error::validation(
            prefix,
            format!("steps are nested more than {MAX_NESTING} levels deep"),
        ));
    }
    let list = calls
        .as_array()
        .ok_or_else(|| Error::validation(prefix, "a step is a list of [name, argument] calls"))?;
    let mut step = Step::new();
    for (i, call) in list.iter().enumerate() {
        let (name, argument) = match call.as_array().map(Vec::as_slice) {
            Some([Value::String(name), argument]) => (name.as_str(), argument),
            _ => {
                return Err(Error::validation(
                    join_path(prefix, &format!("[{i}]")),
                    "a call is a [name, argument] pair",
                ))
            }
        };
        // By value: a fresh step needs no "unchanged on refusal" guarantee,
        // so it is not swapped out for a default one per call.
        step = parse_call(&step, name, argument, prefix, depth)?(step);
    }
    Ok(step)
}

/// `field` inside `prefix`; at the top level (most calls) no string is built.
fn under<'c>(prefix: &str, field: &'c str) -> Cow<'c, str> {
    if prefix.is_empty() {
        Cow::Borrowed(field)
    } else {
        Cow::Owned(join_path(prefix, field))
    }
}

/// The value when `fast` has it, else `slow`'s answer: paths of list items
/// and nested fields are formatted only when an error names them.
fn or_else_at<T>(fast: Option<T>, slow: impl FnOnce() -> Result<T>) -> Result<T> {
    fast.map_or_else(slow, Ok)
}

/// A checked change to a step: every fallible step of a call happens before
/// the step is touched, so a refused call leaves the step as it was.
type Edit = Box<dyn FnOnce(Step) -> Step>;

fn set<T: 'static>(value: T, apply: fn(Step, T) -> Step) -> Edit {
    Box::new(move |step| apply(step, value))
}

fn apply_at(step: &mut Step, name: &str, arg: &Value, prefix: &str, depth: usize) -> Result<()> {
    let edit = parse_call(step, name, arg, prefix, depth)?;
    *step = edit(std::mem::take(step));
    Ok(())
}

fn parse_call(step: &Step, name: &str, arg: &Value, prefix: &str, depth: usize) -> Result<Edit> {
    // The call's own path; at the top level (most calls) no string is built.
    let at = under(prefix, name);
    let at = at.as_ref();
    let text = || string(arg, at).map(str::to_owned);
    Ok(match name {
        "url" => set(text()?, |s, v| s.url(v)),
        "method" => set(text()?, |s, v| s.method(v)),
        "body" => set(text()?, |s, v| s.body(v)),
        "idempotent_key" => set(text()?, |s, v| s.idempotent_key(v)),
        "description" => set(text()?, |s, v| s.description(v)),
        "response_description" => set(text()?, |s, v| s.response_description(v)),
        "headers" => set(headers(arg, at)?, |s, v| s.headers(v)),
        // Adds to the headers already set (`headers` replaces them).
        "add_headers" => set(headers(arg, at)?, |s, v| {
            v.into_iter()
                .fold(s, |s, (name, value)| s.header(name, value))
        }),
        "metadata" => set(object(arg, at)?.clone(), |s, v| s.metadata(v)),
        "type" => set(parse_enum(arg, at)?, |s, v| s.step_type(v)),
        "idempotent_strategy" => set(parse_enum(arg, at)?, |s, v| s.idempotent_strategy(v)),
        "region_policy" => set(parse_enum(arg, at)?, |s, v| s.region_policy(v)),
        "execution_mode" => set(parse_enum(arg, at)?, |s, v| s.execution_mode(v)),
        "webhooks" => set(webhooks(arg, at)?, |s, v| s.webhooks(v)),
        "webhook_quorum" => set(integer(arg, at, u32::MAX.into())? as u32, |s, v| {
            s.webhook_quorum(v)
        }),
        "retry_at" => set(integer(arg, at, u64::MAX)?, |s, v| s.retry_at_ms(v)),
        "local_timeout" => set(integer(arg, at, u64::MAX)?, |s, v| s.local_timeout(v)),
        "local_timeout_ms" => set(integer(arg, at, u64::MAX)?, |s, v| s.local_timeout_ms(v)),
        "on_failure_timeout_ms" => set(integer(arg, at, u64::MAX)?, |s, v| {
            s.on_failure_timeout_ms(v)
        }),
        "regions" => set(strings(arg, at)?, |s, v| s.regions(v)),
        "retry_policy" => set(retry_policy(arg, at)?, |s, v| s.retry_policy(v)),
        "fallback_on_error" => set(status_codes(arg, at)?, |s, v| s.fallback_on_error(v)),
        "fallback" => {
            let here = join_path(prefix, &format!("fallback[{}]", step.fallbacks.len()));
            set(fallback(arg, &here, depth)?, |s, (child, trigger)| {
                s.fallback(child, trigger)
            })
        }
        "on_success" => set(from_calls_at(arg, at, depth + 1)?, |s, v| s.on_success(v)),
        "on_failure" => {
            let spec = object(arg, at)?;
            only_keys(spec, &["step", "timeout_ms"], at)?;
            let child = from_calls_at(field(spec, "step", at)?, at, depth + 1)?;
            on_failure(child, spec, at)?
        }
        _ => return Err(Error::validation(at, "is not a builder call of the step")),
    })
}

fn fallback(arg: &Value, here: &str, depth: usize) -> Result<(Step, Trigger)> {
    let spec = object(arg, here)?;
    only_keys(spec, &["step", TRIGGER_FIELDS[0], TRIGGER_FIELDS[1]], here)?;
    let child = from_calls_at(field(spec, "step", here)?, here, depth + 1)?;
    Ok((child, trigger(spec, here)?))
}

fn on_failure(child: Step, spec: &Map<String, Value>, here: &str) -> Result<Edit> {
    Ok(match optional(spec, "timeout_ms") {
        Some(ms) => {
            let ms = integer(ms, &join_path(here, "timeout_ms"), u64::MAX)?;
            set((child, ms), |s, (child, ms)| s.on_failure_after(child, ms))
        }
        None => set(child, |s, v| s.on_failure(v)),
    })
}

/// When a fallback runs, read from its spec.
fn trigger(spec: &Map<String, Value>, here: &str) -> Result<Trigger> {
    Trigger::from_parts(
        optional(spec, "trigger_on_error"),
        optional(spec, "trigger_on_timeout"),
        here,
        |codes| status_codes(codes, &join_path(here, "trigger_on_error")),
        |ms| integer(ms, &join_path(here, "trigger_on_timeout"), u64::MAX),
    )
}

fn string<'v>(value: &'v Value, path: &str) -> Result<&'v str> {
    value
        .as_str()
        .ok_or_else(|| Error::validation(path, format!("must be a string, not {}", kind(value))))
}

pub(crate) fn object<'v>(value: &'v Value, path: &str) -> Result<&'v Map<String, Value>> {
    value.as_object().ok_or_else(|| not_an_object(value, path))
}

fn not_an_object(value: &Value, path: &str) -> Error {
    Error::validation(path, format!("must be an object, not {}", kind(value)))
}

fn array<'v>(value: &'v Value, path: &str) -> Result<&'v [Value]> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| Error::validation(path, format!("must be a list, not {}", kind(value))))
}

fn field<'v>(map: &'v Map<String, Value>, key: &str, path: &str) -> Result<&'v Value> {
    map.get(key)
        .ok_or_else(|| Error::validation(join_path(path, key), "is required"))
}

/// A present, non-null entry.
fn optional<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn only_keys(map: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<()> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(Error::validation(
            join_path(path, unknown),
            format!("is not a known field (expected {})", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

/// A whole number a binding received signed (Java, Kotlin for Java callers,
/// Python have no unsigned types), refused with its field named when
/// negative: `timeout_ms`, `tolerance_secs`, `retry_at`.
pub fn non_negative(field: &str, value: i64) -> Result<u64> {
    integer(&Value::from(value), field, u64::MAX)
}

/// A JSON object a binding received as a whole value (metadata given as
/// JSON text, an options object), refused with its field named otherwise,
/// in the words of every other object the core reads.
///
/// ```
/// let list = ezthrottle_core::json::parse("[1]").unwrap();
/// let refused = ezthrottle_core::json_object("metadata", list).unwrap_err();
/// assert_eq!(refused.field_path(), Some("metadata"));
/// assert!(refused.to_string().ends_with("must be an object, not a list"), "{refused}");
/// ```
pub fn json_object(field: &str, value: Value) -> Result<Map<String, Value>> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(not_an_object(&other, field)),
    }
}

/// A whole number of a binding's loosely typed options (a JS number, a JSON
/// value), refused with its field named when negative, fractional or not a
/// number: `tolerance_secs`.
pub fn whole_number(field: &str, value: &Value) -> Result<u64> {
    integer(value, field, u64::MAX)
}

fn integer(value: &Value, path: &str, max: u64) -> Result<u64> {
    match value.as_u64() {
        Some(n) if n <= max => Ok(n),
        Some(n) => Err(Error::validation(path, format!("{n} is larger than {max}"))),
        None => match value.as_i64() {
            Some(n) => Err(Error::validation(path, format!("{n} must not be negative"))),
            None => Err(Error::validation(
                path,
                format!("must be a whole number, not {}", kind(value)),
            )),
        },
    }
}

fn status_codes(value: &Value, path: &str) -> Result<Vec<u16>> {
    array(value, path)?
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let here = || format!("{path}[{i}]");
            let n = code.as_i64().ok_or_else(|| {
                Error::validation(here(), format!("must be a status code, not {}", kind(code)))
            })?;
            check_status_code(n).map_err(|m| Error::validation(here(), m))?;
            Ok(n as u16)
        })
        .collect()
}

fn strings(value: &Value, path: &str) -> Result<Vec<String>> {
    array(value, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            or_else_at(item.as_str(), || string(item, &format!("{path}[{i}]"))).map(str::to_owned)
        })
        .collect()
}

fn headers(value: &Value, path: &str) -> Result<Vec<(String, String)>> {
    object(value, path)?
        .iter()
        .map(|(name, v)| {
            let v = or_else_at(v.as_str(), || string(v, &format!("{path}[{name:?}]")))?;
            Ok((name.clone(), v.to_owned()))
        })
        .collect()
}

fn parse_enum<T: std::str::FromStr<Err = Error>>(value: &Value, path: &str) -> Result<T> {
    string(value, path)?.parse().map_err(|e: Error| match e {
        Error::Validation { message, .. } => Error::validation(path, message),
        other => other,
    })
}

fn webhooks(value: &Value, path: &str) -> Result<Vec<Webhook>> {
    array(value, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let here = format!("{path}[{i}]");
            let spec = object(item, &here)?;
            only_keys(spec, &["url", "regions", "has_quorum_vote"], &here)?;
            let url = field(spec, "url", &here)?;
            let mut hook = Webhook::new(or_else_at(url.as_str(), || {
                string(url, &join_path(&here, "url"))
            })?);
            if let Some(regions) = optional(spec, "regions") {
                hook.regions = Some(strings(regions, &join_path(&here, "regions"))?);
            }
            if let Some(vote) = optional(spec, "has_quorum_vote") {
                let vote = vote.as_bool().ok_or_else(|| {
                    Error::validation(join_path(&here, "has_quorum_vote"), "must be true or false")
                })?;
                hook.has_quorum_vote = Some(vote);
            }
            Ok(hook)
        })
        .collect()
}

fn retry_policy(value: &Value, path: &str) -> Result<RetryPolicy> {
    let spec = object(value, path)?;
    only_keys(
        spec,
        &[
            "max_retries",
            "max_reroutes",
            "retry_codes",
            "reroute_codes",
        ],
        path,
    )?;
    let count = |key: &str| -> Result<Option<u32>> {
        optional(spec, key)
            .map(|v| {
                let fast = v.as_u64().filter(|n| *n <= u32::MAX.into());
                or_else_at(fast, || integer(v, &join_path(path, key), u32::MAX.into()))
                    .map(|n| n as u32)
            })
            .transpose()
    };
    let codes = |key: &str| -> Result<Option<Vec<u16>>> {
        optional(spec, key)
            .map(|v| status_codes(v, &join_path(path, key)))
            .transpose()
    };
    Ok(RetryPolicy {
        max_retries: count("max_retries")?,
        max_reroutes: count("max_reroutes")?,
        retry_codes: codes("retry_codes")?,
        reroute_codes: codes("reroute_codes")?,
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
