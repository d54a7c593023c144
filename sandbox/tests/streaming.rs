//! Upstream bodies are read as they stream (issue 13). Its own test binary:
//! it measures the process's peak memory, which other tests would disturb.
#![allow(clippy::unwrap_used)]

mod common;

use common::{quick_config, Harness};
use ezthrottle_core::Step;

/// The process's peak resident memory (Linux), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// An upstream's body is read as it streams, up to 1 MiB, then cut: a
/// 200 MB answer took the sandbox to 220 MB when it was buffered whole.
#[tokio::test]
async fn a_huge_upstream_body_is_cut_as_it_streams() {
    let h = Harness::start(quick_config()).await;
    let before = peak_rss();
    let job = h
        .submit(&Step::new().url(h.up(&format!("bytes/{}", 200 * 1024 * 1024))))
        .await;
    let report = h.settled(&job).await;
    assert_eq!(report["state"], "succeeded", "{report}");
    let body = report["result"]["response"]["body"].as_str().unwrap();
    assert_eq!(body.len(), 1024 * 1024);
    let grown = peak_rss().saturating_sub(before);
    assert!(
        grown < 64 * 1024 * 1024,
        "peak RSS grew by {} MB",
        grown / (1024 * 1024)
    );
}
