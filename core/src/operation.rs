//! Sans-IO operations: each SDK call is a small state machine that says which
//! HTTP request to send next and is told what came back.
//!
//! A driver (the blocking one in [`crate::blocking`], or a binding's async one)
//! is the same loop for every operation:
//!
//! ```
//! use ezthrottle_core::{Action, ClientConfig, HttpResponse, Operation, Step};
//!
//! let config = ClientConfig::builder("ck_test_key").build()?;
//! let mut op = config.execute(&Step::new().url("https://api.example.com"))?;
//! let mut action = op.start();
//! let outcome = loop {
//!     match action {
//!         Action::Send(request) => {
//!             // A real host sends `request` here; this one answers like the gateway.
//!             let body = r#"{"status":"allowed","forwarded_response":
//!                 {"status_code":201,"body":"{\"job_id\":\"j1\",\"status\":\"queued\"}"}}"#;
//!             let now_ms = 1_764_320_000_000;
//!             action = op.feed(now_ms, Ok(HttpResponse::new(200, body)));
//!         }
//!         Action::Done(result) => break result?,
//!     }
//! };
//! assert_eq!(outcome.to_json()["job_id"], "j1");
//! # Ok::<(), ezthrottle_core::Error>(())
//! ```

use serde_json::{json, Map, Value};

use crate::config::ClientConfig;
use crate::error::{Error, Result, TransportError};
use crate::gateway::{
    check_webhook_secret, read_gateway_answer, read_object, read_secret_info, read_submit_answer,
    Forwarded, SecretInfo, SubmitAnswer, SECRETS_PATH,
};
use crate::http::{HttpRequest, HttpResponse};
use crate::job::Job;

/// What an operation wants next.
#[derive(Debug)]
#[must_use]
pub enum Action<T> {
    /// Send this request and feed its reply (or transport error) back.
    Send(HttpRequest),
    /// The operation is over.
    Done(Result<T>),
}

/// What the host's transport produced for a request.
pub type Reply = std::result::Result<HttpResponse, TransportError>;

/// A sans-IO SDK call.
pub trait Operation {
    /// What a successful call yields.
    type Output;

    /// The first action. Call once.
    fn start(&mut self) -> Action<Self::Output>;

    /// Feed the reply to the last [`Action::Send`]; returns the next action.
    /// `now_ms` is the host's clock, in milliseconds since the Unix epoch.
    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<Self::Output>;
}

/// Run `op` to its end over an async transport: every request goes to
/// `send`, every reply is stamped with `now_ms()`. The async twin of
/// [`crate::blocking::run`]; it needs no runtime, so any host's executor
/// (tokio, the browser's, a uniffi foreign one) can poll it.
pub async fn run_async<O, S, F, C>(op: &mut O, mut send: S, mut now_ms: C) -> Result<O::Output>
where
    O: Operation + ?Sized,
    S: FnMut(HttpRequest) -> F,
    F: std::future::Future<Output = Reply>,
    C: FnMut() -> u64,
{
    let mut action = op.start();
    loop {
        match action {
            Action::Send(request) => {
                let reply = send(request).await;
                action = op.feed(now_ms(), reply);
            }
            Action::Done(result) => return result,
        }
    }
}

/// A call that is one gateway request and a reading of its answer.
#[derive(Debug)]
pub struct GatewayCall<T> {
    request: Option<HttpRequest>,
    state: CallState,
    read: fn(Forwarded) -> Result<T>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    New,
    Sent,
    Done,
}

impl<T> GatewayCall<T> {
    pub(crate) fn new(request: HttpRequest, read: fn(Forwarded) -> Result<T>) -> Self {
        Self {
            request: Some(request),
            state: CallState::New,
            read,
        }
    }

    /// The request this call sends (before it is started).
    pub fn request(&self) -> Option<&HttpRequest> {
        self.request.as_ref()
    }
}

impl<T> Operation for GatewayCall<T> {
    type Output = T;

    fn start(&mut self) -> Action<T> {
        match (self.state, self.request.take()) {
            (CallState::New, Some(request)) => {
                self.state = CallState::Sent;
                Action::Send(request)
            }
            _ => Action::Done(Err(Error::misuse("the call was already started"))),
        }
    }

    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<T> {
        if self.state != CallState::Sent {
            return Action::Done(Err(Error::misuse("no request of this call is in flight")));
        }
        self.state = CallState::Done;
        Action::Done(read_reply(reply, now_ms).and_then(self.read))
    }
}

pub(crate) fn read_reply(reply: Reply, now_ms: u64) -> Result<Forwarded> {
    read_gateway_answer(&reply?, now_ms)
}

/// The legacy `queue_request` call (PROTOCOL §9).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRequest {
    /// Target URL.
    pub url: String,
    /// The one webhook (a voting one).
    pub webhook_url: String,
    /// Method, `GET` when `None`.
    pub method: Option<String>,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Option<String>,
    /// Caller data echoed in the webhook.
    pub metadata: Map<String, Value>,
    /// Not run before this instant (ms since the Unix epoch).
    pub retry_at_ms: Option<u64>,
}

impl QueueRequest {
    /// A legacy request for `url` delivering to `webhook_url`.
    pub fn new(url: impl Into<String>, webhook_url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            webhook_url: webhook_url.into(),
            method: None,
            headers: Vec::new(),
            body: None,
            metadata: Map::new(),
            retry_at_ms: None,
        }
    }

    /// The job this legacy call submits.
    pub fn to_job(&self) -> Result<Job> {
        let mut job = Job::for_request(
            &self.url,
            self.method.as_deref().unwrap_or_default(),
            &self.headers,
            self.body.as_deref(),
            &self.metadata,
        );
        job.webhooks = vec![crate::Webhook::new(self.webhook_url.clone()).quorum_vote(true)];
        job.retry_at = self.retry_at_ms;
        job.validate()?;
        Ok(job)
    }
}

impl ClientConfig {
    /// Submit a job as it is (validated first; nothing is sent if it is bad).
    pub fn submit_job(&self, job: &Job) -> Result<GatewayCall<SubmitAnswer>> {
        job.validate()?;
        Ok(GatewayCall::new(
            self.submit_request_json(job.to_json()),
            read_submit_answer,
        ))
    }

    /// The legacy `queue_request` (PROTOCOL §9).
    pub fn queue_request(&self, request: &QueueRequest) -> Result<GatewayCall<SubmitAnswer>> {
        self.submit_job(&request.to_job()?)
    }

    /// Create or replace the account's webhook secrets (each at least 16
    /// characters, checked before sending).
    pub fn create_webhook_secret(
        &self,
        primary: &str,
        secondary: Option<&str>,
    ) -> Result<GatewayCall<Map<String, Value>>> {
        check_webhook_secret("primary_secret", primary)?;
        let mut body = json!({ "primary_secret": primary });
        if let Some(secondary) = secondary {
            check_webhook_secret("secondary_secret", secondary)?;
            body["secondary_secret"] = secondary.into();
        }
        Ok(GatewayCall::new(
            self.proxy_request("POST", SECRETS_PATH, Some(&body)),
            read_object,
        ))
    }

    /// Read the account's webhook secrets (masked).
    pub fn get_webhook_secret(&self) -> GatewayCall<SecretInfo> {
        GatewayCall::new(
            self.proxy_request("GET", SECRETS_PATH, None),
            read_secret_info,
        )
    }

    /// Remove the account's webhook secrets.
    pub fn delete_webhook_secret(&self) -> GatewayCall<Map<String, Value>> {
        GatewayCall::new(
            self.proxy_request("DELETE", SECRETS_PATH, None),
            read_object,
        )
    }

    /// Rotate: `new_secret` becomes primary and the current secret secondary.
    ///
    /// The service only ever shows secrets masked, so pass the current secret
    /// when you have it; without it the current one is read and, being masked
    /// (or absent), `new_secret` is set alone, as the reference SDK does.
    pub fn rotate_webhook_secret(
        &self,
        new_secret: &str,
        current_secret: Option<&str>,
    ) -> Result<SecretRotation> {
        check_webhook_secret("new_secret", new_secret)?;
        if let Some(current) = current_secret {
            check_webhook_secret("current_secret", current)?;
        }
        Ok(SecretRotation {
            config: self.clone(),
            new_secret: new_secret.to_owned(),
            current_secret: current_secret.map(str::to_owned),
            phase: RotationPhase::New,
        })
    }
}

/// The rotation of the webhook secrets: an optional read, then a create.
#[derive(Debug)]
pub struct SecretRotation {
    config: ClientConfig,
    new_secret: String,
    current_secret: Option<String>,
    phase: RotationPhase,
}

#[derive(Debug)]
enum RotationPhase {
    New,
    Reading,
    Creating(GatewayCall<Map<String, Value>>),
    Done,
}

impl SecretRotation {
    fn create(&mut self, secondary: Option<String>) -> Action<Map<String, Value>> {
        match self
            .config
            .create_webhook_secret(&self.new_secret, secondary.as_deref())
        {
            Ok(mut call) => {
                let action = call.start();
                self.phase = RotationPhase::Creating(call);
                action
            }
            Err(e) => {
                self.phase = RotationPhase::Done;
                Action::Done(Err(e))
            }
        }
    }
}

impl Operation for SecretRotation {
    type Output = Map<String, Value>;

    fn start(&mut self) -> Action<Self::Output> {
        if !matches!(self.phase, RotationPhase::New) {
            return Action::Done(Err(Error::misuse("the rotation was already started")));
        }
        match self.current_secret.take() {
            Some(current) => self.create(Some(current)),
            None => {
                self.phase = RotationPhase::Reading;
                Action::Send(self.config.proxy_request("GET", SECRETS_PATH, None))
            }
        }
    }

    fn feed(&mut self, now_ms: u64, reply: Reply) -> Action<Self::Output> {
        match std::mem::replace(&mut self.phase, RotationPhase::Done) {
            RotationPhase::Reading => {
                match read_reply(reply, now_ms).and_then(read_secret_info) {
                    // A readable (unmasked) primary is kept as the secondary.
                    Ok(info) if !info.primary_secret.contains("****") => {
                        self.create(Some(info.primary_secret))
                    }
                    Ok(_) | Err(Error::SecretsNotConfigured) => self.create(None),
                    Err(e) => Action::Done(Err(e)),
                }
            }
            RotationPhase::Creating(mut call) => call.feed(now_ms, reply),
            RotationPhase::New | RotationPhase::Done => Action::Done(Err(Error::misuse(
                "no request of the rotation is in flight",
            ))),
        }
    }
}
