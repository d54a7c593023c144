//! Webhook signatures and the webhook handler for workers and Node.

use std::cell::RefCell;
use std::rc::Rc;

use ezthrottle_core::webhook::{
    verify_signature as core_verify, verify_with_secrets, Verification, DEFAULT_TOLERANCE_SECS,
};
use ezthrottle_core::{ClientReceiver, Error, Handled, Run};
use js_sys::Uint8Array;
use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::*;

use crate::client::ClientHandle;
use crate::convert::{self, to_js};
use crate::errors::{self, to_js as error_to_js, IntoJs, JsResult};
use crate::exchange::{now_ms, Exchange};

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

/// `toleranceSecs` of a signature check's or handler's options: the
/// default when absent, refused (as in every binding) when negative or
/// fractional.
fn tolerance(options: &Map<String, Value>) -> JsResult<u64> {
    Ok(convert::field_whole_number(options, "tolerance_secs")
        .js()?
        .unwrap_or(DEFAULT_TOLERANCE_SECS))
}

/// `{ toleranceSecs?, now? }`: the tolerance, and the clock in unix seconds.
fn clock(options: JsValue) -> JsResult<(i64, u64)> {
    let options = convert::options(options, "options").js()?;
    let now = match options.get("now") {
        None | Some(Value::Null) => (now_ms() / 1000) as i64,
        Some(value) => value.as_i64().ok_or_else(|| {
            error_to_js(Error::validation(
                "now",
                "must be a whole number of seconds since the Unix epoch",
            ))
        })?,
    };
    Ok((now, tolerance(&options)?))
}

fn verification_to_js(check: &Verification) -> JsValue {
    to_js(&json!({
        "valid": check.is_valid(),
        // The official Node SDK's name for the same answer.
        "verified": check.is_valid(),
        "reason": check.reason.as_str(),
        "primaryReason": check.primary_reason.map(|r| r.as_str()),
        "timestamp": check.timestamp,
    }))
}

/// The signature header argument: a string, or absent.
fn signature(header: &JsValue) -> JsResult<Option<String>> {
    convert::optional_text(header, "signature").js()
}

/// Check a delivery's signature: `kind` is `one` (with `primary` as the only
/// secret, `verifyWebhookSignature`), `both` (the primary, then the
/// secondary during a rotation, `tryVerifyWithSecrets`) or `strict` (as
/// `both`, a refusal throwing a `SignatureError`). Resolves `{ valid,
/// verified, reason, primaryReason, timestamp }`.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(
    kind: &str,
    payload: JsValue,
    header: JsValue,
    primary: JsValue,
    secondary: JsValue,
    options: JsValue,
) -> JsResult<JsValue> {
    // What each kind reads and does, decided once: the primary's field
    // name in errors, whether the secondary is tried, whether a refusal throws.
    let (primary_field, rotation, strict) = match kind {
        "one" => ("secret", false, false),
        "both" => ("primary_secret", true, false),
        "strict" => ("primary_secret", true, true),
        _ => {
            let message = "the signature check is one, both or strict".into();
            return Err(error_to_js(Error::Misuse { message }));
        }
    };
    let (now, tolerance) = clock(options)?;
    let body = payload_bytes(&payload)?;
    let header = signature(&header)?.unwrap_or_default();
    let primary = convert::text(&primary, primary_field).js()?;
    let secondary = convert::optional_text(&secondary, "secondary_secret").js()?;
    let check = if rotation {
        let secondary = secondary.as_deref();
        verify_with_secrets(&body, &header, &primary, secondary, now, tolerance)
    } else {
        core_verify(&body, &header, &primary, now, tolerance)
    };
    if strict {
        return Ok(verification_to_js(&check.into_result().js()?));
    }
    Ok(verification_to_js(&check))
}

/// A webhook endpoint: verifies, parses, runs registered follow-ups, answers.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct WebhookHandler {
    receiver: Rc<RefCell<ClientReceiver>>,
}

impl WebhookHandler {
    pub(crate) fn new(options: JsValue, client: Option<ClientHandle>) -> JsResult<Self> {
        let data: Map<String, Value> =
            convert::options(strip_functions(&options), "options").js()?;
        let primary = convert::field_text(&data, "primary_secret")
            .js()?
            .ok_or_else(|| error_to_js(Error::validation("primary_secret", "is required")))?;
        let secondary = convert::field_text(&data, "secondary_secret").js()?;
        let tolerance = tolerance(&data)?;
        let receiver = match client {
            Some(client) => client
                .client
                .webhook_receiver(&primary, secondary.as_deref()),
            None => ClientReceiver::standalone(&primary, secondary.as_deref()),
        };
        Ok(Self {
            receiver: Rc::new(RefCell::new(receiver.js()?.tolerance_secs(tolerance))),
        })
    }
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

    /// Handle a delivery given as raw body and signature header: an
    /// `Exchange` (the follow-up's requests, if any) that finishes with
    /// `{ status, body, reason, event, followUp }` (the JS side answers with
    /// `status` and `body`, and calls the app's `onEvent`).
    pub fn receive(&self, payload: JsValue, header: JsValue) -> JsResult<Exchange> {
        let body = payload_bytes(&payload)?;
        let signature = signature(&header)?;
        let now = (now_ms() / 1000) as i64;
        let delivery = self
            .receiver
            .borrow_mut()
            .handle(&body, signature.as_deref(), now);
        Ok(Exchange::new(delivery, move |handled| {
            describe(handled, &body)
        }))
    }
}

/// The delivery, and its follow-up's outcome, as JS.
fn describe(
    Handled {
        received,
        follow_up,
    }: Handled,
    body: &[u8],
) -> JsResult<JsValue> {
    // An accepted event is the delivery's own JSON, as sent.
    let event = match &received.event {
        Some(_) => std::str::from_utf8(body).map_or(JsValue::NULL, convert::parse),
        None => JsValue::NULL,
    };
    let follow_up = match follow_up {
        None => JsValue::NULL,
        Some(Ok(Run { outcome, .. })) => {
            to_js(&convert::json_object([("result", outcome.to_json())]))
        }
        Some(Err(e)) => {
            let failed = js_sys::Object::new();
            js_sys::Reflect::set(&failed, &"error".into(), &errors::plain(&e))?;
            failed.into()
        }
    };
    let handled = to_js(&convert::json_object([
        ("status", received.status.into()),
        ("body", received.body.into()),
        ("reason", received.verification.reason.as_str().into()),
    ]));
    js_sys::Reflect::set(&handled, &"event".into(), &event)?;
    js_sys::Reflect::set(&handled, &"followUp".into(), &follow_up)?;
    Ok(handled)
}
