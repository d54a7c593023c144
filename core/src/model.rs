//! The typed vocabulary of a job: enums parsed from the protocol's strings,
//! webhooks, retry policies and fallback triggers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Defines a string enum of the protocol: `as_str`, `Display`, `FromStr` with an
/// error naming `field`, and serde as the lower-case string.
macro_rules! protocol_enum {
    (
        $(#[$meta:meta])*
        $name:ident, field = $field:literal, default = $default:ident,
        { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $text)]
                $variant,
            )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The protocol's spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl Default for $name {
            fn default() -> Self { $name::$default }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::validation(
                        $field,
                        format!(
                            "{:?} is not one of {}",
                            s,
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}

protocol_enum! {
    /// Where a step runs first.
    StepType, field = "type", default = Performance, {
        /// Submitted to EZThrottle at once (the default).
        Performance = "performance",
        /// Run locally first; forwarded only on chosen errors.
        Frugal = "frugal",
    }
}

protocol_enum! {
    /// How the idempotency key of a job is chosen when no custom key is set.
    IdempotentStrategy, field = "idempotent_strategy", default = Hash, {
        /// The service hashes (url, method, body, customer): repeats are duplicates.
        Hash = "hash",
        /// A fresh random UUID v4 per build: repeats run again.
        Unique = "unique",
    }
}

protocol_enum! {
    /// What happens when a named region is down.
    RegionPolicy, field = "region_policy", default = Fallback, {
        /// Route around a down region (the default).
        Fallback = "fallback",
        /// Fail when a named region is down.
        Strict = "strict",
    }
}

protocol_enum! {
    /// How the regions of a job run.
    ExecutionMode, field = "execution_mode", default = Race, {
        /// The first region to finish wins (the default).
        Race = "race",
        /// Every region runs.
        Fanout = "fanout",
    }
}

/// One webhook a job's result is delivered to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Absolute http(s) URL of the receiver.
    pub url: String,
    /// Regions to deliver from; the service chooses when absent.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Whether this webhook counts toward the quorum; the service treats
    /// absent as `true`.
    #[serde(default)]
    pub has_quorum_vote: Option<bool>,
}

impl Webhook {
    /// A webhook with only a URL (voting, any region).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            regions: None,
            has_quorum_vote: None,
        }
    }

    /// Deliver from these regions.
    #[must_use]
    pub fn regions<I, S>(mut self, regions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.regions = Some(regions.into_iter().map(Into::into).collect());
        self
    }

    /// Set whether the webhook counts toward the quorum.
    #[must_use]
    pub fn quorum_vote(mut self, vote: bool) -> Self {
        self.has_quorum_vote = Some(vote);
        self
    }

    /// Whether the service counts this webhook toward the quorum.
    pub fn votes(&self) -> bool {
        self.has_quorum_vote.unwrap_or(true)
    }
}

/// How the service retries a job. Absent fields take the service's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Retries in the same region.
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Moves to another region.
    #[serde(default)]
    pub max_reroutes: Option<u32>,
    /// Status codes retried in the same region.
    #[serde(default)]
    pub retry_codes: Option<Vec<u16>>,
    /// Status codes that move the job to another region.
    #[serde(default)]
    pub reroute_codes: Option<Vec<u16>>,
}

impl RetryPolicy {
    /// Whether nothing is set (such a policy is left out of the payload).
    pub fn is_empty(&self) -> bool {
        self.max_retries.is_none()
            && self.max_reroutes.is_none()
            && self.retry_codes.is_none()
            && self.reroute_codes.is_none()
    }
}

/// When a fallback runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Trigger {
    /// No condition: tried whenever the step before it failed.
    #[default]
    Always,
    /// Tried when the failure was one of these status codes.
    OnError(Vec<u16>),
    /// Tried when the attempt timed out; the service waits this many
    /// milliseconds before declaring the timeout.
    OnTimeout(u64),
}

impl Trigger {
    /// The trigger of the fallback at `path` from the parts given: status
    /// codes, a timeout, or neither (always); both is refused before either
    /// is read. The one statement of "codes or timeout, not both".
    pub fn from_parts<C, T>(
        on_error: Option<C>,
        on_timeout: Option<T>,
        path: &str,
        codes: impl FnOnce(C) -> Result<Vec<u16>, Error>,
        timeout_ms: impl FnOnce(T) -> Result<u64, Error>,
    ) -> Result<Self, Error> {
        match (on_error, on_timeout) {
            (Some(_), Some(_)) => Err(Error::validation(
                crate::validate::join_path(path, "trigger"),
                "give trigger_on_error or trigger_on_timeout, not both",
            )),
            (Some(on_error), None) => codes(on_error).map(Self::OnError),
            (None, Some(on_timeout)) => timeout_ms(on_timeout).map(Self::OnTimeout),
            (None, None) => Ok(Self::Always),
        }
    }

    /// Whether this trigger fires for a local attempt that ended in `failure`.
    ///
    /// Codes match only a status; a network error has none. An `on_timeout`
    /// trigger fires only on a timeout **(ours: the reference fires it on any
    /// error)**.
    pub fn fires_on(&self, failure: &LocalFailure) -> bool {
        match (self, failure) {
            (Self::Always, _) => true,
            (Self::OnError(codes), LocalFailure::Status(code)) => codes.contains(code),
            (Self::OnError(_), _) => false,
            (Self::OnTimeout(_), LocalFailure::Timeout) => true,
            (Self::OnTimeout(_), _) => false,
        }
    }
}

/// Why a local attempt did not succeed; what fallback triggers are matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalFailure {
    /// The upstream answered with this non-2xx status.
    Status(u16),
    /// The request timed out.
    Timeout,
    /// Any other transport failure (connection refused, DNS, TLS, …).
    Network,
}

// The wire form of a trigger is `{}` / `{"type":"on_error","codes":[…]}` /
// `{"type":"on_timeout","timeout_ms":n}`; `payload.rs` writes it.
impl<'de> Deserialize<'de> for Trigger {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            #[serde(rename = "type")]
            kind: Option<String>,
            codes: Option<Vec<u16>>,
            timeout_ms: Option<u64>,
        }
        use serde::de::Error as _;
        let wire = Wire::deserialize(deserializer)?;
        match (wire.kind.as_deref(), wire.codes, wire.timeout_ms) {
            (None, None, None) => Ok(Self::Always),
            (Some("on_error"), Some(codes), None) => Ok(Self::OnError(codes)),
            (Some("on_timeout"), None, Some(ms)) => Ok(Self::OnTimeout(ms)),
            _ => Err(D::Error::custom(
                "trigger must be {}, {type: on_error, codes} or {type: on_timeout, timeout_ms}",
            )),
        }
    }
}
