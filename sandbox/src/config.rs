//! How a sandbox runs: keys, limits, pacing, regions, webhook retries.

use crate::limits::Limits;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A token-bucket rate: `rate` tokens per second, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

impl std::str::FromStr for Rate {
    type Err = String;
    /// `RATE` or `RATE:BURST` (per second).
    fn from_str(s: &str) -> Result<Self, String> {
        let (rate, burst) = match s.split_once(':') {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        let per_second: f64 = rate
            .parse()
            .map_err(|_| format!("{rate:?} is not a number"))?;
        let burst: f64 = match burst {
            Some(b) => b.parse().map_err(|_| format!("{b:?} is not a number"))?,
            None => per_second.max(1.0),
        };
        if !(per_second > 0.0 && burst >= 1.0 && per_second.is_finite() && burst.is_finite()) {
            return Err("the rate must be positive and the burst at least 1".into());
        }
        Ok(Self { per_second, burst })
    }
}

/// The sandbox's settings. `Debug` shows the customers, never the API keys.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The database file; `None` keeps everything in memory.
    pub db: Option<PathBuf>,
    /// API key → customer id.
    pub api_keys: HashMap<String, String>,
    /// Per-key gateway rate limit; `None` is unlimited.
    pub gateway_rate: Option<Rate>,
    /// Per-upstream-host pacing; `None` is off.
    pub pacing: Option<Rate>,
    /// Region lanes that exist.
    pub regions: Vec<String>,
    /// Regions simulated as down.
    pub down_regions: Vec<String>,
    /// Timeout of an upstream request when no on_timeout trigger says otherwise.
    pub upstream_timeout: Duration,
    /// Webhook delivery: attempts, first backoff, largest backoff.
    pub webhook_attempts: u32,
    pub webhook_backoff: Duration,
    pub webhook_backoff_max: Duration,
    /// Retries of a 429 / 503 in the same region when a job has no retry policy.
    pub default_max_retries: u32,
    /// The largest request body accepted.
    pub body_limit: usize,
    /// How many jobs run at once.
    pub concurrency: usize,
    /// How many webhook deliveries run at once.
    pub delivery_concurrency: usize,
    /// EZThrottle base URLs that a gateway envelope may target besides the
    /// sandbox itself (the SDKs' default is the hosted service's URL).
    pub service_aliases: Vec<String>,
    /// What one job may ask for (headers, webhooks, retries; regions must
    /// be among `regions`).
    pub limits: Limits,
    /// Refuse job fields the wire format does not have (`serve --strict`);
    /// by default they are ignored and reported, as the hosted service does.
    pub strict: bool,
    /// Sync every database commit to disk, so acknowledged jobs survive a
    /// power loss (`serve --sync full`); off, they survive a process crash.
    pub sync_full: bool,
    /// Serve the testkit (the demo upstream `/upstream/…` and the webhook
    /// receiver `/receiver/…`, readable by anyone): for the demo and tests.
    pub testkit: bool,
    /// For tests only: a job whose URL contains this text panics when it
    /// runs, to prove a panic stays inside its job.
    #[doc(hidden)]
    pub panic_on_url: Option<String>,
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut customers: Vec<&str> = self.api_keys.values().map(String::as_str).collect();
        customers.sort_unstable();
        f.debug_struct("SandboxConfig")
            .field("addr", &self.addr)
            .field("db", &self.db)
            .field(
                "api_keys",
                &format_args!("<{} redacted>", self.api_keys.len()),
            )
            .field("customers", &customers)
            .field("gateway_rate", &self.gateway_rate)
            .field("pacing", &self.pacing)
            .field("regions", &self.regions)
            .field("down_regions", &self.down_regions)
            .field("upstream_timeout", &self.upstream_timeout)
            .field("webhook_attempts", &self.webhook_attempts)
            .field("webhook_backoff", &self.webhook_backoff)
            .field("webhook_backoff_max", &self.webhook_backoff_max)
            .field("default_max_retries", &self.default_max_retries)
            .field("body_limit", &self.body_limit)
            .field("concurrency", &self.concurrency)
            .field("delivery_concurrency", &self.delivery_concurrency)
            .field("service_aliases", &self.service_aliases)
            .field("limits", &self.limits)
            .field("testkit", &self.testkit)
            .field("strict", &self.strict)
            .field("sync_full", &self.sync_full)
            .field("panic_on_url", &self.panic_on_url)
            .finish()
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: None,
            api_keys: HashMap::new(),
            gateway_rate: Some(Rate {
                per_second: 200.0,
                burst: 400.0,
            }),
            pacing: Some(Rate {
                per_second: 50.0,
                burst: 50.0,
            }),
            regions: ["iad", "lax", "ord", "fra", "sin"]
                .map(String::from)
                .to_vec(),
            down_regions: Vec::new(),
            upstream_timeout: Duration::from_secs(30),
            webhook_attempts: 6,
            webhook_backoff: Duration::from_millis(200),
            webhook_backoff_max: Duration::from_secs(10),
            default_max_retries: 3,
            body_limit: 1024 * 1024,
            concurrency: 256,
            delivery_concurrency: 64,
            service_aliases: vec![ezthrottle_core::DEFAULT_EZTHROTTLE_URL.to_owned()],
            limits: Limits::default(),
            testkit: false,
            strict: false,
            sync_full: false,
            panic_on_url: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_customers_not_keys() {
        let mut config = SandboxConfig::default();
        config
            .api_keys
            .insert("ck_live_secret_key_0001".into(), "cust_one".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("ck_live_secret_key_0001"), "{shown}");
        assert!(
            shown.contains("cust_one") && shown.contains("<1 redacted>"),
            "{shown}"
        );
    }
}
