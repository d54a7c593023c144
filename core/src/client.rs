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
//! let mut wait = client.wait_for_result("job_1");
//! assert!(client.result_of("job_1").is_none());
//!
//! let body = br#"{"job_id":"job_1","status":"success"}"#;
//! let header = signature_header("whsec_primary_0123456789", 1_764_320_000, body);
//! assert_eq!(receiver.receive(body, Some(&header), 1_764_320_001).status, 200);
//! assert_eq!(wait.ready().map(|e| e.job_id), Some("job_1".to_owned()));
//! # Ok::<(), ezthrottle_core::Error>(())
//! ```

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use serde_json::{Map, Value};

use crate::blocking::Run;
use crate::config::ClientConfig;
use crate::error::Result;
use crate::forward::{ForwardOrFallback, ForwardToEZThrottle};
use crate::gateway::{SecretInfo, SubmitAnswer};
use crate::job::Job;
use crate::operation::{Action, GatewayCall, Operation, QueueRequest, Reply, SecretRotation};
use crate::step::Step;
use crate::webhook::{Continuations, Received, WebhookEvent, WebhookReceiver};
use crate::workflow::Execution;

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

    /// Submit a job given in the wire format (PROTOCOL §2), checked first.
    pub fn submit_job_json(&self, job_json: &str) -> Result<GatewayCall<SubmitAnswer>> {
        self.config.submit_job(&Job::from_json(job_json)?)
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

    /// Submit `forward`; the operation answers [`ForwardOrFallback::Fallback`]
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
            client: self.clone(),
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

/// [`Client::execute`]'s operation: an [`Execution`] that registers its
/// continuations with the client when it ends.
///
/// A fast job's webhook can reach the client's receiver before the submit
/// answer reaches this execution: its follow-up then finds nothing
/// registered. So a continuation whose job's result is already here is
/// resolved at once, and its step runs as the end of this execution (in its
/// trace; a failure there does not undo the submission).
#[derive(Debug)]
pub struct ClientExecution {
    client: Client,
    execution: Execution,
    /// The main run, once over, while late follow-ups run.
    done: Option<Run>,
    late: VecDeque<Step>,
    /// The late follow-up running now, and its step.
    current: Option<(Step, Box<ClientExecution>)>,
}

impl ClientExecution {
    fn finish(&mut self, action: Action<crate::Outcome>) -> Action<Run> {
        let outcome = match action {
            Action::Send(request) => return Action::Send(request),
            Action::Done(Err(error)) => return Action::Done(Err(error)),
            Action::Done(Ok(outcome)) => outcome,
        };
        let continuations = self.execution.take_continuations();
        {
            let mut shared = self.client.shared();
            let Shared {
                continuations: pending,
                results,
            } = &mut *shared;
            for continuation in &continuations {
                pending.register(continuation.clone());
                if let Some(event) = results.get(&continuation.job_id) {
                    self.late.extend(pending.resolve(&event));
                }
            }
        }
        self.done = Some(Run {
            outcome,
            trace: self.execution.trace().clone(),
            continuations,
        });
        self.next_late()
    }

    /// Start the next late follow-up, or end with the main run.
    fn next_late(&mut self) -> Action<Run> {
        while let Some(step) = self.late.pop_front() {
            let mut child = match self.client.execute(&step) {
                Ok(child) => child,
                Err(error) => {
                    self.absorb(&step, Err(error));
                    continue;
                }
            };
            match child.start() {
                Action::Send(request) => {
                    self.current = Some((step, Box::new(child)));
                    return Action::Send(request);
                }
                Action::Done(result) => self.absorb(&step, result),
            }
        }
        match self.done.take() {
            Some(run) => Action::Done(Ok(run)),
            None => Action::Done(Err(crate::Error::misuse("the execution is over"))),
        }
    }

    /// A late follow-up ended: its trace (or its failure) joins the main one.
    fn absorb(&mut self, step: &Step, result: Result<Run>) {
        let Some(done) = self.done.as_mut() else {
            return;
        };
        match result {
            Ok(run) => done.trace.extend(run.trace),
            Err(error) => done.trace.push(crate::TraceEntry {
                step: step.label(),
                status: crate::TraceStatus::Failed,
                status_code: None,
                response: None,
                response_meaning: None,
                error: Some(error.to_string()),
            }),
        }
    }
}

impl Operation for ClientExecution {
    type Output = Run;

    fn start(&mut self) -> Action<Run> {
        let action = self.execution.start();
        self.finish(action)
    }

    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<Run> {
        let Some((_, child)) = self.current.as_mut() else {
            let action = self.execution.feed(now_ms, reply);
            return self.finish(action);
        };
        match child.feed(now_ms, reply) {
            Action::Send(request) => Action::Send(request),
            Action::Done(result) => {
                if let Some((step, _)) = self.current.take() {
                    self.absorb(&step, result);
                }
                self.next_late()
            }
        }
    }
}

/// [`Client::forward_or_fallback`]'s operation.
#[derive(Debug)]
pub struct ForwardCall(GatewayCall<SubmitAnswer>);

impl Operation for ForwardCall {
    type Output = ForwardOrFallback<()>;

    fn start(&mut self) -> Action<Self::Output> {
        match self.0.start() {
            Action::Send(request) => Action::Send(request),
            Action::Done(result) => Action::Done(result.map(ForwardOrFallback::Submitted)),
        }
    }

    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<Self::Output> {
        match self.0.feed(now_ms, reply) {
            Action::Send(request) => Action::Send(request),
            Action::Done(Ok(answer)) => Action::Done(Ok(ForwardOrFallback::Submitted(answer))),
            Action::Done(Err(error)) if error.is_service_unreachable() => {
                Action::Done(Ok(ForwardOrFallback::Fallback(())))
            }
            Action::Done(Err(error)) => Action::Done(Err(error)),
        }
    }
}

/// A webhook endpoint bound to its [`Client`] (see [`Client::webhook_receiver`]).
#[derive(Debug)]
pub struct ClientReceiver {
    receiver: WebhookReceiver,
    client: Client,
}

impl ClientReceiver {
    /// How far (seconds) a signature's timestamp may be from now
    /// (default [`crate::webhook::DEFAULT_TOLERANCE_SECS`]).
    #[must_use]
    pub fn tolerance_secs(mut self, seconds: u64) -> Self {
        self.receiver = self.receiver.tolerance_secs(seconds);
        self
    }

    /// Decide what one delivery means (see [`WebhookReceiver::receive`]); a
    /// new, authentic event also releases the job's follow-up and wakes the
    /// job's waiters.
    pub fn receive(&mut self, body: &[u8], signature: Option<&str>, now_secs: i64) -> Received {
        let (received, woken) = {
            let mut shared = self.client.shared();
            let Shared {
                continuations,
                results,
            } = &mut *shared;
            let received = self
                .receiver
                .receive(body, signature, now_secs, continuations);
            let woken = match &received.event {
                Some(event) => results.deliver(event.clone()),
                None => Vec::new(),
            };
            (received, woken)
        };
        for waker in woken {
            waker.wake();
        }
        received
    }

    /// Receive one delivery, then run the follow-up it releases (if any)
    /// through the same host transport: the whole of a webhook handler.
    pub fn handle(&mut self, body: &[u8], signature: Option<&str>, now_secs: i64) -> Delivery {
        let mut received = self.receive(body, signature, now_secs);
        let follow_up = received
            .follow_up
            .take()
            .map(|step| self.client.execute(&step));
        Delivery {
            received: Some(received),
            follow_up,
            started: false,
        }
    }
}

/// [`ClientReceiver::handle`]'s operation: it sends only the follow-up's
/// requests, and ends with what to answer the sender.
#[derive(Debug)]
pub struct Delivery {
    received: Option<Received>,
    follow_up: Option<Result<ClientExecution>>,
    started: bool,
}

/// A handled delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    /// What to answer the sender, the signature check and the event (its
    /// `follow_up` field is empty: the step ran, see below).
    pub received: Received,
    /// The follow-up's run, when the delivery released one. Its failure is
    /// reported here and does not change the answer to the sender.
    pub follow_up: Option<Result<Run>>,
}

impl Delivery {
    fn end(&mut self, follow_up: Option<Result<Run>>) -> Action<Handled> {
        match self.received.take() {
            Some(received) => Action::Done(Ok(Handled {
                received,
                follow_up,
            })),
            None => Action::Done(Err(crate::Error::misuse(
                "the delivery was already handled",
            ))),
        }
    }

    fn follow(&mut self, action: Action<Run>) -> Action<Handled> {
        match action {
            Action::Send(request) => Action::Send(request),
            Action::Done(result) => {
                self.follow_up = None;
                self.end(Some(result))
            }
        }
    }
}

impl Operation for Delivery {
    type Output = Handled;

    fn start(&mut self) -> Action<Handled> {
        if std::mem::replace(&mut self.started, true) {
            return Action::Done(Err(crate::Error::misuse(
                "the delivery was already started",
            )));
        }
        match self.follow_up.take() {
            None => self.end(None),
            Some(Err(error)) => self.end(Some(Err(error))),
            Some(Ok(mut execution)) => {
                let action = execution.start();
                self.follow_up = Some(Ok(execution));
                self.follow(action)
            }
        }
    }

    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<Handled> {
        let Some(Ok(execution)) = self.follow_up.as_mut() else {
            return Action::Done(Err(crate::Error::misuse(
                "no request of this delivery is in flight",
            )));
        };
        let action = execution.feed(now_ms, reply);
        self.follow(action)
    }
}

/// Delivered results (bounded, oldest forgotten first) and the wakers of
/// those waiting for one. Plain lists rather than hash maps: a lookup scans
/// at most [`RESULTS_KEPT`] entries once per delivery or wake-up, and each
/// map type would add its own copy of the hash table to every binding
/// (the npm package's size is a feature).
#[derive(Debug, Default)]
struct Results {
    delivered: VecDeque<WebhookEvent>,
    waiting: Vec<Waiter>,
    next_waiter: u64,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    job_id: String,
    waker: Waker,
}

impl Results {
    fn get(&self, job_id: &str) -> Option<WebhookEvent> {
        self.delivered.iter().find(|e| e.job_id == job_id).cloned()
    }

    /// Keep `event`; hand back the wakers of its waiters, to be woken once
    /// the caller has let go of the lock (a waker may poll at once, and the
    /// poll takes the lock).
    #[must_use = "the waiters wait until their wakers are woken"]
    fn deliver(&mut self, event: WebhookEvent) -> Vec<Waker> {
        let job_id = event.job_id.clone();
        match self.delivered.iter_mut().find(|e| e.job_id == job_id) {
            Some(known) => *known = event,
            None => {
                if self.delivered.len() == RESULTS_KEPT {
                    self.delivered.pop_front();
                }
                self.delivered.push_back(event);
            }
        }
        let (woken, waiting): (Vec<Waiter>, Vec<Waiter>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| w.job_id == job_id);
        self.waiting = waiting;
        woken.into_iter().map(|w| w.waker).collect()
    }

    /// Remember (or refresh) `waiter`'s waker for `job_id`; returns its id.
    fn register(&mut self, job_id: &str, waiter: Option<u64>, waker: &Waker) -> u64 {
        if let Some(known) = waiter.and_then(|id| self.waiting.iter_mut().find(|w| w.id == id)) {
            known.waker.clone_from(waker);
            return known.id;
        }
        self.next_waiter += 1;
        self.waiting.push(Waiter {
            id: self.next_waiter,
            job_id: job_id.to_owned(),
            waker: waker.clone(),
        });
        self.next_waiter
    }

    fn forget(&mut self, waiter: u64) {
        self.waiting.retain(|w| w.id != waiter);
    }

    #[cfg(test)]
    fn waiters(&self) -> usize {
        self.waiting.len()
    }
}

/// A wait for one job's result (see [`Client::wait_for_result`]).
#[derive(Debug)]
#[must_use = "a wait does nothing unless polled"]
pub struct ResultWait {
    job_id: String,
    waiter: Option<u64>,
    shared: Arc<Mutex<Shared>>,
}

impl ResultWait {
    /// The job waited for.
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    /// The result if it has arrived, without waiting.
    pub fn ready(&mut self) -> Option<WebhookEvent> {
        let shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        shared.results.get(&self.job_id)
    }
}

impl Future for ResultWait {
    type Output = WebhookEvent;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WebhookEvent> {
        let this = self.get_mut();
        let mut shared = this.shared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(event) = shared.results.get(&this.job_id) {
            if let Some(waiter) = this.waiter.take() {
                shared.results.forget(waiter);
            }
            return Poll::Ready(event);
        }
        this.waiter = Some(
            shared
                .results
                .register(&this.job_id, this.waiter, cx.waker()),
        );
        Poll::Pending
    }
}

impl Drop for ResultWait {
    fn drop(&mut self) {
        if let Some(waiter) = self.waiter.take() {
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.results.forget(waiter);
        }
    }
}

impl From<ForwardCall> for GatewayCall<SubmitAnswer> {
    fn from(call: ForwardCall) -> Self {
        call.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

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
