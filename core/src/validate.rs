//! Validation of steps, jobs and their parts. Every error names the path of the
//! field that is wrong, nested steps included (`on_success.fallback[0].url`).

use crate::error::{Error, Result};
use crate::job::Job;
use crate::model::{RetryPolicy, StepType, Trigger, Webhook};
use crate::step::Step;

/// How deeply steps may nest (fallbacks, on_success, on_failure). Deeper trees
/// are refused rather than risking the stack of whatever walks them.
pub const MAX_NESTING: usize = 32;
/// The longest URL accepted.
pub const MAX_URL_LEN: usize = 8 * 1024;
/// The longest idempotency key accepted, in bytes.
pub const MAX_IDEMPOTENT_KEY_LEN: usize = 1024;
/// The longest local timeout accepted: one day.
pub const MAX_LOCAL_TIMEOUT_MS: u64 = 24 * 60 * 60 * 1000;
/// The largest integer every language represents exactly (JavaScript's
/// `Number.MAX_SAFE_INTEGER`); timestamps and durations above it are refused.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Headers that the HTTP stack itself sets: a user value would corrupt the
/// message framing or be silently dropped by browsers.
const FRAMING_HEADERS: [&str; 6] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
];

pub(crate) fn join_path(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{path}"),
    }
}

struct Checker<'a> {
    prefix: &'a str,
}

impl Checker<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> Error {
        Error::validation(join_path(self.prefix, field), message)
    }

    fn check(&self, field: &str, outcome: std::result::Result<(), String>) -> Result<()> {
        outcome.map_err(|message| self.err(field, message))
    }
}

/// Validate a step and everything nested in it.
pub fn validate_step(step: &Step) -> Result<()> {
    validate_at(step, "", 0)
}

fn validate_at(step: &Step, prefix: &str, depth: usize) -> Result<()> {
    let c = Checker { prefix };
    if depth > MAX_NESTING {
        return Err(c.err(
            "",
            format!("steps are nested more than {MAX_NESTING} levels deep"),
        ));
    }
    check_common(
        &c,
        &Common {
            url: step.url.as_deref(),
            method: &step.method,
            headers: &step.headers,
            webhooks: &step.webhooks,
            webhook_quorum: step.webhook_quorum,
            regions: &step.regions,
            retry_policy: step.retry_policy.as_ref(),
            retry_at: step.retry_at_ms,
            idempotent_key: step.idempotent_key.as_deref(),
        },
    )?;
    if step.step_type == StepType::Frugal
        && step.body.is_some()
        && matches!(step.method.as_str(), "GET" | "HEAD")
    {
        return Err(c.err(
            "body",
            format!(
                "a FRUGAL {} request cannot carry a body when it runs locally",
                step.method
            ),
        ));
    }
    check_codes(&c, "fallback_on_error", &step.fallback_on_error)?;
    if step.local_timeout_ms == 0 || step.local_timeout_ms > MAX_LOCAL_TIMEOUT_MS {
        return Err(c.err(
            "local_timeout",
            format!(
                "must be positive and at most {} seconds",
                MAX_LOCAL_TIMEOUT_MS / 1000
            ),
        ));
    }
    for (i, fallback) in step.fallbacks.iter().enumerate() {
        let here = join_path(prefix, &format!("fallback[{i}]"));
        check_trigger(&Checker { prefix: &here }, &fallback.trigger)?;
        validate_at(&fallback.step, &here, depth + 1)?;
    }
    if let Some(child) = &step.on_success {
        validate_at(child, &join_path(prefix, "on_success"), depth + 1)?;
    }
    if let Some(child) = &step.on_failure {
        validate_at(child, &join_path(prefix, "on_failure"), depth + 1)?;
    }
    if let Some(ms) = step.on_failure_timeout_ms {
        c.check("on_failure_timeout_ms", check_positive_duration(ms))?;
        if step.on_failure.is_none() {
            return Err(c.err("on_failure_timeout_ms", "is set without an on_failure step"));
        }
    }
    Ok(())
}

/// The fields a step and a job share, checked the same way for both.
struct Common<'a> {
    url: Option<&'a str>,
    method: &'a str,
    headers: &'a [(String, String)],
    webhooks: &'a [Webhook],
    webhook_quorum: u32,
    regions: &'a [String],
    retry_policy: Option<&'a RetryPolicy>,
    retry_at: Option<u64>,
    idempotent_key: Option<&'a str>,
}

fn check_common(c: &Checker<'_>, fields: &Common<'_>) -> Result<()> {
    match fields.url {
        None => return Err(c.err("url", "is required: a job needs a URL")),
        Some(url) => c.check("url", check_http_url(url))?,
    }
    c.check("method", check_method(fields.method))?;
    check_headers(
        c,
        fields.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    check_webhooks(c, fields.webhooks, fields.webhook_quorum)?;
    check_regions(c, "regions", fields.regions)?;
    if let Some(policy) = fields.retry_policy {
        check_retry_policy(c, policy)?;
    }
    if let Some(at) = fields.retry_at {
        c.check("retry_at", check_safe_integer(at))?;
    }
    if let Some(key) = fields.idempotent_key {
        c.check("idempotent_key", check_idempotent_key(key))?;
    }
    Ok(())
}

/// Validate a job received from the wire and everything nested in it.
pub fn validate_job(job: &Job) -> Result<()> {
    validate_job_at(job, "", 0)
}

fn validate_job_at(job: &Job, prefix: &str, depth: usize) -> Result<()> {
    let c = Checker { prefix };
    if depth > MAX_NESTING {
        return Err(c.err(
            "",
            format!("jobs are nested more than {MAX_NESTING} levels deep"),
        ));
    }
    check_common(
        &c,
        &Common {
            url: Some(&job.url),
            method: &job.method,
            headers: &job.headers.0,
            webhooks: &job.webhooks,
            webhook_quorum: job.webhook_quorum,
            regions: &job.regions,
            retry_policy: job.retry_policy.as_ref(),
            retry_at: job.retry_at,
            idempotent_key: job.idempotent_key.as_deref(),
        },
    )?;
    if job.method != job.method.to_ascii_uppercase() {
        return Err(c.err("method", "must be upper case"));
    }
    if job.body.as_deref() == Some("") {
        return Err(c.err("body", "is empty; leave it out"));
    }
    if let Some(trigger) = &job.trigger {
        if !prefix.ends_with("fallback_job") {
            return Err(c.err("trigger", "only a fallback_job has a trigger"));
        }
        check_trigger(&c, trigger)?;
    }
    if let Some(next) = &job.fallback_job {
        let here = join_path(prefix, "fallback_job");
        if next.trigger.is_none() {
            return Err(Error::validation(
                join_path(&here, "trigger"),
                "is required",
            ));
        }
        validate_job_at(next, &here, depth + 1)?;
    }
    if let Some(child) = &job.on_success {
        validate_job_at(child, &join_path(prefix, "on_success"), depth + 1)?;
    }
    if let Some(child) = &job.on_failure {
        validate_job_at(child, &join_path(prefix, "on_failure"), depth + 1)?;
    }
    if let Some(ms) = job.on_failure_timeout_ms {
        c.check("on_failure_timeout_ms", check_positive_duration(ms))?;
    }
    Ok(())
}

fn check_trigger(c: &Checker<'_>, trigger: &Trigger) -> Result<()> {
    match trigger {
        Trigger::Always => Ok(()),
        Trigger::OnError(codes) if codes.is_empty() => Err(c.err(
            "trigger_on_error",
            "is empty; leave it out for a fallback that is always tried",
        )),
        Trigger::OnError(codes) => check_codes(c, "trigger_on_error", codes),
        Trigger::OnTimeout(ms) => c.check("trigger_on_timeout", check_positive_duration(*ms)),
    }
}

fn check_webhooks(c: &Checker<'_>, webhooks: &[Webhook], quorum: u32) -> Result<()> {
    for (i, hook) in webhooks.iter().enumerate() {
        c.check(&format!("webhooks[{i}].url"), check_http_url(&hook.url))?;
        if let Some(regions) = &hook.regions {
            check_regions(c, &format!("webhooks[{i}].regions"), regions)?;
        }
    }
    // Quorum 1 is also the unset default, which the service reads as "the
    // voting webhooks, if any": only an explicit larger quorum is checked.
    let voters = webhooks.iter().filter(|w| w.votes()).count();
    if quorum > 1 && quorum as usize > voters {
        return Err(c.err(
            "webhook_quorum",
            format!("{quorum} can never be met: only {voters} webhook(s) have a quorum vote"),
        ));
    }
    Ok(())
}

fn check_regions(c: &Checker<'_>, field: &str, regions: &[String]) -> Result<()> {
    for (i, region) in regions.iter().enumerate() {
        c.check(&format!("{field}[{i}]"), check_region(region))?;
        if regions[..i].contains(region) {
            return Err(c.err(
                &format!("{field}[{i}]"),
                format!("{region:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

fn check_retry_policy(c: &Checker<'_>, policy: &RetryPolicy) -> Result<()> {
    if let Some(codes) = &policy.retry_codes {
        check_codes(c, "retry_policy.retry_codes", codes)?;
    }
    if let Some(codes) = &policy.reroute_codes {
        check_codes(c, "retry_policy.reroute_codes", codes)?;
    }
    Ok(())
}

fn check_codes(c: &Checker<'_>, field: &str, codes: &[u16]) -> Result<()> {
    for (i, code) in codes.iter().enumerate() {
        c.check(
            &format!("{field}[{i}]"),
            check_status_code(i64::from(*code)),
        )?;
    }
    Ok(())
}

/// Check the headers of a request: token names, sendable values, no framing
/// headers, no name given twice (case-insensitively).
fn check_headers<'h>(
    c: &Checker<'_>,
    headers: impl Iterator<Item = (&'h str, &'h str)> + Clone,
) -> Result<()> {
    for (i, (name, value)) in headers.clone().enumerate() {
        let field = format!("headers[{name:?}]");
        if !is_token(name) {
            return Err(c.err(
                &field,
                "header name must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~)",
            ));
        }
        if FRAMING_HEADERS
            .iter()
            .any(|framing| framing.eq_ignore_ascii_case(name))
        {
            return Err(c.err(&field, "is set by the HTTP stack and cannot be given"));
        }
        if let Some(bad) = value.chars().find(|ch| !is_header_value_char(*ch)) {
            return Err(c.err(
                &field,
                format!(
                    "value contains {bad:?}: header values are visible ASCII, spaces and tabs \
                     (CR and LF would inject headers)"
                ),
            ));
        }
        if headers
            .clone()
            .take(i)
            .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name))
        {
            return Err(c.err(&field, "is given twice (header names ignore case)"));
        }
    }
    Ok(())
}

fn is_header_value_char(ch: char) -> bool {
    ch == '\t' || (' '..='~').contains(&ch)
}

/// Whether `s` is an HTTP token (RFC 9110 §5.6.2): a valid method or header name.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An HTTP method: a token.
pub(crate) fn check_method(method: &str) -> std::result::Result<(), String> {
    if method.is_empty() {
        return Err("must not be empty".into());
    }
    if !is_token(method) {
        return Err(format!(
            "{method:?} is not an HTTP method (a token, no spaces)"
        ));
    }
    Ok(())
}

/// A status code a server can send: 100..=599.
pub(crate) fn check_status_code(code: i64) -> std::result::Result<(), String> {
    if (100..=599).contains(&code) {
        Ok(())
    } else {
        Err(format!("{code} is not an HTTP status code (100..=599)"))
    }
}

pub(crate) fn check_safe_integer(value: u64) -> std::result::Result<(), String> {
    if value > MAX_SAFE_INTEGER {
        Err(format!("{value} is larger than {MAX_SAFE_INTEGER}"))
    } else {
        Ok(())
    }
}

pub(crate) fn check_positive_duration(ms: u64) -> std::result::Result<(), String> {
    if ms == 0 {
        return Err("must be a positive number of milliseconds".into());
    }
    check_safe_integer(ms)
}

pub(crate) fn check_idempotent_key(key: &str) -> std::result::Result<(), String> {
    if key.is_empty() {
        return Err("must not be empty: an empty key would deduplicate everything".into());
    }
    if key.len() > MAX_IDEMPOTENT_KEY_LEN {
        return Err(format!("is longer than {MAX_IDEMPOTENT_KEY_LEN} bytes"));
    }
    if key.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// A region code: lower-case letters, digits and `-`, at most 32 characters.
pub(crate) fn check_region(region: &str) -> std::result::Result<(), String> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{region:?} is not a region code (lower-case letters, digits and -, like \"iad\")"
        ))
    }
}

/// An absolute http(s) URL with a host, no spaces or control characters.
pub fn check_http_url(url: &str) -> std::result::Result<(), String> {
    if url.is_empty() {
        return Err("must not be empty".into());
    }
    if url.len() > MAX_URL_LEN {
        return Err(format!("is longer than {MAX_URL_LEN} bytes"));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(if url.starts_with('/') {
            format!("{url:?} is relative; it must be absolute (http:// or https://)")
        } else {
            format!("{url:?} is not a URL (expected http://… or https://…)")
        });
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "scheme {scheme:?} is not supported; only http and https"
        ));
    }
    if url.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
        return Err(format!("{url:?} contains spaces or control characters"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    check_host_port(host_port).map_err(|why| format!("{url:?}: {why}"))
}

fn check_host_port(host_port: &str) -> std::result::Result<(), String> {
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (inside, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
        if inside.is_empty()
            || !inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err("bad IPv6 host".into());
        }
        match after {
            "" => (inside, None),
            _ => (
                inside,
                Some(after.strip_prefix(':').ok_or("junk after the IPv6 host")?),
            ),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    let host_ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._:%".contains(&b) || b >= 0x80);
    if !host_ok {
        return Err(format!(
            "host {host:?} contains characters a host cannot have"
        ));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| p <= 65_535);
        if !valid {
            return Err(format!("port {port:?} is not a number from 0 to 65535"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for good in [
            "https://a.example",
            "http://127.0.0.1:8080/x?y=1#z",
            "https://user:pw@h.example/p",
            "http://[::1]:9/",
            "HTTPS://A.EXAMPLE",
            "https://bücher.example/",
        ] {
            assert_eq!(check_http_url(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "not a url",
            "/api/x",
            "ftp://files.example/x",
            "https://",
            "https:///path",
            "https://h.example:99999/",
            "https://h.example:/",
            "https://h ex/",
            "https://h.example/\n",
            "http://[::1/",
            "https://a<b>.example/",
            "mailto:x@y",
        ] {
            assert!(check_http_url(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn tokens_and_codes() {
        assert!(is_token("PATCH"));
        assert!(is_token("X-Trace_id.1"));
        assert!(!is_token("GE T"));
        assert!(!is_token(""));
        assert!(!is_token("Ä"));
        assert!(check_status_code(99).is_err());
        assert!(check_status_code(600).is_err());
        assert!(check_status_code(100).is_ok());
        assert!(check_status_code(599).is_ok());
    }

    #[test]
    fn paths_join() {
        assert_eq!(join_path("", "url"), "url");
        assert_eq!(join_path("on_success", "url"), "on_success.url");
        assert_eq!(join_path("fallback[0]", ""), "fallback[0]");
    }
}
