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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredResponse {
    /// The upstream status code.
    pub status_code: u16,
    /// The upstream headers.
    #[serde(default)]
    pub headers: Headers,
    /// The upstream body text.
    #[serde(default)]
    pub body: String,
}

/// One webhook delivery.
///
/// Fields the service adds beyond PROTOCOL §7 are kept in `extra`, so a newer
/// service does not break an older SDK.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// The job's id.
    pub job_id: String,
    /// The job's idempotency key.
    #[serde(default)]
    pub idempotent_key: Option<String>,
    /// How the job ended.
    pub status: JobStatus,
    /// The upstream response, when there was one.
    #[serde(default)]
    pub response: Option<DeliveredResponse>,
    /// The job's metadata, echoed.
    #[serde(default)]
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
        serde_json::from_slice(body)
            .map_err(|e| Error::protocol(format!("the webhook delivery is malformed: {e}")))
    }

    /// Whether the job succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == JobStatus::Success
    }
}
