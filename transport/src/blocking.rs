//! The blocking transport over `ureq`.

use std::future::Future;
use std::time::Duration;

use ezthrottle_core::{
    blocking, BlockingClient, Client, HttpRequest, HttpResponse, Operation, Reply, TransportError,
};

use crate::{now_ms, workers, MAX_BODY_BYTES};

/// Sends each request on the calling thread. One `ureq` agent per transport
/// keeps connections alive between requests; clones share it.
#[derive(Debug, Clone)]
pub struct BlockingTransport {
    agent: ureq::Agent,
}

impl Default for BlockingTransport {
    fn default() -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Self { agent }
    }
}

impl BlockingTransport {
    /// Perform one request within its own deadline.
    pub fn send(&self, request: &HttpRequest) -> Reply {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let built = builder
            .body(request.body.clone().unwrap_or_default())
            .map_err(|e| TransportError::other(e.to_string()))?;
        let built = self
            .agent
            .configure_request(built)
            .timeout_global(Some(Duration::from_millis(request.timeout_ms)))
            .build();
        let mut response = self.agent.run(built).map_err(failure)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(failure)?;
        Ok(HttpResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    /// Run `op` to its end through this transport and the system clock.
    pub fn run<O: Operation>(&self, op: &mut O) -> ezthrottle_core::Result<O::Output> {
        blocking::run(op, |request| self.send(request), now_ms)
    }

    /// Run `op` on one of the transport's worker threads (see [`MAX_WORKERS`]),
    /// for async callers that must not block. The future resolves with the
    /// output; dropping it does not stop the operation, whose requests run
    /// to their own deadlines.
    ///
    /// [`MAX_WORKERS`]: crate::MAX_WORKERS
    pub fn run_in_background<O>(
        &self,
        mut op: O,
    ) -> impl Future<Output = ezthrottle_core::Result<O::Output>> + Send + 'static
    where
        O: Operation + Send + 'static,
        O::Output: Send + 'static,
    {
        let transport = self.clone();
        let (done, answer) = futures_channel::oneshot::channel();
        let started = workers::spawn(move || {
            let _ = done.send(transport.run(&mut op));
        });
        async move {
            started
                .map_err(|e| TransportError::other(format!("no thread for the request: {e}")))?;
            answer.await.map_err(|_| {
                TransportError::other("the request's thread ended without an answer")
            })?
        }
    }

    /// `client`'s every call, sent through this transport.
    pub fn client(
        self,
        client: Client,
    ) -> BlockingClient<impl FnMut(&HttpRequest) -> Reply, fn() -> u64> {
        BlockingClient::with_client(client, move |request| self.send(request), now_ms)
    }
}

fn failure(error: ureq::Error) -> TransportError {
    let message = error.to_string();
    match error {
        ureq::Error::Timeout(_) => TransportError::timeout(message),
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            TransportError::timeout(message)
        }
        ureq::Error::Io(_) | ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            TransportError::unreachable(message)
        }
        _ => TransportError::other(message),
    }
}
