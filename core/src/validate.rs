//! Validation of steps, jobs and their parts. Every error names the path of the
//! field that is wrong, nested steps included (`on_success.fallback[0].url`).

use crate::charset;
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

/// `path` inside `prefix`: `on_success` + `url` is `on_success.url`; either may be empty.
pub fn join_path(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{path}"),
    }
}

/// Where a value sits: a chain of segments kept on the stack and rendered
/// (`on_success.fallback[0].headers["X-A"]`) only when an error needs it, so a
/// valid step is checked without allocating.
#[derive(Clone, Copy)]
struct Loc<'a> {
    parent: Option<&'a Loc<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root,
    Field(&'a str),
    Index(usize),
    Key(&'a str),
}

impl<'a> Loc<'a> {
    const ROOT: Loc<'static> = Loc {
        parent: None,
        segment: Segment::Root,
    };

    fn field(&'a self, name: &'a str) -> Loc<'a> {
        Loc {
            parent: Some(self),
            segment: Segment::Field(name),
        }
    }

    fn index(&'a self, i: usize) -> Loc<'a> {
        Loc {
            parent: Some(self),
            segment: Segment::Index(i),
        }
    }

    fn key(&'a self, key: &'a str) -> Loc<'a> {
        Loc {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    fn render(&self, out: &mut String) {
        use std::fmt::Write;
        if let Some(parent) = self.parent {
            parent.render(out);
        }
        match self.segment {
            Segment::Root => {}
            Segment::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Segment::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            Segment::Key(key) => {
                let _ = write!(out, "[{key:?}]");
            }
        }
    }

    fn err(&self, message: impl Into<String>) -> Error {
        let mut path = String::new();
        self.render(&mut path);
        Error::validation(path, message)
    }

    fn check(&self, outcome: std::result::Result<(), String>) -> Result<()> {
        outcome.map_err(|message| self.err(message))
    }
}

/// Validate a step and everything nested in it.
pub fn validate_step(step: &Step) -> Result<()> {
    validate_step_at(step, Loc::ROOT, 0)
}

fn validate_step_at(step: &Step, at: Loc<'_>, depth: usize) -> Result<()> {
    if depth > MAX_NESTING {
        return Err(at.err(format!(
            "steps are nested more than {MAX_NESTING} levels deep"
        )));
    }
    check_common(
        &at,
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
        && matches!(step.method.as_ref(), "GET" | "HEAD")
    {
        return Err(at.field("body").err(format!(
            "a FRUGAL {} request cannot carry a body when it runs locally",
            step.method
        )));
    }
    check_codes(&at.field("fallback_on_error"), &step.fallback_on_error)?;
    if step.local_timeout_ms == 0 || step.local_timeout_ms > MAX_LOCAL_TIMEOUT_MS {
        return Err(at.field("local_timeout").err(format!(
            "must be positive and at most {} seconds",
            MAX_LOCAL_TIMEOUT_MS / 1000
        )));
    }
    let fallbacks = at.field("fallback");
    for (i, fallback) in step.fallbacks.iter().enumerate() {
        let here = fallbacks.index(i);
        check_trigger(&here, &fallback.trigger)?;
        validate_step_at(&fallback.step, here, depth + 1)?;
    }
    if let Some(child) = &step.on_success {
        validate_step_at(child, at.field("on_success"), depth + 1)?;
    }
    if let Some(child) = &step.on_failure {
        validate_step_at(child, at.field("on_failure"), depth + 1)?;
    }
    if let Some(ms) = step.on_failure_timeout_ms {
        let here = at.field("on_failure_timeout_ms");
        here.check(check_positive_duration(ms))?;
        if step.on_failure.is_none() {
            return Err(here.err("is set without an on_failure step"));
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

fn check_common(at: &Loc<'_>, fields: &Common<'_>) -> Result<()> {
    let url = at.field("url");
    match fields.url {
        None => return Err(url.err("is required: a job needs a URL")),
        Some(value) => url.check(check_http_url(value))?,
    }
    at.field("method").check(check_method(fields.method))?;
    check_headers(&at.field("headers"), fields.headers)?;
    check_webhooks(at, fields.webhooks, fields.webhook_quorum)?;
    check_regions(&at.field("regions"), fields.regions)?;
    if let Some(policy) = fields.retry_policy {
        let here = at.field("retry_policy");
        if let Some(codes) = &policy.retry_codes {
            check_codes(&here.field("retry_codes"), codes)?;
        }
        if let Some(codes) = &policy.reroute_codes {
            check_codes(&here.field("reroute_codes"), codes)?;
        }
    }
    if let Some(value) = fields.retry_at {
        at.field("retry_at").check(check_safe_integer(value))?;
    }
    if let Some(key) = fields.idempotent_key {
        at.field("idempotent_key")
            .check(check_idempotent_key(key))?;
    }
    Ok(())
}

/// Validate a job received from the wire and everything nested in it.
pub fn validate_job(job: &Job) -> Result<()> {
    validate_job_at(job, Loc::ROOT, 0, false)
}

fn validate_job_at(job: &Job, at: Loc<'_>, depth: usize, in_chain: bool) -> Result<()> {
    if depth > MAX_NESTING {
        return Err(at.err(format!(
            "jobs are nested more than {MAX_NESTING} levels deep"
        )));
    }
    check_common(
        &at,
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
    if job.method.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(at.field("method").err("must be upper case"));
    }
    if job.body.as_deref() == Some("") {
        return Err(at.field("body").err("is empty; leave it out"));
    }
    match (&job.trigger, in_chain) {
        (Some(_), false) => {
            return Err(at.field("trigger").err("only a fallback_job has a trigger"))
        }
        (None, true) => return Err(at.field("trigger").err("is required on a fallback_job")),
        (Some(trigger), true) => check_trigger(&at, trigger)?,
        (None, false) => {}
    }
    if let Some(next) = &job.fallback_job {
        validate_job_at(next, at.field("fallback_job"), depth + 1, true)?;
    }
    if let Some(child) = &job.on_success {
        validate_job_at(child, at.field("on_success"), depth + 1, false)?;
    }
    if let Some(child) = &job.on_failure {
        validate_job_at(child, at.field("on_failure"), depth + 1, false)?;
    }
    if let Some(ms) = job.on_failure_timeout_ms {
        at.field("on_failure_timeout_ms")
            .check(check_positive_duration(ms))?;
    }
    Ok(())
}

fn check_trigger(at: &Loc<'_>, trigger: &Trigger) -> Result<()> {
    match trigger {
        Trigger::Always => Ok(()),
        Trigger::OnError(codes) if codes.is_empty() => Err(at
            .field("trigger_on_error")
            .err("is empty; leave it out for a fallback that is always tried")),
        Trigger::OnError(codes) => check_codes(&at.field("trigger_on_error"), codes),
        Trigger::OnTimeout(ms) => at
            .field("trigger_on_timeout")
            .check(check_positive_duration(*ms)),
    }
}

fn check_webhooks(at: &Loc<'_>, webhooks: &[Webhook], quorum: u32) -> Result<()> {
    let list = at.field("webhooks");
    for (i, hook) in webhooks.iter().enumerate() {
        let here = list.index(i);
        here.field("url").check(check_http_url(&hook.url))?;
        if let Some(regions) = &hook.regions {
            check_regions(&here.field("regions"), regions)?;
        }
    }
    // Quorum 1 is also the unset default, which the service reads as "the
    // voting webhooks, if any": only an explicit larger quorum is checked.
    let voters = webhooks.iter().filter(|w| w.votes()).count();
    if quorum > 1 && quorum as usize > voters {
        return Err(at.field("webhook_quorum").err(format!(
            "{quorum} can never be met: only {voters} webhook(s) have a quorum vote"
        )));
    }
    Ok(())
}

fn check_regions(at: &Loc<'_>, regions: &[String]) -> Result<()> {
    for (i, region) in regions.iter().enumerate() {
        let here = at.index(i);
        here.check(check_region(region))?;
        if regions[..i].contains(region) {
            return Err(here.err(format!("{region:?} is listed twice")));
        }
    }
    Ok(())
}

fn check_codes(at: &Loc<'_>, codes: &[u16]) -> Result<()> {
    for (i, code) in codes.iter().enumerate() {
        at.index(i).check(check_status_code(i64::from(*code)))?;
    }
    Ok(())
}

/// Check the headers of a request: token names, sendable values, no framing
/// headers, no name given twice (case-insensitively).
/// Up to this many headers, duplicates are found by comparing each with the
/// earlier ones (no allocation); past it, through a set, so a hostile job
/// with tens of thousands of headers stays linear.
const HEADERS_SCANNED: usize = 16;

fn check_headers(at: &Loc<'_>, headers: &[(String, String)]) -> Result<()> {
    let mut seen = (headers.len() > HEADERS_SCANNED)
        .then(|| std::collections::HashSet::with_capacity(headers.len()));
    for (i, (name, value)) in headers.iter().enumerate() {
        let here = at.key(name);
        if !is_token(name) {
            return Err(
                here.err("header name must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~)")
            );
        }
        if FRAMING_HEADERS
            .iter()
            .any(|framing| framing.eq_ignore_ascii_case(name))
        {
            return Err(here.err("is set by the HTTP stack and cannot be given"));
        }
        let bad = (!charset::all(value, charset::HEADER_VALUE))
            .then(|| value.chars().find(|ch| !is_header_value_char(*ch)))
            .flatten();
        if let Some(bad) = bad {
            return Err(here.err(format!(
                "value contains {bad:?}: header values are visible ASCII, spaces and tabs \
                 (CR and LF would inject headers)"
            )));
        }
        let repeated = match seen.as_mut() {
            Some(seen) => !seen.insert(name.to_ascii_lowercase()),
            None => headers[..i]
                .iter()
                .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name)),
        };
        if repeated {
            return Err(here.err("is given twice (header names ignore case)"));
        }
    }
    Ok(())
}

fn is_header_value_char(ch: char) -> bool {
    u8::try_from(ch).is_ok_and(|b| charset::has(b, charset::HEADER_VALUE))
}

/// Whether `s` is an HTTP token (RFC 9110 §5.6.2): a valid method or header name.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && charset::all(s, charset::TOKEN)
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
    // C0 controls and DEL in bytes; C1 controls only exist beyond ASCII.
    let control = key.bytes().any(|b| b < b' ' || b == 0x7f)
        || (!key.is_ascii() && key.chars().any(char::is_control));
    if control {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// A region code: lower-case letters, digits and `-`, at most 32 characters.
pub(crate) fn check_region(region: &str) -> std::result::Result<(), String> {
    let ok = !region.is_empty() && region.len() <= 32 && charset::all(region, charset::REGION);
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
    let rest = strip_prefix_ignore_case(url, "https://")
        .or_else(|| strip_prefix_ignore_case(url, "http://"))
        .ok_or_else(|| not_http_url(url))?;
    let bytes = rest.as_bytes();
    // Arithmetic rather than a table lookup: this fold vectorises.
    let control = bytes
        .iter()
        .fold(false, |found, &b| found | (b <= b' ') | (b == 0x7f));
    if control || (!rest.is_ascii() && rest.chars().any(|ch| ch.is_whitespace() || ch.is_control()))
    {
        return Err(format!("{url:?} contains spaces or control characters"));
    }
    let authority_end = bytes
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(bytes.len());
    let authority = &rest[..authority_end];
    let host_port = match authority.bytes().rposition(|b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    check_host_port(host_port).map_err(|why| format!("{url:?}: {why}"))
}

fn strip_prefix_ignore_case<'u>(url: &'u str, prefix: &str) -> Option<&'u str> {
    let head = url.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &url[prefix.len()..])
}

fn not_http_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("scheme {scheme:?} is not supported; only http and https"),
        None if url.starts_with('/') => {
            format!("{url:?} is relative; it must be absolute (http:// or https://)")
        }
        None => format!("{url:?} is not a URL (expected http://… or https://…)"),
    }
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
        match host_port.bytes().rposition(|b| b == b':') {
            Some(colon) => (&host_port[..colon], Some(&host_port[colon + 1..])),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    let host_ok = charset::all(host, charset::HOST);
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

    /// Duplicates are found on both paths: a few headers (scanned) and many
    /// (through a set), whatever the case, and named at the second one.
    #[test]
    fn duplicate_headers_with_few_and_many() {
        let root = Loc::ROOT;
        let at = root.field("headers");
        let few = vec![
            ("X-A".to_owned(), "1".to_owned()),
            ("x-a".to_owned(), "2".to_owned()),
        ];
        let err = check_headers(&at, &few).unwrap_err();
        assert_eq!(err.field_path(), Some("headers[\"x-a\"]"));
        let mut many: Vec<(String, String)> = (0..40_000)
            .map(|i| (format!("X-H{i}"), "v".to_owned()))
            .collect();
        assert_eq!(check_headers(&at, &many), Ok(()));
        many.push(("x-h17".to_owned(), "again".to_owned()));
        let err = check_headers(&at, &many).unwrap_err();
        assert_eq!(err.field_path(), Some("headers[\"x-h17\"]"));
    }

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
