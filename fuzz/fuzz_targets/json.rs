//! The core's JSON reader and writer against serde_json's (with
//! `float_roundtrip`): any text is refused by both or read by both to the
//! same value, and that value is written back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = ezthrottle_core::json::parse(text);
    let theirs = serde_json::from_str::<serde_json::Value>(text);
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => {
            assert_eq!(ours, theirs, "{text:?}");
            let written = ezthrottle_core::json::to_string(&ours);
            assert_eq!(written, serde_json::to_string(&theirs).unwrap(), "{text:?}");
        }
        (Err(_), Err(_)) => {}
        (ours, theirs) => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
    }
});
