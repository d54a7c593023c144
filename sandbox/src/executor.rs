//! Running a job: regions as simulated lanes, retries and reroutes, per-host
//! pacing, the fallback chain, then webhooks and child jobs.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ezthrottle_core::{ExecutionMode, Job, LocalFailure, RegionPolicy, Trigger};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use serde_json::{json, Map, Value};

use crate::slots::{Slot, Slots};
use crate::state::{now_ms, App};
use crate::store::NewChild;

/// The slot of the job this task runs, so its waits can give it back.
#[derive(Debug)]
struct JobSlot {
    slots: Arc<Slots>,
    customer: String,
    slot: tokio::sync::Mutex<Option<Slot>>,
    /// Lanes of the path running now: the lanes of a race share the slot,
    /// so only a single lane gives it back while it waits.
    lanes: AtomicUsize,
}

tokio::task_local! {
    static HELD: Arc<JobSlot>;
}

/// Await `wait` (pacing, a retry's backoff) without holding the job's slot,
/// then take a slot again (its customer's share permitting).
async fn without_slot<F: std::future::Future>(wait: F) -> F::Output {
    let held = HELD.try_with(Arc::clone).ok();
    let Some(held) = held.filter(|h| h.lanes.load(Ordering::SeqCst) <= 1) else {
        return wait.await;
    };
    drop(held.slot.lock().await.take());
    let output = wait.await;
    let slot = held.slots.acquire(&held.customer).await;
    *held.slot.lock().await = Some(slot);
    output
}

/// How one path (the job or one of its fallbacks) ended.
#[derive(Debug, Clone)]
struct PathResult {
    status: Option<u16>,
    headers: Map<String, Value>,
    body: String,
    timed_out: bool,
    error: Option<String>,
}

impl PathResult {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn failure(error: impl Into<String>) -> Self {
        Self {
            status: None,
            headers: Map::new(),
            body: String::new(),
            timed_out: false,
            error: Some(error.into()),
        }
    }

    /// How a failed path failed, in the core's terms: fallback triggers are
    /// matched by the core's rule, the one the SDKs use.
    fn local_failure(&self) -> LocalFailure {
        match (self.status, self.timed_out) {
            (Some(status), _) => LocalFailure::Status(status),
            (None, true) => LocalFailure::Timeout,
            (None, false) => LocalFailure::Network,
        }
    }
}

/// Longest wait honoured from an upstream's `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Response bodies kept in results and webhooks.
const MAX_BODY: usize = 1024 * 1024;

pub async fn run_job(app: Arc<App>, job_id: String, slots: Arc<Slots>) {
    let row = match app.store.job(&job_id) {
        Ok(Some(row)) if row.state == "queued" || row.state == "running" => row,
        Ok(_) => return,
        Err(error) => {
            tracing::error!(%error, "cannot read job");
            return;
        }
    };
    let slot = slots.acquire(&row.customer).await;
    let held = Arc::new(JobSlot {
        slots,
        customer: row.customer.clone(),
        slot: tokio::sync::Mutex::new(Some(slot)),
        lanes: AtomicUsize::new(1),
    });
    HELD.scope(held, run_held(app, job_id, row)).await;
}

/// The job, holding its slot (given back while it only waits).
async fn run_held(app: Arc<App>, job_id: String, row: crate::store::JobRow) {
    let job: Job = match serde_json::from_str(&row.payload) {
        Ok(job) => job,
        Err(error) => {
            tracing::error!(%error, job_id, "stored job does not parse");
            return;
        }
    };
    if let Err(error) = app.store.mark_running(&job_id) {
        tracing::error!(%error, "cannot mark job running");
        return;
    }
    // A panic while running the job (a bug, or a dependency's) ends this job
    // as failed, with the reason; it never reaches another job, and the job
    // is not resumed into the same panic after a restart.
    let chain = AssertUnwindSafe(run_chain(&app, &job_id, &job))
        .catch_unwind()
        .map(|ran| {
            ran.unwrap_or_else(|panic| PathResult::failure(panicked("running this job", &*panic)))
        });
    let result = match job.on_failure_timeout_ms {
        Some(ms) => tokio::time::timeout(Duration::from_millis(ms), chain)
            .await
            .unwrap_or_else(|_| PathResult {
                timed_out: true,
                ..PathResult::failure(format!(
                    "no path succeeded within on_failure_timeout_ms ({ms} ms)"
                ))
            }),
        None => chain.await,
    };
    finish(&app, &job_id, &row.idempotent_key, &job, result);
}

/// The first `limit` bytes of a response body, read as it streams in: the
/// rest is never buffered (a 200 MB body took the sandbox to 220 MB), and
/// dropping the response closes the connection.
async fn read_capped(mut response: reqwest::Response, limit: usize) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await? {
            Some(chunk) => body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())]),
            None => break,
        }
    }
    Ok(body)
}

/// The reason a job or delivery failed because `doing` it panicked.
pub(crate) fn panicked(doing: &str, panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    tracing::error!(panic = text, "a panic while {doing}");
    format!("the sandbox failed while {doing} (a panic: {text})")
}

fn finish(app: &Arc<App>, job_id: &str, key: &str, job: &Job, result: PathResult) {
    let succeeded = result.succeeded();
    let mut delivery = json!({
        "job_id": job_id,
        "idempotent_key": key,
        "status": if succeeded { "success" } else { "failed" },
    });
    if let Some(status) = result.status {
        delivery["response"] =
            json!({"status_code": status, "headers": result.headers, "body": result.body});
    }
    if !job.metadata.is_empty() {
        delivery["metadata"] = Value::Object(job.metadata.clone());
    }
    if let Some(error) = &result.error {
        delivery["error"] = json!(error);
    }
    let child = if succeeded {
        job.on_success.as_deref().map(|c| ("on_success", c))
    } else {
        job.on_failure.as_deref().map(|c| ("on_failure", c))
    };
    let children: Vec<NewChild> = child
        .map(|(relation, child)| NewChild {
            id: format!("job_{}", uuid::Uuid::new_v4().simple()),
            relation,
            payload: child.to_json(),
            // A HASH child is unique to its parent: the same follow-up of two
            // different jobs must both run.
            idempotent_key: child
                .idempotent_key
                .clone()
                .unwrap_or_else(|| format!("{job_id}:{relation}")),
            run_at_ms: child
                .retry_at
                .map_or_else(now_ms, |at| at.min(i64::MAX as u64) as i64),
        })
        .into_iter()
        .collect();
    let webhooks: Vec<(String, bool)> = job
        .webhooks
        .iter()
        .map(|w| (w.url.clone(), w.votes()))
        .collect();
    match app
        .store
        .finish_job(job_id, succeeded, &delivery, &webhooks, &children, now_ms())
    {
        Ok(finished) => {
            for id in finished.deliveries {
                app.enqueue_delivery(id);
            }
            for (id, run_at) in finished.children {
                app.enqueue_job(id, run_at);
            }
        }
        Err(error) => tracing::error!(%error, job_id, "cannot record the job's result"),
    }
}

/// The job, then its fallback chain: each link is tried when its trigger
/// fires on the most recent failure.
async fn run_chain(app: &Arc<App>, job_id: &str, job: &Job) -> PathResult {
    let mut result = run_path(app, job_id, "job", job).await;
    let mut link = job.fallback_job.as_deref();
    let mut depth = 0;
    while let Some(fallback) = link {
        if result.succeeded() {
            break;
        }
        depth += 1;
        let failure = result.local_failure();
        let fires = fallback
            .trigger
            .as_ref()
            .is_none_or(|t| t.fires_on(&failure));
        if fires {
            result = run_path(app, job_id, &format!("fallback[{depth}]"), fallback).await;
        }
        link = fallback.fallback_job.as_deref();
    }
    result
}

/// One path across its regions.
async fn run_path(app: &Arc<App>, job_id: &str, path: &str, job: &Job) -> PathResult {
    // The next link's on_timeout trigger says how long this path may take.
    let timeout = match job.fallback_job.as_deref().and_then(|f| f.trigger.as_ref()) {
        Some(Trigger::OnTimeout(ms)) => Duration::from_millis(*ms).min(app.config.upstream_timeout),
        _ => app.config.upstream_timeout,
    };
    let lanes = match plan_lanes(app, job) {
        Ok(lanes) => lanes,
        Err(error) => {
            let _ = app.store.record_attempt(
                job_id,
                path,
                "-",
                &job.url,
                None,
                Some(&error),
                now_ms(),
                0,
            );
            return PathResult::failure(error);
        }
    };
    let _ = HELD.try_with(|held| held.lanes.store(lanes.len(), Ordering::SeqCst));
    let mut running: FuturesUnordered<_> = lanes
        .iter()
        .map(|region| async move {
            (
                region,
                run_lane(app, job_id, path, job, region.clone(), timeout).await,
            )
        })
        .collect();
    let mut finished: Vec<&String> = Vec::new();
    let mut last = PathResult::failure("no region ran");
    let mut winner: Option<PathResult> = None;
    while let Some((region, result)) = running.next().await {
        finished.push(region);
        if result.succeeded() {
            if job.execution_mode == ExecutionMode::Race {
                // First 2xx wins; the lanes still running are cancelled.
                drop(running);
                for lane in lanes.iter().filter(|l| !finished.contains(l)) {
                    let why = format!("cancelled: {region} won the race");
                    let _ = app.store.record_attempt(
                        job_id,
                        path,
                        lane,
                        &job.url,
                        None,
                        Some(&why),
                        now_ms(),
                        0,
                    );
                }
                return result;
            }
            winner.get_or_insert(result);
        } else {
            last = result;
        }
    }
    winner.unwrap_or(last)
}

/// The regions a path runs in, honouring down regions and the region policy.
fn plan_lanes(app: &App, job: &Job) -> Result<Vec<String>, String> {
    let down = &app.config.down_regions;
    let wanted: Vec<String> = if job.regions.is_empty() {
        vec![app
            .config
            .regions
            .first()
            .cloned()
            .unwrap_or_else(|| "iad".into())]
    } else {
        job.regions.clone()
    };
    let mut lanes: Vec<String> = Vec::new();
    for region in &wanted {
        if !down.contains(region) {
            lanes.push(region.clone());
        } else if job.region_policy == RegionPolicy::Strict {
            return Err(format!(
                "region {region} is down and the region policy is strict"
            ));
        }
    }
    if lanes.is_empty() {
        // Route around: the first healthy region that exists.
        let healthy = app.config.regions.iter().find(|r| !down.contains(r));
        lanes.push(healthy.cloned().ok_or("every region is down")?);
    }
    Ok(lanes)
}

/// One region: retries in place, reroutes to other regions, both bounded.
async fn run_lane(
    app: &Arc<App>,
    job_id: &str,
    path: &str,
    job: &Job,
    mut region: String,
    timeout: Duration,
) -> PathResult {
    let policy = job.retry_policy.clone().unwrap_or_default();
    let max_retries = policy.max_retries.unwrap_or(app.config.default_max_retries);
    let retry_codes = policy.retry_codes.unwrap_or_else(|| vec![429, 503]);
    let max_reroutes = policy.max_reroutes.unwrap_or(0);
    let reroute_codes = policy.reroute_codes.unwrap_or_default();
    let (mut retries, mut reroutes) = (0u32, 0u32);
    loop {
        let (result, retry_after) = attempt(app, job_id, path, &region, job, timeout).await;
        let Some(status) = result.status.filter(|_| !result.succeeded()) else {
            return result;
        };
        if retry_codes.contains(&status) && retries < max_retries {
            retries += 1;
            let backoff = Duration::from_millis(100u64 << retries.min(6));
            without_slot(tokio::time::sleep(
                retry_after.unwrap_or(backoff).min(MAX_RETRY_AFTER),
            ))
            .await;
            continue;
        }
        if reroute_codes.contains(&status) && reroutes < max_reroutes {
            reroutes += 1;
            let healthy = app
                .config
                .regions
                .iter()
                .filter(|r| !app.config.down_regions.contains(r));
            if let Some(next) = healthy
                .clone()
                .skip_while(|r| **r != region)
                .nth(1)
                .or_else(|| healthy.clone().next())
            {
                region = next.clone();
            }
            continue;
        }
        return result;
    }
}

/// One upstream request, paced per host, recorded as an attempt.
async fn attempt(
    app: &Arc<App>,
    job_id: &str,
    path: &str,
    region: &str,
    job: &Job,
    timeout: Duration,
) -> (PathResult, Option<Duration>) {
    let host = host_of(&job.url);
    if let Some(marker) = &app.config.panic_on_url {
        assert!(
            !job.url.contains(marker.as_str()),
            "fault injected for {}",
            job.url
        );
    }
    if let Some(pacing) = &app.pacing {
        if pacing.try_take(&host).is_err() {
            without_slot(pacing.take(&host)).await;
        }
    }
    let started_ms = now_ms();
    let started = Instant::now();
    let method = reqwest::Method::from_bytes(job.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = app
        .http
        .request(method, &job.url)
        .timeout(timeout)
        .header("x-ezthrottle-region", region);
    for (name, value) in job.headers.iter() {
        request = request.header(name, value);
    }
    if let Some(body) = &job.body {
        request = request.body(body.clone());
    }
    let (result, retry_after) = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let headers: Map<String, Value> = response
                .headers()
                .iter()
                .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), json!(v))))
                .collect();
            if let (Some(pacing), Some(rps)) = (
                &app.pacing,
                headers
                    .get("x-ezthrottle-rps")
                    .and_then(|v| v.as_str()?.parse::<f64>().ok()),
            ) {
                pacing.set_rate(&host, rps);
            }
            let retry_after = headers
                .get("retry-after")
                .and_then(|v| v.as_str()?.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            match read_capped(response, MAX_BODY).await {
                Ok(bytes) => (
                    PathResult {
                        status: Some(status),
                        headers,
                        body: String::from_utf8_lossy(&bytes).into_owned(),
                        timed_out: false,
                        error: None,
                    },
                    retry_after,
                ),
                // An answer whose body does not arrive (in time) is no answer:
                // the attempt failed, as if the connection had.
                Err(e) => {
                    let timed_out = e.is_timeout();
                    let error = if timed_out {
                        format!(
                            "timed out after {} ms reading the body",
                            timeout.as_millis()
                        )
                    } else {
                        format!("the body could not be read: {e}")
                    };
                    (
                        PathResult {
                            timed_out,
                            ..PathResult::failure(error)
                        },
                        None,
                    )
                }
            }
        }
        Err(e) => {
            let timed_out = e.is_timeout();
            let error = if timed_out {
                format!("timed out after {} ms", timeout.as_millis())
            } else {
                format!("request failed: {e}")
            };
            (
                PathResult {
                    timed_out,
                    ..PathResult::failure(error)
                },
                None,
            )
        }
    };
    let duration = started.elapsed().as_millis() as i64;
    if let Err(error) = app.store.record_attempt(
        job_id,
        path,
        region,
        &job.url,
        result.status,
        result.error.as_deref(),
        started_ms,
        duration,
    ) {
        tracing::error!(%error, "cannot record an attempt");
    }
    (result, retry_after)
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_ascii_lowercase()
}
