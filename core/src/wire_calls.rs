//! A job in the wire format, as a JSON value, read back into a step through
//! the builder's calls: for SDK calls that take a raw job (the npm package's
//! `submitJob`, as the official Node SDK passes nested jobs). Every field is
//! then checked as the builder checks it, and errors name where it sits.

use serde_json::{Map, Value};

use crate::calls::object;
use crate::error::{Error, Result};
use crate::step::Step;
use crate::validate::MAX_NESTING;

impl Step {
    /// A step from a wire-format job value (what [`Step::to_json`] writes:
    /// `fallback_job` chains, `on_success`, `on_failure` with
    /// `on_failure_timeout_ms`).
    ///
    /// ```
    /// use ezthrottle_core::Step;
    /// let job = serde_json::json!({"url": "https://a.example",
    ///     "fallback_job": {"url": "https://b.example", "trigger": {"type": "on_error", "codes": [500]}}});
    /// let step = Step::from_job_value(&job)?;
    /// assert_eq!(step.to_json()?, r#"{"url":"https://a.example","method":"GET","fallback_job":{"url":"https://b.example","method":"GET","trigger":{"type":"on_error","codes":[500]}}}"#);
    /// # Ok::<(), ezthrottle_core::Error>(())
    /// ```
    pub fn from_job_value(job: &Value) -> Result<Step> {
        Step::from_calls(&job_calls(job, "job", 0)?)
    }
}

/// The builder calls that build the job `value` (at `path`, for errors).
fn job_calls(value: &Value, path: &str, depth: usize) -> Result<Value> {
    if depth > MAX_NESTING {
        return Err(Error::validation(path, "is nested too deeply"));
    }
    let mut calls = Vec::new();
    let mut on_failure = None;
    let mut on_failure_timeout = None;
    for (key, value) in object(value, path)? {
        match key.as_str() {
            "fallback_job" => fallback_calls(value, key, depth, &mut calls)?,
            "on_success" => calls.push(call(key, job_calls(value, key, depth + 1)?)),
            "on_failure" => on_failure = Some(job_calls(value, key, depth + 1)?),
            "on_failure_timeout_ms" => on_failure_timeout = Some(value.clone()),
            _ => calls.push(call(key, value.clone())),
        }
    }
    match (on_failure, on_failure_timeout) {
        (Some(step), timeout) => {
            let mut options = Map::new();
            options.insert("step".into(), step);
            if let Some(ms) = timeout {
                options.insert("timeout_ms".into(), ms);
            }
            calls.push(call("on_failure", Value::Object(options)));
        }
        (None, Some(ms)) => calls.push(call("on_failure_timeout_ms", ms)),
        (None, None) => {}
    }
    Ok(Value::Array(calls))
}

/// One builder call: `[name, value]`.
fn call(name: &str, value: Value) -> Value {
    Value::Array(vec![name.into(), value])
}

/// A `fallback_job` chain: each link is one `fallback` call of the step
/// that holds the chain, its `trigger` as the call's options.
fn fallback_calls(first: &Value, path: &str, depth: usize, calls: &mut Vec<Value>) -> Result<()> {
    let mut link = Some(first);
    let mut here = path.to_owned();
    while let Some(fallback) = link {
        let mut job = object(fallback, &here)?.clone();
        let trigger = job.remove("trigger");
        // The next link is the holder's next fallback, not this one's own.
        job.remove("fallback_job");
        let mut options = Map::new();
        let step = job_calls(&Value::Object(job), &here, depth + 1)?;
        options.insert("step".into(), step);
        if let Some(trigger) = trigger {
            let at = format!("{here}.trigger");
            let trigger = object(&trigger, &at)?;
            let field = |name| trigger.get(name).cloned().unwrap_or(Value::Null);
            match trigger.get("type").and_then(Value::as_str) {
                Some("on_error") => {
                    options.insert("trigger_on_error".into(), field("codes"));
                }
                Some("on_timeout") => {
                    options.insert("trigger_on_timeout".into(), field("timeout_ms"));
                }
                None if trigger.is_empty() => {}
                _ => {
                    return Err(Error::validation(
                        format!("{at}.type"),
                        "must be \"on_error\" or \"on_timeout\"",
                    ))
                }
            }
        }
        calls.push(call("fallback", Value::Object(options)));
        link = fallback.get("fallback_job");
        here = format!("{here}.fallback_job");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the builder writes reads back to the same step, nested jobs and
    /// fallback chains included.
    #[test]
    fn a_written_job_reads_back_the_same() {
        let calls = json!([
            ["url", "https://a.example"], ["method", "POST"], ["headers", {"X-A": "1"}],
            ["webhooks", [{"url": "https://w.example", "has_quorum_vote": true}]],
            ["retry_policy", {"max_retries": 2}], ["idempotent_key", "k"],
            ["fallback", {"step": [["url", "https://b.example"]], "trigger_on_error": [500]}],
            ["fallback", {"step": [["url", "https://c.example"]], "trigger_on_timeout": 1000}],
            ["on_success", [["url", "https://d.example"]]],
            ["on_failure", {"step": [["url", "https://e.example"]], "timeout_ms": 5000}],
        ]);
        let step = Step::from_calls(&calls).unwrap();
        let written: Value = serde_json::from_str(&step.to_json().unwrap()).unwrap();
        let again = Step::from_job_value(&written).unwrap();
        assert_eq!(again.to_json().unwrap(), step.to_json().unwrap());
    }

    #[test]
    fn errors_name_where_they_sit() {
        let job = json!({"url": "https://a.example", "on_success": {"url": "https://b.example", "idempotent_kye": "x"}});
        let err = Step::from_job_value(&job).unwrap_err();
        assert_eq!(err.field_path(), Some("on_success.idempotent_kye"));
        let job = json!({"url": "https://a.example", "fallback_job": {"url": "https://b.example", "trigger": {"type": "sometimes"}}});
        let err = Step::from_job_value(&job).unwrap_err();
        assert_eq!(err.field_path(), Some("fallback_job.trigger.type"));
    }
}
