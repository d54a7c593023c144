//! Drives ezthrottle-core operations over real HTTP: the async transport of
//! `ezthrottle-transport` (reqwest), used by the demo and the tests.

use ezthrottle_core::{ClientConfig, Error, Operation};
use ezthrottle_transport::AsyncTransport;

/// A client of an EZThrottle gateway (the sandbox or the hosted one).
#[derive(Debug, Clone)]
pub struct Client {
    pub config: ClientConfig,
    /// The HTTP client the transport sends through, for the tests' own
    /// requests to the sandbox (reports, receiver boxes).
    pub http: reqwest::Client,
    transport: AsyncTransport,
}

impl Client {
    pub fn new(config: ClientConfig) -> Self {
        let http = reqwest::Client::new();
        Self {
            config,
            transport: AsyncTransport::with_client(http.clone()),
            http,
        }
    }

    /// Run an operation to its end.
    pub async fn run<O: Operation>(&self, op: &mut O) -> Result<O::Output, Error> {
        self.transport.run(op).await
    }
}
