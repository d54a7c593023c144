//! The one error enum apps branch on, mapped from the core's once.

use ezthrottle_core::Error;

/// Everything an SDK call can fail with (Kotlin: `EzThrottleException.*`,
/// Swift: `EzThrottleError.*`). Texts are in `detail`: Kotlin exceptions
/// already have a `message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum EzThrottleError {
    /// Input refused before anything was sent; `path` names the field
    /// (`on_success.fallback[0].url`).
    #[error("invalid {path}: {detail}")]
    Validation { path: String, detail: String },
    /// The gateway refused the call for a rate limit.
    #[error("rate limited: {detail}")]
    RateLimited {
        detail: String,
        /// When to try again (ms since the Unix epoch), when known.
        retry_at_ms: Option<i64>,
    },
    /// The API key is missing, unknown or revoked.
    #[error("authentication failed: {detail}")]
    Authentication { detail: String },
    /// The plan does not allow the call.
    #[error("request denied: {detail}")]
    Denied { detail: String },
    /// EZThrottle refused the job.
    #[error("EZThrottle rejected the request with status {status}: {body}")]
    JobRejected { status: i32, body: String },
    /// The gateway itself failed.
    #[error("gateway failed with status {status}: {body}")]
    Gateway { status: i32, body: String },
    /// No webhook secrets are configured for the account.
    #[error("no webhook secrets configured; create one first")]
    SecretsNotConfigured,
    /// The service (or a local step's host) could not be reached, or timed out.
    #[error("unreachable ({kind}): {detail}")]
    Unreachable {
        /// `timeout`, `unreachable` or `transport`.
        kind: String,
        detail: String,
    },
    /// An answer that does not follow the protocol.
    #[error("protocol error: {detail}")]
    Protocol { detail: String },
    /// A webhook signature did not verify (strict checks).
    #[error("webhook signature verification failed: {reason}")]
    Signature { reason: String },
    /// The SDK was used out of order.
    #[error("misuse: {detail}")]
    Misuse { detail: String },
    /// The call's `CancellationToken` was cancelled.
    #[error("cancelled")]
    Cancelled,
}

#[uniffi::export]
impl EzThrottleError {
    /// The human text (`invalid url: …`): what Kotlin's `message` shows.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl From<Error> for EzThrottleError {
    fn from(error: Error) -> Self {
        let code = error.code();
        match error {
            Error::Validation { path, message } => Self::Validation {
                path,
                detail: message,
            },
            Error::RateLimited {
                message,
                retry_at_ms,
            } => Self::RateLimited {
                detail: message,
                retry_at_ms: retry_at_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX)),
            },
            Error::Authentication { message } => Self::Authentication { detail: message },
            Error::Denied { message } => Self::Denied { detail: message },
            Error::JobRejected { status, body } => Self::JobRejected {
                status: status.into(),
                body,
            },
            Error::Gateway { status, body } => Self::Gateway {
                status: status.into(),
                body,
            },
            Error::SecretsNotConfigured => Self::SecretsNotConfigured,
            Error::Protocol { message } => Self::Protocol { detail: message },
            Error::Transport(e) => Self::Unreachable {
                kind: code.to_owned(),
                detail: e.message,
            },
            Error::Signature { reason } => Self::Signature {
                reason: reason.as_str().to_owned(),
            },
            Error::Misuse { message } => Self::Misuse { detail: message },
        }
    }
}

pub type Result<T, E = EzThrottleError> = std::result::Result<T, E>;
