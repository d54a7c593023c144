//! The wiring of a running sandbox: the router, the workers, start-up and
//! resumption. Only `lib.rs` imports it; the shared state is in `state`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use tokio::sync::mpsc;
use tower_http::cors::CorsLayer;

use crate::config::SandboxConfig;
use crate::state::{now_ms, App, QueuedJob, Queues};
use crate::store::Store;

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
        let mut store = Store::open(config.db.as_deref()).map_err(std::io::Error::other)?;
        if config.sync_full {
            store = store.sync_full().map_err(std::io::Error::other)?;
        }
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .map_err(std::io::Error::other)?;
        let (app, queues) = App::new(config, store, http, format!("http://{addr}"));
        let app = Arc::new(app);
        let Queues { jobs, deliveries } = queues;
        tokio::spawn(run_jobs(app.clone(), jobs));
        tokio::spawn(run_deliveries(app.clone(), deliveries));
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

async fn run_jobs(app: Arc<App>, mut rx: mpsc::UnboundedReceiver<QueuedJob>) {
    let slots = crate::slots::Slots::new(app.config.concurrency);
    while let Some((job_id, run_at_ms)) = rx.recv().await {
        let app = app.clone();
        let slots = slots.clone();
        tokio::spawn(async move {
            // The row is read only when the job is due.
            let wait = run_at_ms - now_ms();
            if wait > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
            }
            crate::executor::run_job(app, job_id, slots).await;
        });
    }
}

/// Deliveries run at most `delivery_concurrency` at once, so a burst of
/// webhooks cannot open connections without bound.
async fn run_deliveries(app: Arc<App>, mut rx: mpsc::UnboundedReceiver<i64>) {
    let permits = Arc::new(tokio::sync::Semaphore::new(
        app.config.delivery_concurrency.max(1),
    ));
    while let Some(id) = rx.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let app = app.clone();
        tokio::spawn(async move {
            crate::delivery::deliver(app, id).await;
            drop(permit);
        });
    }
}

fn router(app: Arc<App>) -> Router {
    let limit = app.config.body_limit;
    let api = Router::new()
        .route("/api/v1/proxy", post(crate::gateway::proxy))
        .route("/api/v1/jobs", post(crate::gateway::direct_submit))
        .route("/api/v1/jobs/{id}", get(crate::gateway::direct_job))
        .route(
            "/api/v1/webhook-secrets",
            get(crate::gateway::direct_secrets)
                .post(crate::gateway::direct_secrets)
                .delete(crate::gateway::direct_secrets),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::gateway::admit,
        ));
    let mut router = Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .merge(api);
    if app.config.testkit {
        router = router.merge(crate::testkit::router());
    }
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(CorsLayer::permissive())
        .with_state(app)
}
