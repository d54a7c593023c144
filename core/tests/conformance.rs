//! The conformance runner: every vector of every file in `$EZTHROTTLE_VECTORS`
//! (default the repository's `conformance/`, relative paths taken from the
//! workspace root), applied through the public API and reported by name.
//!
//! When `../shared/conformance` (the source of truth) sits beside the clone,
//! one more test fails if the repository's copy has drifted from it.
//!
//! This is the runner the bindings copy in their own languages.

// Tests panic on purpose when an expectation fails.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ezthrottle_core::webhook::{verify_signature, verify_with_secrets};
use ezthrottle_core::{
    blocking, ClientConfig, Error, ForwardToEZThrottle, HttpRequest, HttpResponse, Operation,
    QueueRequest, Step, StepType, Target, TransportError,
};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{json, Value};

const API_KEY: &str = "ck_test_cust_abc_123";
const PROXY_BASE: &str = "http://proxy.invalid";
const EZT_BASE: &str = "http://ezt.invalid";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vectors_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os("EZTHROTTLE_VECTORS") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => root.join(dir),
        None => root.join("conformance"),
    }
}

/// The repository's copy holds exactly the source of truth's files, byte for
/// byte (`scripts/sync-vectors.sh` refreshes it).
fn copy_matches_source(copy: &Path, source: &Path) -> Result<(), Failed> {
    let names = |dir: &Path| -> Result<Vec<String>, Failed> {
        let mut names = std::fs::read_dir(dir)
            .map_err(|e| fail(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect::<Vec<_>>();
        names.sort();
        Ok(names)
    };
    let refresh = "run: bash scripts/sync-vectors.sh";
    let (copied, sourced) = (names(copy)?, names(source)?);
    if copied != sourced {
        return Err(fail(format!(
            "conformance/ has {copied:?}, {} has {sourced:?}; {refresh}",
            source.display()
        )));
    }
    for name in sourced {
        if std::fs::read(copy.join(&name)).ok() != std::fs::read(source.join(&name)).ok() {
            return Err(fail(format!(
                "conformance/{name} differs from {}; {refresh}",
                source.display()
            )));
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let dir = vectors_dir();
    let mut trials = Vec::new();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            eprintln!("cannot read the vectors folder {}: {e}", dir.display());
            std::process::exit(2);
        }
    };
    files.sort();
    let source = workspace_root().join("../shared/conformance");
    if source.is_dir() {
        let copy = workspace_root().join("conformance");
        trials.push(Trial::test("vectors::copy_matches_shared", move || {
            copy_matches_source(&copy, &source)
        }));
    }
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_owned();
        let run: fn(&Value) -> Result<(), Failed> = match stem.as_str() {
            "payloads" => run_payload,
            "frugal" => run_frugal,
            "signatures" => run_signature,
            "invalid" => run_invalid,
            "forward" => run_forward,
            "gateway" => run_gateway,
            _ => {
                eprintln!(
                    "note: {} is not a known vector file; skipped",
                    file.display()
                );
                continue;
            }
        };
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let vectors: Vec<Value> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (i, vector) in vectors.into_iter().enumerate() {
            let name = vector["name"]
                .as_str()
                .map_or_else(|| format!("#{i}"), str::to_owned);
            trials.push(Trial::test(format!("{stem}::{name}"), move || run(&vector)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn config() -> ClientConfig {
    ClientConfig::builder(API_KEY)
        .tracktags_url(PROXY_BASE)
        .ezthrottle_url(EZT_BASE)
        .build()
        .expect("the vector client configuration is valid")
}

fn fail(message: impl Into<String>) -> Failed {
    Failed::from(message.into())
}

/// Compare `actual` with `expected`, where the string `"<uuid4>"` stands for a
/// fresh random UUID v4 (collected into `uuids`).
fn compare(
    actual: &Value,
    expected: &Value,
    at: &str,
    uuids: &mut Vec<String>,
) -> Result<(), Failed> {
    match (actual, expected) {
        (Value::String(s), Value::String(e)) if e == "<uuid4>" => {
            let id =
                uuid::Uuid::parse_str(s).map_err(|_| fail(format!("{at}: {s:?} is not a UUID")))?;
            if id.get_version_num() != 4
                || id.get_variant() != uuid::Variant::RFC4122
                || s.len() != 36
            {
                return Err(fail(format!("{at}: {s:?} is not a hyphenated UUID v4")));
            }
            uuids.push(s.clone());
            Ok(())
        }
        (Value::Object(a), Value::Object(e)) => {
            for key in a.keys().chain(e.keys()) {
                match (a.get(key), e.get(key)) {
                    (Some(av), Some(ev)) => compare(av, ev, &format!("{at}.{key}"), uuids)?,
                    (None, _) => {
                        return Err(fail(format!("{at}.{key}: missing, expected {}", e[key])))
                    }
                    (_, None) => return Err(fail(format!("{at}.{key}: unexpected {}", a[key]))),
                }
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => a
            .iter()
            .zip(e)
            .enumerate()
            .try_for_each(|(i, (av, ev))| compare(av, ev, &format!("{at}[{i}]"), uuids)),
        _ if actual == expected => Ok(()),
        _ => Err(fail(format!("{at}: got {actual}, expected {expected}"))),
    }
}

fn build_step(calls: &Value) -> Result<Step, Failed> {
    Step::from_calls(calls).map_err(|e| fail(format!("the builder refused valid calls: {e}")))
}

fn run_payload(vector: &Value) -> Result<(), Failed> {
    let step = Step::from_calls(&vector["calls"]);
    if vector["expect_error"].as_bool() == Some(true) {
        return expect_validation_error(step.and_then(|s| s.build_job()), vector);
    }
    let step = step.map_err(|e| fail(format!("the builder refused valid calls: {e}")))?;
    let first = step
        .build_job()
        .map_err(|e| fail(format!("build failed: {e}")))?;
    let mut first_uuids = Vec::new();
    compare(
        &first.to_value(),
        &vector["payload"],
        "payload",
        &mut first_uuids,
    )?;
    // The serialized text must be the same JSON.
    let reparsed: Value =
        serde_json::from_str(&first.to_json()).map_err(|e| fail(e.to_string()))?;
    if reparsed != first.to_value() {
        return Err(fail("to_json and to_value disagree"));
    }
    let second = step
        .build_job()
        .map_err(|e| fail(format!("build failed: {e}")))?;
    let mut second_uuids = Vec::new();
    compare(
        &second.to_value(),
        &vector["payload"],
        "payload",
        &mut second_uuids,
    )?;
    if let Some(same) = first_uuids.iter().find(|u| second_uuids.contains(u)) {
        return Err(fail(format!("two builds share the UUID {same}")));
    }

    if let Some(expected) = vector.get("proxy_request") {
        let request = first_gateway_request(&step, &first)?;
        check_proxy_request(&request, expected)?;
    }
    submit_raw_job(&vector["payload"])
}

/// The job, handed over raw as the wire format (`submit_job_json`), reaches
/// the gateway as it is. A generated key cannot be handed over.
fn submit_raw_job(payload: &Value) -> Result<(), Failed> {
    let text = payload.to_string();
    if text.contains("<uuid4>") {
        return Ok(());
    }
    let client = client()?;
    let call = client
        .submit_job_json(&text)
        .map_err(|e| fail(format!("submit_job_json refused the job: {e}")))?;
    let request = first_request(call)?;
    let envelope: Value = serde_json::from_str(request.body.as_deref().unwrap_or(""))
        .map_err(|e| fail(format!("the envelope is not JSON: {e}")))?;
    let sent: Value = serde_json::from_str(envelope["body"].as_str().unwrap_or(""))
        .map_err(|e| fail(format!("envelope body: {e}")))?;
    compare(&sent, payload, "submit_job_json", &mut Vec::new())
}

/// What a PERFORMANCE execute sends first (a FRUGAL step is submitted as a job).
fn first_gateway_request(step: &Step, job: &ezthrottle_core::Job) -> Result<HttpRequest, Failed> {
    let config = config();
    if step.get_step_type() == StepType::Performance {
        first_request(config.execute(step).map_err(|e| fail(e.to_string()))?)
    } else {
        first_request(config.submit_job(job).map_err(|e| fail(e.to_string()))?)
    }
}

/// The first request an operation sends.
fn first_request<O: Operation>(mut op: O) -> Result<HttpRequest, Failed>
where
    O::Output: std::fmt::Debug,
{
    match op.start() {
        ezthrottle_core::Action::Send(request) => Ok(request),
        ezthrottle_core::Action::Done(r) => Err(fail(format!("nothing was sent: {r:?}"))),
    }
}

/// A client as a binding makes one, for the calls only it has.
fn client() -> Result<ezthrottle_core::Client, Failed> {
    ezthrottle_core::Client::new(ezthrottle_core::ClientOptions {
        api_key: Some(API_KEY.to_owned()),
        tracktags_url: Some(PROXY_BASE.to_owned()),
        ezthrottle_url: Some(EZT_BASE.to_owned()),
        ..Default::default()
    })
    .map_err(|e| fail(e.to_string()))
}

fn check_proxy_request(request: &HttpRequest, expected: &Value) -> Result<(), Failed> {
    if request.target != Target::Gateway || request.method != "POST" {
        return Err(fail(format!("not a gateway POST: {request:?}")));
    }
    let mut uuids = Vec::new();
    compare(
        &json!(request.url),
        &expected["url"],
        "proxy_request.url",
        &mut uuids,
    )?;
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    compare(
        &Value::Object(headers),
        &expected["headers"],
        "proxy_request.headers",
        &mut uuids,
    )?;
    let mut envelope: Value = serde_json::from_str(request.body.as_deref().unwrap_or(""))
        .map_err(|e| fail(format!("the envelope is not JSON: {e}")))?;
    let body = envelope["body"]
        .as_str()
        .ok_or_else(|| fail("the envelope body is not a JSON string"))?;
    envelope["body"] =
        serde_json::from_str(body).map_err(|e| fail(format!("envelope body: {e}")))?;
    compare(
        &envelope,
        &expected["envelope"],
        "proxy_request.envelope",
        &mut uuids,
    )
}

/// A scripted network: local calls answer from `answers` (200 when unlisted),
/// the proxy accepts every job as `job_1`, `job_2`, … .
fn run_frugal(vector: &Value) -> Result<(), Failed> {
    let step = build_step(&vector["calls"])?;
    let answers: HashMap<String, Value> = vector["answers"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut local_calls: Vec<Value> = Vec::new();
    let mut submitted: Vec<Value> = Vec::new();
    let transport = |request: &HttpRequest| -> Result<HttpResponse, TransportError> {
        match request.target {
            Target::Local => {
                local_calls.push(json!([request.method, request.url]));
                match answers.get(&request.url) {
                    Some(Value::String(s)) if s == "network_error" => {
                        Err(TransportError::unreachable("connection refused"))
                    }
                    Some(status) => {
                        let status = status
                            .as_u64()
                            .and_then(|s| u16::try_from(s).ok())
                            .unwrap_or(0);
                        Ok(HttpResponse::new(
                            status,
                            format!("body-of {}", request.url),
                        ))
                    }
                    None => Ok(HttpResponse::new(200, format!("body-of {}", request.url))),
                }
            }
            Target::Gateway => {
                let envelope: Value = serde_json::from_str(request.body.as_deref().unwrap_or(""))
                    .unwrap_or(Value::Null);
                let job: Value = serde_json::from_str(envelope["body"].as_str().unwrap_or(""))
                    .unwrap_or(Value::Null);
                submitted.push(job);
                let answer =
                    json!({"job_id": format!("job_{}", submitted.len()), "status": "queued"});
                let body = json!({
                    "status": "allowed",
                    "forwarded_response": {"status_code": 201, "body": answer.to_string()},
                });
                Ok(HttpResponse::new(200, body.to_string()))
            }
        }
    };
    let mut execution = config()
        .execute(&step)
        .map_err(|e| fail(format!("refused: {e}")))?;
    let result = blocking::run(&mut execution, transport, || 1_764_320_000_000);
    let result = ezthrottle_core::result_to_json(&result);
    let mut uuids = Vec::new();
    compare(
        &json!(local_calls),
        &vector["local_http_calls"],
        "local_http_calls",
        &mut uuids,
    )?;
    compare(
        &json!(submitted),
        &vector["submitted_jobs"],
        "submitted_jobs",
        &mut uuids,
    )?;
    compare(&result, &vector["result"], "result", &mut uuids)
}

fn run_signature(vector: &Value) -> Result<(), Failed> {
    let text = |key: &str| {
        vector[key]
            .as_str()
            .ok_or_else(|| fail(format!("{key} missing")))
    };
    let payload = text("payload")?.as_bytes();
    let header = text("header")?;
    let secret = text("secret")?;
    let now = vector["now"].as_i64().ok_or_else(|| fail("now missing"))?;
    let tolerance = vector["tolerance"].as_u64().unwrap_or(300);
    let check = match vector["secondary_secret"].as_str() {
        Some(secondary) => {
            verify_with_secrets(payload, header, secret, Some(secondary), now, tolerance)
        }
        None => verify_signature(payload, header, secret, now, tolerance),
    };
    let mut uuids = Vec::new();
    compare(
        &json!(check.is_valid()),
        &vector["valid"],
        "valid",
        &mut uuids,
    )?;
    compare(
        &json!(check.reason.as_str()),
        &vector["reason_code"],
        "reason_code",
        &mut uuids,
    )?;
    // Only the random vectors carry it (for a failed rotation).
    match vector.get("primary_reason_code") {
        Some(expected) => compare(
            &json!(check.primary_reason.map(|r| r.as_str())),
            expected,
            "primary_reason_code",
            &mut uuids,
        ),
        None => Ok(()),
    }
}

/// A forwarded request (`forward`) or a legacy one (`queue_request`),
/// through the client as a binding hands them over: the proxy request must be
/// the reference's.
fn run_forward(vector: &Value) -> Result<(), Failed> {
    let client = client()?;
    let call = match (vector.get("forward"), vector.get("queue_request")) {
        (Some(forward), None) => {
            ForwardToEZThrottle::from_value(forward).and_then(|f| client.forward(&f))
        }
        (None, Some(request)) => {
            QueueRequest::from_value(request).and_then(|r| client.queue_request(&r))
        }
        _ => return Err(fail("a forward vector has one of forward, queue_request")),
    };
    let call = call.map_err(|e| fail(format!("refused: {e}")))?;
    check_proxy_request(&first_request(call)?, &vector["proxy_request"])
}

/// The clock a gateway vector's answer is read at.
const GATEWAY_NOW_MS: u64 = 1_800_000_000_000;

fn run_gateway(vector: &Value) -> Result<(), Failed> {
    let job = ezthrottle_core::json::to_string(&vector["job"]);
    let mut call = client()?
        .submit_job_json(&job)
        .map_err(|e| fail(format!("refused: {e}")))?;
    if !matches!(call.start(), ezthrottle_core::Action::Send(_)) {
        return Err(fail("nothing was sent"));
    }
    let answer = &vector["answer"];
    let headers = answer["headers"].as_object().into_iter().flatten();
    let response = HttpResponse {
        status: answer["status"]
            .as_u64()
            .and_then(|s| s.try_into().ok())
            .unwrap(),
        headers: headers
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect(),
        body: answer["body"].as_str().unwrap().to_owned(),
    };
    match call.feed(GATEWAY_NOW_MS, Ok(response)) {
        ezthrottle_core::Action::Done(outcome) => check_gateway_outcome(
            outcome.map(|answer| Value::Object(answer.as_json().clone())),
            vector,
        ),
        ezthrottle_core::Action::Send(r) => Err(fail(format!("sent again: {r:?}"))),
    }
}

/// A submit's outcome against a gateway vector's `result` or `error` (each
/// field the error names; `retry_after_ms` is after this runner's clock).
fn check_gateway_outcome(outcome: Result<Value, Error>, vector: &Value) -> Result<(), Failed> {
    let error = match outcome {
        Ok(answer) if answer == vector["result"] => return Ok(()),
        Ok(answer) => return Err(fail(format!("returned {answer}, expected {vector}"))),
        Err(error) => error,
    };
    let (status, body, message) = match &error {
        Error::JobRejected { status, body } | Error::Gateway { status, body } => {
            (Some(*status), Some(body.as_str()), None)
        }
        Error::Denied { message } => (None, None, Some(message.as_str())),
        _ => (None, None, None),
    };
    let observed = json!({
        "kind": error.code(),
        "status": status,
        "body": body,
        "message": message,
        "retry_at": error.retry_at_ms(),
    });
    let mut wanted = vector["error"].as_object().cloned().unwrap_or_default();
    if let Some(after) = wanted.remove("retry_after_ms") {
        wanted.insert(
            "retry_at".into(),
            json!(GATEWAY_NOW_MS + after.as_u64().unwrap()),
        );
    }
    for (field, value) in wanted {
        if observed[&field] != value {
            return Err(fail(format!(
                "{field}: {error}, expected {}",
                vector["error"]
            )));
        }
    }
    Ok(())
}

fn run_invalid(vector: &Value) -> Result<(), Failed> {
    let result = Step::from_calls(&vector["calls"]).and_then(|step| {
        // Nothing may be sent: neither the payload nor an execution is produced.
        let job = step.build_job()?;
        config().execute(&step)?;
        Ok(job)
    });
    expect_validation_error(result, vector)
}

fn expect_validation_error<T: std::fmt::Debug>(
    result: Result<T, Error>,
    vector: &Value,
) -> Result<(), Failed> {
    match result {
        Err(Error::Validation { path, message }) => {
            if path.is_empty() || message.is_empty() {
                return Err(fail(format!(
                    "the error does not name the field: {path:?} {message:?}"
                )));
            }
            match vector["expect_path"].as_str() {
                Some(expected) if expected != path => Err(fail(format!(
                    "error at {path:?}, expected at {expected:?}: {message}"
                ))),
                _ => Ok(()),
            }
        }
        Err(other) => Err(fail(format!("expected a validation error, got {other:?}"))),
        Ok(value) => Err(fail(format!("accepted: {value:?}"))),
    }
}
