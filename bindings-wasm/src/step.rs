//! A step built from the JS `Step` class's recorded calls.

use ezthrottle_core::{spelling, Error, Step};
use wasm_bindgen::prelude::*;

use crate::convert;
use crate::errors::{IntoJs, JsResult};

/// A built, checked step. The JS `Step` class records its calls and builds
/// one of these when the step is first used (one crossing, not one per
/// setter), then reuses it until a setter changes the calls.
#[wasm_bindgen]
#[derive(Debug, Clone, Default)]
pub struct StepHandle {
    pub(crate) inner: Step,
}

#[wasm_bindgen]
impl StepHandle {
    /// A step from `[name, argument]` calls in the core's names with JS
    /// spellings inside (`{ maxRetries }`); nested steps are their own call
    /// lists: `["fallback", { step, triggerOnError }]`, `["on_success",
    /// calls]`, `["on_failure", { step, timeoutMs }]`. A refused call throws
    /// a `ValidationError` naming the field (`fallback[0].url`).
    #[wasm_bindgen(js_name = fromCalls)]
    pub fn from_calls(calls: JsValue) -> JsResult<StepHandle> {
        let calls = match convert::to_json(calls.clone(), "step") {
            Ok(calls) => calls,
            Err(_) => return Err(unconvertible_call(&calls)).js(),
        };
        let inner = Step::from_calls(&spelling::calls(calls)).js()?;
        Ok(StepHandle { inner })
    }

    /// The job payload as a JS object (validated first).
    pub fn payload(&self) -> JsResult<JsValue> {
        Ok(convert::parse(&self.inner.to_json().js()?))
    }

    /// The job payload as JSON text (validated first).
    #[wasm_bindgen(js_name = payloadJson)]
    pub fn payload_json(&self) -> JsResult<String> {
        self.inner.to_json().js()
    }
}

/// Calls whose arguments JSON cannot hold (a BigInt, a cycle, a throwing
/// `toJSON`): the first such call, named. Only on that error path are the
/// calls converted one by one.
fn unconvertible_call(calls: &JsValue) -> Error {
    let list = js_sys::Array::from(calls);
    for call in list.iter() {
        let call = js_sys::Array::from(&call);
        let name = call.get(0).as_string().unwrap_or_default();
        if let Err(error) = convert::to_json(call.get(1), &name) {
            return error;
        }
    }
    Error::validation("step", "is not a list of JSON values")
}
