//! The client: configuration, transport, and every network call.

use std::cell::RefCell;
use std::rc::Rc;

use ezthrottle_core::webhook::Continuations;
use ezthrottle_core::{ClientConfig, Error, ForwardToEZThrottle, Outcome, Trace, API_KEY_ENV};
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
    pub(crate) config: ClientConfig,
    pub(crate) transport: Transport,
    /// Follow-ups of submitted jobs, shared with this client's webhook handlers.
    pub(crate) continuations: Rc<RefCell<Continuations>>,
}

/// A step's execution, as JS sees it.
pub(crate) struct Executed {
    pub outcome: Outcome,
    pub trace: Trace,
}

impl ClientHandle {
    pub(crate) async fn run_step(&self, step: ezthrottle_core::Step) -> Result<Executed, Error> {
        let mut execution = self.config.execute(&step)?;
        let outcome = self.transport.run(&mut execution).await?;
        let mut pending = self.continuations.borrow_mut();
        for continuation in execution.take_continuations() {
            pending.register(continuation);
        }
        Ok(Executed {
            outcome,
            trace: execution.trace().clone(),
        })
    }

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
    /// continuationWebhook? }`, plus `fetch` (kept as a function). A missing
    /// `apiKey` reads `process.env.EZTHROTTLE_API_KEY` where there is one.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, fetch: JsValue) -> JsResult<ClientHandle> {
        let options = convert::options(options, "options").js()?;
        let fetch = match fetch.dyn_into::<Function>() {
            Ok(fetch) => Some(fetch),
            Err(other) if other.is_undefined() || other.is_null() => None,
            Err(_) => {
                return Err(error_to_js(Error::validation(
                    "fetch",
                    "must be a function",
                )));
            }
        };
        let key = match convert::field_text(&options, "api_key").js()? {
            Some(key) => key,
            None => environment_key().unwrap_or_default(),
        };
        let mut builder = ClientConfig::builder(key);
        if let Some(url) = convert::field_text(&options, "tracktags_url").js()? {
            builder = builder.tracktags_url(url);
        }
        if let Some(url) = convert::field_text(&options, "ezthrottle_url").js()? {
            builder = builder.ezthrottle_url(url);
        }
        if let Some(url) = convert::field_text(&options, "continuation_webhook").js()? {
            builder = builder.continuation_webhook(url);
        }
        match options.get("timeout_ms") {
            None | Some(Value::Null) => {}
            Some(ms) => match ms.as_u64() {
                Some(ms) => builder = builder.timeout_ms(ms),
                None => {
                    return Err(error_to_js(Error::validation(
                        "timeoutMs",
                        "must be a positive whole number of milliseconds",
                    )))
                }
            },
        }
        Ok(ClientHandle {
            config: builder.build().js()?,
            transport: Transport::new(fetch),
            continuations: Rc::default(),
        })
    }

    /// Execute a step: resolves to `{ result, trace }`.
    pub fn execute(&self, step: &StepHandle) -> Promise {
        let step = step.inner.clone();
        self.spawn(move |client| async move {
            let run = client.run_step(step).await?;
            Ok(json!({ "result": run.outcome.to_json(), "trace": run.trace.to_string() }))
        })
    }

    /// Submit a job described by step options (`{ url, method, webhooks,
    /// retryPolicy, … }`, the `Step` builder's names), validated first.
    #[wasm_bindgen(js_name = submitJob)]
    pub fn submit_job(&self, options: JsValue) -> Promise {
        let step = convert::options(options, "options").and_then(|options| {
            let mut step = ezthrottle_core::Step::new();
            for (name, value) in options {
                step.apply_call(&name, &convert::call_argument(&name, value))?;
            }
            step.build_job()
        });
        self.spawn(move |client| async move {
            let mut call = client.config.submit_job(&step?)?;
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
            let mut call = client.config.queue_request(&request?)?;
            Ok(Value::Object(
                client.transport.run(&mut call).await?.as_json().clone(),
            ))
        })
    }

    /// Submit a forward (`ForwardToEZThrottle` fields); resolves to the answer.
    pub fn forward(&self, forward: JsValue) -> Promise {
        let forward = read_forward(forward);
        self.spawn(move |client| async move {
            let mut call = client.config.submit_job(&forward?.to_job()?)?;
            Ok(Value::Object(
                client.transport.run(&mut call).await?.as_json().clone(),
            ))
        })
    }

    /// Submit a forward; only when the service cannot be reached, call
    /// `fallback` and resolve to `{ fallback: <its value> }`.
    #[wasm_bindgen(js_name = forwardOrFallback)]
    pub fn forward_or_fallback(&self, forward: JsValue, fallback: Function) -> Promise {
        let forward = read_forward(forward);
        let client = self.clone();
        future_to_promise(async move {
            let job = forward.and_then(|f| f.to_job()).js()?;
            let mut call = client.config.submit_job(&job).js()?;
            match client.transport.run(&mut call).await {
                Ok(answer) => Ok(to_js(&json!({ "submitted": answer.as_json() }))),
                Err(e) if e.is_service_unreachable() => {
                    let value = fallback.call0(&JsValue::UNDEFINED)?;
                    let value = JsFuture::from(Promise::resolve(&value)).await?;
                    let out = js_sys::Object::new();
                    js_sys::Reflect::set(&out, &"fallback".into(), &value)?;
                    Ok(out.into())
                }
                Err(e) => Err(error_to_js(e)),
            }
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
                .config
                .create_webhook_secret(&primary, secondary.as_deref())?;
            Ok(Value::Object(client.transport.run(&mut call).await?))
        })
    }

    /// Read the webhook secrets (masked).
    #[wasm_bindgen(js_name = getWebhookSecret)]
    pub fn get_webhook_secret(&self) -> Promise {
        self.spawn(|client| async move {
            let mut call = client.config.get_webhook_secret();
            let info = client.transport.run(&mut call).await?;
            Ok(json!({
                "primary_secret": info.primary_secret,
                "secondary_secret": info.secondary_secret,
            }))
        })
    }

    /// Remove the webhook secrets.
    #[wasm_bindgen(js_name = deleteWebhookSecret)]
    pub fn delete_webhook_secret(&self) -> Promise {
        self.spawn(|client| async move {
            let mut call = client.config.delete_webhook_secret();
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
                .config
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
        self.continuations.borrow().len()
    }
}

use wasm_bindgen_futures::JsFuture;

pub(crate) fn read_forward(value: JsValue) -> Result<ForwardToEZThrottle, Error> {
    let mut map = convert::options(value, "forward")?;
    if let Some(Value::Array(hooks)) = map.get_mut("webhooks") {
        for hook in hooks.iter_mut() {
            *hook = convert::snake_keys(std::mem::take(hook));
        }
    }
    ForwardToEZThrottle::from_value(&Value::Object(map))
}
