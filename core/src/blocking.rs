//! A small blocking driver for native callers and tests: a [`Client`]'s
//! operations run over a transport closure, with a clock closure for `now`.

use crate::client::Client;
use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::forward::{AutoForwarded, ForwardOrFallback, ForwardToEZThrottle};
use crate::gateway::{SecretInfo, SubmitAnswer};
use crate::http::HttpRequest;
use crate::job::Job;
use crate::operation::{Action, Operation, QueueRequest, Reply};
use crate::step::Step;
use crate::trace::Trace;
use crate::webhook::Continuation;
use crate::workflow::Outcome;

/// Run `op` to its end: every request goes through `transport`, every reply is
/// stamped with `now_ms()`.
pub fn run<O, T, C>(op: &mut O, mut transport: T, mut now_ms: C) -> Result<O::Output>
where
    O: Operation + ?Sized,
    T: FnMut(&HttpRequest) -> Reply,
    C: FnMut() -> u64,
{
    let mut action = op.start();
    loop {
        match action {
            Action::Send(request) => {
                let reply = transport(&request);
                action = op.feed(now_ms(), reply);
            }
            Action::Done(result) => return result,
        }
    }
}

/// A blocking client over a transport closure and a clock.
///
/// ```
/// use ezthrottle_core::{BlockingClient, ClientConfig, HttpResponse, Step, StepType};
///
/// let config = ClientConfig::builder("ck_test_key").build()?;
/// // A transport that answers every local call with 200.
/// let transport = |_req: &ezthrottle_core::HttpRequest| Ok(HttpResponse::new(200, "hello"));
/// let mut client = BlockingClient::new(config, transport, || 0);
/// let run = client.execute(&Step::new().url("https://a.example").step_type(StepType::Frugal))?;
/// assert_eq!(run.outcome.to_json()["response"], "hello");
/// # Ok::<(), ezthrottle_core::Error>(())
/// ```
pub struct BlockingClient<T, C> {
    client: Client,
    transport: T,
    clock: C,
}

impl<T, C> std::fmt::Debug for BlockingClient<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingClient")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// A finished step execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// How the step ended.
    pub outcome: Outcome,
    /// What ran, in order.
    pub trace: Trace,
    /// Follow-ups to run when their jobs' webhooks arrive (already
    /// registered with the client that ran the step).
    pub continuations: Vec<Continuation>,
}

impl<T, C> BlockingClient<T, C>
where
    T: FnMut(&HttpRequest) -> Reply,
    C: FnMut() -> u64,
{
    /// A client sending through `transport`, with `clock` giving ms since the epoch.
    pub fn new(config: ClientConfig, transport: T, clock: C) -> Self {
        Self::with_client(Client::from_config(config), transport, clock)
    }

    /// Drive `client`'s operations (its clones share its continuations and
    /// delivered results).
    pub fn with_client(client: Client, transport: T, clock: C) -> Self {
        Self {
            client,
            transport,
            clock,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        self.client.config()
    }

    /// The client whose operations this drives.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn drive<O: Operation>(&mut self, op: &mut O) -> Result<O::Output> {
        run(op, &mut self.transport, &mut self.clock)
    }

    /// Execute a step (PERFORMANCE or FRUGAL) with its follow-ups.
    pub fn execute(&mut self, step: &Step) -> Result<Run> {
        let mut execution = self.client.execute(step)?;
        self.drive(&mut execution)
    }

    /// Submit a job as it is.
    pub fn submit_job(&mut self, job: &Job) -> Result<SubmitAnswer> {
        let mut call = self.client.submit_job(job)?;
        self.drive(&mut call)
    }

    /// Submit a job given in the wire format.
    pub fn submit_job_json(&mut self, job_json: &str) -> Result<SubmitAnswer> {
        let mut call = self.client.submit_job_json(job_json)?;
        self.drive(&mut call)
    }

    /// The legacy `queue_request`.
    pub fn queue_request(&mut self, request: &QueueRequest) -> Result<SubmitAnswer> {
        let mut call = self.client.queue_request(request)?;
        self.drive(&mut call)
    }

    /// Submit a request taken over from existing code.
    pub fn forward(&mut self, forward: &ForwardToEZThrottle) -> Result<SubmitAnswer> {
        let mut call = self.client.forward(forward)?;
        self.drive(&mut call)
    }

    /// Run `work`; if it asks for forwarding (returns the boxed request as its
    /// error), submit that request instead.
    pub fn auto_forward<R>(
        &mut self,
        work: impl FnOnce() -> std::result::Result<R, Box<ForwardToEZThrottle>>,
    ) -> Result<AutoForwarded<R>> {
        match work() {
            Ok(value) => Ok(AutoForwarded::Completed(value)),
            Err(forward) => Ok(AutoForwarded::Forwarded(self.forward(&forward)?)),
        }
    }

    /// Submit `forward`; only when the service cannot be reached at all, run
    /// `fallback` instead ([`Error::is_service_unreachable`]).
    pub fn forward_or_fallback<R>(
        &mut self,
        forward: &ForwardToEZThrottle,
        fallback: impl FnOnce() -> R,
    ) -> Result<ForwardOrFallback<R>> {
        let mut call = self.client.forward_or_fallback(forward)?;
        Ok(match self.drive(&mut call)? {
            ForwardOrFallback::Submitted(answer) => ForwardOrFallback::Submitted(answer),
            ForwardOrFallback::Fallback(()) => ForwardOrFallback::Fallback(fallback()),
        })
    }

    /// Create or replace the webhook secrets.
    pub fn create_webhook_secret(
        &mut self,
        primary: &str,
        secondary: Option<&str>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut call = self.client.create_webhook_secret(primary, secondary)?;
        self.drive(&mut call)
    }

    /// Read the webhook secrets (masked).
    pub fn get_webhook_secret(&mut self) -> Result<SecretInfo> {
        let mut call = self.client.get_webhook_secret();
        self.drive(&mut call)
    }

    /// Remove the webhook secrets.
    pub fn delete_webhook_secret(&mut self) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut call = self.client.delete_webhook_secret();
        self.drive(&mut call)
    }

    /// Rotate the webhook secrets (see [`ClientConfig::rotate_webhook_secret`]).
    pub fn rotate_webhook_secret(
        &mut self,
        new_secret: &str,
        current_secret: Option<&str>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut rotation = self
            .client
            .rotate_webhook_secret(new_secret, current_secret)?;
        self.drive(&mut rotation)
    }
}

impl From<ForwardToEZThrottle> for Error {
    fn from(forward: ForwardToEZThrottle) -> Self {
        Error::misuse(format!("{forward} outside of an auto-forwarding wrapper"))
    }
}
