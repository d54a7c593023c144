//! The writer: compact JSON, byte for byte what serde_json writes.

use serde_json::{Map, Value};

/// `value` as compact JSON text.
///
/// ```
/// use serde_json::json;
/// let text = ezthrottle_core::json::to_string(&json!({"b": [1, -2, 0.5], "a": "\"q\"\n"}));
/// assert_eq!(text, r#"{"b":[1,-2,0.5],"a":"\"q\"\n"}"#);
/// ```
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(128);
    write_value(&mut out, value);
    out
}

/// `map` as a compact JSON object.
pub fn object_to_string(map: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(128);
    write_object(&mut out, map);
    out
}

/// Append `value` as compact JSON.
pub(crate) fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => match number.as_u64() {
            Some(n) => write_u64(out, n),
            // Negative integers and floats, as serde_json formats them.
            None => {
                use std::fmt::Write;
                let _ = write!(out, "{number}");
            }
        },
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

/// Append `map` as a compact JSON object.
pub(crate) fn write_object(out: &mut String, map: &Map<String, Value>) {
    out.push('{');
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, item);
    }
    out.push('}');
}

/// For each byte, what follows the backslash when it is escaped (`u` for
/// `\u00XX`), or 0 when it is written as is.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// A JSON string, escaped as serde_json does: `"`, `\` and control
/// characters only (short forms where JSON has them). Runs that need no
/// escaping (nearly every string) are copied whole.
pub(crate) fn write_string(out: &mut String, text: &str) {
    let mut rest = text;
    out.push('"');
    // Every escaped byte is ASCII, so `at` is a character boundary.
    while let Some(at) = rest.bytes().position(|b| ESCAPE[usize::from(b)] != 0) {
        out.push_str(&rest[..at]);
        let byte = rest.as_bytes()[at];
        out.push('\\');
        match ESCAPE[usize::from(byte)] {
            b'u' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("u00");
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
            short => out.push(char::from(short)),
        }
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out.push('"');
}

/// A non-negative integer in decimal.
pub(crate) fn write_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}
