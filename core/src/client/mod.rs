//! The client, written once for every binding (sans-IO).
//!
//! A [`Client`] owns what outlives one call: the configuration (options plus
//! the host's environment), the continuations of submitted jobs, and the
//! results delivered to this process's webhook receiver with whoever waits for
//! them. Each call hands out an [`Operation`] the host drives with its own
//! HTTP and clock; when the operation ends, the client's state is updated by
//! the operation itself, so no binding sequences "execute, then register".
//!
//! ```
//! use ezthrottle_core::webhook::signature_header;
//! use ezthrottle_core::{Client, ClientOptions};
//!
//! let client = Client::new(ClientOptions {
//!     api_key: Some("ck_test_key".into()),
//!     ..ClientOptions::default()
//! })?;
//! let mut receiver = client.webhook_receiver("whsec_primary_0123456789", None)?;
//! let wait = client.wait_for_result("job_1");
//! assert!(client.result_of("job_1").is_none());
//!
//! let body = br#"{"job_id":"job_1","status":"success"}"#;
//! let header = signature_header("whsec_primary_0123456789", 1_764_320_000, body);
//! assert_eq!(receiver.receive(body, Some(&header), 1_764_320_001).status, 200);
//! assert_eq!(wait.ready().map(|e| e.job_id), Some("job_1".to_owned()));
//! # Ok::<(), ezthrottle_core::Error>(())
//! ```
mod execution;
mod receiver;
mod results;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value};

use crate::config::ClientConfig;
use crate::error::Result;
use crate::forward::ForwardToEZThrottle;
use crate::gateway::{SecretInfo, SubmitAnswer};
use crate::job::Job;
use crate::operation::{GatewayCall, QueueRequest, SecretRotation};
use crate::step::Step;
use crate::webhook::{Continuations, WebhookEvent, WebhookReceiver};

pub use execution::{ClientExecution, ForwardCall};
pub use receiver::{ClientReceiver, Delivery, Handled};
pub use results::ResultWait;
use results::Results;

/// How many delivered results a client keeps for late waiters, and how many
/// jobs may wait for a follow-up: an app that never reads them stays bounded.
pub const RESULTS_KEPT: usize = 10_000;

/// How to build a [`Client`]. `None` takes the default.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// The API key; `None` (or empty) takes [`ClientOptions::api_key_from_env`].
    pub api_key: Option<String>,
    /// The value of [`crate::API_KEY_ENV`] in the host's environment, read by the
    /// binding (the core reads no environment itself).
    pub api_key_from_env: Option<String>,
    /// The gateway base URL ([`crate::DEFAULT_TRACKTAGS_URL`]).
    pub tracktags_url: Option<String>,
    /// The EZThrottle base URL ([`crate::DEFAULT_EZTHROTTLE_URL`]).
    pub ezthrottle_url: Option<String>,
    /// Timeout of each gateway call ([`crate::DEFAULT_TIMEOUT_MS`]).
    pub timeout_ms: Option<u64>,
    /// Run on_success / on_failure steps here when their job's webhook
    /// arrives at this URL, instead of in the service.
    pub continuation_webhook: Option<String>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field(
                "api_key_from_env",
                &self.api_key_from_env.as_ref().map(|_| "<redacted>"),
            )
            .field("tracktags_url", &self.tracktags_url)
            .field("ezthrottle_url", &self.ezthrottle_url)
            .field("timeout_ms", &self.timeout_ms)
            .field("continuation_webhook", &self.continuation_webhook)
            .finish()
    }
}

impl ClientOptions {
    /// The checked configuration. A missing key names [`crate::API_KEY_ENV`].
    pub fn to_config(&self) -> Result<ClientConfig> {
        let key = [&self.api_key, &self.api_key_from_env]
            .into_iter()
            .flatten()
            .find(|key| !key.is_empty())
            .cloned()
            .unwrap_or_default();
        let mut builder = ClientConfig::builder(key);
        if let Some(url) = self.tracktags_url.clone() {
            builder = builder.tracktags_url(url);
        }
        if let Some(url) = self.ezthrottle_url.clone() {
            builder = builder.ezthrottle_url(url);
        }
        if let Some(ms) = self.timeout_ms {
            builder = builder.timeout_ms(ms);
        }
        if let Some(url) = self.continuation_webhook.clone() {
            builder = builder.continuation_webhook(url);
        }
        builder.build()
    }
}

/// A client of the EZThrottle service. Cheap to clone: clones share the
/// continuations and the delivered results.
#[derive(Debug, Clone)]
pub struct Client {
    config: ClientConfig,
    shared: Arc<Mutex<Shared>>,
}

#[derive(Debug)]
struct Shared {
    continuations: Continuations,
    results: Results,
}

impl Client {
    /// A client from options (see [`ClientOptions::to_config`]).
    pub fn new(options: ClientOptions) -> Result<Self> {
        Ok(Self::from_config(options.to_config()?))
    }

    /// A client with a checked configuration.
    pub fn from_config(config: ClientConfig) -> Self {
        Self {
            config,
            shared: Arc::new(Mutex::new(Shared {
                continuations: Continuations::new(RESULTS_KEPT),
                results: Results::default(),
            })),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        // A panic elsewhere cannot leave these maps half-updated in a way
        // that matters more than losing the client altogether.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Execute a step (PERFORMANCE or FRUGAL). When it ends, the follow-ups
    /// it leaves to this client are registered here.
    pub fn execute(&self, step: &Step) -> Result<ClientExecution> {
        Ok(ClientExecution {
            client: self.clone(),
            execution: self.config.execute(step)?,
            done: None,
            late: VecDeque::new(),
            current: None,
        })
    }

    /// Submit a step's job as it is, whatever its type.
    pub fn submit_step(&self, step: &Step) -> Result<GatewayCall<SubmitAnswer>> {
        self.config.submit_job(&step.build_job()?)
    }

    /// Submit a job given in the wire format (PROTOCOL §2) as JSON text: a
    /// key given twice is refused, then it is read as
    /// [`submit_job_value`](Self::submit_job_value) reads it.
    pub fn submit_job_json(&self, job_json: &str) -> Result<GatewayCall<SubmitAnswer>> {
        let job = crate::json::parse_refusing_repeated_keys(job_json)
            .map_err(|e| crate::Error::validation("job", e.to_string()))?;
        self.submit_job_value(&job)
    }

    /// Submit a job given in the wire format as a JSON value, read through
    /// the builder's calls ([`Step::from_job_value`]): every field is checked
    /// as the builder checks it, and a refusal names where it sits
    /// (`on_success.url`), in every binding alike.
    pub fn submit_job_value(&self, job: &serde_json::Value) -> Result<GatewayCall<SubmitAnswer>> {
        self.config
            .submit_job(&Step::from_job_value(job)?.build_job()?)
    }

    /// Submit a job.
    pub fn submit_job(&self, job: &Job) -> Result<GatewayCall<SubmitAnswer>> {
        self.config.submit_job(job)
    }

    /// The legacy `queue_request` (PROTOCOL §9).
    pub fn queue_request(&self, request: &QueueRequest) -> Result<GatewayCall<SubmitAnswer>> {
        self.config.queue_request(request)
    }

    /// Submit a request taken over from existing code.
    pub fn forward(&self, forward: &ForwardToEZThrottle) -> Result<GatewayCall<SubmitAnswer>> {
        self.config.submit_job(&forward.to_job()?)
    }

    /// Submit `forward`; the operation answers [`ForwardOrFallback::Fallback`](crate::ForwardOrFallback::Fallback)
    /// (and the host runs its fallback) only when the service cannot be
    /// reached at all ([`crate::Error::is_service_unreachable`]).
    pub fn forward_or_fallback(&self, forward: &ForwardToEZThrottle) -> Result<ForwardCall> {
        Ok(ForwardCall(self.forward(forward)?))
    }

    /// Create or replace the webhook secrets.
    pub fn create_webhook_secret(
        &self,
        primary: &str,
        secondary: Option<&str>,
    ) -> Result<GatewayCall<Map<String, Value>>> {
        self.config.create_webhook_secret(primary, secondary)
    }

    /// Read the webhook secrets (masked).
    pub fn get_webhook_secret(&self) -> GatewayCall<SecretInfo> {
        self.config.get_webhook_secret()
    }

    /// Remove the webhook secrets.
    pub fn delete_webhook_secret(&self) -> GatewayCall<Map<String, Value>> {
        self.config.delete_webhook_secret()
    }

    /// Rotate the webhook secrets (see [`ClientConfig::rotate_webhook_secret`]).
    pub fn rotate_webhook_secret(
        &self,
        new_secret: &str,
        current_secret: Option<&str>,
    ) -> Result<SecretRotation> {
        self.config
            .rotate_webhook_secret(new_secret, current_secret)
    }

    /// A webhook endpoint of this client: it verifies with these secrets,
    /// refuses replays, hands over this client's follow-ups and wakes
    /// whoever waits for the job.
    pub fn webhook_receiver(
        &self,
        primary_secret: &str,
        secondary_secret: Option<&str>,
    ) -> Result<ClientReceiver> {
        Ok(ClientReceiver {
            receiver: WebhookReceiver::new(primary_secret, secondary_secret.map(str::to_owned))?,
            client: Some(self.clone()),
            no_follow_ups: Continuations::new(1),
        })
    }

    /// The delivered result of `job_id`, when this client's receiver has it.
    pub fn result_of(&self, job_id: &str) -> Option<WebhookEvent> {
        self.shared().results.get(job_id)
    }

    /// Wait for `job_id`'s result to reach this client's receiver (at once
    /// when it already has). A future for any executor; the host adds the
    /// timeout, and dropping the wait cancels it.
    pub fn wait_for_result(&self, job_id: &str) -> ResultWait {
        ResultWait {
            job_id: job_id.to_owned(),
            waiter: None,
            shared: self.shared.clone(),
        }
    }

    /// How many submitted jobs wait for their webhook to run a follow-up.
    pub fn pending_continuations(&self) -> usize {
        self.shared().continuations.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn event(job_id: &str) -> WebhookEvent {
        WebhookEvent::parse(format!(r#"{{"job_id":"{job_id}","status":"success"}}"#).as_bytes())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_wait_is_woken_once_and_dropping_it_frees_its_waker() {
        let client = Client::from_config(
            ClientConfig::builder("ck_test_key")
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut wait = client.wait_for_result("job_1");
        assert!(Pin::new(&mut wait).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut wait).poll(&mut cx).is_pending());
        assert_eq!(
            client.shared().results.waiters(),
            1,
            "re-polling keeps one waker"
        );
        let woken = client.shared().results.deliver(event("job_1"));
        woken.into_iter().for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(matches!(Pin::new(&mut wait).poll(&mut cx), Poll::Ready(e) if e.job_id == "job_1"));

        let mut cancelled = client.wait_for_result("job_2");
        assert!(Pin::new(&mut cancelled).poll(&mut cx).is_pending());
        drop(cancelled);
        assert_eq!(
            client.shared().results.waiters(),
            0,
            "a dropped wait leaves nothing"
        );
    }

    /// Records whether the client's lock was free when it was woken.
    struct LockFree(Arc<Mutex<Shared>>, AtomicUsize);
    impl Wake for LockFree {
        fn wake(self: Arc<Self>) {
            if self.0.try_lock().is_ok() {
                self.1.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn waiters_are_woken_after_the_lock_is_released() {
        let client = Client::from_config(
            ClientConfig::builder("ck_test_key")
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let probe = Arc::new(LockFree(client.shared.clone(), AtomicUsize::new(0)));
        let waker = Waker::from(probe.clone());
        let mut wait = client.wait_for_result("job_1");
        assert!(Pin::new(&mut wait)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let secret = "whsec_primary_0123456789";
        let mut receiver = client
            .webhook_receiver(secret, None)
            .unwrap_or_else(|e| panic!("{e}"));
        let body = br#"{"job_id":"job_1","status":"success"}"#;
        let header = crate::webhook::signature_header(secret, 1_764_320_000, body);
        assert_eq!(
            receiver.receive(body, Some(&header), 1_764_320_000).status,
            200
        );
        assert_eq!(
            probe.1.load(Ordering::SeqCst),
            1,
            "woken once, with the lock free"
        );
    }

    #[test]
    fn delivered_results_stay_bounded() {
        let mut results = Results::default();
        for i in 0..=RESULTS_KEPT {
            assert!(results.deliver(event(&format!("job_{i}"))).is_empty());
        }
        assert_eq!(results.delivered.len(), RESULTS_KEPT);
        assert!(results.get("job_0").is_none(), "the oldest goes first");
        assert!(results.get(&format!("job_{RESULTS_KEPT}")).is_some());
    }
}
