//! The blocking transport over `ureq`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ezthrottle_core::{
    blocking, BlockingClient, Client, HttpRequest, HttpResponse, Operation, Reply, TransportError,
};

use crate::cancel::{CancellableConnector, Cancellation};
use crate::resolver::LiteralsFirst;
use crate::{now_ms, workers, MAX_BODY_BYTES};

/// Sends each request on the calling thread. One `ureq` agent per transport
/// keeps connections alive between requests; clones share it.
#[derive(Debug, Clone)]
pub struct BlockingTransport {
    agent: ureq::Agent,
}

impl Default for BlockingTransport {
    fn default() -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            CancellableConnector::default(),
            LiteralsFirst::default(),
        );
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
    /// output. Dropping it cancels the operation: nothing more is sent, and
    /// a request in flight has its socket shut down, which frees its thread
    /// at once (a TCP connect in progress still runs to its timeout).
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
        let cancellation = Arc::new(Cancellation::default());
        let mut on_drop = CancelOnDrop {
            cancellation: cancellation.clone(),
            armed: true,
        };
        let (done, answer) = futures_channel::oneshot::channel();
        let started = workers::spawn(move || {
            if cancellation.is_cancelled() {
                return;
            }
            let send = |request: &HttpRequest| {
                if cancellation.is_cancelled() {
                    return Err(TransportError::other("cancelled"));
                }
                transport.send(request)
            };
            let output = cancellation.scope(|| blocking::run(&mut op, send, now_ms));
            let _ = done.send(output);
        });
        async move {
            started
                .map_err(|e| TransportError::other(format!("no thread for the request: {e}")))?;
            let output = answer.await.map_err(|_| {
                TransportError::other("the request's thread ended without an answer")
            })?;
            on_drop.disarm();
            output
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
        // No answer came back: nothing to connect to, a failed TLS handshake
        // (rustls's errors arrive as I/O), a peer that hung up.
        ureq::Error::Io(_)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::Tls(_) => TransportError::unreachable(message),
        _ => TransportError::other(message),
    }
}

/// Cancels a background operation whose caller stopped waiting for it.
struct CancelOnDrop {
    cancellation: Arc<Cancellation>,
    armed: bool,
}

impl CancelOnDrop {
    /// The operation ended: nothing to cancel.
    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.cancellation.cancel();
        }
    }
}
