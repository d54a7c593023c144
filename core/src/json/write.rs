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
    let mut out = Vec::new();
    write_value(&mut out, value);
    // Only UTF-8 was written: `&str` contents and ASCII.
    String::from_utf8(out).unwrap_or_default()
}

/// `map` as a compact JSON object.
pub fn object_to_string(map: &Map<String, Value>) -> String {
    let mut out = Vec::new();
    write_object(&mut out, map);
    String::from_utf8(out).unwrap_or_default()
}

/// Append `value` as compact JSON.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => match number.as_u64() {
            Some(n) => write_u64(out, n),
            // Negative integers and floats, as serde_json formats them.
            None => out.extend_from_slice(number.to_string().as_bytes()),
        },
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

/// Append `map` as a compact JSON object.
pub(crate) fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, key);
        out.push(b':');
        write_value(out, item);
    }
    out.push(b'}');
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
pub(crate) fn write_string(out: &mut Vec<u8>, text: &str) {
    let mut rest = text.as_bytes();
    out.push(b'"');
    while let Some(at) = rest.iter().position(|&b| ESCAPE[usize::from(b)] != 0) {
        out.extend_from_slice(&rest[..at]);
        let byte = rest[at];
        match ESCAPE[usize::from(byte)] {
            b'u' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
            short => out.extend_from_slice(&[b'\\', short]),
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// A non-negative integer in decimal.
pub(crate) fn write_u64(out: &mut Vec<u8>, mut n: u64) {
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
    out.extend_from_slice(&digits[at..]);
}
