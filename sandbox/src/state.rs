//! What the handlers and workers share: the running sandbox's state and its
//! clock. A leaf module: it names the queues' senders, never the workers or
//! the router that read them (those are wired in `app`).

use tokio::sync::mpsc;

use crate::bucket::Buckets;
use crate::config::SandboxConfig;
use crate::store::Store;
use crate::testkit::Testkit;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A job to run (its id) and when (ms since the epoch).
pub(crate) type QueuedJob = (String, i64);

/// Everything the handlers and workers share.
pub struct App {
    pub config: SandboxConfig,
    pub store: Store,
    pub http: reqwest::Client,
    pub gateway_limits: Option<Buckets>,
    pub pacing: Option<Buckets>,
    pub base_url: String,
    pub testkit: Testkit,
    jobs: mpsc::UnboundedSender<QueuedJob>,
    deliveries: mpsc::UnboundedSender<i64>,
}

/// The receiving ends of the queues [`App`] feeds, for the workers.
pub(crate) struct Queues {
    pub jobs: mpsc::UnboundedReceiver<QueuedJob>,
    pub deliveries: mpsc::UnboundedReceiver<i64>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The state of a sandbox served at `base_url`, and the queues its
    /// workers drain.
    pub(crate) fn new(
        config: SandboxConfig,
        store: Store,
        http: reqwest::Client,
        base_url: String,
    ) -> (Self, Queues) {
        let (jobs, jobs_rx) = mpsc::unbounded_channel();
        let (deliveries, deliveries_rx) = mpsc::unbounded_channel();
        let app = Self {
            gateway_limits: config.gateway_rate.map(Buckets::new),
            pacing: config.pacing.map(Buckets::new),
            base_url,
            testkit: Testkit::default(),
            store,
            http,
            jobs,
            deliveries,
            config,
        };
        let queues = Queues {
            jobs: jobs_rx,
            deliveries: deliveries_rx,
        };
        (app, queues)
    }

    /// Queue a stored job to run at `run_at_ms` (ms since the epoch).
    pub fn enqueue_job(&self, job_id: String, run_at_ms: i64) {
        let _ = self.jobs.send((job_id, run_at_ms));
    }

    /// Queue a stored delivery.
    pub fn enqueue_delivery(&self, id: i64) {
        let _ = self.deliveries.send(id);
    }

    /// The customer an API key belongs to.
    pub fn customer_of(&self, api_key: &str) -> Option<&str> {
        self.config.api_keys.get(api_key).map(String::as_str)
    }
}
