//! The EZThrottle service's endpoints (jobs, webhook secrets) as plain
//! functions: the gateway calls them in-process with the customer it
//! authenticated, and the direct routes call them too.

use std::sync::Arc;

use ezthrottle_core::Job;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::state::{now_ms, App};
use crate::store::{Inserted, JobRow};

/// A service answer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn new(status: u16, body: Value) -> Self {
        Self { status, body }
    }

    pub fn error(status: u16, message: impl Into<String>) -> Self {
        Self::new(status, json!({ "error": message.into() }))
    }

    fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "storage failure");
        Self::error(500, "internal storage error")
    }
}

/// The key the service dedupes on when the job has none: a hash of
/// (url, method, body, customer).
pub fn hash_key(job: &Job, customer: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [
        job.url.as_str(),
        job.method.as_str(),
        job.body.as_deref().unwrap_or(""),
        customer,
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut key = String::with_capacity(7 + 64);
    key.push_str("sha256:");
    for b in digest {
        key.push_str(&format!("{b:02x}"));
    }
    key
}

/// `POST /api/v1/jobs`: validate (errors name the field; unknown fields
/// ignored and reported as the hosted service does, or refused with
/// `--strict`), hold it to the sandbox's limits, dedupe atomically, queue.
pub fn submit_job(app: &Arc<App>, customer: &str, body: &str) -> Reply {
    let parsed = if app.config.strict {
        Job::from_json(body).map(|job| (job, Vec::new()))
    } else {
        Job::from_json_lenient(body)
    };
    let (job, ignored) = match parsed {
        Ok(parsed) => parsed,
        // The core's text already says "invalid <field>: …".
        Err(e) => return Reply::error(400, e.to_string()),
    };
    if let Err(refusal) = app.config.limits.check(&job, &app.config.regions) {
        return Reply::error(400, format!("invalid {refusal}"));
    }
    let key = job
        .idempotent_key
        .clone()
        .unwrap_or_else(|| hash_key(&job, customer));
    let now = now_ms();
    let row = JobRow {
        id: format!("job_{}", uuid::Uuid::new_v4().simple()),
        customer: customer.to_owned(),
        payload: job.to_json(),
        idempotent_key: key,
        state: "queued".into(),
        run_at_ms: job
            .retry_at
            .map_or(now, |at| at.min(i64::MAX as u64) as i64),
    };
    let key = row.idempotent_key.clone();
    match app.store.insert_job(&row, now) {
        Ok(Inserted::New(id)) => {
            if !ignored.is_empty() {
                for field in &ignored {
                    tracing::warn!(job_id = %id, field, "unknown job field ignored");
                }
                if let Err(e) = app.store.set_warnings(&id, &ignored) {
                    tracing::error!(error = %e, "cannot record a job's warnings");
                }
            }
            app.enqueue_job(id.clone(), row.run_at_ms);
            Reply::new(
                201,
                json!({ "job_id": id, "status": "queued", "idempotent_key": key }),
            )
        }
        Ok(Inserted::Duplicate(id)) => Reply::new(
            200,
            json!({ "job_id": id, "status": "duplicate", "idempotent_key": key }),
        ),
        Err(e) => Reply::internal(e),
    }
}

/// `GET /api/v1/jobs/{id}`.
pub fn job_report(app: &Arc<App>, customer: &str, job_id: &str) -> Reply {
    match app.store.job_report(job_id, customer) {
        Ok(Some(report)) => Reply::new(200, report),
        Ok(None) => Reply::error(404, format!("no job {job_id:?}")),
        Err(e) => Reply::internal(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretsBody {
    primary_secret: String,
    #[serde(default)]
    secondary_secret: Option<String>,
}

/// `POST|GET|DELETE /api/v1/webhook-secrets`.
pub fn webhook_secrets(app: &Arc<App>, customer: &str, method: &str, body: &str) -> Reply {
    match method {
        "POST" | "PUT" => {
            let parsed: SecretsBody = match serde_json::from_str(body) {
                Ok(parsed) => parsed,
                Err(e) => return Reply::error(400, format!("invalid secrets: {e}")),
            };
            let check =
                ezthrottle_core::check_webhook_secret("primary_secret", &parsed.primary_secret)
                    .and_then(|()| {
                        parsed.secondary_secret.as_deref().map_or(Ok(()), |s| {
                            ezthrottle_core::check_webhook_secret("secondary_secret", s)
                        })
                    });
            if let Err(e) = check {
                return Reply::error(400, e.to_string());
            }
            match app.store.set_secrets(
                customer,
                &parsed.primary_secret,
                parsed.secondary_secret.as_deref(),
            ) {
                Ok(()) => Reply::new(
                    200,
                    json!({"status": "ok", "message": "Webhook secrets saved"}),
                ),
                Err(e) => Reply::internal(e),
            }
        }
        "GET" => match app.store.secrets(customer) {
            Ok(Some((primary, secondary))) => Reply::new(
                200,
                json!({
                    "customer_id": customer,
                    "primary_secret": mask(&primary),
                    "secondary_secret": secondary.as_deref().map(mask),
                    "has_secondary": secondary.is_some(),
                }),
            ),
            Ok(None) => Reply::error(404, "no webhook secrets configured"),
            Err(e) => Reply::internal(e),
        },
        "DELETE" => match app.store.delete_secrets(customer) {
            Ok(deleted) => Reply::new(
                200,
                json!({"status": "ok", "message": "Webhook secrets deleted", "deleted": deleted}),
            ),
            Err(e) => Reply::internal(e),
        },
        other => Reply::error(405, format!("{other} is not allowed on webhook-secrets")),
    }
}

/// `wh****89`: enough to recognise a secret, never enough to use it. At
/// most 4 characters show (2 each end), and none of a secret under 16.
fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let shown = (chars.len() / 8).min(2);
    let head: String = chars[..shown].iter().collect();
    let tail: String = chars[chars.len() - shown..].iter().collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_and_hashing() {
        assert_eq!(mask("whsec_primary_0123456789"), "wh****89");
        assert_eq!(mask("whsec_0123456789"), "wh****89");
        assert_eq!(mask("whsec_primary_and_a_long_one_0123456789"), "wh****89");
        assert_eq!(mask("short"), "****");
        let job = Job::new("https://a.example");
        assert_eq!(hash_key(&job, "c1"), hash_key(&job.clone(), "c1"));
        assert_ne!(hash_key(&job, "c1"), hash_key(&job, "c2"));
        let mut other = job.clone();
        other.body = Some("x".into());
        assert_ne!(hash_key(&job, "c1"), hash_key(&other, "c1"));
    }
}
