//! A sandbox on loopback and a client of it, for the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ezthrottle_core::{ClientConfig, Error, Outcome, Step};
use ezthrottle_sandbox::driver::Client;
use ezthrottle_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub const KEY: &str = "ck_test_cust_it_0001";
pub const SECRET: &str = "integration_secret_0123456789";

pub struct Harness {
    pub sandbox: Sandbox,
    pub client: Client,
    pub base: String,
}

pub fn quick_config() -> SandboxConfig {
    SandboxConfig {
        api_keys: HashMap::from([(KEY.to_owned(), "cust_it".to_owned())]),
        gateway_rate: None,
        pacing: None,
        webhook_backoff: Duration::from_millis(20),
        testkit: true,
        strict: true,
        ..SandboxConfig::default()
    }
}

impl Harness {
    pub async fn start(config: SandboxConfig) -> Self {
        let sandbox = Sandbox::start(config).await.unwrap();
        let base = sandbox.url();
        let client = Client::new(
            ClientConfig::builder(KEY)
                .tracktags_url(&base)
                .build()
                .unwrap(),
        );
        Self {
            sandbox,
            client,
            base,
        }
    }

    pub fn up(&self, path: &str) -> String {
        format!("{}/upstream/{path}", self.base)
    }

    pub fn hook(&self, name: &str) -> String {
        format!("{}/receiver/{name}", self.base)
    }

    pub async fn execute(&self, step: &Step) -> Result<Outcome, Error> {
        let mut execution = self.client.config.execute(step)?;
        self.client.run(&mut execution).await
    }

    pub async fn submit(&self, step: &Step) -> String {
        self.execute(step)
            .await
            .unwrap()
            .job_id()
            .unwrap()
            .to_owned()
    }

    pub async fn get(&self, url: &str) -> Value {
        get_json(&self.client.http, url, KEY).await
    }

    pub async fn report(&self, job_id: &str) -> Value {
        self.get(&format!("{}/api/v1/jobs/{job_id}", self.base))
            .await
    }

    /// Wait until the job is finished and its deliveries are settled.
    pub async fn settled(&self, job_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let report = self.report(job_id).await;
            let finished = matches!(report["state"].as_str(), Some("succeeded" | "failed"));
            let delivered = report["deliveries"]
                .as_array()
                .is_some_and(|d| d.iter().all(|d| d["state"] != "pending"));
            if finished && delivered {
                return report;
            }
            assert!(
                Instant::now() < deadline,
                "job {job_id} did not settle: {report}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn received(&self, name: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.get(&self.hook(name)).await;
            let list = got.as_array().unwrap().clone();
            if list.len() >= count {
                return list;
            }
            assert!(
                Instant::now() < deadline,
                "{name}: {} of {count} deliveries",
                list.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn hits(&self, key: &str) -> u64 {
        self.get(&self.up(&format!("hits/{key}"))).await["hits"]
            .as_u64()
            .unwrap()
    }
}

/// GET `url` with a bearer key; the answer as JSON.
pub async fn get_json(http: &reqwest::Client, url: &str, key: &str) -> Value {
    http.get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `ezthrottle-sandbox serve --testkit ARGS…` as a child process, killed on drop.
pub struct SandboxProcess {
    pub child: Child,
    pub url: String,
}

impl SandboxProcess {
    /// Start it and wait until it prints its URL.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ezthrottle-sandbox"))
            .args(["serve", "--testkit"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("EZTHROTTLE_SANDBOX_URL=")
            .unwrap_or_else(|| panic!("the sandbox did not start: {line:?}"))
            .to_owned();
        Self { child, url }
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
