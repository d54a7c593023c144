//! The account gateway (`POST /api/v1/proxy`, PROTOCOL §1) and the direct
//! service routes. Every `/api/v1` request is admitted first ([`admit`]):
//! its key checked and its rate limit applied before its body is read. The
//! gateway dispatches the envelope in-process to the service: it never sends
//! a request anywhere else, so it cannot be used as an open relay.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ezthrottle_core::{Envelope, JOBS_PATH, SECRETS_PATH};
use serde_json::json;

use crate::service::{self, Reply};
use crate::state::{now_ms, App};

fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(reply.body)).into_response()
}

/// The customer behind the request's bearer key, or the 401 to answer.
fn authenticate<'a>(app: &'a App, headers: &HeaderMap) -> Result<(&'a str, &'a str), Reply> {
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(key) = key else {
        return Err(Reply::error(401, "missing bearer API key"));
    };
    match app.config.api_keys.get_key_value(key) {
        Some((key, customer)) => Ok((key.as_str(), customer.as_str())),
        // Never echo the key that was tried.
        None => Err(Reply::error(401, "unknown API key")),
    }
}

fn rate_limited(wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let retry_at = now_ms() + wait.as_millis() as i64;
    let mut response = respond(Reply::new(
        429,
        json!({"error": "rate limit exceeded for this API key", "retry_at": retry_at}),
    ));
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

/// The customer an admitted request acts for.
#[derive(Debug, Clone)]
pub struct Customer(pub Arc<str>);

/// Admit an `/api/v1` request: a known bearer key (401 otherwise) within its
/// key's rate limit (429 with `Retry-After` otherwise), checked before the
/// body is read, so an unknown caller cannot make the sandbox buffer
/// anything and no route escapes the limit.
pub async fn admit(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let (key, customer) = match authenticate(&app, request.headers()) {
        Ok(found) => found,
        Err(reply) => return respond(reply),
    };
    if let Some(Err(wait)) = app
        .gateway_limits
        .as_ref()
        .map(|limits| limits.try_take(key))
    {
        return rate_limited(wait);
    }
    let customer = Customer(Arc::from(customer));
    request.extensions_mut().insert(customer);
    next.run(request).await
}

/// Which service endpoint an envelope's `target_url` names, if it names one
/// of ours: the sandbox's own address (any loopback spelling) or a configured
/// alias such as the hosted service's URL the SDKs default to.
fn service_path<'u>(app: &App, target_url: &'u str) -> Option<&'u str> {
    let port = app.base_url.rsplit(':').next().unwrap_or_default();
    let own = ["127.0.0.1", "localhost", "[::1]"].map(|host| format!("http://{host}:{port}"));
    let bases = own.iter().map(String::as_str).chain(
        app.config
            .service_aliases
            .iter()
            .map(|a| a.trim_end_matches('/')),
    );
    for base in bases {
        if let Some(path) = target_url.strip_prefix(base) {
            if path == JOBS_PATH || path == SECRETS_PATH {
                return Some(path);
            }
        }
    }
    None
}

/// `POST /api/v1/proxy`.
pub async fn proxy(
    State(app): State<Arc<App>>,
    Extension(Customer(customer)): Extension<Customer>,
    body: Bytes,
) -> Response {
    let envelope: Envelope = match serde_json::from_slice(&body) {
        Ok(envelope) => envelope,
        Err(e) => return respond(Reply::error(400, format!("invalid proxy envelope: {e}"))),
    };
    if envelope.scope != "customer" {
        return respond(Reply::error(400, "scope must be \"customer\""));
    }
    let Some(path) = service_path(&app, &envelope.target_url) else {
        return respond(Reply::error(
            400,
            format!(
                "target_url {:?} is not an EZThrottle endpoint of this gateway; it forwards only to {JOBS_PATH} and {SECRETS_PATH}",
                envelope.target_url
            ),
        ));
    };
    let method = envelope.method.to_ascii_uppercase();
    let forwarded = dispatch(&app, &customer, &method, path, &envelope.body);
    respond(Reply::new(
        200,
        json!({
            "status": "allowed",
            "forwarded_response": {"status_code": forwarded.status, "body": forwarded.body.to_string()},
        }),
    ))
}

fn dispatch(app: &Arc<App>, customer: &str, method: &str, path: &str, body: &str) -> Reply {
    match (method, path) {
        ("POST", JOBS_PATH) => service::submit_job(app, customer, body),
        (_, JOBS_PATH) => Reply::error(405, format!("{method} is not allowed on {JOBS_PATH}")),
        (_, _) => service::webhook_secrets(app, customer, method, body),
    }
}

/// `POST /api/v1/jobs` with a bearer key (what the gateway forwards to).
pub async fn direct_submit(
    State(app): State<Arc<App>>,
    Extension(Customer(customer)): Extension<Customer>,
    body: Bytes,
) -> Response {
    match std::str::from_utf8(&body) {
        Ok(text) => respond(service::submit_job(&app, &customer, text)),
        Err(_) => respond(Reply::error(400, "the body is not UTF-8")),
    }
}

/// `GET /api/v1/jobs/{id}`: state, attempts, result, children, deliveries.
pub async fn direct_job(
    State(app): State<Arc<App>>,
    Extension(Customer(customer)): Extension<Customer>,
    Path(id): Path<String>,
) -> Response {
    respond(service::job_report(&app, &customer, &id))
}

/// `POST|GET|DELETE /api/v1/webhook-secrets` with a bearer key.
pub async fn direct_secrets(
    State(app): State<Arc<App>>,
    Extension(Customer(customer)): Extension<Customer>,
    method: Method,
    body: Bytes,
) -> Response {
    // Decoded lossily, a secret would be stored with U+FFFD in it, and no
    // signature made with the one intended would ever verify.
    let Ok(text) = std::str::from_utf8(&body) else {
        return respond(Reply::error(400, "invalid secrets: the body is not UTF-8"));
    };
    respond(service::webhook_secrets(
        &app,
        &customer,
        method.as_str(),
        text,
    ))
}
