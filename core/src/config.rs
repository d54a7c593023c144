//! Client configuration: the API key (never shown), the two base URLs and the
//! timeout of gateway calls.

use std::fmt;

use crate::error::{Error, Result};
use crate::validate::check_http_url;

/// The default account gateway.
pub const DEFAULT_TRACKTAGS_URL: &str = "https://tracktags.fly.dev";
/// The default EZThrottle service, as the gateway forwards to it.
pub const DEFAULT_EZTHROTTLE_URL: &str = "https://ezthrottle.fly.dev";
/// The default timeout of a gateway call.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// The environment variable bindings read the key from when none is given.
pub const API_KEY_ENV: &str = "EZTHROTTLE_API_KEY";

/// An API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Check and wrap a key: non-empty, printable ASCII (it travels in a header).
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        if key.is_empty() {
            return Err(Error::validation(
                "api_key",
                format!("is empty; pass one or set {API_KEY_ENV}"),
            ));
        }
        if key.len() > 1024 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            // The message must not quote the key.
            return Err(Error::validation(
                "api_key",
                "must be at most 1024 printable ASCII characters without spaces",
            ));
        }
        Ok(Self(key))
    }

    /// The key itself, for the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A checked client configuration. Build one with [`ClientConfig::builder`].
///
/// ```
/// use ezthrottle_core::ClientConfig;
/// let config = ClientConfig::builder("ck_live_cust_1_abc")
///     .tracktags_url("http://127.0.0.1:8080/")
///     .timeout_ms(5_000)
///     .build()?;
/// assert_eq!(config.tracktags_url(), "http://127.0.0.1:8080");
/// assert!(!format!("{config:?}").contains("ck_live"));
/// # Ok::<(), ezthrottle_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    api_key: ApiKey,
    tracktags_url: String,
    ezthrottle_url: String,
    timeout_ms: u64,
    continuation_webhook: Option<String>,
}

impl ClientConfig {
    /// Start a configuration with this API key and the default URLs.
    pub fn builder(api_key: impl Into<String>) -> ClientConfigBuilder {
        ClientConfigBuilder {
            api_key: api_key.into(),
            tracktags_url: DEFAULT_TRACKTAGS_URL.to_owned(),
            ezthrottle_url: DEFAULT_EZTHROTTLE_URL.to_owned(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
            continuation_webhook: None,
        }
    }

    /// The API key.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The gateway base URL, without a trailing slash.
    pub fn tracktags_url(&self) -> &str {
        &self.tracktags_url
    }

    /// The EZThrottle base URL, without a trailing slash.
    pub fn ezthrottle_url(&self) -> &str {
        &self.ezthrottle_url
    }

    /// The timeout of each gateway call.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    /// The webhook URL at which this client receives its own workflow
    /// continuations, when it runs them itself.
    pub fn continuation_webhook(&self) -> Option<&str> {
        self.continuation_webhook.as_deref()
    }
}

/// Builder of a [`ClientConfig`]; [`ClientConfigBuilder::build`] checks it.
#[derive(Clone)]
pub struct ClientConfigBuilder {
    api_key: String,
    tracktags_url: String,
    ezthrottle_url: String,
    timeout_ms: u64,
    continuation_webhook: Option<String>,
}

impl fmt::Debug for ClientConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfigBuilder")
            .field("api_key", &"<redacted>")
            .field("tracktags_url", &self.tracktags_url)
            .field("ezthrottle_url", &self.ezthrottle_url)
            .field("timeout_ms", &self.timeout_ms)
            .field("continuation_webhook", &self.continuation_webhook)
            .finish()
    }
}

impl ClientConfigBuilder {
    /// The account gateway's base URL.
    #[must_use]
    pub fn tracktags_url(mut self, url: impl Into<String>) -> Self {
        self.tracktags_url = url.into();
        self
    }

    /// The EZThrottle service's base URL (the gateway forwards to it).
    #[must_use]
    pub fn ezthrottle_url(mut self, url: impl Into<String>) -> Self {
        self.ezthrottle_url = url.into();
        self
    }

    /// The timeout of each gateway call, in milliseconds.
    #[must_use]
    pub fn timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// Run on_success / on_failure steps of submitted jobs in this client when
    /// their webhook arrives at `url`, instead of inside the service.
    #[must_use]
    pub fn continuation_webhook(mut self, url: impl Into<String>) -> Self {
        self.continuation_webhook = Some(url.into());
        self
    }

    /// Check everything and build the configuration.
    pub fn build(self) -> Result<ClientConfig> {
        let base = |field: &str, url: String| -> Result<String> {
            check_http_url(&url).map_err(|m| Error::validation(field, m))?;
            Ok(url.trim_end_matches('/').to_owned())
        };
        if self.timeout_ms == 0 || self.timeout_ms > crate::validate::MAX_LOCAL_TIMEOUT_MS {
            return Err(Error::validation(
                "timeout_ms",
                "must be positive and at most one day",
            ));
        }
        if let Some(hook) = &self.continuation_webhook {
            check_http_url(hook).map_err(|m| Error::validation("continuation_webhook", m))?;
        }
        Ok(ClientConfig {
            api_key: ApiKey::new(self.api_key)?,
            tracktags_url: base("tracktags_url", self.tracktags_url)?,
            ezthrottle_url: base("ezthrottle_url", self.ezthrottle_url)?,
            timeout_ms: self.timeout_ms,
            continuation_webhook: self.continuation_webhook,
        })
    }
}
