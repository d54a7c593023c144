//! Webhook deliveries: signatures (rotation, tolerance), parsing, and a
//! receiver that answers them and runs registered follow-ups.

use std::sync::{Arc, Mutex};

use ezthrottle_core::webhook::{self, Verification, DEFAULT_TOLERANCE_SECS};

use crate::client::{ExecuteResult, EzThrottle};
use crate::error::{EzThrottleError, Result};
use crate::transport::Transport;
use ezthrottle_transport::now_ms;

/// A signature check: `reason` is the stable code shared by every SDK
/// (`valid`, `valid_primary`, `signature_mismatch`, `timestamp_expired`, …).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignatureCheck {
    pub valid: bool,
    pub reason: String,
    /// For `both_secrets_failed`: why the primary secret failed.
    pub primary_reason: Option<String>,
    /// The header's timestamp (unix seconds), when it had a readable one.
    pub timestamp: Option<i64>,
}

impl From<Verification> for SignatureCheck {
    fn from(check: Verification) -> Self {
        Self {
            valid: check.is_valid(),
            reason: check.reason.as_str().to_owned(),
            primary_reason: check.primary_reason.map(|r| r.as_str().to_owned()),
            timestamp: check.timestamp,
        }
    }
}

/// The tolerance given (refused when negative), or the default.
fn tolerance(tolerance_secs: Option<i64>) -> Result<u64> {
    Ok(tolerance_secs
        .map(|secs| ezthrottle_core::non_negative("tolerance_secs", secs))
        .transpose()?
        .unwrap_or(DEFAULT_TOLERANCE_SECS))
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
    tolerance_secs: Option<i64>,
) -> Result<SignatureCheck> {
    Ok(webhook::verify_signature(
        &payload,
        signature.as_deref().unwrap_or_default(),
        &secret,
        clock(now_secs),
        tolerance(tolerance_secs)?,
    )
    .into())
}

/// Check with the primary secret, then the secondary (during a rotation).
#[uniffi::export(default(now_secs = None, tolerance_secs = None))]
pub fn verify_with_secrets(
    payload: Vec<u8>,
    signature: Option<String>,
    primary_secret: String,
    secondary_secret: Option<String>,
    now_secs: Option<i64>,
    tolerance_secs: Option<i64>,
) -> Result<SignatureCheck> {
    Ok(webhook::verify_with_secrets(
        &payload,
        signature.as_deref().unwrap_or_default(),
        &primary_secret,
        secondary_secret.as_deref(),
        clock(now_secs),
        tolerance(tolerance_secs)?,
    )
    .into())
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
    tolerance_secs: Option<i64>,
) -> Result<SignatureCheck> {
    Ok(webhook::verify_signature_strict(
        &payload,
        signature.as_deref().unwrap_or_default(),
        &primary_secret,
        secondary_secret.as_deref(),
        clock(now_secs),
        tolerance(tolerance_secs)?,
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
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    /// The job's metadata as a JSON object.
    pub metadata_json: String,
    /// The whole delivery as JSON.
    pub json: String,
}

impl WebhookEvent {
    pub(crate) fn from_core(event: &webhook::WebhookEvent) -> Self {
        Self {
            job_id: event.job_id.clone(),
            idempotent_key: event.idempotent_key.clone(),
            succeeded: event.succeeded(),
            response_status: event.response.as_ref().map(|r| r.status_code.into()),
            response_body: event.response.as_ref().map(|r| r.body.clone()),
            metadata_json: ezthrottle_core::json::object_to_string(&event.metadata),
            json: ezthrottle_core::json::to_string(&event.to_json()),
        }
    }
}

/// Parse a delivery's raw body (verify it first).
#[uniffi::export]
pub fn parse_webhook_event(body: Vec<u8>) -> Result<WebhookEvent> {
    Ok(WebhookEvent::from_core(&webhook::WebhookEvent::parse(
        &body,
    )?))
}

/// What the receiver did with one delivery: answer `status` with `body`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WebhookDelivery {
    /// 200 accepted (or a repeat), 400 malformed, 401 bad signature.
    pub status: i32,
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
#[derive(uniffi::Object)]
pub struct WebhookReceiver {
    inner: Mutex<ezthrottle_core::ClientReceiver>,
    /// The client's transport, for its follow-ups.
    transport: Transport,
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl WebhookReceiver {
    pub(crate) fn for_client(
        client: &EzThrottle,
        primary: &str,
        secondary: Option<String>,
        tolerance_secs: Option<i64>,
    ) -> Result<Arc<Self>> {
        let receiver = client
            .client
            .webhook_receiver(primary, secondary.as_deref())?
            .tolerance_secs(tolerance(tolerance_secs)?);
        Ok(Arc::new(Self {
            inner: Mutex::new(receiver),
            transport: client.transport.clone(),
        }))
    }
}

#[uniffi::export]
impl WebhookReceiver {
    /// A receiver that verifies and parses (no follow-ups).
    #[uniffi::constructor(default(secondary_secret = None, tolerance_secs = None))]
    pub fn new(
        primary_secret: String,
        secondary_secret: Option<String>,
        tolerance_secs: Option<i64>,
    ) -> Result<Arc<Self>> {
        let receiver = ezthrottle_core::ClientReceiver::standalone(
            &primary_secret,
            secondary_secret.as_deref(),
        )?
        .tolerance_secs(tolerance(tolerance_secs)?);
        Ok(Arc::new(Self {
            inner: Mutex::new(receiver),
            transport: Transport::Nothing,
        }))
    }

    /// Handle one delivery: its raw body and `X-EZThrottle-Signature` header.
    /// A refused delivery (forged, replayed, malformed) is an answer, and a
    /// follow-up's failure is reported in it; this throws only when the
    /// transport cannot run at all (the built-in one found no thread), for
    /// the app's server to answer 500 as it does for any exception.
    pub async fn receive(
        &self,
        body: Vec<u8>,
        signature: Option<String>,
    ) -> Result<WebhookDelivery> {
        let delivery = self.delivery(&body, signature.as_deref());
        Ok(self.transport.run(delivery).await?.into())
    }

    /// `receive` on the caller's thread (a follow-up's requests included):
    /// for Java and servers with a thread per request.
    pub fn receive_blocking(
        &self,
        body: Vec<u8>,
        signature: Option<String>,
    ) -> Result<WebhookDelivery> {
        let delivery = self.delivery(&body, signature.as_deref());
        Ok(self.transport.run_blocking(delivery)?.into())
    }
}

impl WebhookReceiver {
    fn delivery(&self, body: &[u8], signature: Option<&str>) -> ezthrottle_core::Delivery {
        // The lock covers the decision only, never the follow-up's requests.
        let mut receiver = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        receiver.handle(body, signature, clock(None))
    }
}

impl From<ezthrottle_core::Handled> for WebhookDelivery {
    fn from(handled: ezthrottle_core::Handled) -> Self {
        let received = handled.received;
        let (follow_up, follow_up_error) = match handled.follow_up {
            None => (None, None),
            Some(Ok(run)) => (Some(ExecuteResult::from(run)), None),
            Some(Err(error)) => (None, Some(error.into())),
        };
        Self {
            status: received.status.into(),
            body: received.body,
            reason: received.verification.reason.as_str().to_owned(),
            event: received.event.as_ref().map(WebhookEvent::from_core),
            follow_up,
            follow_up_error,
        }
    }
}
