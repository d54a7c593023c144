//! Building a step from loosely typed input: `[name, argument]` builder calls,
//! the format of the conformance vectors (`shared/conformance/README.md`).
//!
//! Bindings whose callers hand over JSON-like values (JS option objects, the C
//! API's JSON setters) convert through here, so that every language accepts and
//! refuses exactly the same input with the same field paths.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::{RetryPolicy, Trigger, Webhook};
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
        apply_at(&mut step, name, argument, prefix, depth)?;
    }
    Ok(step)
}

fn apply_at(step: &mut Step, name: &str, arg: &Value, prefix: &str, depth: usize) -> Result<()> {
    let at = |field: &str| join_path(prefix, field);
    let taken = std::mem::take(step);
    *step = match name {
        "url" => taken.url(string(arg, &at("url"))?),
        "method" => taken.method(string(arg, &at("method"))?),
        "body" => taken.body(string(arg, &at("body"))?),
        "idempotent_key" => taken.idempotent_key(string(arg, &at("idempotent_key"))?),
        "description" => taken.description(string(arg, &at("description"))?),
        "response_description" => {
            taken.response_description(string(arg, &at("response_description"))?)
        }
        "headers" => taken.headers(headers(arg, &at("headers"))?),
        "metadata" => taken.metadata(object(arg, &at("metadata"))?.clone()),
        "type" => taken.step_type(parse_enum(arg, &at("type"))?),
        "idempotent_strategy" => taken.idempotent_strategy(parse_enum(arg, &at(name))?),
        "region_policy" => taken.region_policy(parse_enum(arg, &at(name))?),
        "execution_mode" => taken.execution_mode(parse_enum(arg, &at(name))?),
        "webhooks" => taken.webhooks(webhooks(arg, &at("webhooks"))?),
        "webhook_quorum" => taken.webhook_quorum(integer(arg, &at(name), u32::MAX.into())? as u32),
        "retry_at" => taken.retry_at_ms(integer(arg, &at(name), u64::MAX)?),
        "local_timeout" => taken.local_timeout(integer(arg, &at(name), u64::MAX)?),
        "regions" => taken.regions(strings(arg, &at("regions"))?),
        "retry_policy" => taken.retry_policy(retry_policy(arg, &at("retry_policy"))?),
        "fallback_on_error" => taken.fallback_on_error(status_codes(arg, &at(name))?),
        "fallback" => {
            let here = at(&format!("fallback[{}]", taken.fallbacks.len()));
            let (child, trigger) = fallback(arg, &here, depth)?;
            taken.fallback(child, trigger)
        }
        "on_success" => {
            let here = at("on_success");
            taken.on_success(from_calls_at(arg, &here, depth + 1)?)
        }
        "on_failure" => {
            let here = at("on_failure");
            let spec = object(arg, &here)?;
            only_keys(spec, &["step", "timeout_ms"], &here)?;
            let child = from_calls_at(field(spec, "step", &here)?, &here, depth + 1)?;
            match optional(spec, "timeout_ms") {
                Some(ms) => taken.on_failure_after(
                    child,
                    integer(ms, &join_path(&here, "timeout_ms"), u64::MAX)?,
                ),
                None => taken.on_failure(child),
            }
        }
        other => {
            return Err(Error::validation(
                at(other),
                "is not a builder call of the step",
            ))
        }
    };
    Ok(())
}

fn fallback(arg: &Value, here: &str, depth: usize) -> Result<(Step, Trigger)> {
    let spec = object(arg, here)?;
    only_keys(
        spec,
        &["step", "trigger_on_error", "trigger_on_timeout"],
        here,
    )?;
    let child = from_calls_at(field(spec, "step", here)?, here, depth + 1)?;
    let trigger = match (
        optional(spec, "trigger_on_error"),
        optional(spec, "trigger_on_timeout"),
    ) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                join_path(here, "trigger"),
                "give trigger_on_error or trigger_on_timeout, not both",
            ))
        }
        (Some(codes), None) => {
            Trigger::OnError(status_codes(codes, &join_path(here, "trigger_on_error"))?)
        }
        (None, Some(ms)) => Trigger::OnTimeout(integer(
            ms,
            &join_path(here, "trigger_on_timeout"),
            u64::MAX,
        )?),
        (None, None) => Trigger::Always,
    };
    Ok((child, trigger))
}

fn string<'v>(value: &'v Value, path: &str) -> Result<&'v str> {
    value
        .as_str()
        .ok_or_else(|| Error::validation(path, format!("must be a string, not {}", kind(value))))
}

fn object<'v>(value: &'v Value, path: &str) -> Result<&'v Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| Error::validation(path, format!("must be an object, not {}", kind(value))))
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

fn integer(value: &Value, path: &str, max: u64) -> Result<u64> {
    match value.as_u64() {
        Some(n) if n <= max => Ok(n),
        Some(n) => Err(Error::validation(path, format!("{n} is larger than {max}"))),
        None if value.as_i64().is_some() => Err(Error::validation(
            path,
            format!("{value} must not be negative"),
        )),
        None => Err(Error::validation(
            path,
            format!("must be a whole number, not {}", kind(value)),
        )),
    }
}

fn status_codes(value: &Value, path: &str) -> Result<Vec<u16>> {
    array(value, path)?
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let here = format!("{path}[{i}]");
            let n = code.as_i64().ok_or_else(|| {
                Error::validation(&here, format!("must be a status code, not {}", kind(code)))
            })?;
            check_status_code(n).map_err(|m| Error::validation(&here, m))?;
            Ok(n as u16)
        })
        .collect()
}

fn strings(value: &Value, path: &str) -> Result<Vec<String>> {
    array(value, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| string(item, &format!("{path}[{i}]")).map(str::to_owned))
        .collect()
}

fn headers(value: &Value, path: &str) -> Result<Vec<(String, String)>> {
    object(value, path)?
        .iter()
        .map(|(name, v)| {
            let v = string(v, &format!("{path}[{name:?}]"))?;
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
            let mut hook = Webhook::new(string(
                field(spec, "url", &here)?,
                &join_path(&here, "url"),
            )?);
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
            .map(|v| integer(v, &join_path(path, key), u32::MAX.into()).map(|n| n as u32))
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
