//! The running sandbox: shared state, the router, start-up and resumption.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::sync::{mpsc, Semaphore};
use tower_http::cors::CorsLayer;

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

/// Everything the handlers and workers share.
pub struct App {
    pub config: SandboxConfig,
    pub store: Store,
    pub http: reqwest::Client,
    pub gateway_limits: Option<Buckets>,
    pub pacing: Option<Buckets>,
    pub base_url: String,
    pub testkit: Testkit,
    jobs: mpsc::UnboundedSender<(String, i64)>,
    deliveries: mpsc::UnboundedSender<i64>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl App {
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

/// A started sandbox.
#[derive(Debug)]
pub struct Sandbox {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Bind, open the database, resume unfinished work and serve.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        // As production servers do: without TCP_NODELAY, a client that writes
        // a request's head and body separately (Node's fetch) waits out
        // Nagle + delayed ACK, ~0.5 ms a request on loopback.
        let listener = listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
        });
        let store = Store::open(config.db.as_deref()).map_err(std::io::Error::other)?;
        let (jobs_tx, jobs_rx) = mpsc::unbounded_channel();
        let (deliveries_tx, deliveries_rx) = mpsc::unbounded_channel();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .map_err(std::io::Error::other)?;
        let app = Arc::new(App {
            gateway_limits: config.gateway_rate.map(Buckets::new),
            pacing: config.pacing.map(Buckets::new),
            base_url: format!("http://{addr}"),
            testkit: Testkit::default(),
            store,
            http,
            jobs: jobs_tx,
            deliveries: deliveries_tx,
            config,
        });
        tokio::spawn(run_jobs(app.clone(), jobs_rx));
        tokio::spawn(run_deliveries(app.clone(), deliveries_rx));
        resume(&app).map_err(std::io::Error::other)?;

        let router = router(app.clone());
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = shutdown_rx.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "server stopped");
            }
        });
        Ok(Self {
            addr,
            app,
            shutdown: Some(shutdown_tx),
            server,
        })
    }

    /// The base URL to point an SDK's gateway (`tracktags_url`) at.
    pub fn url(&self) -> String {
        self.app.base_url.clone()
    }

    /// Stop serving.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.server).await;
    }
}

/// Queue what a previous process left unfinished.
fn resume(app: &Arc<App>) -> Result<(), rusqlite::Error> {
    let jobs = app.store.unfinished_jobs()?;
    let deliveries = app.store.pending_deliveries()?;
    if !jobs.is_empty() || !deliveries.is_empty() {
        tracing::info!(
            jobs = jobs.len(),
            deliveries = deliveries.len(),
            "resuming unfinished work"
        );
    }
    for job in jobs {
        app.enqueue_job(job.id, job.run_at_ms);
    }
    for delivery in deliveries {
        app.enqueue_delivery(delivery.id);
    }
    Ok(())
}

async fn run_jobs(app: Arc<App>, mut rx: mpsc::UnboundedReceiver<(String, i64)>) {
    let permits = Arc::new(Semaphore::new(app.config.concurrency.max(1)));
    while let Some((job_id, run_at_ms)) = rx.recv().await {
        let app = app.clone();
        let permits = permits.clone();
        tokio::spawn(async move {
            // The row is read only when the job is due.
            let wait = run_at_ms - now_ms();
            if wait > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
            }
            crate::executor::run_job(app, job_id, permits).await;
        });
    }
}

async fn run_deliveries(app: Arc<App>, mut rx: mpsc::UnboundedReceiver<i64>) {
    while let Some(id) = rx.recv().await {
        tokio::spawn(crate::delivery::deliver(app.clone(), id));
    }
}

fn router(app: Arc<App>) -> Router {
    let limit = app.config.body_limit;
    Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/api/v1/proxy", post(crate::gateway::proxy))
        .route("/api/v1/jobs", post(crate::gateway::direct_submit))
        .route("/api/v1/jobs/{id}", get(crate::gateway::direct_job))
        .route(
            "/api/v1/webhook-secrets",
            get(crate::gateway::direct_secrets)
                .post(crate::gateway::direct_secrets)
                .delete(crate::gateway::direct_secrets),
        )
        .merge(crate::testkit::router())
        .layer(DefaultBodyLimit::max(limit))
        .layer(CorsLayer::permissive())
        .with_state(app)
}
