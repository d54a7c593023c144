//! Drives ezthrottle-core operations over real HTTP (reqwest): the async
//! counterpart of the core's blocking driver, used by the demo and the tests.

use ezthrottle_core::{
    run_async, ClientConfig, Error, HttpRequest, HttpResponse, Operation, Reply, TransportError,
};

use crate::state::now_ms;

/// A client of an EZThrottle gateway (the sandbox or the hosted one).
#[derive(Debug, Clone)]
pub struct Client {
    pub config: ClientConfig,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(config: ClientConfig) -> Self {
        Self {
            config,
            http: reqwest::Client::new(),
        }
    }

    /// Run an operation to its end.
    pub async fn run<O: Operation>(&self, op: &mut O) -> Result<O::Output, Error> {
        let transport = |request| async move { send(&self.http, &request).await };
        run_async(op, transport, || now_ms() as u64).await
    }
}

/// Perform one request for the core.
pub async fn send(http: &reqwest::Client, request: &HttpRequest) -> Reply {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|e| TransportError::other(format!("bad method: {e}")))?;
    let mut builder = http
        .request(method, &request.url)
        .timeout(std::time::Duration::from_millis(request.timeout_ms));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let response = builder.send().await.map_err(transport_error)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let body = response.bytes().await.map_err(transport_error)?;
    Ok(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn transport_error(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        TransportError::timeout(error.to_string())
    } else if error.is_connect() {
        TransportError::unreachable(error.to_string())
    } else {
        TransportError::other(error.to_string())
    }
}
