//! Receiving a webhook delivery end to end, sans-IO: what an HTTP handler in
//! any binding (an edge worker, a Node server, a mobile app's relay) answers,
//! decided once here.
//!
//! The handler hands over the raw body, the signature header and the time; it
//! gets back the status and JSON body to answer, the parsed event, and the
//! follow-up step to run when the job had registered continuations (kept by
//! the caller, usually its client, so the jobs it submits and the deliveries
//! it receives meet in one [`Continuations`]).

use serde_json::json;

use super::continuations::Continuations;
use super::event::WebhookEvent;
use super::replay::ReplayGuard;
use super::signature::{SignatureReason, Verification, DEFAULT_TOLERANCE_SECS};
use crate::error::{Error, Result};
use crate::step::Step;

/// A webhook endpoint's state: its secrets and the replay guard.
///
/// ```
/// use ezthrottle_core::webhook::{signature_header, Continuations, WebhookReceiver};
/// let mut receiver = WebhookReceiver::new("whsec_primary_0123456789", None)?;
/// let mut pending = Continuations::default();
/// let body = br#"{"job_id":"job_1","status":"success"}"#;
/// let header = signature_header("whsec_primary_0123456789", 1_764_320_000, body);
/// let received = receiver.receive(body, Some(&header), 1_764_320_001, &mut pending);
/// assert_eq!(received.status, 200);
/// assert_eq!(received.event.map(|e| e.job_id).as_deref(), Some("job_1"));
/// // The same delivery again is acknowledged but not handed over twice.
/// let again = receiver.receive(body, Some(&header), 1_764_320_002, &mut pending);
/// assert_eq!((again.status, again.event), (200, None));
/// # Ok::<(), ezthrottle_core::Error>(())
/// ```
#[derive(Clone)]
pub struct WebhookReceiver {
    primary: String,
    secondary: Option<String>,
    tolerance_secs: u64,
    replays: ReplayGuard,
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("secrets", &"<redacted>")
            .field("tolerance_secs", &self.tolerance_secs)
            .finish_non_exhaustive()
    }
}

/// What to do with one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The HTTP status to answer: 200 accepted (or a repeat), 401 bad
    /// signature, 400 malformed body.
    pub status: u16,
    /// The JSON body to answer.
    pub body: String,
    /// The signature check.
    pub verification: Verification,
    /// The event, when the delivery is authentic, well-formed and new.
    pub event: Option<WebhookEvent>,
    /// The registered on_success / on_failure step to run now, if any.
    pub follow_up: Option<Step>,
}

impl WebhookReceiver {
    /// A receiver verifying with `primary` (and `secondary` during a rotation).
    /// Empty secrets are refused: they would make every signature forgeable.
    pub fn new(primary: impl Into<String>, secondary: Option<String>) -> Result<Self> {
        let primary = primary.into();
        if primary.is_empty() {
            return Err(Error::validation("primary_secret", "must not be empty"));
        }
        if secondary.as_deref() == Some("") {
            return Err(Error::validation("secondary_secret", "must not be empty"));
        }
        Ok(Self {
            primary,
            secondary,
            tolerance_secs: DEFAULT_TOLERANCE_SECS,
            replays: ReplayGuard::new(10_000),
        })
    }

    /// How far (seconds) a signature's timestamp may be from now.
    #[must_use]
    pub fn tolerance_secs(mut self, seconds: u64) -> Self {
        self.tolerance_secs = seconds;
        self
    }

    /// Decide what one delivery means. `signature` is the
    /// `X-EZThrottle-Signature` header (`None` when absent); `now_secs` is the
    /// receiver's clock in unix seconds. A new, authentic event takes its
    /// job's follow-up out of `continuations`.
    pub fn receive(
        &mut self,
        body: &[u8],
        signature: Option<&str>,
        now_secs: i64,
        continuations: &mut Continuations,
    ) -> Received {
        let verification = self.replays.verify(
            body,
            signature.unwrap_or_default(),
            &self.primary,
            self.secondary.as_deref(),
            now_secs,
            self.tolerance_secs,
        );
        let refuse = |status: u16, body: serde_json::Value, verification| Received {
            status,
            body: crate::json::to_string(&body),
            verification,
            event: None,
            follow_up: None,
        };
        match verification.reason {
            // A repeat of an accepted delivery is acknowledged, so a sender
            // retrying it stops, but never handled twice.
            SignatureReason::Replayed => refuse(
                200,
                json!({"received": true, "duplicate": true}),
                verification,
            ),
            reason if !reason.is_valid() => refuse(
                401,
                json!({"error": "invalid_signature", "reason": reason.as_str()}),
                verification,
            ),
            _ => match WebhookEvent::parse(body) {
                Err(e) => refuse(
                    400,
                    json!({"error": "malformed_delivery", "message": e.to_string()}),
                    verification,
                ),
                Ok(event) => Received {
                    status: 200,
                    body: crate::json::to_string(
                        &json!({"received": true, "job_id": event.job_id}),
                    ),
                    verification,
                    follow_up: continuations.resolve(&event),
                    event: Some(event),
                },
            },
        }
    }
}
