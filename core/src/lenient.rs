//! Parsing a job as the hosted service does: a field it does not know (the
//! official Node SDK's camelCase `fallbackJob`, an `idempotentKey` inside
//! `on_success`, …) is dropped and reported, not refused. [`Job::from_json`]
//! stays strict; a server picks.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::job::Job;
use crate::validate::join_path;

/// The wire format's fields (PROTOCOL §2), per object.
const JOB: &[&str] = &[
    "url",
    "method",
    "headers",
    "body",
    "metadata",
    "webhooks",
    "webhook_quorum",
    "regions",
    "region_policy",
    "execution_mode",
    "retry_policy",
    "retry_at",
    "idempotent_key",
    "trigger",
    "fallback_job",
    "on_success",
    "on_failure",
    "on_failure_timeout_ms",
];
const WEBHOOK: &[&str] = &["url", "regions", "has_quorum_vote"];
const RETRY_POLICY: &[&str] = &[
    "max_retries",
    "max_reroutes",
    "retry_codes",
    "reroute_codes",
];
const TRIGGER: &[&str] = &["type", "codes", "timeout_ms"];

impl Job {
    /// Parse `json` leniently: fields the wire format does not have are
    /// dropped and named in the list returned (`on_success.idempotentKey`);
    /// everything else is parsed and validated as [`Job::from_json`] does.
    ///
    /// ```
    /// use ezthrottle_core::Job;
    /// let (job, ignored) = Job::from_json_lenient(
    ///     r#"{"url":"https://a.example","on_success":{"url":"https://b.example","idempotentKey":"k"}}"#,
    /// )?;
    /// assert_eq!(ignored, ["on_success.idempotentKey"]);
    /// assert!(job.on_success.unwrap().idempotent_key.is_none());
    /// # Ok::<(), ezthrottle_core::Error>(())
    /// ```
    pub fn from_json_lenient(json: &str) -> Result<(Self, Vec<String>)> {
        let mut value: Value =
            crate::json::parse(json).map_err(|e| Error::validation("job", e.to_string()))?;
        let mut ignored = Vec::new();
        strip_job(&mut value, "", &mut ignored);
        let job: Self =
            serde_json::from_value(value).map_err(|e| Error::validation("job", e.to_string()))?;
        job.validate()?;
        Ok((job, ignored))
    }
}

/// Drop the keys of `value` (when an object) that are not in `known`.
fn strip(value: &mut Value, known: &[&str], at: &str, ignored: &mut Vec<String>) {
    if let Value::Object(map) = value {
        map.retain(|key, _| {
            let keep = known.contains(&key.as_str());
            if !keep {
                ignored.push(join_path(at, key));
            }
            keep
        });
    }
}

fn strip_job(value: &mut Value, at: &str, ignored: &mut Vec<String>) {
    strip(value, JOB, at, ignored);
    let Value::Object(map) = value else {
        return;
    };
    for (key, nested) in map.iter_mut() {
        let here = join_path(at, key);
        match key.as_str() {
            "fallback_job" | "on_success" | "on_failure" => strip_job(nested, &here, ignored),
            "retry_policy" => strip(nested, RETRY_POLICY, &here, ignored),
            "trigger" => strip(nested, TRIGGER, &here, ignored),
            "webhooks" => {
                if let Value::Array(list) = nested {
                    for (i, webhook) in list.iter_mut().enumerate() {
                        strip(webhook, WEBHOOK, &format!("{here}[{i}]"), ignored);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RetryPolicy, Step, Trigger, Webhook};

    /// The lists name every field the payload writer writes, so a lenient
    /// parse never drops a real one: a job with every field set survives
    /// unchanged with nothing ignored.
    #[test]
    fn every_real_field_is_known() {
        let step = Step::new()
            .url("https://a.example")
            .method("POST")
            .header("X-A", "1")
            .body("{}")
            .metadata_entry("k", "v")
            .webhooks([Webhook::new("https://w.example")
                .regions(["iad"])
                .quorum_vote(true)])
            .webhook_quorum(1)
            .regions(["iad"])
            .retry_policy(RetryPolicy {
                max_retries: Some(1),
                max_reroutes: Some(1),
                retry_codes: Some(vec![429]),
                reroute_codes: Some(vec![503]),
            })
            .retry_at_ms(1_893_456_000_000)
            .idempotent_key("k1")
            .fallback(
                Step::new().url("https://b.example"),
                Trigger::OnError(vec![500]),
            )
            .on_success(Step::new().url("https://c.example"))
            .on_failure_after(Step::new().url("https://d.example"), 1000);
        let json = step.to_json().unwrap();
        let (lenient, ignored) = Job::from_json_lenient(&json).unwrap();
        assert!(ignored.is_empty(), "{ignored:?}");
        assert_eq!(lenient, Job::from_json(&json).unwrap());
    }

    #[test]
    fn unknown_fields_are_dropped_and_named_wherever_they_are() {
        let json = r#"{"url":"https://a.example","fallbackJob":{"url":"https://x.example"},
            "webhooks":[{"url":"https://w.example","hasQuorumVote":true}],
            "retry_policy":{"maxRetries":3},
            "fallback_job":{"url":"https://b.example","trigger":{"type":"on_error","codes":[500],"extra":1}},
            "on_success":{"url":"https://c.example","idempotentKey":"k"}}"#;
        let (job, ignored) = Job::from_json_lenient(json).unwrap();
        assert_eq!(
            ignored,
            [
                "fallbackJob",
                "webhooks[0].hasQuorumVote",
                "retry_policy.maxRetries",
                "fallback_job.trigger.extra",
                "on_success.idempotentKey",
            ]
        );
        assert_eq!(job.fallback_job.unwrap().url, "https://b.example");
        assert!(
            Job::from_json(json).is_err(),
            "strict parsing still refuses them"
        );
        // Known fields are still validated.
        let bad = Job::from_json_lenient(r#"{"url":"ftp://a.example","fooBar":1}"#).unwrap_err();
        assert_eq!(bad.field_path(), Some("url"));
    }
}
