//! Gateway answers: any status, headers and body. Never panics; a success
//! always carries a string job id.
#![no_main]
use ezthrottle_core::{read_gateway_answer, HttpResponse, SubmitAnswer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[high, low], rest)) = data.split_first_chunk::<2>().map(|(s, r)| (s, r)) else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (head, body) = text.split_once("\n\n").unwrap_or(("", &text));
    let mut response = HttpResponse::new(u16::from_be_bytes([high, low]) % 700, body);
    for line in head.lines() {
        if let Some((name, value)) = line.split_once(':') {
            response = response.with_header(name, value);
        }
    }
    for now in [0, 1_764_320_000_000, u64::MAX] {
        if let Ok(forwarded) = read_gateway_answer(&response, now) {
            let _ = forwarded.into_success();
        }
    }
    if let Ok(answer) = SubmitAnswer::from_body(body) {
        assert!(answer.as_json()["job_id"].is_string());
    }
});
