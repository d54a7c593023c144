//! The C API's JSON setters: any option name and JSON text through
//! `ezt_step_set_json`, then a build. Never crashes (ASan watches the unsafe
//! side); a refused call leaves the payload as it was.
#![no_main]
use std::ffi::{CStr, CString};

use ezthrottle::{
    ezt_status, ezt_step, ezt_step_free, ezt_step_new, ezt_step_options, ezt_step_set_json, ezt_step_to_json,
    ezt_string_free,
};
use libfuzzer_sys::fuzz_target;

fn payload(step: *const ezt_step) -> Option<String> {
    let mut out = std::ptr::null_mut();
    // SAFETY: a live step and a writable out pointer.
    let status = unsafe { ezt_step_to_json(step, &mut out) };
    if status != ezt_status::EZT_OK {
        return None;
    }
    // SAFETY: the library returned a NUL-terminated string it owns until freed.
    let text = unsafe { CStr::from_ptr(out) }.to_string_lossy().into_owned();
    // SAFETY: a string from the library, freed once.
    unsafe { ezt_string_free(out) };
    Some(text)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (name, json) = text.split_once('\n').unwrap_or(("url", &text));
    let (Ok(name), Ok(json)) = (CString::new(name), CString::new(json)) else {
        return;
    };
    // SAFETY: every field of the options is a pointer, a count or a number: zero is the default.
    let mut options: ezt_step_options = unsafe { std::mem::zeroed() };
    options.url = c"https://a.example".as_ptr();
    let mut step = std::ptr::null_mut();
    // SAFETY: valid options, a writable out pointer.
    assert_eq!(unsafe { ezt_step_new(&options, &mut step) }, ezt_status::EZT_OK);
    let before = payload(step);
    // SAFETY: live step, NUL-terminated strings.
    let status = unsafe { ezt_step_set_json(step, name.as_ptr(), json.as_ptr()) };
    if status != ezt_status::EZT_OK {
        assert_eq!(payload(step), before, "a refused call changed the step");
    }
    // SAFETY: the step is freed once.
    unsafe { ezt_step_free(step) };
});
