//! A small blocking driver for native callers and tests: operations are run
//! over a transport closure, with a clock closure for `now`.

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
    config: ClientConfig,
    transport: T,
    clock: C,
}

impl<T, C> std::fmt::Debug for BlockingClient<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingClient")
            .field("config", &self.config)
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
    /// Follow-ups to run when their jobs' webhooks arrive.
    pub continuations: Vec<Continuation>,
}

impl<T, C> BlockingClient<T, C>
where
    T: FnMut(&HttpRequest) -> Reply,
    C: FnMut() -> u64,
{
    /// A client sending through `transport`, with `clock` giving ms since the epoch.
    pub fn new(config: ClientConfig, transport: T, clock: C) -> Self {
        Self {
            config,
            transport,
            clock,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn drive<O: Operation>(&mut self, op: &mut O) -> Result<O::Output> {
        run(op, &mut self.transport, &mut self.clock)
    }

    /// Execute a step (PERFORMANCE or FRUGAL) with its follow-ups.
    pub fn execute(&mut self, step: &Step) -> Result<Run> {
        let mut execution = self.config.execute(step)?;
        let outcome = self.drive(&mut execution)?;
        Ok(Run {
            outcome,
            trace: execution.trace().clone(),
            continuations: execution.take_continuations(),
        })
    }

    /// Submit a job as it is.
    pub fn submit_job(&mut self, job: &Job) -> Result<SubmitAnswer> {
        let mut call = self.config.submit_job(job)?;
        self.drive(&mut call)
    }

    /// The legacy `queue_request`.
    pub fn queue_request(&mut self, request: &QueueRequest) -> Result<SubmitAnswer> {
        let mut call = self.config.queue_request(request)?;
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
            Err(forward) => Ok(AutoForwarded::Forwarded(
                self.submit_job(&forward.to_job()?)?,
            )),
        }
    }

    /// Submit `forward`; only when the service cannot be reached at all, run
    /// `fallback` instead ([`Error::is_service_unreachable`]).
    pub fn forward_or_fallback<R>(
        &mut self,
        forward: &ForwardToEZThrottle,
        fallback: impl FnOnce() -> R,
    ) -> Result<ForwardOrFallback<R>> {
        match self.submit_job(&forward.to_job()?) {
            Ok(answer) => Ok(ForwardOrFallback::Submitted(answer)),
            Err(error) if error.is_service_unreachable() => {
                Ok(ForwardOrFallback::Fallback(fallback()))
            }
            Err(error) => Err(error),
        }
    }

    /// Create or replace the webhook secrets.
    pub fn create_webhook_secret(
        &mut self,
        primary: &str,
        secondary: Option<&str>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut call = self.config.create_webhook_secret(primary, secondary)?;
        self.drive(&mut call)
    }

    /// Read the webhook secrets (masked).
    pub fn get_webhook_secret(&mut self) -> Result<SecretInfo> {
        let mut call = self.config.get_webhook_secret();
        self.drive(&mut call)
    }

    /// Remove the webhook secrets.
    pub fn delete_webhook_secret(&mut self) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut call = self.config.delete_webhook_secret();
        self.drive(&mut call)
    }

    /// Rotate the webhook secrets (see [`ClientConfig::rotate_webhook_secret`]).
    pub fn rotate_webhook_secret(
        &mut self,
        new_secret: &str,
        current_secret: Option<&str>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut rotation = self
            .config
            .rotate_webhook_secret(new_secret, current_secret)?;
        self.drive(&mut rotation)
    }
}

impl From<ForwardToEZThrottle> for Error {
    fn from(forward: ForwardToEZThrottle) -> Self {
        Error::misuse(format!("{forward} outside of an auto-forwarding wrapper"))
    }
}
