//! Webhook deliveries: signatures (rotation, tolerance), parsing, and a
//! receiver that answers them and runs registered follow-ups.

use std::sync::{Arc, Mutex};

use ezthrottle_core::webhook::{self, Verification, DEFAULT_TOLERANCE_SECS};
use serde_json::Value;

use crate::client::{ExecuteResult, EzThrottle};
use crate::error::{EzThrottleError, Result};
use crate::transport::now_ms;

/// A signature check: `reason` is the stable code shared by every SDK
/// (`valid`, `valid_primary`, `signature_mismatch`, `timestamp_expired`, …).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignatureCheck {
    pub valid: bool,
    pub reason: String,
}

impl From<Verification> for SignatureCheck {
    fn from(check: Verification) -> Self {
        Self {
            valid: check.is_valid(),
            reason: check.reason.as_str().to_owned(),
        }
    }
}

fn clock(now_secs: Option<i64>) -> i64 {
    now_secs.unwrap_or_else(|| (now_ms() / 1000) as i64)
}

/// Check a delivery's signature with one secret. `now_secs` defaults to the
/// clock, `tolerance_secs` to ezthrottle-core's `DEFAULT_TOLERANCE_SECS`.
#[uniffi::export(default(now_secs = None, tolerance_secs = None))]
pub fn verify_signature(
    payload: Vec<u8>,
    signature: Option<String>,
    secret: String,
    now_secs: Option<i64>,
    tolerance_secs: Option<u64>,
) -> SignatureCheck {
    webhook::verify_signature(
        &payload,
        signature.as_deref().unwrap_or_default(),
        &secret,
        clock(now_secs),
        tolerance_secs.unwrap_or(DEFAULT_TOLERANCE_SECS),
    )
    .into()
}

/// Check with the primary secret, then the secondary (during a rotation).
#[uniffi::export(default(now_secs = None, tolerance_secs = None))]
pub fn verify_with_secrets(
    payload: Vec<u8>,
    signature: Option<String>,
    primary_secret: String,
    secondary_secret: Option<String>,
    now_secs: Option<i64>,
    tolerance_secs: Option<u64>,
) -> SignatureCheck {
    webhook::verify_with_secrets(
        &payload,
        signature.as_deref().unwrap_or_default(),
        &primary_secret,
        secondary_secret.as_deref(),
        clock(now_secs),
        tolerance_secs.unwrap_or(DEFAULT_TOLERANCE_SECS),
    )
    .into()
}

/// Like [`verify_with_secrets`], but a refused signature is an error
/// (`EzThrottleException.Signature` with its reason).
#[uniffi::export(default(now_secs = None, tolerance_secs = None))]
pub fn verify_signature_strict(
    payload: Vec<u8>,
    signature: Option<String>,
    primary_secret: String,
    secondary_secret: Option<String>,
    now_secs: Option<i64>,
    tolerance_secs: Option<u64>,
) -> Result<SignatureCheck> {
    Ok(webhook::verify_signature_strict(
        &payload,
        signature.as_deref().unwrap_or_default(),
        &primary_secret,
        secondary_secret.as_deref(),
        clock(now_secs),
        tolerance_secs.unwrap_or(DEFAULT_TOLERANCE_SECS),
    )?
    .into())
}

/// One delivery, parsed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WebhookEvent {
    pub job_id: String,
    pub idempotent_key: Option<String>,
    pub succeeded: bool,
    /// The upstream response, when there was one.
    pub response_status: Option<u16>,
    pub response_body: Option<String>,
    /// The job's metadata as a JSON object.
    pub metadata_json: String,
    /// The whole delivery as JSON.
    pub json: String,
}

impl WebhookEvent {
    fn new(event: &webhook::WebhookEvent, body: &[u8]) -> Self {
        Self {
            job_id: event.job_id.clone(),
            idempotent_key: event.idempotent_key.clone(),
            succeeded: event.succeeded(),
            response_status: event.response.as_ref().map(|r| r.status_code),
            response_body: event.response.as_ref().map(|r| r.body.clone()),
            metadata_json: Value::Object(event.metadata.clone()).to_string(),
            json: String::from_utf8_lossy(body).into_owned(),
        }
    }
}

/// Parse a delivery's raw body (verify it first).
#[uniffi::export]
pub fn parse_webhook_event(body: Vec<u8>) -> Result<WebhookEvent> {
    let event = webhook::WebhookEvent::parse(&body)?;
    Ok(WebhookEvent::new(&event, &body))
}

/// What the receiver did with one delivery: answer `status` with `body`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WebhookDelivery {
    /// 200 accepted (or a repeat), 400 malformed, 401 bad signature.
    pub status: u16,
    pub body: String,
    pub reason: String,
    /// The event, when authentic, well-formed and new.
    pub event: Option<WebhookEvent>,
    /// The follow-up step that ran, if the job had one registered.
    pub follow_up: Option<ExecuteResult>,
    /// Why the follow-up failed, if it did.
    pub follow_up_error: Option<EzThrottleError>,
}

/// A webhook endpoint: replay-guarded verification, parsing, follow-ups.
#[derive(Debug, uniffi::Object)]
pub struct WebhookReceiver {
    receiver: Mutex<webhook::WebhookReceiver>,
    client: Option<Arc<EzThrottle>>,
    continuations: Arc<Mutex<webhook::Continuations>>,
}

impl WebhookReceiver {
    pub(crate) fn build(
        primary: String,
        secondary: Option<String>,
        client: Option<Arc<EzThrottle>>,
    ) -> Result<Arc<Self>> {
        let continuations = client
            .as_ref()
            .map_or_else(Arc::default, |c| c.continuations.clone());
        Ok(Arc::new(Self {
            receiver: Mutex::new(webhook::WebhookReceiver::new(primary, secondary)?),
            client,
            continuations,
        }))
    }
}

#[uniffi::export]
impl WebhookReceiver {
    /// A receiver that verifies and parses (no follow-ups).
    #[uniffi::constructor(default(secondary_secret = None))]
    pub fn new(primary_secret: String, secondary_secret: Option<String>) -> Result<Arc<Self>> {
        Self::build(primary_secret, secondary_secret, None)
    }

    /// Handle one delivery: its raw body and `X-EZThrottle-Signature` header.
    pub async fn receive(&self, body: Vec<u8>, signature: Option<String>) -> WebhookDelivery {
        let received = {
            let mut continuations = self.continuations.lock().unwrap_or_else(|e| e.into_inner());
            self.receiver
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .receive(&body, signature.as_deref(), clock(None), &mut continuations)
        };
        let (mut follow_up, mut follow_up_error) = (None, None);
        if let (Some(step), Some(client)) = (received.follow_up, &self.client) {
            match client.run_step(step).await {
                Ok(result) => follow_up = Some(result),
                Err(e) => follow_up_error = Some(e),
            }
        }
        WebhookDelivery {
            status: received.status,
            body: received.body,
            reason: received.verification.reason.as_str().to_owned(),
            event: received.event.as_ref().map(|e| WebhookEvent::new(e, &body)),
            follow_up,
            follow_up_error,
        }
    }
}
