//! Webhook signatures and the webhook handler for workers and Node.

use std::cell::RefCell;
use std::rc::Rc;

use ezthrottle_core::webhook::{
    verify_signature as core_verify, verify_signature_strict as core_strict, verify_with_secrets,
    Continuations, Received, Verification, WebhookReceiver, DEFAULT_TOLERANCE_SECS,
    SIGNATURE_HEADER,
};
use ezthrottle_core::Error;
use js_sys::{Function, Promise, Uint8Array};
use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::client::ClientHandle;
use crate::convert::{self, to_js};
use crate::errors::{to_js as error_to_js, IntoJs, JsResult};
use crate::transport::now_ms;

/// A raw body given as a string (its UTF-8 bytes) or bytes.
fn payload_bytes(payload: &JsValue) -> JsResult<Vec<u8>> {
    if let Some(text) = payload.as_string() {
        return Ok(text.into_bytes());
    }
    if let Some(bytes) = payload.dyn_ref::<Uint8Array>() {
        return Ok(bytes.to_vec());
    }
    if let Some(buffer) = payload.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(Uint8Array::new(buffer).to_vec());
    }
    Err(error_to_js(Error::validation(
        "payload",
        "must be the raw body as a string, Uint8Array or ArrayBuffer",
    )))
}

/// `{ toleranceSecs?, now? }`: the tolerance, and the clock in unix seconds.
fn clock(options: JsValue) -> JsResult<(i64, u64)> {
    let options = convert::options(options, "options").js()?;
    let number = |key: &str| -> JsResult<Option<f64>> {
        match options.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| error_to_js(Error::validation(key, "must be a number"))),
        }
    };
    let now = number("now")?.map_or((now_ms() / 1000) as i64, |n| n as i64);
    let tolerance = number("tolerance_secs")?.map_or(DEFAULT_TOLERANCE_SECS, |n| n.max(0.0) as u64);
    Ok((now, tolerance))
}

fn verification_to_js(check: &Verification) -> JsValue {
    to_js(&json!({
        "valid": check.is_valid(),
        "reason": check.reason.as_str(),
        "primaryReason": check.primary_reason.map(|r| r.as_str()),
        "timestamp": check.timestamp,
    }))
}

/// Check a delivery's signature with one secret; never throws for a bad
/// signature: resolves `{ valid, reason }`.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(
    payload: JsValue,
    header: JsValue,
    secret: JsValue,
    options: JsValue,
) -> JsResult<JsValue> {
    let (now, tolerance) = clock(options)?;
    let body = payload_bytes(&payload)?;
    let header = signature(&header)?;
    let secret = convert::text(&secret, "secret").js()?;
    Ok(verification_to_js(&core_verify(
        &body,
        header.as_deref().unwrap_or_default(),
        &secret,
        now,
        tolerance,
    )))
}

/// The signature header argument: a string, or absent.
fn signature(header: &JsValue) -> JsResult<Option<String>> {
    convert::optional_text(header, "signature").js()
}

/// The primary and optional secondary secret arguments.
fn secrets(primary: &JsValue, secondary: &JsValue) -> JsResult<(String, Option<String>)> {
    Ok((
        convert::text(primary, "primarySecret").js()?,
        convert::optional_text(secondary, "secondarySecret").js()?,
    ))
}

/// Check with the primary secret, then the secondary (rotation).
#[wasm_bindgen(js_name = verifyWithSecrets)]
pub fn verify_with_both(
    payload: JsValue,
    header: JsValue,
    primary: JsValue,
    secondary: JsValue,
    options: JsValue,
) -> JsResult<JsValue> {
    let (now, tolerance) = clock(options)?;
    let body = payload_bytes(&payload)?;
    let header = signature(&header)?;
    let (primary, secondary) = secrets(&primary, &secondary)?;
    Ok(verification_to_js(&verify_with_secrets(
        &body,
        header.as_deref().unwrap_or_default(),
        &primary,
        secondary.as_deref(),
        now,
        tolerance,
    )))
}

/// Like `verifyWithSecrets`, but a refusal throws a `SignatureError`.
#[wasm_bindgen(js_name = verifySignatureStrict)]
pub fn verify_signature_strict(
    payload: JsValue,
    header: JsValue,
    primary: JsValue,
    secondary: JsValue,
    options: JsValue,
) -> JsResult<JsValue> {
    let (now, tolerance) = clock(options)?;
    let body = payload_bytes(&payload)?;
    let header = signature(&header)?;
    let (primary, secondary) = secrets(&primary, &secondary)?;
    let check = core_strict(
        &body,
        header.as_deref().unwrap_or_default(),
        &primary,
        secondary.as_deref(),
        now,
        tolerance,
    )
    .js()?;
    Ok(verification_to_js(&check))
}

/// A webhook endpoint: verifies, parses, runs registered follow-ups, answers.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WebhookHandler {
    receiver: Rc<RefCell<WebhookReceiver>>,
    client: Option<ClientHandle>,
    continuations: Rc<RefCell<Continuations>>,
    on_event: Option<Function>,
}

impl WebhookHandler {
    pub(crate) fn new(options: JsValue, client: Option<ClientHandle>) -> JsResult<Self> {
        let on_event = js_sys::Reflect::get(&options, &"onEvent".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        let data: Map<String, Value> =
            convert::options(strip_functions(&options), "options").js()?;
        let secret = |key: &str| -> JsResult<Option<String>> {
            match data.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(error_to_js(Error::validation(key, "must be a string"))),
            }
        };
        let primary = secret("primary_secret")?
            .ok_or_else(|| error_to_js(Error::validation("primarySecret", "is required")))?;
        let mut receiver = WebhookReceiver::new(primary, secret("secondary_secret")?).js()?;
        if let Some(tolerance) = data.get("tolerance_secs").and_then(Value::as_u64) {
            receiver = receiver.tolerance_secs(tolerance);
        }
        let continuations = client
            .as_ref()
            .map_or_else(Rc::default, |c| c.continuations.clone());
        Ok(Self {
            receiver: Rc::new(RefCell::new(receiver)),
            client,
            continuations,
            on_event,
        })
    }

    fn decide(&self, body: &[u8], signature: Option<&str>) -> Delivery {
        let now = (now_ms() / 1000) as i64;
        let mut continuations = self.continuations.borrow_mut();
        let received = self
            .receiver
            .borrow_mut()
            .receive(body, signature, now, &mut continuations);
        // An accepted event is the delivery's own JSON, as sent.
        let event = match received.event {
            Some(_) => std::str::from_utf8(body).map_or(JsValue::NULL, convert::parse),
            None => JsValue::NULL,
        };
        Delivery { received, event }
    }
}

/// A decided delivery and its event as a JS value.
struct Delivery {
    received: Received,
    event: JsValue,
}

/// The options object without its functions (they are not JSON).
fn strip_functions(options: &JsValue) -> JsValue {
    if !options.is_object() {
        return options.clone();
    }
    let copy = js_sys::Object::new();
    for entry in js_sys::Object::entries(options.unchecked_ref()).iter() {
        let pair: js_sys::Array = entry.unchecked_into();
        if !pair.get(1).is_function() {
            let _ = js_sys::Reflect::set(&copy, &pair.get(0), &pair.get(1));
        }
    }
    copy.into()
}

#[wasm_bindgen]
impl WebhookHandler {
    /// A handler with no client: verifies and parses only.
    #[wasm_bindgen(constructor)]
    pub fn standalone(options: JsValue) -> JsResult<WebhookHandler> {
        Self::new(options, None)
    }

    /// Handle a delivery given as raw body and signature header: resolves to
    /// `{ status, body, event, followUp }` (for Node's `http` servers).
    pub fn receive(&self, payload: JsValue, header: JsValue) -> JsResult<Promise> {
        let body = payload_bytes(&payload)?;
        let signature = signature(&header)?;
        Ok(self.finish(self.decide(&body, signature.as_deref())))
    }

    /// Handle a fetch `Request`; resolves to the `Response` to send.
    pub fn handle(&self, request: JsValue) -> Promise {
        let this = self.clone_parts();
        future_to_promise(async move {
            let request: web_sys::Request = request.dyn_into().map_err(|_| {
                error_to_js(Error::validation("request", "must be a fetch Request"))
            })?;
            let signature = request.headers().get(SIGNATURE_HEADER).ok().flatten();
            let text = JsFuture::from(request.array_buffer()?).await?;
            let body = Uint8Array::new(&text).to_vec();
            let outcome =
                JsFuture::from(this.finish(this.decide(&body, signature.as_deref()))).await?;
            respond(&outcome)
        })
    }
}

impl WebhookHandler {
    fn clone_parts(&self) -> WebhookHandler {
        WebhookHandler {
            receiver: self.receiver.clone(),
            client: self.client.clone(),
            continuations: self.continuations.clone(),
            on_event: self.on_event.clone(),
        }
    }

    /// Run the follow-up (if any) and the `onEvent` hook, then resolve to the
    /// handled delivery.
    fn finish(&self, delivery: Delivery) -> Promise {
        let Delivery { received, event } = delivery;
        let client = self.client.clone();
        let on_event = self.on_event.clone();
        future_to_promise(async move {
            let mut follow_up = Value::Null;
            if let (Some(step), Some(client)) = (received.follow_up, client) {
                follow_up = match client.run_step(step).await {
                    Ok(run) => json!({ "result": run.outcome.to_json() }),
                    Err(e) => json!({ "error": { "code": e.code(), "message": e.to_string() } }),
                };
            }
            let handled = to_js(&json!({
                "status": received.status,
                "body": received.body,
                "reason": received.verification.reason.as_str(),
                "followUp": follow_up,
            }));
            js_sys::Reflect::set(&handled, &"event".into(), &event)?;
            if let (Some(hook), false) = (on_event, event.is_null()) {
                let returned = hook.call1(&JsValue::UNDEFINED, &handled)?;
                JsFuture::from(Promise::resolve(&returned)).await?;
            }
            Ok(handled)
        })
    }
}

fn respond(handled: &JsValue) -> JsResult<JsValue> {
    let status = js_sys::Reflect::get(handled, &"status".into())?
        .as_f64()
        .unwrap_or(500.0) as u16;
    let body = js_sys::Reflect::get(handled, &"body".into())?.as_string();
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", "application/json")?;
    init.set_headers(&headers);
    Ok(web_sys::Response::new_with_opt_str_and_init(body.as_deref(), &init)?.into())
}
