//! Steps. A caller describes a step in one `ezt_step_options` struct
//! (designated initializers; zero and NULL fields take the defaults) and
//! builds it with one call. Linked steps (fallbacks, on_success, on_failure)
//! are options structs too, so a whole workflow crosses into the core at
//! once, and the caller keeps every struct it passed.
//!
//! The struct is read into the core's typed builder. This module refuses
//! only what C memory can get wrong (a NULL, bytes that are not UTF-8, a
//! number that is none of its `EZT_` constants, too many linked steps), each
//! at its field's path; everything about the step itself is validated by the
//! core when it is built.

use std::ffi::{c_char, CStr};

use ezthrottle_core::validate::{join_path, MAX_NESTING};
use ezthrottle_core::{
    Error, ExecutionMode, IdempotentStrategy, RegionPolicy, RetryPolicy, Step, StepType, Trigger,
    Webhook,
};

use crate::ezt_status;
use crate::ffi::{
    give_box, give_string, guard, handle, handle_mut, json_arg, null_argument, out_arg, slice_arg,
    str_arg, Failure,
};

/// A built step (opaque). Not thread-safe: use one from one thread at a time.
pub struct ezt_step {
    pub(crate) inner: Step,
}

/// `ezt_step_options.step_type`: submitted to EZThrottle at once (the default).
pub const EZT_STEP_PERFORMANCE: u32 = 0;
/// `ezt_step_options.step_type`: run locally first, forwarded on chosen errors.
pub const EZT_STEP_FRUGAL: u32 = 1;
/// `ezt_step_options.idempotent_strategy`: the service hashes the request (the default).
pub const EZT_IDEMPOTENT_HASH: u32 = 0;
/// `ezt_step_options.idempotent_strategy`: a fresh UUID per build.
pub const EZT_IDEMPOTENT_UNIQUE: u32 = 1;
/// `ezt_step_options.region_policy`: route around a down region (the default).
pub const EZT_REGION_POLICY_FALLBACK: u32 = 0;
/// `ezt_step_options.region_policy`: fail when a named region is down.
pub const EZT_REGION_POLICY_STRICT: u32 = 1;
/// `ezt_step_options.execution_mode`: first region to finish wins (the default).
pub const EZT_EXECUTION_RACE: u32 = 0;
/// `ezt_step_options.execution_mode`: every region runs.
pub const EZT_EXECUTION_FANOUT: u32 = 1;
/// `ezt_webhook.quorum_vote`: left out, so the service decides (the default).
pub const EZT_QUORUM_VOTE_DEFAULT: u32 = 0;
/// `ezt_webhook.quorum_vote`: this webhook's delivery counts towards the quorum.
pub const EZT_QUORUM_VOTE_YES: u32 = 1;
/// `ezt_webhook.quorum_vote`: this webhook's delivery does not count.
pub const EZT_QUORUM_VOTE_NO: u32 = 2;
/// The most steps one `ezt_step_new` builds, linked ones included; more is
/// refused. Options linked twice (two fallbacks pointing at one struct) are
/// built, and counted, twice.
pub const EZT_MAX_STEPS: usize = 1024;
/// `ezt_retry_policy.max_retries` / `max_reroutes`: left out (0 is a count).
pub const EZT_RETRY_UNSET: i64 = -1;

/// One request header.
#[repr(C)]
pub struct ezt_header {
    pub name: *const c_char,
    pub value: *const c_char,
}

/// A webhook that receives the job's result.
#[repr(C)]
pub struct ezt_webhook {
    /// Required.
    pub url: *const c_char,
    /// The regions it is delivered from; NULL (count 0) for every region.
    pub regions: *const *const c_char,
    pub region_count: usize,
    /// `EZT_QUORUM_VOTE_DEFAULT`, `EZT_QUORUM_VOTE_YES` or `EZT_QUORUM_VOTE_NO`.
    pub quorum_vote: u32,
}

/// How the service retries and reroutes the job.
#[repr(C)]
pub struct ezt_retry_policy {
    /// A count, or `EZT_RETRY_UNSET` to leave it out.
    pub max_retries: i64,
    /// A count, or `EZT_RETRY_UNSET` to leave it out.
    pub max_reroutes: i64,
    /// Statuses that are retried; NULL leaves them out.
    pub retry_codes: *const u16,
    pub retry_code_count: usize,
    /// Statuses that are rerouted to another region; NULL leaves them out.
    pub reroute_codes: *const u16,
    pub reroute_code_count: usize,
}

/// A step tried instead of the one it belongs to, and when.
#[repr(C)]
pub struct ezt_fallback {
    /// Required.
    pub step: *const ezt_step_options,
    /// Tried on these statuses; NULL for any failure.
    pub trigger_on_error: *const u16,
    pub trigger_on_error_count: usize,
    /// Or tried after this many milliseconds without an answer; 0 for none.
    /// Give one trigger, not both.
    pub trigger_on_timeout_ms: u64,
}

/// Everything a step can say. Zero and NULL fields take the defaults (a
/// PERFORMANCE `GET` step), so designated initializers name only what
/// differs:
///
/// ```c
/// ezt_header headers[] = {{"Content-Type", "application/json"}};
/// ezt_step_options charge = {
///     .url = "https://api.example.com/charge",
///     .method = "POST",
///     .headers = headers, .header_count = 1,
///     .body = "{\"amount\":1000}",
///     .step_type = EZT_STEP_FRUGAL,
/// };
/// ```
///
/// Arrays are a pointer and a count; a NULL pointer leaves the field out.
/// The library copies what it needs: the caller keeps every struct and string.
#[repr(C)]
pub struct ezt_step_options {
    /// The target URL (absolute http or https). Required when built.
    pub url: *const c_char,
    /// The HTTP method (upper-cased); NULL is `GET`.
    pub method: *const c_char,
    pub headers: *const ezt_header,
    pub header_count: usize,
    pub body: *const c_char,
    /// A JSON object echoed in the webhook.
    pub metadata_json: *const c_char,
    /// `EZT_STEP_PERFORMANCE` or `EZT_STEP_FRUGAL`.
    pub step_type: u32,
    pub webhooks: *const ezt_webhook,
    pub webhook_count: usize,
    /// How many webhooks must vote; 0 is the default (1).
    pub webhook_quorum: u32,
    /// Regions to run in, e.g. "iad".
    pub regions: *const *const c_char,
    pub region_count: usize,
    /// `EZT_REGION_POLICY_FALLBACK` or `EZT_REGION_POLICY_STRICT`.
    pub region_policy: u32,
    /// `EZT_EXECUTION_RACE` or `EZT_EXECUTION_FANOUT`.
    pub execution_mode: u32,
    /// NULL for the service's policy.
    pub retry_policy: *const ezt_retry_policy,
    /// Not run before this instant (ms since the Unix epoch); 0 for now.
    pub retry_at_ms: u64,
    /// A custom idempotency key; it wins over the strategy.
    pub idempotent_key: *const c_char,
    /// `EZT_IDEMPOTENT_HASH` or `EZT_IDEMPOTENT_UNIQUE`.
    pub idempotent_strategy: u32,
    /// Statuses of a FRUGAL step's local call that forward it to EZThrottle;
    /// NULL keeps the default (429 and 5xx), a count of 0 forwards on none.
    pub fallback_on_error: *const u16,
    pub fallback_on_error_count: usize,
    /// A FRUGAL step's local timeout; 0 is `EZT_DEFAULT_LOCAL_TIMEOUT_MS`.
    pub local_timeout_ms: u64,
    /// Tried in order when this step fails.
    pub fallbacks: *const ezt_fallback,
    pub fallback_count: usize,
    /// The step spawned when this one succeeds; NULL for none.
    pub on_success: *const ezt_step_options,
    /// The step spawned when every path of this one failed; NULL for none.
    pub on_failure: *const ezt_step_options,
    /// How long the service waits before declaring that failure; 0 for its default.
    pub on_failure_timeout_ms: u64,
    /// What the step does, in words (used by the execution trace).
    pub description: *const c_char,
    pub response_description: *const c_char,
}

/// A string field; NULL is absent. `path` names it in a refusal and is
/// rendered only then.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string that outlives `'a`.
unsafe fn text<'a>(
    ptr: *const c_char,
    path: impl FnOnce() -> String,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated, as this helper's # Safety requires of its caller.
    match unsafe { CStr::from_ptr(ptr) }.to_str() {
        Ok(text) => Ok(Some(text)),
        // SAFETY: as above; read again only to word the refusal as every argument's is.
        Err(_) => unsafe { str_arg(ptr, &path()) }.map(Some),
    }
}

/// A string that must be there.
///
/// # Safety
/// As [`text`].
unsafe fn required<'a>(ptr: *const c_char, path: impl Fn() -> String) -> Result<&'a str, Failure> {
    // SAFETY: `ptr` is NULL or NUL-terminated, as this helper's # Safety requires of its caller.
    match unsafe { text(ptr, &path) }? {
        Some(text) => Ok(text),
        None => Err(null_argument(&path())),
    }
}

/// An array field: NULL with a count of 0 is absent.
///
/// # Safety
/// `ptr` is NULL or points to `count` readable items that outlive `'a`.
unsafe fn items<'a, T>(
    ptr: *const T,
    count: usize,
    path: impl FnOnce() -> String,
) -> Result<Option<&'a [T]>, Failure> {
    if ptr.is_null() && count == 0 {
        return Ok(None);
    }
    let name = if ptr.is_null() { path() } else { String::new() };
    // SAFETY: as this helper's # Safety requires of its caller.
    unsafe { slice_arg(ptr, count, &name) }.map(Some)
}

/// A builder call that sets one text option.
type SetText = fn(Step, &str) -> Step;
/// A builder call that sets one time (milliseconds).
type SetTime = fn(Step, u64) -> Step;

/// The option `value` of `options`, refused when it is none of its constants.
fn choice<T: Copy>(value: u32, options: &[T], path: impl FnOnce() -> String) -> Result<T, Failure> {
    options.get(value as usize).copied().ok_or_else(|| {
        let why = format!("{value} is not one of its EZT_ constants");
        Error::validation(path(), why).into()
    })
}

/// The step that `options` describe. `prefix` is where it sits, `depth` how
/// deep: a step past the core's nesting limit is left blank, so that a cycle
/// of pointers ends there and the core refuses the step when it is built.
/// `built` counts the steps made so far: options linked twice are built
/// twice, so a few structs pointing at each other could describe billions.
///
/// # Safety
/// Every pointer of `options` and of what it points to follows the header's
/// contract: NULL, or valid for what its count says.
unsafe fn build(
    options: &ezt_step_options,
    prefix: &str,
    depth: usize,
    built: &mut usize,
) -> Result<Step, Failure> {
    let mut step = Step::new();
    *built += 1;
    if *built > EZT_MAX_STEPS {
        let why =
            format!("links more than {EZT_MAX_STEPS} steps (options linked twice count twice)");
        return Err(Error::validation(prefix, why).into());
    }
    if depth > MAX_NESTING {
        return Ok(step);
    }
    let at = |field: &str| join_path(prefix, field);
    let texts: [(_, _, SetText); 6] = [
        ("url", options.url, |s, v| s.url(v)),
        ("method", options.method, |s, v| s.method(v)),
        ("body", options.body, |s, v| s.body(v)),
        ("idempotent_key", options.idempotent_key, |s, v| {
            s.idempotent_key(v)
        }),
        ("description", options.description, |s, v| s.description(v)),
        (
            "response_description",
            options.response_description,
            |s, v| s.response_description(v),
        ),
    ];
    // SAFETY (every block below): the pointers read are the options' own, which the caller
    // vouches for as this function's # Safety requires.
    for (name, ptr, set) in texts {
        if let Some(text) = unsafe { text(ptr, || at(name)) }? {
            step = set(step, text);
        }
    }
    let headers = unsafe { items(options.headers, options.header_count, || at("headers")) }?;
    for (i, header) in headers.unwrap_or_default().iter().enumerate() {
        let here = || at(&format!("headers[{i}]"));
        let name = unsafe { required(header.name, || here() + ".name") }?;
        let value = unsafe { required(header.value, || here() + ".value") }?;
        step = step.header(name, value);
    }
    if !options.metadata_json.is_null() {
        let path = at("metadata_json");
        let value = unsafe { json_arg(options.metadata_json, &path) }?;
        step = step.metadata(ezthrottle_core::json_object(&path, value)?);
    }
    let kinds = [StepType::Performance, StepType::Frugal];
    let strategies = [IdempotentStrategy::Hash, IdempotentStrategy::Unique];
    let policies = [RegionPolicy::Fallback, RegionPolicy::Strict];
    let modes = [ExecutionMode::Race, ExecutionMode::Fanout];
    step = step
        .step_type(choice(options.step_type, &kinds, || at("step_type"))?)
        .idempotent_strategy(choice(options.idempotent_strategy, &strategies, || {
            at("idempotent_strategy")
        })?)
        .region_policy(choice(options.region_policy, &policies, || {
            at("region_policy")
        })?)
        .execution_mode(choice(options.execution_mode, &modes, || {
            at("execution_mode")
        })?);
    let hooks = unsafe { items(options.webhooks, options.webhook_count, || at("webhooks")) }?;
    for (i, hook) in hooks.unwrap_or_default().iter().enumerate() {
        step = step.webhook(unsafe { webhook(hook, || at(&format!("webhooks[{i}]"))) }?);
    }
    if options.webhook_quorum != 0 {
        step = step.webhook_quorum(options.webhook_quorum);
    }
    if let Some(regions) =
        unsafe { strings(options.regions, options.region_count, || at("regions")) }?
    {
        step = step.regions(regions);
    }
    if let Some(policy) = unsafe { options.retry_policy.as_ref() } {
        step = step.retry_policy(unsafe { retry_policy(policy, || at("retry_policy")) }?);
    }
    let times: [(_, SetTime); 3] = [
        (options.retry_at_ms, Step::retry_at_ms),
        (options.local_timeout_ms, Step::local_timeout_ms),
        (options.on_failure_timeout_ms, Step::on_failure_timeout_ms),
    ];
    for (ms, set) in times.into_iter().filter(|(ms, _)| *ms != 0) {
        step = set(step, ms);
    }
    let (codes, count) = (options.fallback_on_error, options.fallback_on_error_count);
    if let Some(codes) = unsafe { items(codes, count, || at("fallback_on_error")) }? {
        step = step.fallback_on_error(codes.iter().copied());
    }
    let (fallbacks, count) = (options.fallbacks, options.fallback_count);
    let fallbacks = unsafe { items(fallbacks, count, || at("fallbacks")) }?;
    for (i, fallback) in fallbacks.unwrap_or_default().iter().enumerate() {
        let (child, trigger) =
            unsafe { fallback_of(fallback, &at(&format!("fallback[{i}]")), depth, built) }?;
        step = step.fallback(child, trigger);
    }
    if let Some(child) = unsafe { options.on_success.as_ref() } {
        step = step.on_success(unsafe { build(child, &at("on_success"), depth + 1, built) }?);
    }
    if let Some(child) = unsafe { options.on_failure.as_ref() } {
        step = step.on_failure(unsafe { build(child, &at("on_failure"), depth + 1, built) }?);
    }
    Ok(step)
}

/// # Safety
/// `ptr` is NULL or points to `count` NUL-terminated strings.
unsafe fn strings(
    ptr: *const *const c_char,
    count: usize,
    path: impl Fn() -> String,
) -> Result<Option<Vec<String>>, Failure> {
    // SAFETY: as this helper's # Safety requires of its caller.
    let Some(list) = (unsafe { items(ptr, count, &path) })? else {
        return Ok(None);
    };
    let texts = list.iter().enumerate().map(|(i, item)| {
        // SAFETY: each item is a NUL-terminated string, per the contract.
        unsafe { required(*item, || format!("{}[{i}]", path())) }.map(str::to_owned)
    });
    texts.collect::<Result<_, _>>().map(Some)
}

/// # Safety
/// As [`build`].
unsafe fn webhook(hook: &ezt_webhook, here: impl Fn() -> String) -> Result<Webhook, Failure> {
    let at = |field: &str| join_path(&here(), field);
    // SAFETY: the webhook's own pointers, as this function's # Safety requires.
    let mut webhook = Webhook::new(unsafe { required(hook.url, || at("url")) }?);
    // SAFETY: as above.
    if let Some(regions) = unsafe { strings(hook.regions, hook.region_count, || at("regions")) }? {
        webhook = webhook.regions(regions);
    }
    let votes = [None, Some(true), Some(false)];
    if let Some(vote) = choice(hook.quorum_vote, &votes, || at("quorum_vote"))? {
        webhook = webhook.quorum_vote(vote);
    }
    Ok(webhook)
}

/// # Safety
/// As [`build`].
unsafe fn retry_policy(
    policy: &ezt_retry_policy,
    here: impl Fn() -> String,
) -> Result<RetryPolicy, Failure> {
    let at = |field: &str| join_path(&here(), field);
    let count = |value: i64, field: &str| match value {
        EZT_RETRY_UNSET => Ok(None),
        n => u32::try_from(n).map(Some).map_err(|_| {
            Failure::from(Error::validation(at(field), format!("{n} is not a count")))
        }),
    };
    let codes = |ptr: *const u16, count: usize, field: &str| {
        // SAFETY: the policy's own arrays, as this function's # Safety requires.
        unsafe { items(ptr, count, || at(field)) }.map(|codes| codes.map(<[u16]>::to_vec))
    };
    Ok(RetryPolicy {
        max_retries: count(policy.max_retries, "max_retries")?,
        max_reroutes: count(policy.max_reroutes, "max_reroutes")?,
        retry_codes: codes(policy.retry_codes, policy.retry_code_count, "retry_codes")?,
        reroute_codes: codes(
            policy.reroute_codes,
            policy.reroute_code_count,
            "reroute_codes",
        )?,
    })
}

/// # Safety
/// As [`build`].
unsafe fn fallback_of(
    fallback: &ezt_fallback,
    here: &str,
    depth: usize,
    built: &mut usize,
) -> Result<(Step, Trigger), Failure> {
    // SAFETY: the fallback's own pointers, as this function's # Safety requires.
    let Some(options) = (unsafe { fallback.step.as_ref() }) else {
        return Err(null_argument(&join_path(here, "step")));
    };
    // SAFETY: as above.
    let step = unsafe { build(options, here, depth + 1, built) }?;
    let (codes, count) = (fallback.trigger_on_error, fallback.trigger_on_error_count);
    // SAFETY: as above.
    let codes = unsafe { items(codes, count, || join_path(here, "trigger_on_error")) }?;
    let on_timeout = Some(fallback.trigger_on_timeout_ms).filter(|ms| *ms != 0);
    let trigger = Trigger::from_parts(codes, on_timeout, here, |c| Ok(c.to_vec()), Ok)?;
    Ok((step, trigger))
}

/// Build a step from its options, through `*out` (free with `ezt_step_free`).
/// A refused field leaves `*out` untouched and names the field
/// (`on_success.fallback[0].url`) in `ezt_last_error_path()`.
///
/// # Safety
/// `options` is NULL or a valid `ezt_step_options` (see its fields); `out`
/// is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_new(
    options: *const ezt_step_options,
    out: *mut *mut ezt_step,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: NULL or a valid options struct, as `ezt_step_new`'s # Safety requires.
        let options = unsafe { options.as_ref() }.ok_or_else(|| null_argument("options"))?;
        // SAFETY: as above.
        let inner = unsafe { build(options, "", 0, &mut 0) }?;
        // SAFETY: checked above.
        unsafe { give_box(out, ezt_step { inner }) };
        Ok(())
    })
}

/// A step from a JSON array of `[name, argument]` builder calls (the
/// conformance vectors' format), through `*out`.
///
/// # Safety
/// `calls_json` is NUL-terminated; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_from_calls(
    calls_json: *const c_char,
    out: *mut *mut ezt_step,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: `calls_json` is NULL or a NUL-terminated string readable for the call, as
        // `ezt_step_from_calls`'s # Safety requires of its caller.
        let calls = unsafe { json_arg(calls_json, "calls_json") }?;
        let inner = Step::from_calls(&calls)?;
        // SAFETY: checked above.
        unsafe { give_box(out, ezt_step { inner }) };
        Ok(())
    })
}

/// Free a step. NULL is ignored.
///
/// # Safety
/// `step` is NULL or a live step handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_free(step: *mut ezt_step) {
    if !step.is_null() {
        // SAFETY: a handle from `Box::into_raw`, freed once, per the contract.
        drop(unsafe { Box::from_raw(step) });
    }
}

/// Change one option of a built step by its snake_case builder name with a
/// JSON argument, as in the conformance vectors: `ezt_step_set_json(step,
/// "idempotent_key", "\"order-7\"")`, `"headers"`, `"metadata"`, … . Setting
/// an option again replaces it; a refused call leaves the step unchanged.
///
/// # Safety
/// `step` is a live handle; `name` and `json` are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_json(
    step: *mut ezt_step,
    name: *const c_char,
    json: *const c_char,
) -> ezt_status {
    guard(|| {
        // SAFETY: `step` is NULL or a live handle that no other call uses meanwhile; `name` is
        // NULL or a NUL-terminated string readable for the call; `json` is NULL or a
        // NUL-terminated string readable for the call, as `ezt_step_set_json`'s # Safety requires
        // of its caller.
        let (step, name, value) = unsafe {
            (
                handle_mut(step, "step")?,
                str_arg(name, "name")?,
                json_arg(json, "json")?,
            )
        };
        // The core's apply_call leaves the step unchanged when it refuses.
        step.inner.apply_call(name, &value)?;
        Ok(())
    })
}

/// The step's job payload (JSON, as submitted), through `*out` (free with
/// `ezt_string_free`). Validates the step first.
///
/// # Safety
/// `step` is a live handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_to_json(
    step: *const ezt_step,
    out: *mut *mut c_char,
) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: `step` is NULL or a live handle, as `ezt_step_to_json`'s # Safety requires.
        let json = unsafe { handle(step, "step") }?.inner.to_json()?;
        // SAFETY: checked above.
        unsafe { give_string(out, json) };
        Ok(())
    })
}
