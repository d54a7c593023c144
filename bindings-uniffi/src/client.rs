//! The client: configuration, the transport, and every network call (async,
//! each with a blocking twin for Java and threads of their own).

use std::sync::Arc;
use std::time::Duration;

use ezthrottle_core::{
    non_negative, ForwardOrFallback, ForwardToEZThrottle, Operation, Outcome, QueueRequest,
    SecretInfo, Webhook, API_KEY_ENV,
};
use serde_json::{Map, Value};

use crate::cancel::CancellationToken;
use crate::error::{EzThrottleError, Result};
use crate::step::Step;
use crate::transport::{BlockingHttpTransport, HttpTransport, Transport};
use crate::webhook::{WebhookEvent, WebhookReceiver};

/// How to build a client. Absent fields take the defaults.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ClientOptions {
    /// The API key; absent reads the environment variable `EZTHROTTLE_API_KEY`.
    #[uniffi(default = None)]
    pub api_key: Option<String>,
    #[uniffi(default = None)]
    pub tracktags_url: Option<String>,
    #[uniffi(default = None)]
    pub ezthrottle_url: Option<String>,
    /// Timeout of each gateway call; default ezthrottle-core's `DEFAULT_TIMEOUT_MS`.
    #[uniffi(default = None)]
    pub timeout_ms: Option<i64>,
    /// Your webhook receiving every submitted job's result: its on_success /
    /// on_failure steps then run in this client (see `webhookReceiver`).
    #[uniffi(default = None)]
    pub continuation_webhook: Option<String>,
}

/// The service's answer to a submitted job.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SubmitAnswer {
    pub job_id: String,
    /// `queued`, `duplicate`, …
    pub status: String,
    /// The whole answer as JSON.
    pub json: String,
}

impl From<ezthrottle_core::SubmitAnswer> for SubmitAnswer {
    fn from(answer: ezthrottle_core::SubmitAnswer) -> Self {
        Self {
            job_id: answer.job_id().to_owned(),
            status: answer.status().to_owned(),
            json: ezthrottle_core::json::object_to_string(answer.as_json()),
        }
    }
}

/// How an executed step ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ExecuteResult {
    /// Submitted to EZThrottle (PERFORMANCE, or FRUGAL forwarded).
    Submitted {
        answer: SubmitAnswer,
        /// What ran, in order.
        trace: String,
        /// The reference SDK's result shape, as JSON.
        json: String,
    },
    /// Ran locally (FRUGAL): `success` is whether it answered 2xx.
    Local {
        success: bool,
        status_code: i32,
        /// The response body (empty when it failed).
        response: String,
        trace: String,
        json: String,
    },
}

impl ExecuteResult {
    fn new(outcome: Outcome, trace: String) -> Self {
        let json = ezthrottle_core::json::to_string(&outcome.to_json());
        match outcome {
            Outcome::Submitted(answer) => Self::Submitted {
                answer: answer.into(),
                trace,
                json,
            },
            Outcome::LocalSuccess {
                status_code,
                response,
            } => Self::Local {
                success: true,
                status_code: status_code.into(),
                response,
                trace,
                json,
            },
            Outcome::LocalFailure { status_code } => Self::Local {
                success: false,
                status_code: status_code.into(),
                response: String::new(),
                trace,
                json,
            },
        }
    }
}

/// A request taken over from existing code.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ForwardRequest {
    pub url: String,
    #[uniffi(default = None)]
    pub method: Option<String>,
    #[uniffi(default = [])]
    pub headers: Vec<crate::transport::HttpHeader>,
    #[uniffi(default = None)]
    pub body: Option<String>,
    /// A random UUID v4 when absent.
    #[uniffi(default = None)]
    pub idempotent_key: Option<String>,
    /// A JSON object echoed in the webhook.
    #[uniffi(default = None)]
    pub metadata_json: Option<String>,
    #[uniffi(default = [])]
    pub webhooks: Vec<Webhook>,
    #[uniffi(default = [])]
    pub regions: Vec<String>,
}

impl ForwardRequest {
    fn to_core(&self) -> Result<ForwardToEZThrottle> {
        let metadata = metadata(self.metadata_json.as_deref())?;
        Ok(ForwardToEZThrottle {
            url: self.url.clone(),
            method: self.method.clone().unwrap_or_default(),
            headers: header_pairs(&self.headers),
            body: self.body.clone(),
            idempotent_key: self.idempotent_key.clone(),
            metadata,
            webhooks: self.webhooks.clone(),
            regions: self.regions.clone(),
        })
    }
}

/// What the app runs when EZThrottle cannot be reached at all.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait Fallback: Send + Sync {
    /// Do the work another way; the text is handed back to the caller.
    async fn run(&self) -> String;
}

/// What `forwardOrFallback` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ForwardOutcome {
    Submitted {
        answer: SubmitAnswer,
    },
    /// The service was unreachable; this is the fallback's value.
    FellBack {
        value: String,
    },
}

/// The account's webhook secrets, masked by the service: the core's own
/// type, crossing as it is.
#[uniffi::remote(Record)]
pub struct SecretInfo {
    /// The customer the secrets belong to.
    pub customer_id: Option<String>,
    pub primary_secret: String,
    pub secondary_secret: Option<String>,
    pub has_secondary: bool,
}

/// The legacy single-webhook request (`queueRequest`).
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct QueueRequestOptions {
    pub url: String,
    /// The one webhook (a voting one).
    pub webhook_url: String,
    #[uniffi(default = None)]
    pub method: Option<String>,
    #[uniffi(default = [])]
    pub headers: Vec<crate::transport::HttpHeader>,
    #[uniffi(default = None)]
    pub body: Option<String>,
    /// A JSON object echoed in the webhook.
    #[uniffi(default = None)]
    pub metadata_json: Option<String>,
    /// Not run before this instant, in milliseconds since the Unix epoch.
    #[uniffi(default = None)]
    pub retry_at_ms: Option<i64>,
}

fn header_pairs(headers: &[crate::transport::HttpHeader]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

/// A JSON object from a record's `metadata_json` field.
fn metadata(text: Option<&str>) -> Result<Map<String, Value>> {
    let Some(text) = text else {
        return Ok(Map::new());
    };
    let value = crate::step::parse_json("metadata", text)?;
    Ok(ezthrottle_core::json_object("metadata", value)?)
}

impl QueueRequestOptions {
    fn to_core(&self) -> Result<QueueRequest> {
        let mut request = QueueRequest::new(self.url.clone(), self.webhook_url.clone());
        request.method = self.method.clone();
        request.headers = header_pairs(&self.headers);
        request.body = self.body.clone();
        request.metadata = metadata(self.metadata_json.as_deref())?;
        request.retry_at_ms = self
            .retry_at_ms
            .map(|at| non_negative("retry_at", at))
            .transpose()?;
        Ok(request)
    }
}

/// A client of the EZThrottle service.
#[derive(uniffi::Object)]
pub struct EzThrottle {
    pub(crate) client: ezthrottle_core::Client,
    pub(crate) transport: Transport,
}

impl std::fmt::Debug for EzThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EzThrottle")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl From<ezthrottle_core::Run> for ExecuteResult {
    fn from(run: ezthrottle_core::Run) -> Self {
        Self::new(run.outcome, run.trace.to_string())
    }
}

/// The core's client for `options`, with the `EZTHROTTLE_API_KEY` fallback.
fn core_client(options: ClientOptions) -> Result<ezthrottle_core::Client> {
    Ok(ezthrottle_core::Client::new(
        ezthrottle_core::ClientOptions {
            api_key: options.api_key,
            api_key_from_env: std::env::var(API_KEY_ENV).ok(),
            tracktags_url: options.tracktags_url,
            ezthrottle_url: options.ezthrottle_url,
            timeout_ms: options
                .timeout_ms
                .map(|ms| non_negative("timeout_ms", ms))
                .transpose()?,
            continuation_webhook: options.continuation_webhook,
        },
    )?)
}

#[uniffi::export]
impl EzThrottle {
    /// A client sending through `transport`, or the built-in one when absent.
    #[uniffi::constructor(default(transport = None))]
    pub fn new(
        options: ClientOptions,
        transport: Option<Arc<dyn HttpTransport>>,
    ) -> Result<Arc<Self>> {
        let client = core_client(options)?;
        let transport = Transport::new(transport)?;
        Ok(Arc::new(Self { client, transport }))
    }

    /// A client sending through the app's blocking `transport`, on the
    /// thread of each call (see [`BlockingHttpTransport`]): an async call
    /// blocks the thread that runs it.
    #[uniffi::constructor]
    pub fn with_blocking_transport(
        options: ClientOptions,
        transport: Arc<dyn BlockingHttpTransport>,
    ) -> Result<Arc<Self>> {
        let client = core_client(options)?;
        Ok(Arc::new(Self {
            client,
            transport: Transport::AppBlocking(transport),
        }))
    }

    /// Run a step: PERFORMANCE submits it; FRUGAL runs it here first.
    #[uniffi::method(default(cancellation = None))]
    pub async fn execute(
        &self,
        step: Arc<Step>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<ExecuteResult> {
        let run = self.run(cancellation, || self.client.execute(&step.snapshot()));
        Ok(run.await?.into())
    }

    /// Submit a step's job as it is, whatever its type.
    #[uniffi::method(default(cancellation = None))]
    pub async fn submit(
        &self,
        step: Arc<Step>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<SubmitAnswer> {
        let run = self.run(cancellation, || self.client.submit_step(&step.snapshot()));
        Ok(run.await?.into())
    }

    /// Submit a job written in the wire format (JSON, PROTOCOL §2), checked
    /// field by field as the step builder checks it (a refusal names the
    /// field, e.g. `on_success.url`): nothing is sent when it is refused.
    #[uniffi::method(default(cancellation = None))]
    pub async fn submit_job_json(
        &self,
        job_json: String,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<SubmitAnswer> {
        let run = self.run(cancellation, || self.client.submit_job_json(&job_json));
        Ok(run.await?.into())
    }

    /// The legacy single-webhook call.
    #[uniffi::method(default(cancellation = None))]
    pub async fn queue_request(
        &self,
        request: QueueRequestOptions,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<SubmitAnswer> {
        let request = request.to_core()?;
        let run = self.run(cancellation, || self.client.queue_request(&request));
        Ok(run.await?.into())
    }

    /// Submit a request taken over from existing code.
    #[uniffi::method(default(cancellation = None))]
    pub async fn forward(
        &self,
        request: ForwardRequest,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<SubmitAnswer> {
        let request = request.to_core()?;
        let run = self.run(cancellation, || self.client.forward(&request));
        Ok(run.await?.into())
    }

    /// Submit; only when the service cannot be reached at all, run `fallback`.
    #[uniffi::method(default(cancellation = None))]
    pub async fn forward_or_fallback(
        &self,
        request: ForwardRequest,
        fallback: Arc<dyn Fallback>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<ForwardOutcome> {
        let request = request.to_core()?;
        let run = self.run(cancellation.clone(), || {
            self.client.forward_or_fallback(&request)
        });
        Ok(match run.await? {
            ForwardOrFallback::Submitted(answer) => ForwardOutcome::Submitted {
                answer: answer.into(),
            },
            ForwardOrFallback::Fallback(()) => ForwardOutcome::FellBack {
                value: cancellable(cancellation, async { Ok(fallback.run().await) }).await?,
            },
        })
    }

    /// Create or replace the webhook secrets (each at least ezthrottle-core's
    /// `MIN_SECRET_LEN` characters).
    #[uniffi::method(default(cancellation = None))]
    pub async fn create_webhook_secret(
        &self,
        primary: String,
        secondary: Option<String>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<String> {
        let run = self.run(cancellation, || {
            self.client
                .create_webhook_secret(&primary, secondary.as_deref())
        });
        Ok(ezthrottle_core::json::object_to_string(&run.await?))
    }

    /// Read the webhook secrets (masked).
    #[uniffi::method(default(cancellation = None))]
    pub async fn get_webhook_secret(
        &self,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<SecretInfo> {
        self.run(cancellation, || {
            Ok::<_, EzThrottleError>(self.client.get_webhook_secret())
        })
        .await
    }

    /// Remove the webhook secrets.
    #[uniffi::method(default(cancellation = None))]
    pub async fn delete_webhook_secret(
        &self,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<String> {
        let run = self.run(cancellation, || {
            Ok::<_, EzThrottleError>(self.client.delete_webhook_secret())
        });
        Ok(ezthrottle_core::json::object_to_string(&run.await?))
    }

    /// `new_secret` becomes primary and `current_secret` (when given) secondary.
    #[uniffi::method(default(cancellation = None))]
    pub async fn rotate_webhook_secret(
        &self,
        new_secret: String,
        current_secret: Option<String>,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<String> {
        let run = self.run(cancellation, || {
            self.client
                .rotate_webhook_secret(&new_secret, current_secret.as_deref())
        });
        Ok(ezthrottle_core::json::object_to_string(&run.await?))
    }

    /// A webhook endpoint verifying with these secrets (`toleranceSecs`
    /// defaults to ezthrottle-core's `DEFAULT_TOLERANCE_SECS`) that runs this
    /// client's registered follow-ups and ends its `waitForResult` calls.
    #[uniffi::method(default(secondary_secret = None, tolerance_secs = None))]
    pub fn webhook_receiver(
        self: Arc<Self>,
        primary_secret: String,
        secondary_secret: Option<String>,
        tolerance_secs: Option<i64>,
    ) -> Result<Arc<WebhookReceiver>> {
        WebhookReceiver::for_client(&self, &primary_secret, secondary_secret, tolerance_secs)
    }

    /// Suspend until `jobId`'s result reaches one of this client's
    /// receivers (at once if it already has). Bound it with the caller's
    /// timeout (`withTimeout` in Kotlin, a task group in Swift); cancelling
    /// the call frees the wait.
    #[uniffi::method(default(cancellation = None))]
    pub async fn wait_for_result(
        &self,
        job_id: String,
        cancellation: Option<Arc<CancellationToken>>,
    ) -> Result<WebhookEvent> {
        cancellable(cancellation, async {
            Ok(WebhookEvent::from_core(
                &self.client.wait_for_result(&job_id).await,
            ))
        })
        .await
    }

    /// `execute` on the caller's thread, for Java and for code already off
    /// the main thread (`withContext(Dispatchers.IO)`). The built-in
    /// transport then sends from this thread; an app's transport must not
    /// need it.
    pub fn execute_blocking(&self, step: Arc<Step>) -> Result<ExecuteResult> {
        let execution = self.client.execute(&step.snapshot())?;
        Ok(self.transport.run_blocking(execution)?.into())
    }

    /// `submit` on the caller's thread (see `executeBlocking`).
    pub fn submit_blocking(&self, step: Arc<Step>) -> Result<SubmitAnswer> {
        let call = self.client.submit_step(&step.snapshot())?;
        Ok(self.transport.run_blocking(call)?.into())
    }

    /// `forward` on the caller's thread (see `executeBlocking`).
    pub fn forward_blocking(&self, request: ForwardRequest) -> Result<SubmitAnswer> {
        let call = self.client.forward(&request.to_core()?)?;
        Ok(self.transport.run_blocking(call)?.into())
    }

    /// `forwardOrFallback` on the caller's thread (see `executeBlocking`):
    /// the answer, or `null` when EZThrottle cannot be reached at all, for
    /// the caller to run its fallback.
    pub fn forward_or_fallback_blocking(
        &self,
        request: ForwardRequest,
    ) -> Result<Option<SubmitAnswer>> {
        let call = self.client.forward_or_fallback(&request.to_core()?)?;
        Ok(match self.transport.run_blocking(call)? {
            ForwardOrFallback::Submitted(answer) => Some(answer.into()),
            ForwardOrFallback::Fallback(()) => None,
        })
    }

    /// `submitJobJson` on the caller's thread (see `executeBlocking`).
    pub fn submit_job_json_blocking(&self, job_json: String) -> Result<SubmitAnswer> {
        let call = self.client.submit_job_json(&job_json)?;
        Ok(self.transport.run_blocking(call)?.into())
    }

    /// `queueRequest` on the caller's thread (see `executeBlocking`).
    pub fn queue_request_blocking(&self, request: QueueRequestOptions) -> Result<SubmitAnswer> {
        let call = self.client.queue_request(&request.to_core()?)?;
        Ok(self.transport.run_blocking(call)?.into())
    }

    /// `createWebhookSecret` on the caller's thread (see `executeBlocking`).
    #[uniffi::method(default(secondary = None))]
    pub fn create_webhook_secret_blocking(
        &self,
        primary: String,
        secondary: Option<String>,
    ) -> Result<String> {
        let call = self
            .client
            .create_webhook_secret(&primary, secondary.as_deref())?;
        let answer = self.transport.run_blocking(call)?;
        Ok(ezthrottle_core::json::object_to_string(&answer))
    }

    /// `getWebhookSecret` on the caller's thread (see `executeBlocking`).
    pub fn get_webhook_secret_blocking(&self) -> Result<SecretInfo> {
        Ok(self
            .transport
            .run_blocking(self.client.get_webhook_secret())?)
    }

    /// `deleteWebhookSecret` on the caller's thread (see `executeBlocking`).
    pub fn delete_webhook_secret_blocking(&self) -> Result<String> {
        let answer = self
            .transport
            .run_blocking(self.client.delete_webhook_secret())?;
        Ok(ezthrottle_core::json::object_to_string(&answer))
    }

    /// `rotateWebhookSecret` on the caller's thread (see `executeBlocking`).
    #[uniffi::method(default(current_secret = None))]
    pub fn rotate_webhook_secret_blocking(
        &self,
        new_secret: String,
        current_secret: Option<String>,
    ) -> Result<String> {
        let rotation = self
            .client
            .rotate_webhook_secret(&new_secret, current_secret.as_deref())?;
        let answer = self.transport.run_blocking(rotation)?;
        Ok(ezthrottle_core::json::object_to_string(&answer))
    }

    /// Block this thread until `jobId`'s result reaches one of this
    /// client's receivers (at once if it already has), for at most
    /// `timeoutMs`; `EzThrottleException.Unreachable` of kind `timeout` when
    /// it runs out. For Java and threads of their own: never the thread that
    /// serves the webhook.
    pub fn wait_for_result_blocking(
        &self,
        job_id: String,
        timeout_ms: i64,
    ) -> Result<WebhookEvent> {
        let timeout = Duration::from_millis(non_negative("timeout_ms", timeout_ms)?);
        let event = ezthrottle_transport::wait_for_result(&self.client, &job_id, timeout)?;
        Ok(WebhookEvent::from_core(&event))
    }

    /// How many submitted jobs wait for their webhook to run a follow-up.
    pub fn pending_continuations(&self) -> i64 {
        i64::try_from(self.client.pending_continuations()).unwrap_or(i64::MAX)
    }
}

impl EzThrottle {
    /// Make a call's operation and run it through the transport, both
    /// within `cancellation`: a token cancelled first sends nothing.
    async fn run<O, E>(
        &self,
        cancellation: Option<Arc<CancellationToken>>,
        make: impl FnOnce() -> std::result::Result<O, E> + Send,
    ) -> Result<O::Output>
    where
        O: Operation + Send + 'static,
        O::Output: Send + 'static,
        EzThrottleError: From<E>,
    {
        cancellable(cancellation, async {
            Ok(self.transport.run(make()?).await?)
        })
        .await
    }
}

/// Run `call` under `cancellation`, when the caller handed one in.
async fn cancellable<T>(
    cancellation: Option<Arc<CancellationToken>>,
    call: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match cancellation {
        Some(token) => token.guard(call).await,
        None => call.await,
    }
}
