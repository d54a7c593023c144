//! The one error type of the core. Every binding maps it once, to its own idiom.

use std::fmt;

/// How a host's HTTP transport failed to produce a response.
///
/// The distinction matters: [`TransportErrorKind::Timeout`] drives `on_timeout`
/// fallbacks, and `Timeout` / `Unreachable` on a gateway call are the only
/// failures for which `forward_or_fallback` calls the host's fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportErrorKind {
    /// No answer within the request's timeout.
    Timeout,
    /// No answer came back from the peer: DNS failure, connection refused,
    /// a TLS handshake that failed, a peer that hung up before or during its
    /// answer (what the reference SDK's `requests` raises as a
    /// `ConnectionError`).
    Unreachable,
    /// Anything else: an answer that cannot be used (too large, malformed),
    /// a host-side bug.
    Other,
}

impl TransportErrorKind {
    /// The stable lower-case name used in JSON and by the bindings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transport failure reported by the host, with its own words for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct TransportError {
    /// What kind of failure it was.
    pub kind: TransportErrorKind,
    /// The host's description (never contains the API key: the core never gives it one to echo).
    pub message: String,
}

impl TransportError {
    /// A failure of the given kind.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The request timed out.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Timeout, message)
    }

    /// The peer could not be reached.
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Unreachable, message)
    }

    /// Any other transport failure.
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Other, message)
    }
}

/// Every way an SDK call can fail.
///
/// Variants are what an application branches on; bindings map each one to
/// their idiom (JS `Error` subclasses, C status codes, Kotlin exceptions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Input refused before anything was sent. `path` names the field, nested
    /// steps included (`on_success.fallback[0].url`).
    #[error("invalid {path}: {message}")]
    Validation {
        /// Where the bad value sits, e.g. `fallback[1].trigger_on_error[0]`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The account gateway refused the call because of a rate limit.
    #[error("rate limited: {message}")]
    RateLimited {
        /// The gateway's explanation.
        message: String,
        /// When to try again, in milliseconds since the Unix epoch, when known.
        retry_at_ms: Option<u64>,
    },
    /// The API key is missing, unknown or revoked (gateway 401 / 403).
    #[error("authentication failed: {message}")]
    Authentication {
        /// The gateway's explanation.
        message: String,
    },
    /// The gateway answered 200 but the plan does not allow the call.
    #[error("request denied: {message}")]
    Denied {
        /// The gateway's `error` field.
        message: String,
    },
    /// The gateway forwarded the call and EZThrottle refused it (non-2xx).
    #[error("EZThrottle rejected the request with status {status}: {body}")]
    JobRejected {
        /// The forwarded status code.
        status: u16,
        /// The forwarded body text.
        body: String,
    },
    /// The gateway itself failed (any other non-200 answer).
    #[error("gateway failed with status {status}: {body}")]
    Gateway {
        /// The gateway's status code.
        status: u16,
        /// The gateway's body text.
        body: String,
    },
    /// No webhook secrets are configured for this account (a forwarded 404).
    #[error("no webhook secrets configured; create one first")]
    SecretsNotConfigured,
    /// An answer that does not follow the protocol (not JSON, missing fields).
    #[error("protocol error: {message}")]
    Protocol {
        /// What was wrong with the answer.
        message: String,
    },
    /// The host's transport failed on a call to the service.
    #[error("transport error: {0}")]
    Transport(#[from] TransportError),
    /// A webhook signature did not verify (strict verification only).
    #[error("webhook signature verification failed: {reason}")]
    Signature {
        /// The stable reason code, e.g. `signature_mismatch`.
        reason: crate::webhook::SignatureReason,
    },
    /// The SDK was driven out of order (for example a response fed to a
    /// finished operation). A bug in the caller or binding, never in input.
    #[error("misuse: {message}")]
    Misuse {
        /// What was done out of order.
        message: String,
    },
}

impl Error {
    /// A validation error at `path`.
    pub fn validation(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Self::Protocol {
            message: message.into(),
        }
    }

    pub(crate) fn misuse(message: impl Into<String>) -> Self {
        Self::Misuse {
            message: message.into(),
        }
    }

    /// Whether this error means the EZThrottle service could not be reached at
    /// all: a timeout, or no answer came back (see
    /// [`TransportErrorKind::Unreachable`]).
    ///
    /// This is `forward_or_fallback`'s rule: only then is the host's fallback
    /// used. Rate limits and rejections prove the service is up, so they are
    /// returned as errors instead.
    pub fn is_service_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Transport(TransportError {
                kind: TransportErrorKind::Timeout | TransportErrorKind::Unreachable,
                ..
            })
        )
    }

    /// The refused field (`on_success.fallback[0].url`), for a validation error.
    pub fn field_path(&self) -> Option<&str> {
        match self {
            Self::Validation { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The answer's status code and body text, for a job the service
    /// rejected or a gateway failure.
    pub fn answer(&self) -> Option<(u16, &str)> {
        match self {
            Self::JobRejected { status, body } | Self::Gateway { status, body } => {
                Some((*status, body))
            }
            _ => None,
        }
    }

    /// When to try again (ms since the epoch), for a rate limit that said so.
    pub fn retry_at_ms(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_at_ms, .. } => *retry_at_ms,
            _ => None,
        }
    }

    /// A stable snake_case name for the variant, shared by every binding.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation",
            Self::RateLimited { .. } => "rate_limited",
            Self::Authentication { .. } => "authentication",
            Self::Denied { .. } => "denied",
            Self::JobRejected { .. } => "job_rejected",
            Self::Gateway { .. } => "gateway",
            Self::SecretsNotConfigured => "secrets_not_configured",
            Self::Protocol { .. } => "protocol",
            Self::Transport(e) => match e.kind {
                TransportErrorKind::Timeout => "timeout",
                TransportErrorKind::Unreachable => "unreachable",
                TransportErrorKind::Other => "transport",
            },
            Self::Signature { .. } => "signature",
            Self::Misuse { .. } => "misuse",
        }
    }
}

/// The result type of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
