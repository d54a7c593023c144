//! The core's JSON reader against serde_json's (with `float_roundtrip`, this
//! crate's dev-dependency) and the standard library's exact float parser:
//! the same texts accepted, the same values (number kinds, key order and
//! float bits included), the same texts refused. And its writer against
//! serde_json's: the same text.

#![allow(clippy::unwrap_used)]

use ezthrottle_core::json::{object_to_string, parse, parse_refusing_repeated_keys, to_string};
use ezthrottle_core::Envelope;
use ezthrottle_core::Job;
use proptest::prelude::*;
use serde_json::Value;

/// Both readers agree on `text`: both refuse it, or both read the same value.
fn agree(text: &str) -> Result<(), TestCaseError> {
    let ours = parse(text);
    let theirs = serde_json::from_str::<Value>(text);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => {
            prop_assert_eq!(a, b, "{:?}", text);
            // Equal maps may differ in order, and 0.0 == -0.0: the text shows both.
            prop_assert_eq!(a.to_string(), b.to_string(), "{:?}", text);
        }
        (Err(_), Err(_)) => {}
        _ => prop_assert!(false, "{text:?}: ours {ours:?}, serde_json {theirs:?}"),
    }
    Ok(())
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[\"\\\\/\u{0}-\u{1f}é€😀]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-c\"\\\\é]{0,3}", inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A decimal number as JSON writes it, with any number of digits and any exponent.
fn number_text() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        "(0|[1-9][0-9]{0,40})",
        prop::option::of("[0-9]{1,40}"),
        prop::option::of(("[eE]", "[+-]?", -400i32..400)),
    )
        .prop_map(|(negative, integer, fraction, exponent)| {
            let mut text = String::new();
            if negative {
                text.push('-');
            }
            text.push_str(&integer);
            if let Some(fraction) = fraction {
                text.push('.');
                text.push_str(&fraction);
            }
            if let Some((e, sign, power)) = exponent {
                let sign = if power < 0 { "-" } else { sign.as_str() };
                text.push_str(&format!("{e}{sign}{}", power.unsigned_abs()));
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn written_values_read_back_as_serde_json_reads_them(value in value()) {
        agree(&serde_json::to_string(&value).unwrap())?;
        agree(&serde_json::to_string_pretty(&value).unwrap())?;
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them(value in value()) {
        prop_assert_eq!(to_string(&value), serde_json::to_string(&value).unwrap());
        if let Value::Object(map) = &value {
            prop_assert_eq!(object_to_string(map), serde_json::to_string(map).unwrap());
        }
    }

    #[test]
    fn envelopes_are_written_as_serde_json_writes_them(
        texts in prop::array::uniform5(any::<String>()),
        headers in prop::collection::vec(("[A-Za-z-]{1,8}", any::<String>()), 0..4),
    ) {
        let [scope, metric_name, target_url, method, body] = texts;
        let headers = headers.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        let envelope = Envelope { scope, metric_name, target_url, method, headers, body };
        prop_assert_eq!(envelope.to_json(), serde_json::to_string(&envelope).unwrap());
    }

    #[test]
    fn numbers_read_as_serde_json_and_the_standard_library_read_them(text in number_text()) {
        agree(&text)?;
        if text.contains(['.', 'e', 'E']) {
            let exact: f64 = text.parse().unwrap();
            match parse(&text) {
                Ok(read) => prop_assert_eq!(read.as_f64().unwrap().to_bits(), exact.to_bits(), "{}", text),
                Err(_) => prop_assert!(exact.is_infinite(), "{} refused", text),
            }
        }
    }

    #[test]
    fn every_double_reads_back_from_its_shortest_and_long_forms(bits in any::<u64>()) {
        let double = f64::from_bits(bits);
        prop_assume!(double.is_finite());
        for text in [format!("{double:?}"), format!("{double:e}"), format!("{double:.25e}"), format!("{double:.17e}")] {
            agree(&text)?;
            let exact: f64 = text.parse().unwrap();
            let read = parse(&text).unwrap().as_f64().unwrap();
            prop_assert_eq!(read.to_bits(), exact.to_bits(), "{}", text);
        }
    }

    #[test]
    fn arbitrary_text_is_refused_or_read_alike(text in "[\\[\\]{}\",: \\\\/0-9.eE+\\-tfnrulsaubx\u{1}é]{0,24}") {
        agree(&text)?;
    }

    #[test]
    fn edited_json_is_refused_or_read_alike(value in value(), at in any::<prop::sample::Index>(), edit in 0..3u8, with in "[\\[\\]{}\",:\\\\0-9.e\\-a\u{1}]") {
        let text = serde_json::to_string(&value).unwrap();
        let mut chars: Vec<char> = text.chars().collect();
        let i = at.index(chars.len() + 1);
        let with = with.chars().next().unwrap();
        match edit {
            0 if i < chars.len() => { chars.remove(i); }
            1 if i < chars.len() => chars[i] = with,
            _ => chars.insert(i, with),
        }
        agree(&chars.into_iter().collect::<String>())?;
    }
}

#[test]
fn hard_floats_round_to_the_nearest_double() {
    for text in [
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "2.2250738585072014e-308",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "2.4703282292062327208828439643411068618252990130716238221279284125033775364e-324",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623158079372897140530341507993413271003782693617377898044496829276475e308",
        "0.30000000000000004",
        "9007199254740993.0",
        "9007199254740993e0",
        "1e23",
        "8.988465674311579e307",
        "123456789012345678901234567890e-30",
        "0.000000000000000000000000000000000000000000001e-280",
        "18446744073709551616",
        "-9223372036854775809",
        "1e-400",
        "-0.0",
        "0e999999999999999999",
        "1e-999999999999999999",
    ] {
        agree(text).unwrap();
        let exact: f64 = text.parse().unwrap();
        let read = parse(text).unwrap();
        assert_eq!(read.as_f64().unwrap().to_bits(), exact.to_bits(), "{text}");
    }
    let long = format!("0.{}1e1", "0".repeat(2000));
    assert_eq!(
        parse(&long).unwrap().as_f64(),
        Some(long.parse::<f64>().unwrap())
    );
    let halfway_and_more = format!("9007199254740993{}1", "0".repeat(900));
    agree(&halfway_and_more).unwrap();
}

#[test]
fn numbers_keep_their_kind() {
    for text in [
        "0",
        "-0",
        "18446744073709551615",
        "-9223372036854775808",
        "1.0",
        "1e2",
        "-1",
    ] {
        agree(text).unwrap();
    }
    assert!(parse("-0").unwrap().as_f64().unwrap().is_sign_negative());
    assert!(parse("1.7976931348623159e308").is_err(), "past f64::MAX");
    assert!(parse("-1e309").is_err());
}

#[test]
fn nesting_stops_where_serde_json_stops() {
    for depth in [126, 127, 128, 129, 10_000] {
        agree(&format!("{}{}", "[".repeat(depth), "]".repeat(depth))).unwrap();
        agree(&format!(
            "{}1{}",
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        ))
        .unwrap();
    }
}

#[test]
fn strings_and_escapes_read_alike() {
    for text in [
        r#""\ud83d\ude00""#,
        r#""\ud83d""#,
        r#""\ude00""#,
        r#""\ud83dx""#,
        r#""\ud83d\u0041""#,
        r#""\ud83d\n""#,
        r#""\u00e9\/\b\f\n\r\t\"\\""#,
        r#""\x""#,
        r#""\u12""#,
        r#""\u12g4""#,
        "\"tab\tinside\"",
        "\"é😀\"",
        r#"{"a":1,"b":2,"a":3}"#,
        " \n\t\r[1 , 2]\n ",
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "{\"a\" 1}",
        "{1:2}",
        "nul",
        "truex",
        "",
        "   ",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "+1",
        "1 2",
    ] {
        agree(text).unwrap();
    }
}

#[test]
fn refusals_say_why_and_where() {
    let error = parse("{\n  \"a\": [1,]\n}").unwrap_err().to_string();
    assert_eq!(error, "trailing comma at line 2 column 11");
    assert_eq!(
        parse("[").unwrap_err().to_string(),
        "EOF while parsing a value at line 1 column 2"
    );
}

/// `decimal` (digits) times `factor`, in decimal.
fn times(decimal: &str, factor: u32) -> String {
    let mut carry = 0;
    let mut out: Vec<u8> = decimal
        .bytes()
        .rev()
        .map(|d| {
            let n = u32::from(d - b'0') * factor + carry;
            carry = n / 10;
            b'0' + (n % 10) as u8
        })
        .collect();
    while carry > 0 {
        out.push(b'0' + (carry % 10) as u8);
        carry /= 10;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// Numbers exactly halfway between two doubles, written out in full, at
/// many scales: each rounds to the neighbour with the even significand.
#[test]
fn exact_halfway_values_round_to_even() {
    for odd in [1u64, 3, 5, 7, (1 << 53) - 1] {
        let halfway = ((1u64 << 53) + odd).to_string();
        for scale in [1, 10, 64, 200, 969] {
            let mut big = halfway.clone();
            for _ in 0..scale {
                big = times(&big, 2);
            }
            let mut small = halfway.clone();
            for _ in 0..scale {
                small = times(&small, 5);
            }
            let small = format!("{}e-{scale}", small);
            for text in [big, small] {
                agree(&text).unwrap();
                let exact: f64 = text.parse().unwrap();
                assert_eq!(
                    parse(&text).unwrap().as_f64().unwrap().to_bits(),
                    exact.to_bits(),
                    "{text}"
                );
            }
        }
    }
}

/// Strict job reading refuses a key given twice, at any depth; the ordinary
/// reader keeps the last value, as serde_json does.
#[test]
fn repeated_keys_are_refused_only_when_asked() {
    let nested = r#"{"url":"https://a.example","on_success":{"url":"https://b.example","url":"https://c.example"}}"#;
    assert_eq!(
        parse(nested).unwrap()["on_success"]["url"],
        "https://c.example"
    );
    let refused = parse_refusing_repeated_keys(nested).unwrap_err();
    assert_eq!(refused.to_string(), "repeated key at line 1 column 68");
    let job = Job::from_json(nested).unwrap_err();
    assert_eq!(job.field_path(), Some("job"));
    assert!(job.to_string().contains("repeated key"), "{job}");
    let (lenient, _) = Job::from_json_lenient(nested).unwrap();
    assert_eq!(lenient.on_success.unwrap().url, "https://c.example");
    let distinct = r#"{"a":{"a":1},"b":[{"a":2,"b":3}]}"#;
    assert_eq!(
        parse_refusing_repeated_keys(distinct).unwrap(),
        parse(distinct).unwrap()
    );
}
