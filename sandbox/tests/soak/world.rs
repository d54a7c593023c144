//! The soak's outside world: seeded dice, a hostile upstream on raw TCP (so it
//! can reset connections), webhook receivers that fail at random, and the
//! sandbox as a child process (so its memory is its own).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use ezthrottle_core::webhook::{verify_signature, SIGNATURE_HEADER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::SandboxProcess;

/// splitmix64 over an atomic counter: cheap, shared, seeded.
#[derive(Debug)]
pub struct Dice(AtomicU64);

impl Dice {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }

    fn next(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(Self::GOLDEN, Ordering::Relaxed)
            .wrapping_add(Self::GOLDEN);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// How the upstream answers one request.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Ok,
    TooManyRequests,
    ServerError,
    TooSlow,
    Reset,
}

impl Fault {
    const ALL: [Self; 5] = [
        Self::Ok,
        Self::TooManyRequests,
        Self::ServerError,
        Self::TooSlow,
        Self::Reset,
    ];

    /// 50% 200, 15% 429, 15% 500, 10% too slow, 10% reset.
    fn roll(dice: &Dice) -> Self {
        match dice.below(100) {
            0..50 => Self::Ok,
            50..65 => Self::TooManyRequests,
            65..80 => Self::ServerError,
            80..90 => Self::TooSlow,
            _ => Self::Reset,
        }
    }

    fn response(self) -> &'static [u8] {
        match self {
            Self::Ok | Self::TooSlow => {
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}"
            }
            Self::TooManyRequests => {
                b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 4\r\n\r\nbusy"
            }
            Self::ServerError => {
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 6\r\n\r\nbroken"
            }
            Self::Reset => b"",
        }
    }
}

/// Longer than any path timeout the soak's jobs have.
const TOO_SLOW: Duration = Duration::from_millis(1_000);
/// Percent of webhook deliveries the receivers refuse.
const RECEIVER_FAILS_PERCENT: u64 = 40;

/// One webhook delivery a receiver accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub body: String,
    pub signature_valid: bool,
}

/// What one job's receiver saw.
#[derive(Debug, Clone, Default)]
pub struct Hook {
    pub attempts: u64,
    pub accepted: Vec<Accepted>,
}

#[derive(Debug)]
struct Seen {
    dice: Arc<Dice>,
    secret: String,
    hits: Mutex<HashMap<String, u64>>,
    hooks: Mutex<HashMap<usize, Hook>>,
    faults: [AtomicU64; Fault::ALL.len()],
}

/// The upstream and the receivers, served on loopback.
#[derive(Debug)]
pub struct World {
    pub upstream: String,
    pub receiver: String,
    seen: Arc<Seen>,
}

impl World {
    pub async fn start(dice: Arc<Dice>, secret: &str) -> Self {
        let seen = Arc::new(Seen {
            dice,
            secret: secret.to_owned(),
            hits: Mutex::default(),
            hooks: Mutex::default(),
            faults: Default::default(),
        });
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_url = format!("http://{}", upstream.local_addr().unwrap());
        tokio::spawn(serve_upstream(upstream, seen.clone()));
        let receiver = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver_url = format!("http://{}", receiver.local_addr().unwrap());
        let app = Router::new()
            .route("/hook/{n}", post(receive))
            .with_state(seen.clone());
        tokio::spawn(async move { axum::serve(receiver, app).await.unwrap() });
        Self {
            upstream: upstream_url,
            receiver: receiver_url,
            seen,
        }
    }

    /// Requests the upstream read for `/chaos/{key}`.
    pub fn hits(&self, key: &str) -> u64 {
        self.seen
            .hits
            .lock()
            .unwrap()
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    pub fn hook(&self, n: usize) -> Hook {
        self.seen
            .hooks
            .lock()
            .unwrap()
            .get(&n)
            .cloned()
            .unwrap_or_default()
    }

    /// How many of each fault the upstream served.
    pub fn faults(&self) -> String {
        Fault::ALL
            .iter()
            .zip(&self.seen.faults)
            .map(|(fault, count)| format!("{fault:?} {}", count.load(Ordering::Relaxed)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn serve_upstream(listener: TcpListener, seen: Arc<Seen>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(upstream_connection(stream, seen.clone()));
    }
}

/// Bytes of the oversized poison answer.
pub const BIG_BODY: usize = 20 * 1024 * 1024;

/// The poison answers (`/poison/{kind}/…`) and the second customer's calm
/// upstream (`/calm/…`); `None` when `path` is a chaos request. Returns
/// whether the connection may serve another request.
async fn special(stream: &mut TcpStream, path: &str) -> Option<bool> {
    let written = if path.starts_with("/calm/") || path.starts_with("/poison/headers/") {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\ncalm")
            .await
    } else if path.starts_with("/poison/rps/") {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nx-ezthrottle-rps: 1e-30\r\ncontent-length: 2\r\n\r\nok")
            .await
    } else if path.starts_with("/poison/big/") {
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {BIG_BODY}\r\n\r\n");
        let mut result = stream.write_all(head.as_bytes()).await;
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..BIG_BODY / chunk.len() {
            if result.is_err() {
                break;
            }
            result = stream.write_all(&chunk).await;
        }
        // The sandbox stops reading at its cap: the rest is not waited for.
        return Some(false);
    } else if path.starts_with("/poison/trickle/") {
        // One byte every 50 ms of a 1,000-byte body: past any path timeout.
        let mut result = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
            .await;
        for _ in 0..1000 {
            if result.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            result = stream.write_all(b"x").await;
        }
        return Some(false);
    } else {
        return None;
    };
    Some(written.is_ok())
}

/// A keep-alive connection: each request gets a fault rolled for it.
async fn upstream_connection(mut stream: TcpStream, seen: Arc<Seen>) {
    let mut buffer = Vec::new();
    while let Some(path) = next_request(&mut stream, &mut buffer).await {
        match special(&mut stream, &path).await {
            Some(true) => continue,
            Some(false) => return,
            None => {}
        }
        let key = path.strip_prefix("/chaos/").unwrap_or(&path).to_owned();
        *seen.hits.lock().unwrap().entry(key).or_default() += 1;
        let fault = Fault::roll(&seen.dice);
        seen.faults[fault as usize].fetch_add(1, Ordering::Relaxed);
        match fault {
            Fault::Reset => {
                // SO_LINGER 0: close() sends RST instead of FIN.
                let _ = stream.set_zero_linger();
                return;
            }
            Fault::TooSlow => tokio::time::sleep(TOO_SLOW).await,
            _ => {}
        }
        if stream.write_all(fault.response()).await.is_err() {
            return;
        }
    }
}

/// Reads one request (head and `content-length` body); its path.
async fn next_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..end]).ok()?;
            let path = head.split_whitespace().nth(1)?.to_owned();
            let length = head
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .map_or(Some(0), |(_, value)| value.trim().parse::<usize>().ok())?;
            let total = end + 4 + length;
            while buffer.len() < total {
                read_more(stream, buffer).await?;
            }
            buffer.drain(..total);
            return Some(path);
        }
        read_more(stream, buffer).await?;
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 4096];
    let read = stream.read(&mut chunk).await.ok()?;
    (read > 0).then(|| buffer.extend_from_slice(&chunk[..read]))
}

async fn receive(
    State(seen): State<Arc<Seen>>,
    UrlPath(n): UrlPath<usize>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let refuse = seen.dice.below(100) < RECEIVER_FAILS_PERCENT;
    let mut hooks = seen.hooks.lock().unwrap();
    let hook = hooks.entry(n).or_default();
    hook.attempts += 1;
    if refuse {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let header = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now_secs = ezthrottle_sandbox::now_ms() / 1000;
    let signature_valid =
        verify_signature(body.as_bytes(), header, &seen.secret, now_secs, 300).is_valid();
    hook.accepted.push(Accepted {
        body,
        signature_valid,
    });
    StatusCode::OK
}

/// The sandbox under soak: its process, with the database it writes.
pub struct SoakSandbox {
    process: SandboxProcess,
    db: PathBuf,
}

impl SoakSandbox {
    pub fn start(db: &Path, api_keys: [&str; 2], webhook_attempts: u32) -> Self {
        let attempts = webhook_attempts.to_string();
        let process = SandboxProcess::start(&[
            "--addr",
            "127.0.0.1:0",
            "--db",
            db.to_str().unwrap(),
            "--api-key",
            api_keys[0],
            "--api-key",
            api_keys[1],
            "--pacing",
            "off",
            "--rate-limit",
            "off",
            "--upstream-timeout-ms",
            "400",
            "--webhook-attempts",
            &attempts,
            "--webhook-backoff-ms",
            "20",
            "--concurrency",
            "128",
        ]);
        Self {
            process,
            db: db.to_owned(),
        }
    }

    pub fn url(&self) -> &str {
        &self.process.url
    }

    /// A line of `/proc/PID/status` in KiB (`VmRSS` now, `VmHWM` the peak).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.process.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// Stop it, then count the jobs its database holds.
    pub fn stop_and_count_jobs(self) -> usize {
        drop(self.process);
        let db = rusqlite::Connection::open(&self.db).unwrap();
        let count: i64 = db
            .query_row("SELECT COUNT(*) FROM jobs", [], |row| row.get(0))
            .unwrap();
        usize::try_from(count).unwrap()
    }
}
