//! `ezthrottle-sandbox serve | demo`.

// The CLI prints what scripts and people read (the URL, a generated key).
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ezthrottle_sandbox::limits::Limits;
use ezthrottle_sandbox::{Rate, Sandbox, SandboxConfig};

#[derive(Parser)]
#[command(
    version,
    about = "A local EZThrottle-compatible backend: gateway, jobs, webhooks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the backend until interrupted.
    Serve(Box<ServeArgs>),
    /// Start a sandbox in-process and run the integration scenarios against it.
    Demo,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// SQLite database file (created when missing); in memory when not given.
    #[arg(long)]
    db: Option<PathBuf>,
    /// An API key, optionally with its customer id: KEY[:CUSTOMER]. Repeatable.
    #[arg(long = "api-key", value_name = "KEY[:CUSTOMER]")]
    api_keys: Vec<String>,
    /// Listen on a non-loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Per-key gateway limit, RATE[:BURST] per second, or "off".
    #[arg(long, default_value = "200:400")]
    rate_limit: String,
    /// Per-upstream-host pacing, RATE[:BURST] per second, or "off".
    #[arg(long, default_value = "50")]
    pacing: String,
    /// Simulate this region as down. Repeatable.
    #[arg(long = "down-region")]
    down_regions: Vec<String>,
    /// Webhook delivery attempts.
    #[arg(long, default_value_t = 6)]
    webhook_attempts: u32,
    /// First webhook retry backoff, in milliseconds (doubles each time).
    #[arg(long, default_value_t = 200)]
    webhook_backoff_ms: u64,
    /// Timeout of an upstream request, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    upstream_timeout_ms: u64,
    /// How many jobs run at once.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// When the database syncs to disk: "normal" (acknowledged jobs survive
    /// a process crash) or "full" (they survive a power loss too; an fsync
    /// per write).
    #[arg(long, default_value = "normal", value_parser = ["normal", "full"])]
    sync: String,
    /// Refuse job fields the wire format does not have (400 naming the
    /// field). By default they are ignored, as the hosted service does, and
    /// reported: a log line and the job's `warnings`.
    #[arg(long)]
    strict: bool,
    /// Also serve the testkit: a demo upstream (/upstream/…) and webhook
    /// receiver (/receiver/…) for tests and demos. Its boxes are readable by
    /// anyone who can reach the port.
    #[arg(long)]
    testkit: bool,
    /// How many webhook deliveries run at once.
    #[arg(long, default_value_t = 64)]
    delivery_concurrency: usize,
    /// Most request headers one job may have.
    #[arg(long, default_value_t = Limits::default().max_headers)]
    max_headers: usize,
    /// Most webhooks one job may have.
    #[arg(long, default_value_t = Limits::default().max_webhooks)]
    max_webhooks: usize,
    /// Most retries (and reroutes) a job's retry_policy may ask for.
    #[arg(long, default_value_t = Limits::default().max_retries)]
    max_retries: u32,
}

fn rate(text: &str) -> Result<Option<Rate>, String> {
    if text == "off" {
        Ok(None)
    } else {
        text.parse().map(Some)
    }
}

fn config(args: ServeArgs) -> Result<(SandboxConfig, Option<String>), String> {
    if !args.allow_remote && !args.addr.ip().is_loopback() {
        return Err(format!(
            "{} is not a loopback address; pass --allow-remote to listen there",
            args.addr
        ));
    }
    let mut api_keys = HashMap::new();
    for spec in args.api_keys {
        let (key, customer) = match spec.split_once(':') {
            Some((key, customer)) => (key.to_owned(), customer.to_owned()),
            None => (spec.clone(), format!("cust_{}", api_keys.len() + 1)),
        };
        ezthrottle_core::ApiKey::new(key.clone()).map_err(|e| e.to_string())?;
        api_keys.insert(key, customer);
    }
    let generated = if api_keys.is_empty() {
        let key = format!("ck_sandbox_{}", uuid::Uuid::new_v4().simple());
        api_keys.insert(key.clone(), "cust_demo".to_owned());
        Some(key)
    } else {
        None
    };
    let config = SandboxConfig {
        addr: args.addr,
        db: args.db,
        api_keys,
        gateway_rate: rate(&args.rate_limit)?,
        pacing: rate(&args.pacing)?,
        down_regions: args.down_regions,
        webhook_attempts: args.webhook_attempts,
        webhook_backoff: Duration::from_millis(args.webhook_backoff_ms),
        upstream_timeout: Duration::from_millis(args.upstream_timeout_ms.max(1)),
        concurrency: args.concurrency,
        delivery_concurrency: args.delivery_concurrency,
        testkit: args.testkit,
        strict: args.strict,
        sync_full: args.sync == "full",
        limits: Limits {
            max_headers: args.max_headers,
            max_webhooks: args.max_webhooks,
            max_retries: args.max_retries,
        },
        ..SandboxConfig::default()
    };
    Ok((config, generated))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Demo => match ezthrottle_sandbox::demo::run().await {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("demo could not run: {e}");
                    ExitCode::FAILURE
                }
            },
            Command::Serve(args) => {
                let (config, generated) = match config(*args) {
                    Ok(found) => found,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                };
                let sandbox = match Sandbox::start(config).await {
                    Ok(sandbox) => sandbox,
                    Err(e) => {
                        eprintln!("cannot start: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                // Scripts read these lines to find the sandbox.
                println!("EZTHROTTLE_SANDBOX_URL={}", sandbox.url());
                if let Some(key) = generated {
                    println!("EZTHROTTLE_API_KEY={key}");
                    println!(
                        "Point an SDK at it: EZThrottle(api_key=\"{key}\", tracktags_url=\"{}\")",
                        sandbox.url()
                    );
                }
                let _ = tokio::signal::ctrl_c().await;
                sandbox.stop().await;
                ExitCode::SUCCESS
            }
        }
    })
}
