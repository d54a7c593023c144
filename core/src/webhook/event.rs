//! The JSON the service POSTs to a webhook when a job finishes (PROTOCOL §7).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::job::Headers;

/// How the job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Some path of the job succeeded.
    Success,
    /// Every path failed.
    Failed,
}

/// The upstream response delivered with the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveredResponse {
    /// The upstream status code.
    pub status_code: u16,
    /// The upstream headers.
    pub headers: Headers,
    /// The upstream body text.
    pub body: String,
}

impl DeliveredResponse {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        let Value::Object(mut map) = value else {
            return Err("response must be an object".into());
        };
        let status_code = map
            .get("status_code")
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or("response.status_code must be a status code")?;
        let mut headers = Headers::default();
        match map.remove("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(entries)) => {
                for (name, value) in entries {
                    let Value::String(value) = value else {
                        return Err(format!("response.headers[{name:?}] must be a string"));
                    };
                    headers.0.push((name, value));
                }
            }
            Some(_) => return Err("response.headers must be an object".into()),
        }
        let body = match map.remove("body") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(body)) => body,
            Some(_) => return Err("response.body must be a string".into()),
        };
        Ok(Self {
            status_code,
            headers,
            body,
        })
    }
}

/// One webhook delivery.
///
/// Fields the service adds beyond PROTOCOL §7 are kept in `extra`, so a newer
/// service does not break an older SDK. Read with [`WebhookEvent::parse`]
/// (the one reading of a delivery, in every binding).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookEvent {
    /// The job's id.
    pub job_id: String,
    /// The job's idempotency key.
    pub idempotent_key: Option<String>,
    /// How the job ended.
    pub status: JobStatus,
    /// The upstream response, when there was one.
    pub response: Option<DeliveredResponse>,
    /// The job's metadata, echoed.
    pub metadata: Map<String, Value>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WebhookEvent {
    /// Parse a delivery's raw body. Malformed input is a protocol error naming
    /// what is wrong, never a panic.
    ///
    /// ```
    /// use ezthrottle_core::webhook::{JobStatus, WebhookEvent};
    /// let event = WebhookEvent::parse(br#"{"job_id":"j1","status":"success",
    ///     "response":{"status_code":200,"headers":{},"body":"ok"}}"#)?;
    /// assert_eq!(event.status, JobStatus::Success);
    /// # Ok::<(), ezthrottle_core::Error>(())
    /// ```
    pub fn parse(body: &[u8]) -> Result<Self> {
        // Read by hand rather than derived: `flatten` would compile serde's
        // whole buffering machinery into every binding (a tenth of the wasm).
        let malformed =
            |why: String| Error::protocol(format!("the webhook delivery is malformed: {why}"));
        let text = std::str::from_utf8(body).map_err(|e| malformed(e.to_string()))?;
        let mut extra = crate::gateway::parse_object(text, "the webhook delivery")?;
        let mut take = |key: &str| extra.remove(key).filter(|v| !v.is_null());
        let job_id = match take("job_id") {
            Some(Value::String(id)) => id,
            _ => return Err(malformed("job_id must be a string".into())),
        };
        let status = match take("status").as_ref().and_then(Value::as_str) {
            Some("success") => JobStatus::Success,
            Some("failed") => JobStatus::Failed,
            _ => return Err(malformed("status must be \"success\" or \"failed\"".into())),
        };
        let idempotent_key = match take("idempotent_key") {
            None => None,
            Some(Value::String(key)) => Some(key),
            Some(_) => return Err(malformed("idempotent_key must be a string".into())),
        };
        let response = take("response")
            .map(|v| DeliveredResponse::from_value(v).map_err(malformed))
            .transpose()?;
        let metadata = match take("metadata") {
            None => Map::new(),
            Some(Value::Object(map)) => map,
            Some(_) => return Err(malformed("metadata must be an object".into())),
        };
        Ok(Self {
            job_id,
            idempotent_key,
            status,
            response,
            metadata,
            extra,
        })
    }

    /// Whether the job succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == JobStatus::Success
    }

    /// The event as the delivery's JSON (unknown fields kept), written by
    /// hand so the bindings need no serializer.
    pub fn to_json(&self) -> Value {
        let mut map = self.extra.clone();
        map.insert("job_id".into(), self.job_id.clone().into());
        map.insert(
            "idempotent_key".into(),
            self.idempotent_key
                .clone()
                .map_or(Value::Null, Value::String),
        );
        let status = match self.status {
            JobStatus::Success => "success",
            JobStatus::Failed => "failed",
        };
        map.insert("status".into(), status.into());
        let response = self.response.as_ref().map_or(Value::Null, |r| {
            let headers = r
                .headers
                .iter()
                .map(|(k, v)| (k.to_owned(), Value::from(v)))
                .collect::<Map<_, _>>();
            let mut out = Map::new();
            out.insert("status_code".into(), r.status_code.into());
            out.insert("headers".into(), Value::Object(headers));
            out.insert("body".into(), r.body.clone().into());
            Value::Object(out)
        });
        map.insert("response".into(), response);
        map.insert("metadata".into(), Value::Object(self.metadata.clone()));
        Value::Object(map)
    }
}
