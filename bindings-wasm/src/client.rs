//! The client: configuration, transport, and every network call.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use ezthrottle_core::{
    Client, ClientOptions, Error, ForwardOrFallback, ForwardToEZThrottle, ResultWait, API_KEY_ENV,
};
use js_sys::{Function, Promise};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::convert::{self, to_js};
use crate::errors::{to_js as error_to_js, IntoJs, JsResult};
use crate::step::StepHandle;
use crate::transport::Transport;
use crate::webhook::WebhookHandler;

type CallFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, Error>>>>;

/// One promise adapter for every call (boxed, so it is compiled once: the
/// package's size is a feature).
fn promise_of(call: CallFuture) -> Promise {
    future_to_promise(async move { call.await.map(|v| to_js(&v)).map_err(error_to_js) })
}

/// A configured client. The public `EZThrottle` class wraps it.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct ClientHandle {
    pub(crate) client: Client,
    pub(crate) transport: Transport,
}

impl ClientHandle {
    /// Run `call` on a copy of the client as a promise of a JS value.
    fn spawn<F, Fut>(&self, call: F) -> Promise
    where
        F: FnOnce(ClientHandle) -> Fut,
        Fut: std::future::Future<Output = Result<Value, Error>> + 'static,
    {
        promise_of(Box::pin(call(self.clone())))
    }
}

/// `process.env[EZTHROTTLE_API_KEY]` where the host has one (Node, not
/// browsers or workers).
fn environment_key() -> Option<String> {
    let get = |target: &JsValue, key: &str| {
        js_sys::Reflect::get(target, &key.into())
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    };
    let env = get(&get(&js_sys::global(), "process")?, "env")?;
    get(&env, API_KEY_ENV)?.as_string()
}

#[wasm_bindgen]
impl ClientHandle {
    /// `{ apiKey, tracktagsUrl?, ezthrottleUrl?, timeoutMs?,
    /// continuationWebhook? }`; a missing `apiKey` reads
    /// `process.env.EZTHROTTLE_API_KEY` where there is one. `send` is the
    /// HTTP the JS side chose (see [`Transport`]).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, send: Function) -> JsResult<ClientHandle> {
        let options = convert::options(options, "options").js()?;
        let timeout_ms = match options.get("timeout_ms") {
            None | Some(Value::Null) => None,
            Some(ms) => Some(ms.as_u64().ok_or_else(|| {
                error_to_js(Error::validation(
                    "timeoutMs",
                    "must be a positive whole number of milliseconds",
                ))
            })?),
        };
        let text = |name| convert::field_text(&options, name).js();
        let client = Client::new(ClientOptions {
            api_key: text("api_key")?,
            api_key_from_env: environment_key(),
            tracktags_url: text("tracktags_url")?,
            ezthrottle_url: text("ezthrottle_url")?,
            timeout_ms,
            continuation_webhook: text("continuation_webhook")?,
        })
        .js()?;
        Ok(ClientHandle {
            client,
            transport: Transport::new(send),
        })
    }

    /// Execute a step: resolves to `{ result, trace }`.
    pub fn execute(&self, step: &StepHandle) -> Promise {
        let step = step.inner.clone();
        self.spawn(move |client| async move {
            let mut execution = client.client.execute(&step)?;
            let run = client.transport.run(&mut execution).await?;
            Ok(json!({ "result": run.outcome.to_json(), "trace": run.trace.to_string() }))
        })
    }

    /// Submit a job described by step options (`{ url, method, webhooks,
    /// retryPolicy, … }`, the `Step` builder's names) with nested jobs raw
    /// (`fallbackJob`, `onSuccess`, `onFailure`), validated first.
    #[wasm_bindgen(js_name = submitJob)]
    pub fn submit_job(&self, options: JsValue) -> Promise {
        // The builder's names and nested jobs as the official Node SDK
        // passes them (camelCase at any depth) are one job once renamed.
        let step = convert::options(options, "options").and_then(|options| {
            let job = convert::wire_job(Value::Object(options));
            ezthrottle_core::Step::from_job_value(&job)?.build_job()
        });
        self.spawn(move |client| async move {
            let mut call = client.client.submit_job(&step?)?;
            Ok(Value::Object(
                client.transport.run(&mut call).await?.as_json().clone(),
            ))
        })
    }

    /// The legacy `queue_request` with snake_case or camelCase options.
    #[wasm_bindgen(js_name = queueRequest)]
    pub fn queue_request(&self, options: JsValue) -> Promise {
        let request = convert::options(options, "options")
            .and_then(|o| ezthrottle_core::QueueRequest::from_value(&Value::Object(o)));
        self.spawn(move |client| async move {
            let mut call = client.client.queue_request(&request?)?;
            Ok(Value::Object(
                client.transport.run(&mut call).await?.as_json().clone(),
            ))
        })
    }

    /// Submit a forward (`ForwardToEZThrottle` fields); resolves to the answer.
    pub fn forward(&self, forward: JsValue) -> Promise {
        let forward = read_forward(forward);
        self.spawn(move |client| async move {
            let mut call = client.client.forward(&forward?)?;
            Ok(Value::Object(
                client.transport.run(&mut call).await?.as_json().clone(),
            ))
        })
    }

    /// Submit a forward; resolves to `{ submitted: <answer> }`, or to
    /// `{ fallback: true }` when the service cannot be reached and the
    /// caller's fallback is to run (the core's rule; the JS side runs it).
    #[wasm_bindgen(js_name = forwardOrFallback)]
    pub fn forward_or_fallback(&self, forward: JsValue) -> Promise {
        let forward = read_forward(forward);
        self.spawn(move |client| async move {
            let mut call = client.client.forward_or_fallback(&forward?)?;
            Ok(match client.transport.run(&mut call).await? {
                ForwardOrFallback::Submitted(answer) => json!({ "submitted": answer.as_json() }),
                ForwardOrFallback::Fallback(()) => json!({ "fallback": true }),
            })
        })
    }

    /// Create or replace the webhook secrets.
    #[wasm_bindgen(js_name = createWebhookSecret)]
    pub fn create_webhook_secret(&self, primary: JsValue, secondary: JsValue) -> Promise {
        let secrets = convert::text(&primary, "primarySecret")
            .and_then(|p| Ok((p, convert::optional_text(&secondary, "secondarySecret")?)));
        self.spawn(move |client| async move {
            let (primary, secondary) = secrets?;
            let mut call = client
                .client
                .create_webhook_secret(&primary, secondary.as_deref())?;
            Ok(Value::Object(client.transport.run(&mut call).await?))
        })
    }

    /// Read the webhook secrets (masked).
    #[wasm_bindgen(js_name = getWebhookSecret)]
    pub fn get_webhook_secret(&self) -> Promise {
        self.spawn(|client| async move {
            let mut call = client.client.get_webhook_secret();
            Ok(client.transport.run(&mut call).await?.to_json())
        })
    }

    /// Remove the webhook secrets.
    #[wasm_bindgen(js_name = deleteWebhookSecret)]
    pub fn delete_webhook_secret(&self) -> Promise {
        self.spawn(|client| async move {
            let mut call = client.client.delete_webhook_secret();
            Ok(Value::Object(client.transport.run(&mut call).await?))
        })
    }

    /// Rotate: `newSecret` becomes primary, the current one secondary.
    #[wasm_bindgen(js_name = rotateWebhookSecret)]
    pub fn rotate_webhook_secret(&self, new_secret: JsValue, current: JsValue) -> Promise {
        let secrets = convert::text(&new_secret, "newSecret")
            .and_then(|n| Ok((n, convert::optional_text(&current, "currentSecret")?)));
        self.spawn(move |client| async move {
            let (new_secret, current) = secrets?;
            let mut rotation = client
                .client
                .rotate_webhook_secret(&new_secret, current.as_deref())?;
            Ok(Value::Object(client.transport.run(&mut rotation).await?))
        })
    }

    /// A webhook handler verifying with these secrets and running this
    /// client's registered follow-ups.
    #[wasm_bindgen(js_name = webhookHandler)]
    pub fn webhook_handler(&self, options: JsValue) -> JsResult<WebhookHandler> {
        WebhookHandler::new(options, Some(self.clone()))
    }

    /// How many submitted jobs wait for their webhook to run a follow-up.
    #[wasm_bindgen(js_name = pendingContinuations)]
    pub fn pending_continuations(&self) -> usize {
        self.client.pending_continuations()
    }

    /// A wait for `jobId`'s result to reach one of this client's handlers.
    #[wasm_bindgen(js_name = waitForResult)]
    pub fn wait_for_result(&self, job_id: JsValue) -> JsResult<WaitHandle> {
        let job_id = convert::text(&job_id, "jobId").js()?;
        Ok(WaitHandle {
            state: Rc::new(RefCell::new(WaitState::Waiting(
                self.client.wait_for_result(&job_id),
                None,
            ))),
        })
    }
}

/// A wait for one job's result: `promise()` resolves to the delivered event
/// (`null` once cancelled); `cancel()` frees it (the JS side calls it on
/// timeout or abort).
#[wasm_bindgen]
#[derive(Debug)]
pub struct WaitHandle {
    state: Rc<RefCell<WaitState>>,
}

#[derive(Debug)]
enum WaitState {
    Waiting(ResultWait, Option<Waker>),
    Cancelled,
}

/// Polls the wait until it ends or is cancelled.
struct Waiting(Rc<RefCell<WaitState>>);

impl Future for Waiting {
    type Output = Option<ezthrottle_core::webhook::WebhookEvent>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut *self.0.borrow_mut() {
            WaitState::Cancelled => Poll::Ready(None),
            WaitState::Waiting(wait, waker) => {
                *waker = Some(cx.waker().clone());
                Pin::new(wait).poll(cx).map(Some)
            }
        }
    }
}

#[wasm_bindgen]
impl WaitHandle {
    /// Resolves to the event as JSON (`null` once cancelled).
    pub fn promise(&self) -> Promise {
        let waiting = Waiting(self.state.clone());
        future_to_promise(async move {
            Ok(waiting
                .await
                .map_or(JsValue::NULL, |event| to_js(&event.to_json())))
        })
    }

    /// Stop waiting: the core forgets the waiter, the promise resolves to `null`.
    pub fn cancel(&self) {
        let previous = std::mem::replace(&mut *self.state.borrow_mut(), WaitState::Cancelled);
        if let WaitState::Waiting(wait, Some(waker)) = previous {
            drop(wait);
            waker.wake();
        }
    }
}

pub(crate) fn read_forward(value: JsValue) -> Result<ForwardToEZThrottle, Error> {
    let mut map = convert::options(value, "forward")?;
    if let Some(Value::Array(hooks)) = map.get_mut("webhooks") {
        for hook in hooks.iter_mut() {
            *hook = convert::snake_keys(std::mem::take(hook));
        }
    }
    ForwardToEZThrottle::from_value(&Value::Object(map))
}
