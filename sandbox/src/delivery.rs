//! Webhook delivery (PROTOCOL §7): the job's result POSTed to each webhook,
//! signed with the customer's primary secret, retried with exponential backoff.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use ezthrottle_core::webhook::{signature_header, SIGNATURE_HEADER};
use futures_util::FutureExt;

use crate::state::{now_ms, App};

/// Deliver one webhook. A panic while delivering fails this delivery, with
/// the reason, and touches no other.
pub async fn deliver(app: Arc<App>, id: i64) {
    if let Err(panic) = AssertUnwindSafe(attempts(&app, id)).catch_unwind().await {
        let reason = crate::executor::panicked("delivering this webhook", &*panic);
        if let Err(e) = app.store.record_delivery(id, "failed", None, Some(&reason)) {
            tracing::error!(error = %e, "cannot record a delivery");
        }
    }
}

async fn attempts(app: &Arc<App>, id: i64) {
    let Ok(Some(row)) = app.store.delivery(id) else {
        return;
    };
    let Ok(Some(result)) = app.store.job_result(&row.job_id) else {
        tracing::error!(delivery = id, "a delivery without a job result");
        return;
    };
    let body = result.to_string();
    let max = i64::from(app.config.webhook_attempts.max(1));
    let mut attempt = row.attempts;
    while attempt < max {
        let mut request = app
            .http
            .post(&row.url)
            .timeout(Duration::from_secs(10))
            .header("content-type", "application/json")
            .body(body.clone());
        // Read the secrets at each attempt: a rotation applies to retries too.
        if let Ok(Some((primary, _))) = app.store.secrets(&row.customer) {
            request = request.header(
                SIGNATURE_HEADER,
                signature_header(&primary, now_ms() / 1000, body.as_bytes()),
            );
        }
        attempt += 1;
        let (status, error) = match request.send().await {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let state = match (delivered, attempt >= max) {
            (true, _) => "delivered",
            (false, true) => "failed",
            (false, false) => "pending",
        };
        if let Err(e) = app
            .store
            .record_delivery(id, state, status, error.as_deref())
        {
            tracing::error!(error = %e, "cannot record a delivery");
        }
        if state != "pending" {
            return;
        }
        let exponent = u32::try_from(attempt - 1).unwrap_or(u32::MAX).min(16);
        let backoff = app.config.webhook_backoff.saturating_mul(1 << exponent);
        tokio::time::sleep(backoff.min(app.config.webhook_backoff_max)).await;
    }
}
