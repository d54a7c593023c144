//! A demo upstream API and a webhook receiver, served beside the sandbox so
//! that the demo and every binding's end-to-end tests need nothing else.
//!
//! Upstream (any method):
//! - `/upstream/status/{code}`: answers `code`.
//! - `/upstream/delay/{ms}`: answers 200 after `ms` milliseconds (at most 60 s).
//! - `/upstream/flaky/{key}/{failures}/{code}`: answers `code` (with
//!   `Retry-After: 1` for 429) the first `failures` times for `key`, then 200.
//! - `/upstream/count/{key}`: answers 200 and counts; `GET /upstream/hits/{key}` reads the count.
//! - `/upstream/rps/{n}`: answers 200 with `X-EZTHROTTLE-RPS: n`.
//! - `/upstream/echo`: answers 200 with the request as JSON.
//! - `/upstream/bytes/{n}`: answers 200 with `n` bytes (at most 256 MiB),
//!   streamed, never held whole.
//!
//! Receiver:
//! - `POST /receiver/{name}`: stores the delivery (body and signature header);
//!   `?fail=N` answers 500 to the first N deliveries of that box.
//! - `GET /receiver/{name}`: the deliveries received, oldest first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::state::{now_ms, App};

/// State of the upstream counters and the receiver boxes; bounded.
#[derive(Debug, Default)]
pub struct Testkit {
    counters: Mutex<HashMap<String, u64>>,
    boxes: Mutex<Boxes>,
}

/// The receiver boxes and the bytes they hold.
#[derive(Debug, Default)]
struct Boxes {
    by_name: HashMap<String, VecDeque<Received>>,
    bytes: usize,
}

impl Boxes {
    /// Keep `entry` (counted as `size` bytes) in box `name`: a full box drops
    /// its oldest delivery; past the byte or box limit, every box is emptied.
    fn keep(&mut self, name: String, entry: Value, size: usize) {
        let full = self.bytes + size > MAX_BOX_BYTES;
        if full || (self.by_name.len() >= MAX_BOXES && !self.by_name.contains_key(&name)) {
            *self = Boxes::default();
        }
        let list = self.by_name.entry(name).or_default();
        let evicted = if list.len() >= MAX_PER_BOX {
            list.pop_front().map_or(0, |oldest| oldest.size)
        } else {
            0
        };
        list.push_back(Received { entry, size });
        self.bytes = self.bytes + size - evicted;
    }
}

/// One delivery in a box, with the bytes it counts for.
#[derive(Debug)]
struct Received {
    entry: Value,
    size: usize,
}

const MAX_KEYS: usize = 100_000;
const MAX_PER_BOX: usize = 10_000;
const MAX_BOXES: usize = 1000;
/// The most the boxes hold together: past it they are emptied, oldest
/// deliveries and all (a testkit, not storage), so posting to them cannot
/// grow the process without bound.
pub const MAX_BOX_BYTES: usize = 32 * 1024 * 1024;

impl Testkit {
    fn bump(&self, key: &str) -> u64 {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        if counters.len() >= MAX_KEYS && !counters.contains_key(key) {
            counters.clear();
        }
        let count = counters.entry(key.to_owned()).or_insert(0);
        *count += 1;
        *count
    }

    fn hits(&self, key: &str) -> u64 {
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        counters.get(key).copied().unwrap_or(0)
    }
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/upstream/status/{code}", any(status))
        .route("/upstream/delay/{ms}", any(delay))
        .route("/upstream/flaky/{key}/{failures}/{code}", any(flaky))
        .route("/upstream/count/{key}", any(count))
        .route("/upstream/hits/{key}", get(hits))
        .route("/upstream/rps/{n}", any(rps))
        .route("/upstream/echo", any(echo))
        .route("/upstream/bytes/{n}", any(bytes))
        .route("/receiver/{name}", get(received).post(receive))
        .layer(middleware::from_fn(read_body))
}

/// The most a testkit endpoint reads of a request body (axum's own default).
const MAX_REQUEST_BODY: usize = 2 * 1024 * 1024;

/// Reads each request's body before answering, as a real API does. Left
/// unread, a body that arrives after the headers (java.net.http writes them
/// apart) makes hyper close the kept-alive connection after the answer, and
/// a client that reuses it meanwhile gets a reset instead of a response.
async fn read_body(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    }
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

async fn status(Path(code): Path<u16>) -> Response {
    (status_of(code), format!("status {code}")).into_response()
}

async fn delay(Path(ms): Path<u64>) -> Response {
    tokio::time::sleep(Duration::from_millis(ms.min(60_000))).await;
    (StatusCode::OK, format!("delayed {ms}")).into_response()
}

async fn flaky(
    State(app): State<Arc<App>>,
    Path((key, failures, code)): Path<(String, u64, u16)>,
) -> Response {
    let n = app.testkit.bump(&format!("flaky:{key}"));
    if n <= failures {
        let mut response = (status_of(code), format!("failure {n} of {failures}")).into_response();
        if code == 429 {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        return response;
    }
    (StatusCode::OK, format!("ok after {failures} failures")).into_response()
}

async fn count(State(app): State<Arc<App>>, Path(key): Path<String>) -> Response {
    let n = app.testkit.bump(&format!("count:{key}"));
    (StatusCode::OK, format!("hit {n}")).into_response()
}

async fn hits(State(app): State<Arc<App>>, Path(key): Path<String>) -> Json<Value> {
    Json(json!({ "key": key, "hits": app.testkit.hits(&format!("count:{key}")) }))
}

async fn rps(Path(n): Path<f64>) -> Response {
    let mut response = (StatusCode::OK, "paced").into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&n.to_string()) {
        response.headers_mut().insert("x-ezthrottle-rps", value);
    }
    response
}

async fn bytes(Path(n): Path<u64>) -> Response {
    const CHUNK: usize = 64 * 1024;
    let mut left = n.min(256 * 1024 * 1024);
    let chunks = std::iter::from_fn(move || {
        let size = usize::try_from(left.min(CHUNK as u64))
            .ok()
            .filter(|&s| s > 0)?;
        left -= size as u64;
        Some(Ok::<_, std::convert::Infallible>(Bytes::from(vec![
            b'x';
            size
        ])))
    });
    let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
    (StatusCode::OK, body).into_response()
}

async fn echo(method: Method, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), json!(v))))
        .collect();
    Json(
        json!({"method": method.as_str(), "headers": headers, "body": String::from_utf8_lossy(&body)}),
    )
}

async fn receive(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let attempt = app.testkit.bump(&format!("receiver:{name}"));
    let fail: u64 = query.get("fail").and_then(|f| f.parse().ok()).unwrap_or(0);
    if attempt <= fail {
        return (StatusCode::INTERNAL_SERVER_ERROR, "failing on purpose").into_response();
    }
    let signature = headers
        .get(ezthrottle_core::webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let size = body.len() + signature.as_ref().map_or(0, String::len) + name.len() + 64;
    let entry = json!({
        "received_at": now_ms(),
        "signature": signature,
        "body": String::from_utf8_lossy(&body),
    });
    let mut boxes = app.testkit.boxes.lock().unwrap_or_else(|e| e.into_inner());
    boxes.keep(name, entry, size);
    (StatusCode::OK, Json(json!({"ok": true}))).into_response()
}

async fn received(State(app): State<Arc<App>>, Path(name): Path<String>) -> Json<Value> {
    let boxes = app.testkit.boxes.lock().unwrap_or_else(|e| e.into_inner());
    let list = boxes.by_name.get(&name);
    Json(Value::Array(
        list.into_iter()
            .flatten()
            .map(|received| received.entry.clone())
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A box that keeps only its latest deliveries counts only their bytes,
    /// so a busy box cannot empty the others by bytes it no longer holds.
    #[test]
    fn a_full_box_counts_only_what_it_keeps() {
        let mut boxes = Boxes::default();
        boxes.keep("quiet".into(), json!(1), 100);
        let size = MAX_BOX_BYTES / MAX_PER_BOX;
        for i in 0..3 * MAX_PER_BOX {
            boxes.keep("busy".into(), json!(i), size);
        }
        assert_eq!(boxes.by_name["busy"].len(), MAX_PER_BOX);
        assert_eq!(boxes.bytes, 100 + MAX_PER_BOX * size);
        assert_eq!(boxes.by_name["busy"][0].entry, json!(2 * MAX_PER_BOX));
        assert!(boxes.by_name.contains_key("quiet"), "the other box is kept");
    }
}
