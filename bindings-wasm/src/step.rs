//! A step built from the JS `Step` class's recorded calls.

use ezthrottle_core::{Error, Step};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::convert::{self, call_argument, snake_keys};
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
        let inner = Step::from_calls(&core_spelling(calls)).js()?;
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

/// The calls with option objects in the core's spelling, at every depth.
/// Caller data (headers, metadata) is never renamed.
fn core_spelling(calls: Value) -> Value {
    let Value::Array(list) = calls else {
        return calls;
    };
    let renamed = list.into_iter().map(|call| match call {
        Value::Array(mut pair) if pair.len() == 2 => {
            let argument = pair.pop().unwrap_or_default();
            let name = pair.pop().unwrap_or_default();
            let argument = match name.as_str().unwrap_or_default() {
                "on_success" => core_spelling(argument),
                "fallback" | "on_failure" => nested(snake_keys(argument)),
                other => call_argument(other, argument),
            };
            Value::Array(vec![name, argument])
        }
        other => other,
    });
    Value::Array(renamed.collect())
}

/// A `{ step, … }` link whose `step` is itself a call list.
fn nested(link: Value) -> Value {
    match link {
        Value::Object(mut map) => {
            if let Some(step) = map.get_mut("step") {
                *step = core_spelling(std::mem::take(step));
            }
            Value::Object(map)
        }
        other => other,
    }
}
