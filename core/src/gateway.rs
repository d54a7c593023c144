//! The account gateway (PROTOCOL §1): every call to the service is a proxy
//! envelope POSTed to `{tracktags_url}/api/v1/proxy`, and every answer is read
//! here into a typed result or a typed error, never a panic.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::http::{HttpRequest, HttpResponse, Target};
use crate::json;

/// The path of the proxy on the gateway.
pub const PROXY_PATH: &str = "/api/v1/proxy";
/// The path of the jobs endpoint on the service.
pub const JOBS_PATH: &str = "/api/v1/jobs";
/// The path of the webhook-secrets endpoint on the service.
pub const SECRETS_PATH: &str = "/api/v1/webhook-secrets";

/// The envelope the gateway receives (PROTOCOL §1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Always `"customer"`.
    pub scope: String,
    /// Empty: check every limit of the plan.
    pub metric_name: String,
    /// The service URL the gateway forwards to.
    pub target_url: String,
    /// The method of the forwarded call.
    pub method: String,
    /// Headers of the forwarded call.
    pub headers: Map<String, Value>,
    /// The forwarded body: JSON serialized to a string.
    pub body: String,
}

impl Envelope {
    /// The envelope's JSON text, fields in their declared order.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.body.len() + 256);
        let fields = [
            ("{\"scope\":", &self.scope),
            (",\"metric_name\":", &self.metric_name),
            (",\"target_url\":", &self.target_url),
            (",\"method\":", &self.method),
        ];
        for (name, value) in fields {
            out.push_str(name);
            json::write_string(&mut out, value);
        }
        out.push_str(",\"headers\":");
        json::write_object(&mut out, &self.headers);
        out.push_str(",\"body\":");
        json::write_string(&mut out, &self.body);
        out.push('}');
        out
    }
}

/// The service's answer to an accepted submission.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmitAnswer {
    job_id: String,
    status: String,
    raw: Map<String, Value>,
}

impl SubmitAnswer {
    /// Read a forwarded body: a JSON object with a string `job_id`.
    pub fn from_body(body: &str) -> Result<Self> {
        let raw = parse_object(body, "the job answer")?;
        let job_id = raw
            .get("job_id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::protocol("the job answer has no string job_id"))?
            .to_owned();
        let status = raw
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            job_id,
            status,
            raw,
        })
    }

    /// The job's id.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// `queued`, `duplicate`, … as the service said (empty when absent).
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The whole answer, as the service sent it.
    pub fn as_json(&self) -> &Map<String, Value> {
        &self.raw
    }
}

/// The masked webhook secrets of the account (PROTOCOL §8), read by the
/// secrets GET's answer reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretInfo {
    /// The customer the secrets belong to.
    pub customer_id: Option<String>,
    /// The primary secret, masked (`abcd****efgh`).
    pub primary_secret: String,
    /// The secondary secret, masked, during rotation.
    pub secondary_secret: Option<String>,
    /// Whether a secondary secret is set.
    pub has_secondary: bool,
}

impl SecretInfo {
    /// The JSON every binding hands out (`customer_id`, `primary_secret`,
    /// `secondary_secret`, `has_secondary`), written without a serializer.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        let text = |t: &Option<String>| t.clone().map_or(Value::Null, Value::String);
        map.insert("customer_id".into(), text(&self.customer_id));
        map.insert("primary_secret".into(), self.primary_secret.clone().into());
        map.insert("secondary_secret".into(), text(&self.secondary_secret));
        map.insert("has_secondary".into(), self.has_secondary.into());
        Value::Object(map)
    }
}

/// What the gateway forwarded back from the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// The service's status code.
    pub status_code: u16,
    /// The service's body text.
    pub body: String,
}

impl Forwarded {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status_code)
    }

    /// A non-2xx forwarded answer is a rejection.
    pub fn into_success(self) -> Result<Self> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(Error::JobRejected {
                status: self.status_code,
                body: self.body,
            })
        }
    }
}

/// The minimum length of a webhook secret.
pub const MIN_SECRET_LEN: usize = 16;

impl ClientConfig {
    /// The proxy request that sends `body` to `{ezthrottle_url}{path}` with `method`.
    pub fn proxy_request(&self, method: &str, path: &str, body: Option<&Value>) -> HttpRequest {
        let mut headers = Map::new();
        if body.is_some() {
            headers.insert("Content-Type".into(), "application/json".into());
        }
        let envelope = Envelope {
            scope: "customer".into(),
            metric_name: String::new(),
            target_url: format!("{}{path}", self.ezthrottle_url()),
            method: method.into(),
            headers,
            body: body.map(json::to_string).unwrap_or_default(),
        };
        self.envelope_request(&envelope)
    }

    /// The gateway request carrying an already serialized job.
    pub(crate) fn submit_request_json(&self, job_json: String) -> HttpRequest {
        let mut headers = Map::new();
        headers.insert("Content-Type".into(), "application/json".into());
        self.envelope_request(&Envelope {
            scope: "customer".into(),
            metric_name: String::new(),
            target_url: format!("{}{JOBS_PATH}", self.ezthrottle_url()),
            method: "POST".into(),
            headers,
            body: job_json,
        })
    }

    fn envelope_request(&self, envelope: &Envelope) -> HttpRequest {
        HttpRequest {
            target: Target::Gateway,
            method: "POST".into(),
            url: format!("{}{PROXY_PATH}", self.tracktags_url()),
            headers: vec![
                (
                    "Authorization".into(),
                    format!("Bearer {}", self.api_key().expose()),
                ),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: Some(envelope.to_json()),
            timeout_ms: self.timeout_ms(),
        }
    }
}

/// Check a webhook secret before it is sent.
pub fn check_webhook_secret(field: &str, secret: &str) -> Result<()> {
    if secret.chars().count() < MIN_SECRET_LEN {
        return Err(Error::validation(
            field,
            format!("must be at least {MIN_SECRET_LEN} characters"),
        ));
    }
    if secret.chars().any(char::is_control) {
        return Err(Error::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Read the gateway's answer (PROTOCOL §1) into what the service forwarded.
///
/// `now_ms` (milliseconds since the Unix epoch) turns a `Retry-After` header
/// into the `retry_at_ms` of a rate-limited error.
pub fn read_gateway_answer(response: &HttpResponse, now_ms: u64) -> Result<Forwarded> {
    let parsed = || parse_object(&response.body, "the gateway answer").ok();
    let error_text = || {
        parsed()
            .and_then(|m| m.get("error").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| response.body.clone())
    };
    match response.status {
        429 => {
            let from_header = response
                .header("Retry-After")
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(|secs| now_ms.saturating_add(secs.saturating_mul(1000)));
            let from_body = parsed().and_then(|m| m.get("retry_at").and_then(Value::as_u64));
            Err(Error::RateLimited {
                message: error_text(),
                retry_at_ms: from_header.or(from_body),
            })
        }
        401 | 403 => Err(Error::Authentication {
            message: error_text(),
        }),
        200 => {
            let answer = parse_object(&response.body, "the gateway answer")?;
            // Anything but "allowed", a missing status included, is a refusal.
            if answer.get("status").and_then(Value::as_str) != Some("allowed") {
                return Err(Error::Denied {
                    message: answer
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error")
                        .to_owned(),
                });
            }
            let forwarded = answer
                .get("forwarded_response")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    Error::protocol("the gateway answer has no forwarded_response object")
                })?;
            // Any whole number is the service's status (not 2xx: a rejection
            // carrying it), as the reference reads it; u16 holds every one an
            // HTTP server can send.
            let status_code = forwarded
                .get("status_code")
                .and_then(Value::as_u64)
                .and_then(|code| u16::try_from(code).ok())
                .ok_or_else(|| {
                    Error::protocol(
                        "forwarded_response.status_code is missing or not a whole number from 0 to 65535",
                    )
                })?;
            let body = match forwarded.get("body") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(text)) => text.clone(),
                // A rejection carries what came; an answer is JSON text.
                Some(other) if !(200..300).contains(&status_code) => crate::json::to_string(other),
                Some(_) => {
                    return Err(Error::protocol(
                        "forwarded_response.body is not a string of JSON",
                    ))
                }
            };
            Ok(Forwarded { status_code, body })
        }
        status => Err(Error::Gateway {
            status,
            body: response.body.clone(),
        }),
    }
}

/// An answer or delivery that must be a JSON object.
pub(crate) fn parse_object(text: &str, what: &str) -> Result<Map<String, Value>> {
    match crate::json::parse(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::protocol(format!("{what} is JSON but not an object"))),
        Err(e) => Err(Error::protocol(format!("{what} is not JSON: {e}"))),
    }
}

/// Read an answer whose body is any JSON object (secret create / delete);
/// an empty body is an empty object.
pub(crate) fn read_object(forwarded: Forwarded) -> Result<Map<String, Value>> {
    let forwarded = forwarded.into_success()?;
    if forwarded.body.trim().is_empty() {
        return Ok(Map::new());
    }
    parse_object(&forwarded.body, "the service answer")
}

/// Read the answer of a secrets GET.
pub(crate) fn read_secret_info(forwarded: Forwarded) -> Result<SecretInfo> {
    if forwarded.status_code == 404 {
        return Err(Error::SecretsNotConfigured);
    }
    let forwarded = forwarded.into_success()?;
    let what = "the webhook secrets answer";
    let mut map = parse_object(&forwarded.body, what)?;
    let mut text = |key: &str| match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::protocol(format!("{what}: {key} is not a string"))),
    };
    Ok(SecretInfo {
        customer_id: text("customer_id")?,
        primary_secret: text("primary_secret")?
            .ok_or_else(|| Error::protocol(format!("{what} has no primary_secret")))?,
        secondary_secret: text("secondary_secret")?,
        has_secondary: map
            .get("has_secondary")
            .and_then(Value::as_bool)
            .unwrap_or_default(),
    })
}

/// Read the answer of a job submission.
pub(crate) fn read_submit_answer(forwarded: Forwarded) -> Result<SubmitAnswer> {
    SubmitAnswer::from_body(&forwarded.into_success()?.body)
}
