//! The step builder. A step is owned by whoever created it; linking
//! (fallback, on_success, on_failure) copies the linked step, so the caller
//! still frees its own. Setting an option again replaces it.

use std::ffi::c_char;

use ezthrottle_core::{Error, ExecutionMode, IdempotentStrategy, RegionPolicy, Step, StepType};

use crate::ezt_status;
use crate::ffi::{
    give_box, give_string, guard, handle, handle_mut, json_arg, out_arg, str_arg, Failure,
};

/// A step under construction. Not thread-safe: use one from one thread at a time.
pub struct ezt_step {
    pub(crate) inner: Step,
}

/// `ezt_step_set_type`: submitted to EZThrottle at once (the default).
pub const EZT_STEP_PERFORMANCE: u32 = 0;
/// `ezt_step_set_type`: run locally first, forwarded on chosen errors.
pub const EZT_STEP_FRUGAL: u32 = 1;
/// `ezt_step_set_idempotent_strategy`: the service hashes the request (the default).
pub const EZT_IDEMPOTENT_HASH: u32 = 0;
/// `ezt_step_set_idempotent_strategy`: a fresh UUID per build.
pub const EZT_IDEMPOTENT_UNIQUE: u32 = 1;
/// `ezt_step_set_region_policy`: route around a down region (the default).
pub const EZT_REGION_POLICY_FALLBACK: u32 = 0;
/// `ezt_step_set_region_policy`: fail when a named region is down.
pub const EZT_REGION_POLICY_STRICT: u32 = 1;
/// `ezt_step_set_execution_mode`: first region to finish wins (the default).
pub const EZT_EXECUTION_RACE: u32 = 0;
/// `ezt_step_set_execution_mode`: every region runs.
pub const EZT_EXECUTION_FANOUT: u32 = 1;

fn choice<T: Copy>(value: u32, field: &str, options: &[T]) -> Result<T, Failure> {
    options.get(value as usize).copied().ok_or_else(|| {
        Failure::new(
            ezt_status::EZT_ERR_VALIDATION,
            format!("invalid {field}: {value} is not one of its EZT_ constants"),
        )
    })
}

/// Change a live step handle: `check` does everything that can fail, reading
/// the step; only then does `apply` change it, so a refused call leaves the
/// step as it was.
///
/// # Safety
/// `step` is NULL or a live handle from `ezt_step_new` / `ezt_step_from_calls`.
unsafe fn edit<A>(
    step: *mut ezt_step,
    check: impl FnOnce(&Step) -> Result<A, Failure>,
    apply: impl FnOnce(Step, A) -> Step,
) -> ezt_status {
    guard(|| {
        // SAFETY: `step` is NULL or a live handle that no other call uses meanwhile, as this
        // helper's own # Safety requires of its caller.
        let step = unsafe { handle_mut(step, "step") }?;
        let checked = check(&step.inner)?;
        step.inner = apply(std::mem::take(&mut step.inner), checked);
        Ok(())
    })
}

/// A new PERFORMANCE `GET` step, through `*out` (free with `ezt_step_free`).
///
/// # Safety
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_new(out: *mut *mut ezt_step) -> ezt_status {
    guard(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: checked above.
        unsafe { give_box(out, ezt_step { inner: Step::new() }) };
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

/// Apply any builder option by its snake_case name with a JSON argument, as
/// in the conformance vectors: `ezt_step_set_json(step, "headers",
/// "{\"X-Trace\":\"t1\"}")`, `"webhooks"`, `"metadata"`, `"retry_policy"`,
/// `"regions"`, `"fallback_on_error"`, `"fallback"`, `"on_success"`, … .
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

/// Set a text option of a live step handle.
///
/// # Safety
/// `step` is a live handle; `value` is NUL-terminated.
unsafe fn set_text(
    step: *mut ezt_step,
    value: *const c_char,
    set: fn(Step, &str) -> Step,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile; `value` is NULL or
    // a NUL-terminated string readable for the call, as this helper's own # Safety requires of
    // its caller.
    unsafe { edit(step, |_| str_arg(value, "value"), set) }
}

/// The target URL (absolute http or https; checked when built).
///
/// # Safety
/// `step` is a live handle; `value` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_url(step: *mut ezt_step, value: *const c_char) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, and `value` is
    // NULL or a NUL-terminated string, as `ezt_step_set_url`'s # Safety requires of its caller.
    unsafe { set_text(step, value, |s, v| s.url(v)) }
}

/// The HTTP method (upper-cased).
///
/// # Safety
/// `step` is a live handle; `value` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_method(
    step: *mut ezt_step,
    value: *const c_char,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, and `value` is
    // NULL or a NUL-terminated string, as `ezt_step_set_method`'s # Safety requires of its
    // caller.
    unsafe { set_text(step, value, |s, v| s.method(v)) }
}

/// The request body ("" is none).
///
/// # Safety
/// `step` is a live handle; `value` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_body(
    step: *mut ezt_step,
    value: *const c_char,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, and `value` is
    // NULL or a NUL-terminated string, as `ezt_step_set_body`'s # Safety requires of its caller.
    unsafe { set_text(step, value, |s, v| s.body(v)) }
}

/// A custom idempotency key; it wins over the strategy.
///
/// # Safety
/// `step` is a live handle; `value` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_idempotent_key(
    step: *mut ezt_step,
    value: *const c_char,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, and `value` is
    // NULL or a NUL-terminated string, as `ezt_step_set_idempotent_key`'s # Safety requires of
    // its caller.
    unsafe { set_text(step, value, |s, v| s.idempotent_key(v)) }
}

/// What the step does, in words (for the execution trace).
///
/// # Safety
/// `step` is a live handle; `value` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_description(
    step: *mut ezt_step,
    value: *const c_char,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, and `value` is
    // NULL or a NUL-terminated string, as `ezt_step_set_description`'s # Safety requires of its
    // caller.
    unsafe { set_text(step, value, |s, v| s.description(v)) }
}

/// What the step's response means, in words (for the execution trace).
///
/// # Safety
/// `step` is a live handle; `value` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_response_description(
    step: *mut ezt_step,
    value: *const c_char,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, and `value` is
    // NULL or a NUL-terminated string, as `ezt_step_set_response_description`'s # Safety requires
    // of its caller.
    unsafe { set_text(step, value, |s, v| s.response_description(v)) }
}

/// Add a request header (copied).
///
/// # Safety
/// `step` is a live handle; `name` and `value` are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_add_header(
    step: *mut ezt_step,
    name: *const c_char,
    value: *const c_char,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile; `name` is NULL or
    // a NUL-terminated string readable for the call; `value` is NULL or a NUL-terminated string
    // readable for the call, as `ezt_step_add_header`'s # Safety requires of its caller.
    unsafe {
        edit(
            step,
            |_| Ok((str_arg(name, "name")?, str_arg(value, "value")?)),
            |s, (n, v)| s.header(n, v),
        )
    }
}

/// `EZT_STEP_PERFORMANCE` or `EZT_STEP_FRUGAL`.
///
/// # Safety
/// `step` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_type(step: *mut ezt_step, step_type: u32) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, as
    // `ezt_step_set_type`'s # Safety requires of its caller.
    unsafe {
        edit(
            step,
            |_| {
                choice(
                    step_type,
                    "type",
                    &[StepType::Performance, StepType::Frugal],
                )
            },
            Step::step_type,
        )
    }
}

/// `EZT_IDEMPOTENT_HASH` or `EZT_IDEMPOTENT_UNIQUE`.
///
/// # Safety
/// `step` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_idempotent_strategy(
    step: *mut ezt_step,
    strategy: u32,
) -> ezt_status {
    let options = [IdempotentStrategy::Hash, IdempotentStrategy::Unique];
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, as
    // `ezt_step_set_idempotent_strategy`'s # Safety requires of its caller.
    unsafe {
        edit(
            step,
            |_| choice(strategy, "idempotent_strategy", &options),
            Step::idempotent_strategy,
        )
    }
}

/// `EZT_REGION_POLICY_FALLBACK` or `EZT_REGION_POLICY_STRICT`.
///
/// # Safety
/// `step` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_region_policy(
    step: *mut ezt_step,
    policy: u32,
) -> ezt_status {
    let options = [RegionPolicy::Fallback, RegionPolicy::Strict];
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, as
    // `ezt_step_set_region_policy`'s # Safety requires of its caller.
    unsafe {
        edit(
            step,
            |_| choice(policy, "region_policy", &options),
            Step::region_policy,
        )
    }
}

/// `EZT_EXECUTION_RACE` or `EZT_EXECUTION_FANOUT`.
///
/// # Safety
/// `step` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_execution_mode(step: *mut ezt_step, mode: u32) -> ezt_status {
    let options = [ExecutionMode::Race, ExecutionMode::Fanout];
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, as
    // `ezt_step_set_execution_mode`'s # Safety requires of its caller.
    unsafe {
        edit(
            step,
            |_| choice(mode, "execution_mode", &options),
            Step::execution_mode,
        )
    }
}

/// How many voting webhooks must accept the delivery (default 1).
///
/// # Safety
/// `step` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_webhook_quorum(
    step: *mut ezt_step,
    quorum: u32,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, as
    // `ezt_step_set_webhook_quorum`'s # Safety requires of its caller.
    unsafe { edit(step, |_| Ok(quorum), Step::webhook_quorum) }
}

/// Not run before this instant, in milliseconds since the Unix epoch.
///
/// # Safety
/// `step` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_retry_at_ms(
    step: *mut ezt_step,
    retry_at_ms: u64,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, as
    // `ezt_step_set_retry_at_ms`'s # Safety requires of its caller.
    unsafe { edit(step, |_| Ok(retry_at_ms), Step::retry_at_ms) }
}

/// FRUGAL only: the local request's timeout, in milliseconds (default
/// `EZT_DEFAULT_LOCAL_TIMEOUT_MS`).
///
/// # Safety
/// `step` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_local_timeout_ms(
    step: *mut ezt_step,
    timeout_ms: u64,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, as
    // `ezt_step_set_local_timeout_ms`'s # Safety requires of its caller.
    unsafe { edit(step, |_| Ok(timeout_ms), Step::local_timeout_ms) }
}

/// Add a fallback (a copy of `fallback`). Trigger: `codes` (`count` status
/// codes) for on-error, or `timeout_ms` for on-timeout, or neither (count 0,
/// timeout 0) for always; giving both is a validation error.
///
/// # Safety
/// `step` and `fallback` are live handles, two different ones
/// (`EZT_ERR_INVALID_ARGUMENT` otherwise); `codes` points to `count` values
/// or is NULL when `count` is 0.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_add_fallback(
    step: *mut ezt_step,
    fallback: *const ezt_step,
    codes: *const u16,
    count: usize,
    timeout_ms: u64,
) -> ezt_status {
    // SAFETY: `codes` is NULL or points to `count` readable items for the call, as
    // `ezt_step_add_fallback`'s # Safety requires of its caller.
    let codes = match unsafe { crate::ffi::slice_arg(codes, count, "codes") } {
        Ok(codes) => codes.to_vec(),
        Err(failure) => return guard(|| Err(failure)),
    };
    // Zero values are "not given"; the core decides what the pair means.
    let options = serde_json::json!({
        "trigger_on_error": (!codes.is_empty()).then_some(codes),
        "trigger_on_timeout": (timeout_ms > 0).then_some(timeout_ms),
    });
    // SAFETY: `step` and `fallback` are NULL or live handles, as `ezt_step_add_fallback`'s #
    // Safety requires of its caller.
    unsafe {
        link(step, fallback, "fallback", |s, copy| {
            s.attach("fallback", copy, &options)
        })
    }
}

/// Run a copy of `child` when this step succeeds (replaces any earlier one).
/// `child` must be another step than `step` (`EZT_ERR_INVALID_ARGUMENT`).
///
/// # Safety
/// `step` and `child` are live handles.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_on_success(
    step: *mut ezt_step,
    child: *const ezt_step,
) -> ezt_status {
    // SAFETY: as `ezt_step_set_on_success`'s # Safety requires of its caller.
    unsafe {
        link(step, child, "child", |s, child| {
            *s = std::mem::take(s).on_success(child);
            Ok(())
        })
    }
}

/// Run a copy of `child` when every path failed; `timeout_ms` (0 for none) is
/// how long the service waits before declaring the failure. `child` must be
/// another step than `step` (`EZT_ERR_INVALID_ARGUMENT`).
///
/// # Safety
/// `step` and `child` are live handles.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_on_failure(
    step: *mut ezt_step,
    child: *const ezt_step,
    timeout_ms: u64,
) -> ezt_status {
    // SAFETY: as `ezt_step_set_on_failure`'s # Safety requires of its caller.
    unsafe {
        link(step, child, "child", |s, child| {
            let step = std::mem::take(s);
            *s = match timeout_ms {
                0 => step.on_failure(child),
                ms => step.on_failure_after(child, ms),
            };
            Ok(())
        })
    }
}

/// Link a copy of `linked` to `step`. One handle as both is refused: Rust
/// would hold a `&mut` and a `&` to it at once (undefined behaviour), and a
/// step that is its own follow-up is a mistake. The copy is taken, and its
/// borrow ended, before `step` is borrowed mutably.
///
/// # Safety
/// `step` is NULL or a live handle that no other call uses meanwhile;
/// `linked` is NULL or a live handle of this library.
unsafe fn link(
    step: *mut ezt_step,
    linked: *const ezt_step,
    name: &str,
    apply: impl FnOnce(&mut Step, Step) -> Result<(), Error>,
) -> ezt_status {
    guard(|| {
        if std::ptr::eq(step.cast_const(), linked) && !step.is_null() {
            return Err(Failure::new(
                ezt_status::EZT_ERR_INVALID_ARGUMENT,
                format!("`{name}` is the step itself: link another step (a copy of it)"),
            ));
        }
        // SAFETY: `linked` is NULL or a live handle, as this helper's # Safety requires; the
        // reference ends with the clone.
        let copy = unsafe { handle(linked, name) }?.inner.clone();
        // SAFETY: `step` is NULL or a live handle that no other call uses meanwhile, as this
        // helper's # Safety requires; no other reference to it is alive now.
        let step = unsafe { handle_mut(step, "step") }?;
        apply(&mut step.inner, copy)?;
        Ok(())
    })
}

/// Validate the step and build its job payload JSON, through `*out` (free
/// with `ezt_string_free`). UNIQUE steps get a fresh key on every call.
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
        // SAFETY: `step` is NULL or a live handle of this library, not freed during the call, as
        // `ezt_step_to_json`'s # Safety requires of its caller.
        let json = unsafe { handle(step, "step") }?.inner.to_json()?;
        // SAFETY: checked above.
        unsafe { give_string(out, json) };
        Ok(())
    })
}

/// Read `count` C strings.
///
/// # Safety
/// `items` points to `count` NUL-terminated strings (or is NULL when `count` is 0).
unsafe fn strings_arg(
    items: *const *const c_char,
    count: usize,
    name: &str,
) -> Result<Vec<String>, Failure> {
    // SAFETY: `items` is NULL or points to `count` readable items for the call, as this helper's
    // own # Safety requires of its caller.
    let pointers = unsafe { crate::ffi::slice_arg(items, count, name) }?;
    pointers
        .iter()
        .enumerate()
        // SAFETY: each pointer is a NUL-terminated string per the contract.
        .map(|(i, p)| unsafe { str_arg(*p, &format!("{name}[{i}]")) }.map(str::to_owned))
        .collect()
}

/// Read an optional list of status codes: NULL is "not set".
///
/// # Safety
/// `codes` is NULL or points to `count` values.
unsafe fn codes_arg(
    codes: *const u16,
    count: usize,
    name: &str,
) -> Result<Option<Vec<u16>>, Failure> {
    if codes.is_null() {
        return Ok(None);
    }
    // SAFETY: `codes` is NULL or points to `count` readable items for the call, as this helper's
    // own # Safety requires of its caller.
    Ok(Some(
        unsafe { crate::ffi::slice_arg(codes, count, name) }?.to_vec(),
    ))
}

/// `ezt_step_add_webhook`: leave `has_quorum_vote` unset (the service counts it).
pub const EZT_QUORUM_VOTE_UNSET: i32 = -1;

/// Add a webhook: its URL, the regions to deliver from (`region_count`
/// strings, or NULL / 0 for any), and `quorum_vote` 1 (counts toward the
/// quorum), 0 (does not) or `EZT_QUORUM_VOTE_UNSET`.
///
/// # Safety
/// `step` is a live handle; `url` and each region are NUL-terminated;
/// `regions` points to `region_count` strings or is NULL when it is 0.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_add_webhook(
    step: *mut ezt_step,
    url: *const c_char,
    regions: *const *const c_char,
    region_count: usize,
    quorum_vote: i32,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile; `url` is NULL or a
    // NUL-terminated string readable for the call, as `ezt_step_add_webhook`'s # Safety requires
    // of its caller.
    unsafe {
        edit(
            step,
            |_| {
                let mut hook = ezthrottle_core::Webhook::new(str_arg(url, "url")?);
                if region_count > 0 {
                    hook = hook.regions(strings_arg(regions, region_count, "regions")?);
                }
                match quorum_vote {
                    EZT_QUORUM_VOTE_UNSET => {}
                    0 | 1 => hook = hook.quorum_vote(quorum_vote == 1),
                    other => {
                        return Err(Error::validation(
                            "quorum_vote",
                            format!("{other} is not 0, 1 or EZT_QUORUM_VOTE_UNSET"),
                        )
                        .into())
                    }
                }
                Ok(hook)
            },
            Step::webhook,
        )
    }
}

/// Replace the regions to run in with `count` region codes (`iad`, `lax`, …).
///
/// # Safety
/// `step` is a live handle; `regions` points to `count` NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_regions(
    step: *mut ezt_step,
    regions: *const *const c_char,
    count: usize,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, as
    // `ezt_step_set_regions`'s # Safety requires of its caller.
    unsafe {
        edit(
            step,
            |_| strings_arg(regions, count, "regions"),
            |s, r| s.regions(r),
        )
    }
}

/// FRUGAL only: the local status codes that forward the job to EZThrottle
/// (default 429, 500, 502, 503, 504).
///
/// # Safety
/// `step` is a live handle; `codes` points to `count` values.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_fallback_on_error(
    step: *mut ezt_step,
    codes: *const u16,
    count: usize,
) -> ezt_status {
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile; `codes` is NULL or
    // points to `count` readable items for the call, as `ezt_step_set_fallback_on_error`'s #
    // Safety requires of its caller.
    unsafe {
        edit(
            step,
            |_| Ok(crate::ffi::slice_arg(codes, count, "codes")?.to_vec()),
            |s, c| s.fallback_on_error(c),
        )
    }
}

/// `ezt_step_set_retry_policy`: a count left to the service's default.
pub const EZT_RETRY_UNSET: i64 = -1;

/// How the service retries: `max_retries` / `max_reroutes` (or
/// `EZT_RETRY_UNSET`), and the codes retried in the same region / moved to
/// another region (NULL leaves a list unset; a non-NULL list of 0 is empty).
///
/// # Safety
/// `step` is a live handle; each code list is NULL or points to its count of values.
#[no_mangle]
pub unsafe extern "C" fn ezt_step_set_retry_policy(
    step: *mut ezt_step,
    max_retries: i64,
    max_reroutes: i64,
    retry_codes: *const u16,
    retry_code_count: usize,
    reroute_codes: *const u16,
    reroute_code_count: usize,
) -> ezt_status {
    let count = |value: i64, field: &str| -> Result<Option<u32>, Failure> {
        match value {
            EZT_RETRY_UNSET => Ok(None),
            v => u32::try_from(v).map(Some).map_err(|_| {
                Error::validation(
                    format!("retry_policy.{field}"),
                    format!("{v} is not a count"),
                )
                .into()
            }),
        }
    };
    // SAFETY: `step` is NULL or a live step that no other call uses meanwhile, as
    // `ezt_step_set_retry_policy`'s # Safety requires of its caller.
    unsafe {
        edit(
            step,
            |_| {
                Ok(ezthrottle_core::RetryPolicy {
                    max_retries: count(max_retries, "max_retries")?,
                    max_reroutes: count(max_reroutes, "max_reroutes")?,
                    retry_codes: codes_arg(retry_codes, retry_code_count, "retry_codes")?,
                    reroute_codes: codes_arg(reroute_codes, reroute_code_count, "reroute_codes")?,
                })
            },
            |s, policy| s.retry_policy(policy),
        )
    }
}
