//! JS values to and from the core's JSON values.

use ezthrottle_core::Error;
use serde_json::{Map, Value};
use wasm_bindgen::{JsCast, JsValue};

// Values cross as JSON text: serde_json is in the core anyway, and the host's
// JSON.parse / JSON.stringify are fast, so no second serializer ships.

/// A JS value as JSON; `undefined` is `null`. Values JSON cannot hold
/// (functions, symbols, BigInts, cycles, and `NaN` and the infinities,
/// which `JSON.stringify` would quietly write as `null`) are refused with
/// the field's name.
pub fn to_json(value: JsValue, path: &str) -> Result<Value, Error> {
    if value.is_undefined() {
        return Ok(Value::Null);
    }
    let refused = |why: String| Error::validation(path, format!("is not a JSON value: {why}"));
    let text = js_sys::JSON::stringify(&value)
        .map_err(|e| refused(crate::exchange::describe(&e)))?
        .as_string()
        .ok_or_else(|| refused("a function or symbol".into()))?;
    // Only text with a null in it can hide one: most values skip the walk.
    if text.contains("null") {
        if let Some((at, number)) = non_finite(&value, 0) {
            let at = at.strip_prefix('.').unwrap_or(&at);
            return Err(refused(if at.is_empty() {
                number.to_string()
            } else {
                format!("{at} is {number}")
            }));
        }
    }
    ezthrottle_core::json::parse(&text).map_err(|e| refused(e.to_string()))
}

/// The first `NaN` or infinity inside `value`: where (`.retry.max`,
/// `[2]`, empty for `value` itself) and its JS name. Not below the depth
/// the core's reader accepts: it refuses deeper values itself, and the walk
/// stays within the WebAssembly stack.
fn non_finite(value: &JsValue, depth: usize) -> Option<(String, &'static str)> {
    if let Some(n) = value.as_f64() {
        return match n {
            f64::INFINITY => Some((String::new(), "Infinity")),
            f64::NEG_INFINITY => Some((String::new(), "-Infinity")),
            _ if n.is_nan() => Some((String::new(), "NaN")),
            _ => None,
        };
    }
    if !value.is_object() || depth > ezthrottle_core::json::MAX_DEPTH {
        return None;
    }
    // A key's text is written only on the way back from a find.
    if js_sys::Array::is_array(value) {
        let list = js_sys::Array::from(value);
        return (0..list.length()).find_map(|i| {
            non_finite(&list.get(i), depth + 1).map(|(at, name)| (format!("[{i}]{at}"), name))
        });
    }
    js_sys::Object::entries(value.unchecked_ref())
        .iter()
        .find_map(|entry| {
            let pair = js_sys::Array::from(&entry);
            non_finite(&pair.get(1), depth + 1).map(|(at, name)| {
                let key = pair.get(0).as_string().unwrap_or_default();
                (format!(".{key}{at}"), name)
            })
        })
}

/// A required string argument. Exports take strings as `JsValue` and check
/// them here: wasm-bindgen's glue trusts a `String` parameter to be one, and
/// a number there corrupts memory instead of throwing.
pub fn text(value: &JsValue, field: &str) -> Result<String, Error> {
    value
        .as_string()
        .ok_or_else(|| Error::validation(field, "must be a string"))
}

/// An optional string argument (`undefined` / `null` are none).
pub fn optional_text(value: &JsValue, field: &str) -> Result<Option<String>, Error> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    text(value, field).map(Some)
}

/// An optional whole-number argument (`undefined` / `null` are none),
/// refused as the core refuses it. `NaN` and the infinities are refused (by
/// [`to_json`]) rather than read as none.
pub fn optional_whole_number(value: &JsValue, field: &str) -> Result<Option<u64>, Error> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    ezthrottle_core::whole_number(field, &to_json(value.clone(), field)?).map(Some)
}

/// A string field of an options object read by [`options`]; absent or
/// `null` is `None`.
pub fn field_text(options: &Map<String, Value>, key: &str) -> Result<Option<String>, Error> {
    match options.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::validation(key, "must be a string")),
    }
}

/// A whole-number field of an options object read by [`options`]; absent
/// or `null` is `None`, and anything but a non-negative whole number is
/// refused as the core refuses it.
pub fn field_whole_number(options: &Map<String, Value>, key: &str) -> Result<Option<u64>, Error> {
    match options.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => ezthrottle_core::whole_number(key, value).map(Some),
    }
}

/// A JSON value as a plain JS value.
pub fn to_js(value: &Value) -> JsValue {
    parse(&ezthrottle_core::json::to_string(value))
}

/// An object of `fields`. Built by hand rather than with `json!`: that
/// copies a nested `Value` through serde, whose code the package would carry.
pub fn json_object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// JSON text as a plain JS value.
pub fn parse(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap_or(JsValue::NULL)
}

/// Read an object argument (`undefined` / `null` is empty), its keys as given.
pub fn object(value: JsValue, path: &str) -> Result<Map<String, Value>, Error> {
    match to_json(value, path)? {
        Value::Null => Ok(Map::new()),
        value => ezthrottle_core::json_object(path, value),
    }
}

/// Read an options object (`undefined` / `null` is empty) with snake_case keys.
pub fn options(value: JsValue, path: &str) -> Result<Map<String, Value>, Error> {
    object(value, path).map(ezthrottle_core::spelling::snake_keys)
}
