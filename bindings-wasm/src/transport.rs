//! HTTP for the core through the host's `send` function (js/fetch-http.js
//! over `fetch` in browsers and workers, js/node-http.js over `node:http` in
//! Node), `Date.now()` as the clock, and the loop that drives an operation.

use ezthrottle_core::{Action, Error, HttpRequest, HttpResponse, Operation, Reply, TransportError};
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Where requests go: the host's `send`, which performs one exchange.
///
/// `send(method, url, headers, body, timeoutMs)`, with `headers` a flat
/// `[name, value, …]` array and `body` a string or `undefined`, resolves to
/// `[status, headers, body]` (headers flat, names lower-case) once the whole
/// body is read. A rejection's `kind` says why: `timeout` when `timeoutMs`
/// passed first, `other` when the answer could not be used; any other
/// rejection means no HTTP answer came back.
///
/// A stand-alone webhook handler has none: its deliveries send nothing.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    send: Option<Function>,
}

/// An operation whose output waits in its slot: the next request, or `None`
/// once it is over.
trait Erased {
    fn next(&mut self, reply: Option<(u64, Reply)>) -> Option<HttpRequest>;
}

struct Slot<'a, O: Operation> {
    op: &'a mut O,
    output: Option<Result<O::Output, Error>>,
}

impl<O: Operation> Erased for Slot<'_, O> {
    fn next(&mut self, reply: Option<(u64, Reply)>) -> Option<HttpRequest> {
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
}

/// Milliseconds since the Unix epoch, from the host.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

impl Transport {
    pub fn new(send: Function) -> Self {
        Self { send: Some(send) }
    }

    /// Run an operation to its end.
    pub async fn run<O: Operation>(&self, op: &mut O) -> Result<O::Output, Error> {
        let mut slot = Slot { op, output: None };
        self.drive(&mut slot).await;
        slot.output.unwrap_or_else(|| {
            Err(Error::Misuse {
                message: "the operation ended without a result".into(),
            })
        })
    }

    /// The request loop, compiled once for every operation: the package's
    /// size is a feature, and each copy of it would carry the send code.
    async fn drive(&self, op: &mut dyn Erased) {
        let mut next = op.next(None);
        while let Some(request) = next {
            let reply = self.send(&request).await;
            next = op.next(Some((now_ms(), reply)));
        }
    }

    /// Perform one request; every failure is a `TransportError`, never a throw.
    pub async fn send(&self, request: &HttpRequest) -> Reply {
        match &self.send {
            Some(send) => send_through(send, request).await,
            None => Err(TransportError::other(
                "a stand-alone webhook handler has no client to send with",
            )),
        }
    }
}

/// One exchange through the host's `send` (see [`Transport`]).
async fn send_through(send: &Function, request: &HttpRequest) -> Reply {
    let headers = Array::new();
    for (name, value) in &request.headers {
        headers.push(&JsValue::from_str(name));
        headers.push(&JsValue::from_str(value));
    }
    let body = request
        .body
        .as_deref()
        .map_or(JsValue::UNDEFINED, JsValue::from_str);
    let returned = send
        .call5(
            &JsValue::UNDEFINED,
            &JsValue::from_str(&request.method),
            &JsValue::from_str(&request.url),
            &headers,
            &body,
            &JsValue::from_f64(request.timeout_ms as f64),
        )
        .map_err(|e| send_failure(&e))?;
    let answer = JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(|e| send_failure(&e))?;
    let malformed =
        || TransportError::other("the send function did not resolve to [status, headers, body]");
    let answer = answer.dyn_into::<Array>().map_err(|_| malformed())?;
    let status = answer
        .get(0)
        .as_f64()
        .filter(|s| (100.0..=999.0).contains(s) && s.fract() == 0.0)
        .ok_or_else(malformed)? as u16;
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
