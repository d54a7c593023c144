//! One of the core's sans-IO operations, driven from JS (js/drive.js): the
//! JS side performs each request with its own HTTP (fetch-http.js over
//! `fetch`, node-http.js over `node:http`) and feeds the answer back; the
//! clock is `Date.now()`. No Rust future or promise per call or per request.

use ezthrottle_core::{Action, Error, HttpRequest, HttpResponse, Operation, Reply, TransportError};
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{to_js as error_to_js, JsResult};

/// An operation in flight. `start()`, then `reply(answer)` or `fail(error)`
/// for each request, answer with the next request to send, as the arguments
/// of `send(method, url, headers, body, timeoutMs)` (`headers` a flat
/// `[name, value, …]` array, `body` a string or `undefined`), or `undefined`
/// once the operation is over; `finish()` then returns its result or throws
/// its typed error.
///
/// `send` resolves to `[status, headers, body]` (headers flat, names
/// lower-case) once the whole body is read. Its rejection's `kind` says why:
/// `timeout` when `timeoutMs` passed first, `other` when the answer could not
/// be used; any other rejection means no HTTP answer came back.
#[wasm_bindgen]
pub struct Exchange {
    run: Box<dyn Driven>,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Exchange")
    }
}

impl Exchange {
    /// Drive `op`; `present` turns its output into the JS result.
    pub fn new<O: Operation + 'static>(
        op: O,
        present: impl FnOnce(O::Output) -> JsResult<JsValue> + 'static,
    ) -> Self {
        Self {
            run: Box::new(Run {
                op,
                output: None,
                present: Some(present),
            }),
        }
    }
}

#[wasm_bindgen]
impl Exchange {
    /// The first request, or `undefined` when there is none to send.
    pub fn start(&mut self) -> JsValue {
        request_js(self.run.next(None))
    }

    /// The last request's answer, `[status, headers, body]`.
    pub fn reply(&mut self, answer: JsValue) -> JsValue {
        let reply = read_answer(answer);
        request_js(self.run.next(Some((now_ms(), reply))))
    }

    /// The last request's failure: what `send` rejected with.
    pub fn fail(&mut self, error: JsValue) -> JsValue {
        let reply = Err(send_failure(&error));
        request_js(self.run.next(Some((now_ms(), reply))))
    }

    /// The result, once the operation is over; throws its error.
    pub fn finish(&mut self) -> JsResult<JsValue> {
        self.run.finish()
    }
}

/// An operation with its output's slot, its type erased: the driver
/// (`Exchange`) is compiled once, not once per operation.
trait Driven {
    fn next(&mut self, reply: Option<(u64, Reply)>) -> Option<HttpRequest>;
    fn finish(&mut self) -> JsResult<JsValue>;
}

struct Run<O: Operation, P> {
    op: O,
    output: Option<Result<O::Output, Error>>,
    present: Option<P>,
}

impl<O, P> Driven for Run<O, P>
where
    O: Operation,
    P: FnOnce(O::Output) -> JsResult<JsValue>,
{
    fn next(&mut self, reply: Option<(u64, Reply)>) -> Option<HttpRequest> {
        if self.output.is_some() {
            return None;
        }
        let action = match reply {
            None => self.op.start(),
            Some((now_ms, reply)) => self.op.feed(now_ms, reply),
        };
        match action {
            Action::Send(request) => Some(request),
            Action::Done(result) => {
                self.output = Some(result);
                None
            }
        }
    }

    fn finish(&mut self) -> JsResult<JsValue> {
        match (self.output.take(), self.present.take()) {
            (Some(Ok(output)), Some(present)) => present(output),
            (Some(Err(error)), _) => Err(error_to_js(error)),
            _ => Err(error_to_js(Error::Misuse {
                message: "finish() before the operation ended, or twice".into(),
            })),
        }
    }
}

/// Milliseconds since the Unix epoch, from the host.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A request as `send`'s arguments; `undefined` for none.
fn request_js(request: Option<HttpRequest>) -> JsValue {
    let Some(request) = request else {
        return JsValue::UNDEFINED;
    };
    let headers = Array::new();
    for (name, value) in &request.headers {
        headers.push(&JsValue::from_str(name));
        headers.push(&JsValue::from_str(value));
    }
    let body = request
        .body
        .as_deref()
        .map_or(JsValue::UNDEFINED, JsValue::from_str);
    Array::of5(
        &JsValue::from_str(&request.method),
        &JsValue::from_str(&request.url),
        &headers,
        &body,
        &JsValue::from_f64(request.timeout_ms as f64),
    )
    .into()
}

/// `send`'s answer, `[status, headers, body]`, as the core's response.
fn read_answer(answer: JsValue) -> Reply {
    let malformed =
        || TransportError::other("the send function did not resolve to [status, headers, body]");
    let answer = answer.dyn_into::<Array>().map_err(|_| malformed())?;
    let status =
        HttpResponse::status_from_transport(answer.get(0).as_f64().ok_or_else(malformed)?)?;
    let flat = answer.get(1).dyn_into::<Array>().map_err(|_| malformed())?;
    let mut headers = Vec::with_capacity(flat.length() as usize / 2);
    for i in (0..flat.length().saturating_sub(1)).step_by(2) {
        let (name, value) = (flat.get(i).as_string(), flat.get(i + 1).as_string());
        headers.push((name.ok_or_else(malformed)?, value.ok_or_else(malformed)?));
    }
    let body = answer.get(2).as_string().ok_or_else(malformed)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// A rejected `send`, classified by its `kind` (`timeout`, `other`); any
/// other rejection means no HTTP answer came back.
fn send_failure(error: &JsValue) -> TransportError {
    let kind = Reflect::get(error, &JsValue::from_str("kind"))
        .ok()
        .and_then(|k| k.as_string());
    match kind.as_deref() {
        Some("timeout") => TransportError::timeout(describe(error)),
        Some("other") => TransportError::other(describe(error)),
        _ => TransportError::unreachable(describe(error)),
    }
}

/// A thrown JS value as text: `name: message` for errors.
pub fn describe(value: &JsValue) -> String {
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => format!(
            "{}: {}",
            String::from(error.name()),
            String::from(error.message())
        ),
        // Not `{value:?}`: JsValue's Debug pulls float formatting into the wasm.
        None => value.as_string().unwrap_or_else(|| {
            js_sys::JSON::stringify(value)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| "a thrown non-error value".into())
        }),
    }
}
