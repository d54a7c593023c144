//! The core's errors as the package's `Error` subclasses.
//!
//! The classes are defined in JS (`js/errors.js`, so `instanceof` works) and
//! handed over once at load time; this is the one place that maps variants
//! to them.

use std::cell::RefCell;

use ezthrottle_core::Error;
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

thread_local! {
    static CLASSES: RefCell<Option<Object>> = const { RefCell::new(None) };
}

/// Called once by the package's loader with `{ ValidationError, … }`.
#[wasm_bindgen(js_name = "__setErrorClasses")]
pub fn set_error_classes(classes: Object) {
    CLASSES.with(|c| *c.borrow_mut() = Some(classes));
}

fn class_name(error: &Error) -> &'static str {
    match error {
        Error::Validation { .. } => "ValidationError",
        Error::RateLimited { .. } => "RateLimitError",
        Error::Authentication { .. } => "AuthenticationError",
        Error::Denied { .. } => "DeniedError",
        Error::JobRejected { .. } => "JobRejectedError",
        Error::Gateway { .. } => "GatewayError",
        Error::SecretsNotConfigured => "SecretsNotConfiguredError",
        Error::Protocol { .. } => "ProtocolError",
        Error::Transport(_) => "TransportError",
        Error::Signature { .. } => "SignatureError",
        Error::Misuse { .. } => "EZThrottleError",
    }
}

/// Properties beyond `message` and `code`, as JS names.
fn details(error: &Error) -> Vec<(&'static str, JsValue)> {
    match error {
        Error::Validation { path, .. } => vec![("path", path.into())],
        Error::RateLimited { retry_at_ms, .. } => vec![(
            "retryAt",
            retry_at_ms.map_or(JsValue::NULL, |ms| (ms as f64).into()),
        )],
        Error::JobRejected { status, body } | Error::Gateway { status, body } => {
            vec![("status", (*status).into()), ("body", body.into())]
        }
        Error::Signature { reason } => vec![("reason", reason.as_str().into())],
        Error::Authentication { .. }
        | Error::Denied { .. }
        | Error::SecretsNotConfigured
        | Error::Protocol { .. }
        | Error::Transport(_)
        | Error::Misuse { .. } => Vec::new(),
    }
}

/// The JS error for a core error: an instance of its class, with `code` (the
/// core's stable code) and the variant's details.
pub fn to_js(error: Error) -> JsValue {
    let message = error.to_string();
    let instance: JsValue = CLASSES
        .with(|c| {
            let classes = c.borrow();
            let class = Reflect::get(classes.as_ref()?, &class_name(&error).into()).ok()?;
            let class: js_sys::Function = class.dyn_into().ok()?;
            let args = js_sys::Array::of1(&message.as_str().into());
            Reflect::construct(&class, &args).ok()
        })
        .unwrap_or_else(|| js_sys::Error::new(&message).into());
    set_fields(&instance, &error);
    instance
}

/// Set `code` (the core's stable code) and the variant's details on `target`.
fn set_fields(target: &JsValue, error: &Error) {
    let _ = Reflect::set(target, &"code".into(), &error.code().into());
    for (name, value) in details(error) {
        let _ = Reflect::set(target, &name.into(), &value);
    }
}

/// The error as a plain object, `code`, `message` and the variant's details
/// as the thrown error has them: for a failure that is reported rather than
/// thrown (a follow-up's), and that survives `JSON.stringify`.
pub fn plain(error: &Error) -> JsValue {
    let object: JsValue = Object::new().into();
    let _ = Reflect::set(&object, &"message".into(), &error.to_string().into());
    set_fields(&object, error);
    object
}

/// Results crossing into JS.
pub type JsResult<T> = Result<T, JsValue>;

/// `?` on core results in exported functions.
pub trait IntoJs<T> {
    /// Map the error to its JS class.
    fn js(self) -> JsResult<T>;
}

impl<T> IntoJs<T> for Result<T, Error> {
    fn js(self) -> JsResult<T> {
        self.map_err(to_js)
    }
}
