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

/// The arguments of a signature check, read once for every kind of check.
struct SignedPayload {
    body: Vec<u8>,
    header: String,
    primary: String,
    secondary: Option<String>,
    now: i64,
    tolerance: u64,
}

impl SignedPayload {
    /// `primary_field` names the primary secret in errors (`secret` when it
    /// is the only one).
    fn read(
        payload: &JsValue,
        header: &JsValue,
        primary: &JsValue,
        primary_field: &str,
        secondary: &JsValue,
        options: JsValue,
    ) -> JsResult<Self> {
        let (now, tolerance) = clock(options)?;
        Ok(Self {
            body: payload_bytes(payload)?,
            header: signature(header)?.unwrap_or_default(),
            primary: convert::text(primary, primary_field).js()?,
            secondary: convert::optional_text(secondary, "secondarySecret").js()?,
            now,
            tolerance,
        })
    }
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
    let p = SignedPayload::read(
        &payload,
        &header,
        &secret,
        "secret",
        &JsValue::UNDEFINED,
        options,
    )?;
    Ok(verification_to_js(&core_verify(
        &p.body,
        &p.header,
        &p.primary,
        p.now,
        p.tolerance,
    )))
}

/// The signature header argument: a string, or absent.
fn signature(header: &JsValue) -> JsResult<Option<String>> {
    convert::optional_text(header, "signature").js()
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
    let p = SignedPayload::read(
        &payload,
        &header,
        &primary,
        "primarySecret",
        &secondary,
        options,
    )?;
    Ok(verification_to_js(&verify_with_secrets(
        &p.body,
        &p.header,
        &p.primary,
        p.secondary.as_deref(),
        p.now,
        p.tolerance,
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
    let p = SignedPayload::read(
        &payload,
        &header,
        &primary,
        "primarySecret",
        &secondary,
        options,
    )?;
    let check = core_strict(
        &p.body,
        &p.header,
        &p.primary,
        p.secondary.as_deref(),
        p.now,
        p.tolerance,
    )
    .js()?;
    Ok(verification_to_js(&check))
}

/// A webhook endpoint: verifies, parses, runs registered follow-ups, answers.
#[wasm_bindgen]
#[derive(Debug, Clone)]
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
        let primary = convert::field_text(&data, "primary_secret")
            .js()?
            .ok_or_else(|| error_to_js(Error::validation("primarySecret", "is required")))?;
        let secondary = convert::field_text(&data, "secondary_secret").js()?;
        let mut receiver = WebhookReceiver::new(primary, secondary).js()?;
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
        let delivery = self.decide(&body, signature.as_deref());
        let this = self.clone();
        Ok(future_to_promise(async move {
            Ok(this.settle(delivery).await?.handled)
        }))
    }

    /// Handle a fetch `Request`; resolves to the `Response` to send.
    pub fn handle(&self, request: JsValue) -> Promise {
        let this = self.clone();
        future_to_promise(async move {
            let request: web_sys::Request = request.dyn_into().map_err(|_| {
                error_to_js(Error::validation("request", "must be a fetch Request"))
            })?;
            let signature = request.headers().get(SIGNATURE_HEADER).ok().flatten();
            let text = JsFuture::from(request.array_buffer()?).await?;
            let body = Uint8Array::new(&text).to_vec();
            let delivery = this.decide(&body, signature.as_deref());
            let settled = this.settle(delivery).await?;
            respond(settled.status, &settled.body)
        })
    }
}

/// A delivery handled to the end: the JS description, and what to answer.
struct Settled {
    handled: JsValue,
    status: u16,
    body: String,
}

impl WebhookHandler {
    /// Run the follow-up (if any) and the `onEvent` hook.
    async fn settle(self, delivery: Delivery) -> JsResult<Settled> {
        let Delivery { received, event } = delivery;
        let mut follow_up = Value::Null;
        if let (Some(step), Some(client)) = (received.follow_up, &self.client) {
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
        if let (Some(hook), false) = (&self.on_event, event.is_null()) {
            let returned = hook.call1(&JsValue::UNDEFINED, &handled)?;
            JsFuture::from(Promise::resolve(&returned)).await?;
        }
        Ok(Settled {
            handled,
            status: received.status,
            body: received.body,
        })
    }
}

fn respond(status: u16, body: &str) -> JsResult<JsValue> {
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    let headers = web_sys::Headers::new()?;
    headers.set("content-type", "application/json")?;
    init.set_headers(&headers);
    Ok(web_sys::Response::new_with_opt_str_and_init(Some(body), &init)?.into())
}
