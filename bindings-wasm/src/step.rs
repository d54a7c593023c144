//! The step under construction, held by the JS `Step` class.

use ezthrottle_core::Step;
use wasm_bindgen::prelude::*;

use crate::convert::{self, snake_keys};
use crate::errors::{IntoJs, JsResult};

/// A step's state. The public, chainable `Step` class wraps it.
#[wasm_bindgen]
#[derive(Debug, Clone, Default)]
pub struct StepHandle {
    pub(crate) inner: Step,
}

#[wasm_bindgen]
impl StepHandle {
    /// An empty step.
    #[wasm_bindgen(constructor)]
    pub fn new() -> StepHandle {
        Self::default()
    }

    /// Apply one builder call (`name` in the core's snake_case spelling).
    /// A refused call throws a `ValidationError` and changes nothing.
    pub fn apply(&mut self, name: &str, argument: JsValue) -> JsResult<()> {
        let value = convert::call_argument(name, convert::to_json(argument, name).js()?);
        self.inner.apply_call(name, &value).js()
    }

    /// Link a copy of `child` as `fallback`, `on_success` or `on_failure`,
    /// with JS-spelled options (`{ triggerOnError }`, `{ timeoutMs }`).
    pub fn attach(&mut self, name: &str, child: &StepHandle, options: JsValue) -> JsResult<()> {
        let options = snake_keys(convert::to_json(options, name).js()?);
        self.inner.attach(name, child.inner.clone(), &options).js()
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
