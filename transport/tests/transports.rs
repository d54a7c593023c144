//! Both transports against a scripted HTTP server on loopback: answers,
//! deadlines, refused connections, and a FRUGAL step driven end to end.

// Tests panic on purpose when an expectation fails.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ezthrottle_core::{
    Client, ClientOptions, HttpRequest, Outcome, Step, StepType, Target, TransportError,
    TransportErrorKind,
};
use ezthrottle_transport::{AsyncTransport, BlockingTransport};

/// Requests to `/hold` received, and their connections the client closed.
static HELD: AtomicUsize = AtomicUsize::new(0);
static CLOSED: AtomicUsize = AtomicUsize::new(0);

/// Serves every connection: `/slow` answers after 2 s, anything else 200
/// with a header and the request's body echoed. One request a connection,
/// said with `Connection: close` so no client reuses a closed one.
fn serve() -> String {
    serve_with("http", answer)
}

/// A loopback server that treats every connection with `treat`.
fn serve_with(scheme: &str, treat: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("{scheme}://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || treat(stream));
        }
    });
    base
}

fn answer(mut stream: TcpStream) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    let (head, body) = loop {
        let Ok(n) = stream.read(&mut buffer) else {
            return;
        };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&request).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break (
                    text[..end].to_owned(),
                    text[end + 4..end + 4 + length].to_owned(),
                );
            }
        }
    };
    if head.starts_with("GET /slow") {
        std::thread::sleep(Duration::from_secs(2));
    }
    if head.starts_with("GET /hold") {
        // Never answers: waits for the client to close, and says when.
        HELD.fetch_add(1, Ordering::SeqCst);
        while matches!(stream.read(&mut buffer), Ok(n) if n > 0) {}
        CLOSED.fetch_add(1, Ordering::SeqCst);
        return;
    }
    let reply = format!(
        "HTTP/1.1 200 OK\r\nX-Answer: yes\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(reply.as_bytes());
}

fn request(method: &str, url: String, body: Option<&str>, timeout_ms: u64) -> HttpRequest {
    HttpRequest {
        target: Target::Local,
        method: method.into(),
        url,
        headers: vec![("X-Test".into(), "1".into())],
        body: body.map(str::to_owned),
        timeout_ms,
    }
}

/// A client whose gateway is a closed loopback port: nothing these tests
/// run reaches a service.
fn client() -> Client {
    Client::new(ClientOptions {
        api_key: Some("ck_test_key".into()),
        tracktags_url: Some(closed_port()),
        ..ClientOptions::default()
    })
    .unwrap()
}

fn frugal(url: String) -> Step {
    Step::new().url(url).step_type(StepType::Frugal)
}

fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    base
}

#[test]
fn the_blocking_transport_answers_times_out_and_reports_refusals() {
    let base = serve();
    let transport = BlockingTransport::default();
    let response = transport
        .send(&request(
            "POST",
            format!("{base}/echo"),
            Some("hello"),
            5_000,
        ))
        .unwrap();
    assert_eq!((response.status, response.body.as_str()), (200, "hello"));
    assert!(response
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("x-answer") && v == "yes"));

    let slow = transport.send(&request("GET", format!("{base}/slow"), None, 200));
    assert_eq!(slow.unwrap_err().kind, TransportErrorKind::Timeout);
    let refused = transport.send(&request("GET", format!("{}/x", closed_port()), None, 2_000));
    assert_eq!(refused.unwrap_err().kind, TransportErrorKind::Unreachable);

    let client = client();
    let step = frugal(format!("{base}/echo"));
    let run = transport.client(client).execute(&step).unwrap();
    assert!(matches!(
        run.outcome,
        Outcome::LocalSuccess {
            status_code: 200,
            ..
        }
    ));
}

#[tokio::test]
async fn the_async_transport_answers_times_out_and_reports_refusals() {
    let base = serve();
    let transport = AsyncTransport::default();
    let response = transport
        .send(&request(
            "POST",
            format!("{base}/echo"),
            Some("hello"),
            5_000,
        ))
        .await
        .unwrap();
    assert_eq!((response.status, response.body.as_str()), (200, "hello"));

    let slow = transport
        .send(&request("GET", format!("{base}/slow"), None, 200))
        .await;
    assert_eq!(slow.unwrap_err().kind, TransportErrorKind::Timeout);
    let refused = transport
        .send(&request("GET", format!("{}/x", closed_port()), None, 2_000))
        .await;
    assert_eq!(refused.unwrap_err().kind, TransportErrorKind::Unreachable);

    let client = client();
    let step = frugal(format!("{base}/echo"));
    let run = transport
        .run(&mut client.execute(&step).unwrap())
        .await
        .unwrap();
    assert!(matches!(
        run.outcome,
        Outcome::LocalSuccess {
            status_code: 200,
            ..
        }
    ));
}

/// The worker pool is one per process, so its two tests run in one order.
#[tokio::test(flavor = "current_thread")]
async fn background_runs() {
    background_runs_share_a_capped_set_of_threads().await;
    dropping_a_background_run_closes_its_socket_and_frees_its_thread().await;
}

/// Operations run on worker threads off the caller's executor: twenty
/// at once all answer, on at most `MAX_WORKERS` threads, and the threads
/// are kept for the next ones instead of started again.
async fn background_runs_share_a_capped_set_of_threads() {
    let base = serve();
    let transport = BlockingTransport::default();
    let client = client();
    let step = frugal(format!("{base}/echo"));
    let runs: Vec<_> = (0..20)
        .map(|_| transport.run_in_background(client.execute(&step).unwrap()))
        .collect();
    assert!(ezthrottle_transport::worker_count() <= ezthrottle_transport::MAX_WORKERS);
    for run in runs {
        let run = run.await.unwrap();
        assert!(matches!(run.outcome, Outcome::LocalSuccess { .. }));
    }
    let threads = ezthrottle_transport::worker_count();
    assert!((1..=ezthrottle_transport::MAX_WORKERS).contains(&threads));
    for _ in 0..5 {
        let run = transport.run_in_background(client.execute(&step).unwrap());
        run.await.unwrap();
    }
    assert_eq!(ezthrottle_transport::worker_count(), threads);
}

/// Dropping a background run cancels it: the socket of the request in
/// flight is shut down (the server sees it close at once, not at the 20 s
/// deadline), its worker is free for the next run, and nothing more is sent
/// (the gateway of this client is a closed loopback port, never reached).
async fn dropping_a_background_run_closes_its_socket_and_frees_its_thread() {
    let base = serve();
    let transport = BlockingTransport::default();
    let client = client();
    let hold = frugal(format!("{base}/hold")).local_timeout_ms(20_000);
    let runs: Vec<_> = (0..20)
        .map(|_| Box::pin(transport.run_in_background(client.execute(&hold).unwrap())))
        .collect();
    let started = Instant::now();
    while HELD.load(Ordering::SeqCst) < ezthrottle_transport::MAX_WORKERS {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the requests never arrived"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let in_flight = HELD.load(Ordering::SeqCst);
    // Queued runs first (the workers took the first ones): dropping an
    // in-flight run first frees its worker, which may start a queued run
    // that has not been dropped yet.
    for run in runs.into_iter().rev() {
        drop(run);
    }
    let dropped = Instant::now();
    while CLOSED.load(Ordering::SeqCst) < in_flight {
        assert!(
            dropped.elapsed() < Duration::from_millis(200),
            "{} of {in_flight} connections closed 200 ms after the cancel",
            CLOSED.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let echo = frugal(format!("{base}/echo"));
    let next = transport.run_in_background(client.execute(&echo).unwrap());
    let run = tokio::time::timeout(Duration::from_secs(2), next).await;
    assert!(matches!(run, Ok(Ok(_))), "the workers stayed busy: {run:?}");
    // The queued runs were dropped before they started: none reached the server.
    assert_eq!(HELD.load(Ordering::SeqCst), in_flight);
}

/// No answer came back, so the service was not reached (PROTOCOL §6: the
/// case for `forward_or_fallback`'s fallback), as the reference reads a
/// `requests.ConnectionError`: a peer that hangs up on the request, and (with
/// the `tls` feature: reqwest has no TLS stack here) a TLS handshake with a
/// peer that speaks no TLS. The Kotlin suite checks both through the uniffi
/// library's built-in transport.
#[tokio::test]
async fn both_transports_read_a_hangup_and_a_failed_handshake_as_unreachable() {
    let hangup = serve_with("http", |mut stream| {
        let _ = stream.read(&mut [0u8; 4096]);
    });
    let (blocking, asynchronous) = (BlockingTransport::default(), AsyncTransport::default());
    let unreachable = |by: &str, failure: TransportError| {
        assert_eq!(
            failure.kind,
            TransportErrorKind::Unreachable,
            "{by}: {failure}"
        );
    };
    let sent = request("GET", format!("{hangup}/x"), None, 5_000);
    unreachable("ureq", blocking.send(&sent).unwrap_err());
    unreachable("reqwest", asynchronous.send(&sent).await.unwrap_err());
    if cfg!(feature = "tls") {
        let no_tls = serve_with("https", |mut stream| {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            std::thread::sleep(Duration::from_millis(200));
        });
        let sent = request("GET", format!("{no_tls}/x"), None, 5_000);
        unreachable("ureq", blocking.send(&sent).unwrap_err());
    }
}
