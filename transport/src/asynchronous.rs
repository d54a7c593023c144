//! The async transport over `reqwest` (a tokio runtime).

use std::time::Duration;

use ezthrottle_core::{run_async, HttpRequest, HttpResponse, Operation, Reply, TransportError};

use crate::{now_ms, MAX_BODY_BYTES};

/// Sends requests through one `reqwest` client (its connection pool); clones
/// share it.
#[derive(Debug, Clone, Default)]
pub struct AsyncTransport {
    http: reqwest::Client,
}

impl AsyncTransport {
    /// A transport over an app's own `reqwest` client (its TLS, proxies, pool).
    pub fn with_client(http: reqwest::Client) -> Self {
        Self { http }
    }

    /// Perform one request within its own deadline.
    pub async fn send(&self, request: &HttpRequest) -> Reply {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| TransportError::other(format!("bad method: {e}")))?;
        let mut builder = self
            .http
            .request(method, &request.url)
            .timeout(Duration::from_millis(request.timeout_ms));
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder.send().await.map_err(failure)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failure)? {
            if body.len() as u64 + chunk.len() as u64 > MAX_BODY_BYTES {
                return Err(TransportError::other(format!(
                    "the response body is larger than {MAX_BODY_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// Run `op` to its end through this transport and the system clock.
    pub async fn run<O: Operation>(&self, op: &mut O) -> ezthrottle_core::Result<O::Output> {
        run_async(
            op,
            |request| async move { self.send(&request).await },
            now_ms,
        )
        .await
    }
}

fn failure(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        TransportError::timeout(error.to_string())
    } else if error.is_connect() || error.is_request() || error.is_body() {
        // No whole answer came back: refused, a TLS handshake that failed, a
        // peer that hung up before or during its answer (as ureq reads them).
        TransportError::unreachable(error.to_string())
    } else {
        TransportError::other(error.to_string())
    }
}
