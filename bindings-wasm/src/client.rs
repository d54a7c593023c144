//! The client: configuration, and every network call as an `Exchange` for
//! the JS side to drive.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use ezthrottle_core::{
    Client, ClientOptions, Error, ForwardOrFallback, ForwardToEZThrottle, ResultWait, API_KEY_ENV,
};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::convert::{self, to_js};
use crate::errors::{IntoJs, JsResult};
use crate::exchange::Exchange;
use crate::step::StepHandle;
use crate::webhook::WebhookHandler;

/// A configured client. The public `EZThrottle` class wraps it, and drives
/// the `Exchange` each call returns with its own HTTP.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct ClientHandle {
    pub(crate) client: Client,
}

/// A gateway answer object as the JS result (written as it is: no copy).
fn object(map: &serde_json::Map<String, Value>) -> JsResult<JsValue> {
    Ok(convert::parse(&ezthrottle_core::json::object_to_string(
        map,
    )))
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
    /// `process.env.EZTHROTTLE_API_KEY` where there is one.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> JsResult<ClientHandle> {
        let options = convert::options(options, "options").js()?;
        let timeout_ms = convert::field_whole_number(&options, "timeout_ms").js()?;
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
        Ok(ClientHandle { client })
    }

    /// Execute a step: finishes with `{ result, trace }`.
    pub fn execute(&self, step: &StepHandle) -> JsResult<Exchange> {
        let execution = self.client.execute(&step.inner).js()?;
        Ok(Exchange::new(execution, |run| {
            Ok(to_js(&convert::json_object([
                ("result", run.outcome.to_json()),
                ("trace", run.trace.to_string().into()),
            ])))
        }))
    }

    /// Submit a job described by step options (`{ url, method, webhooks,
    /// retryPolicy, … }`, the `Step` builder's names) with nested jobs raw
    /// (`fallbackJob`, `onSuccess`, `onFailure`), validated first.
    #[wasm_bindgen(js_name = submitJob)]
    pub fn submit_job(&self, options: JsValue) -> JsResult<Exchange> {
        // The builder's names and nested jobs as the official Node SDK
        // passes them (camelCase at any depth) are one job once renamed.
        let options = convert::object(options, "options").js()?;
        let job = ezthrottle_core::spelling::job(Value::Object(options));
        let call = self.client.submit_job_value(&job).js()?;
        Ok(Exchange::new(call, |answer| object(answer.as_json())))
    }

    /// The legacy `queue_request` with snake_case or camelCase options.
    #[wasm_bindgen(js_name = queueRequest)]
    pub fn queue_request(&self, options: JsValue) -> JsResult<Exchange> {
        let options = convert::options(options, "options").js()?;
        let request = ezthrottle_core::QueueRequest::from_value(&Value::Object(options)).js()?;
        let call = self.client.queue_request(&request).js()?;
        Ok(Exchange::new(call, |answer| object(answer.as_json())))
    }

    /// Submit a forward (`ForwardToEZThrottle` fields); finishes with the answer.
    pub fn forward(&self, forward: JsValue) -> JsResult<Exchange> {
        let call = self.client.forward(&read_forward(forward).js()?).js()?;
        Ok(Exchange::new(call, |answer| object(answer.as_json())))
    }

    /// Submit a forward; finishes with `{ submitted: <answer> }`, or with
    /// `{ fallback: true }` when the service cannot be reached and the
    /// caller's fallback is to run (the core's rule; the JS side runs it).
    #[wasm_bindgen(js_name = forwardOrFallback)]
    pub fn forward_or_fallback(&self, forward: JsValue) -> JsResult<Exchange> {
        let call = self
            .client
            .forward_or_fallback(&read_forward(forward).js()?)
            .js()?;
        Ok(Exchange::new(call, |outcome| {
            Ok(to_js(&match outcome {
                ForwardOrFallback::Submitted(answer) => {
                    convert::json_object([("submitted", Value::Object(answer.as_json().clone()))])
                }
                ForwardOrFallback::Fallback(()) => {
                    convert::json_object([("fallback", true.into())])
                }
            }))
        }))
    }

    /// Create or replace the webhook secrets.
    #[wasm_bindgen(js_name = createWebhookSecret)]
    pub fn create_webhook_secret(
        &self,
        primary: JsValue,
        secondary: JsValue,
    ) -> JsResult<Exchange> {
        let primary = convert::text(&primary, "primary_secret").js()?;
        let secondary = convert::optional_text(&secondary, "secondary_secret").js()?;
        let call = self
            .client
            .create_webhook_secret(&primary, secondary.as_deref())
            .js()?;
        Ok(Exchange::new(call, |answer| object(&answer)))
    }

    /// Read the webhook secrets (masked).
    #[wasm_bindgen(js_name = getWebhookSecret)]
    pub fn get_webhook_secret(&self) -> Exchange {
        Exchange::new(self.client.get_webhook_secret(), |info| {
            Ok(to_js(&info.to_json()))
        })
    }

    /// Remove the webhook secrets.
    #[wasm_bindgen(js_name = deleteWebhookSecret)]
    pub fn delete_webhook_secret(&self) -> Exchange {
        Exchange::new(self.client.delete_webhook_secret(), |answer| {
            object(&answer)
        })
    }

    /// Rotate: `newSecret` becomes primary, the current one secondary.
    #[wasm_bindgen(js_name = rotateWebhookSecret)]
    pub fn rotate_webhook_secret(
        &self,
        new_secret: JsValue,
        current: JsValue,
    ) -> JsResult<Exchange> {
        let new_secret = convert::text(&new_secret, "new_secret").js()?;
        let current = convert::optional_text(&current, "current_secret").js()?;
        let rotation = self
            .client
            .rotate_webhook_secret(&new_secret, current.as_deref())
            .js()?;
        Ok(Exchange::new(rotation, |answer| object(&answer)))
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

    /// A wait for `jobId`'s result to reach one of this client's handlers,
    /// for at most `timeoutMs` (none: no limit).
    #[wasm_bindgen(js_name = waitForResult)]
    pub fn wait_for_result(&self, job_id: JsValue, timeout_ms: JsValue) -> JsResult<WaitHandle> {
        let job_id = convert::text(&job_id, "job_id").js()?;
        let timeout_ms = convert::optional_whole_number(&timeout_ms, "timeout_ms").js()?;
        Ok(WaitHandle {
            wait: Some(self.client.wait_for_result(&job_id)),
            timeout_ms,
        })
    }
}

/// A wait for one job's result. The JS side polls it when it starts and
/// after each delivery one of the client's handlers receives, so the wasm
/// needs no executor, promise or waker of its own. Freeing it (on timeout or
/// abort) makes the core forget the waiter.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WaitHandle {
    wait: Option<ResultWait>,
    timeout_ms: Option<u64>,
}

#[wasm_bindgen]
impl WaitHandle {
    /// How long the JS side waits, in milliseconds, as checked; `undefined`
    /// when there is no limit.
    #[wasm_bindgen(getter = timeoutMs)]
    pub fn timeout_ms(&self) -> Option<f64> {
        // Above 2^53 ms (285,000 years) the nearest double is as good.
        self.timeout_ms.map(|ms| ms as f64)
    }

    /// The message of the wait's timeout, in every binding's words.
    #[wasm_bindgen(getter = timeoutMessage)]
    pub fn timeout_message(&self) -> String {
        let wait = self.wait.as_ref().zip(self.timeout_ms);
        wait.map_or_else(String::new, |(wait, ms)| {
            ResultWait::timed_out(wait.job_id(), ms).message
        })
    }

    /// The delivered event as JSON once it has arrived, else `undefined`.
    pub fn poll(&mut self) -> JsValue {
        let Some(wait) = self.wait.as_mut() else {
            return JsValue::UNDEFINED;
        };
        // A no-op waker: the JS side, not a waker, knows when to poll again.
        let mut context = Context::from_waker(Waker::noop());
        match Pin::new(wait).poll(&mut context) {
            Poll::Ready(event) => {
                self.wait = None;
                to_js(&event.to_json())
            }
            Poll::Pending => JsValue::UNDEFINED,
        }
    }
}

pub(crate) fn read_forward(value: JsValue) -> Result<ForwardToEZThrottle, Error> {
    // Renamed by `spelling::forward`, its webhooks too.
    let map = convert::object(value, "forward")?;
    ForwardToEZThrottle::from_value(&ezthrottle_core::spelling::forward(Value::Object(map)))
}
