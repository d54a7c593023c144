//! HTTP for the core: `fetch` (the global one or the caller's own),
//! or a host `send` function (the Node entry's `node:http`); `Date.now()` as
//! the clock; and the loop that drives an operation.

use crate::deadline::Deadline;
use ezthrottle_core::{Action, Error, HttpRequest, HttpResponse, Operation, Reply, TransportError};
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// The host's global `fetch` (browsers, Node, workers), called with a URL
    /// and an init object: building a `Request` first, as the caller's own
    /// `fetch` needs, costs Node a second request and abort signal each time.
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &web_sys::RequestInit) -> Result<Promise, JsValue>;
}

/// Where requests go.
#[derive(Debug, Clone, Default)]
pub enum Transport {
    /// The host's global `fetch` (browsers, workers).
    #[default]
    GlobalFetch,
    /// A `fetch` the caller supplied: a scripted one in tests, an
    /// instrumented one in an app.
    Fetch(Function),
    /// A host function that performs one exchange without fetch's `Request`
    /// and `Response` objects: the Node entry's keep-alive `node:http`.
    ///
    /// `send(method, url, headers, body, timeoutMs)`, with `headers` a flat
    /// `[name, value, …]` array and `body` a string or `undefined`, resolves
    /// to `[status, headers, body]` (headers flat, names lower-case) once the
    /// whole body is read. A rejection's `kind` says why: `timeout` when
    /// `timeoutMs` passed first, `other` when the answer could not be used;
    /// any other rejection means no HTTP answer came back.
    Send(Function),
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
    /// The caller's `fetch` when given, else the host's `send` when the
    /// entry point supplies one, else the global `fetch`.
    pub fn new(fetch: Option<Function>, send: Option<Function>) -> Self {
        match (fetch, send) {
            (Some(fetch), _) => Self::Fetch(fetch),
            (None, Some(send)) => Self::Send(send),
            (None, None) => Self::GlobalFetch,
        }
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
    /// size is a feature, and each copy of it would carry the fetch code.
    async fn drive(&self, op: &mut dyn Erased) {
        let mut next = op.next(None);
        while let Some(request) = next {
            let reply = self.send(&request).await;
            next = op.next(Some((now_ms(), reply)));
        }
    }

    /// Perform one request; every failure is a `TransportError`, never a throw.
    pub async fn send(&self, request: &HttpRequest) -> Reply {
        match self {
            Self::Send(send) => send_through(send, request).await,
            Self::GlobalFetch => fetch(None, request).await,
            Self::Fetch(function) => fetch(Some(function), request).await,
        }
    }
}

/// One exchange through a host `send` function (see [`Transport::Send`]).
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

/// One exchange through `fetch`: the global one, or the caller's.
async fn fetch(function: Option<&Function>, request: &HttpRequest) -> Reply {
    // The deadline covers the whole exchange, body included: it is
    // disarmed when this function returns.
    let deadline =
        Deadline::start(request.timeout_ms).map_err(|e| TransportError::other(describe(&e)))?;
    let init = request_init(request, &deadline)?;
    let returned = match function {
        None => global_fetch(&request.url, &init).map_err(|e| failed(&deadline, describe(&e))),
        Some(fetch) => web_sys::Request::new_with_str_and_init(&request.url, &init)
            .map_err(|e| TransportError::other(describe(&e)))
            .and_then(|raw| {
                fetch
                    .call1(&JsValue::UNDEFINED, &raw)
                    .map_err(|e| failed(&deadline, describe(&e)))
            })
            .map(|value| Promise::resolve(&value)),
    };
    let answer = JsFuture::from(returned?)
        .await
        .map_err(|e| failed(&deadline, describe(&e)))?;
    let response = answer
        .dyn_into::<web_sys::Response>()
        .map_err(|_| TransportError::other("the fetch function did not resolve to a Response"))?;
    read(response, &deadline).await
}

/// Method, headers, body and deadline as a fetch init object.
fn request_init(
    request: &HttpRequest,
    deadline: &Deadline,
) -> Result<web_sys::RequestInit, TransportError> {
    let headers = web_sys::Headers::new().map_err(|e| TransportError::other(describe(&e)))?;
    for (name, value) in &request.headers {
        headers
            .append(name, value)
            .map_err(|e| TransportError::other(format!("header {name}: {}", describe(&e))))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(&request.method);
    init.set_headers(&headers);
    if let Some(body) = &request.body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_signal(Some(&deadline.signal()));
    Ok(init)
}

async fn read(response: web_sys::Response, deadline: &Deadline) -> Reply {
    let status = response.status();
    let mut headers = Vec::new();
    // Headers iterate as [name, value] pairs, names lower-case.
    let entries = js_sys::try_iter(&response.headers())
        .ok()
        .flatten()
        .ok_or_else(|| TransportError::other("the response headers are not iterable"))?;
    for entry in entries {
        let pair = Array::from(&entry.map_err(|e| TransportError::other(describe(&e)))?);
        if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            headers.push((name, value));
        }
    }
    let buffer = response
        .array_buffer()
        .map_err(|e| failed(deadline, describe(&e)))?;
    let body = JsFuture::from(buffer)
        .await
        .map_err(|e| failed(deadline, describe(&e)))?;
    let body = js_sys::Uint8Array::new(&body).to_vec();
    Ok(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A rejected fetch: a timeout when our deadline aborted it (asked of the
/// deadline, not read from the error's text); any other rejection means no
/// HTTP answer came back (refused, DNS, reset, CORS).
fn failed(deadline: &Deadline, message: String) -> TransportError {
    if deadline.expired() {
        TransportError::timeout(message)
    } else {
        TransportError::unreachable(message)
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
