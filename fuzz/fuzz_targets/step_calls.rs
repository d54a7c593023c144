//! Steps from the conformance `calls` format: any JSON. Never panics; a step
//! that builds gives a job that reads back and validates identically.
#![no_main]
use ezthrottle_core::{ClientConfig, Job, Operation, Step};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(calls) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(step) = Step::from_calls(&calls) else {
        return;
    };
    let Ok(job) = step.build_job() else {
        return;
    };
    let text = job.to_json();
    let back = Job::from_json(&text).expect("a built job reads back");
    assert_eq!(back.to_json(), text);
    let config = ClientConfig::builder("ck_fuzz_key").build().expect("config");
    let mut execution = config.execute(&step).expect("a step that builds executes");
    let _ = execution.start();
});
