//! The reader: recursive descent over the bytes of a `&str`.

use serde_json::{Map, Number, Value};

use super::{float, JsonError};

/// How deep arrays and objects may nest: serde_json's limit.
pub const MAX_DEPTH: usize = 127;

pub(super) fn parse(text: &str, refuse_repeated_keys: bool) -> Result<Value, JsonError> {
    let mut reader = Reader {
        text,
        at: 0,
        refuse_repeated_keys,
    };
    let value = reader.value(0)?;
    reader.skip_space();
    match reader.peek() {
        None => Ok(value),
        Some(_) => Err(reader.error("trailing characters")),
    }
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
    refuse_repeated_keys: bool,
}

impl Reader<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Move past the bytes from here on that `pass` accepts.
    fn skip_while(&mut self, pass: impl Fn(u8) -> bool) {
        let rest = &self.text.as_bytes()[self.at..];
        self.at += rest.iter().position(|&b| !pass(b)).unwrap_or(rest.len());
    }

    fn skip_space(&mut self) {
        self.skip_while(|b| matches!(b, b' ' | b'\n' | b'\t' | b'\r'));
    }

    fn skip_digits(&mut self) {
        self.skip_while(|b| b.is_ascii_digit());
    }

    /// An error at the current byte (or the end).
    fn error(&self, reason: &'static str) -> JsonError {
        let bytes = self.text.as_bytes();
        let upto = &bytes[..self.at.min(bytes.len())];
        let line_start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        JsonError {
            reason,
            line: 1 + upto.iter().filter(|&&b| b == b'\n').count(),
            column: upto.len() - line_start + 1,
        }
    }

    fn eof_or(&self, reason: &'static str, eof: &'static str) -> JsonError {
        self.error(if self.peek().is_none() { eof } else { reason })
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.skip_space();
        let Some(first) = self.peek() else {
            return Err(self.error("EOF while parsing a value"));
        };
        match first {
            b'n' => self.word(b"null", Value::Null),
            b't' => self.word(b"true", Value::Bool(true)),
            b'f' => self.word(b"false", Value::Bool(false)),
            b'"' => {
                self.at += 1;
                self.string().map(Value::String)
            }
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            b'[' | b'{' if depth == MAX_DEPTH => Err(self.error("recursion limit exceeded")),
            b'[' => {
                self.at += 1;
                self.array(depth + 1).map(Value::Array)
            }
            b'{' => {
                self.at += 1;
                self.object(depth + 1).map(Value::Object)
            }
            _ => Err(self.error("expected value")),
        }
    }

    fn word(&mut self, word: &[u8], value: Value) -> Result<Value, JsonError> {
        for &expected in word {
            match self.peek() {
                Some(b) if b == expected => self.at += 1,
                Some(_) => return Err(self.error("expected ident")),
                None => return Err(self.error("EOF while parsing a value")),
            }
        }
        Ok(value)
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Value>, JsonError> {
        let mut items = Vec::new();
        if self.closes(b']') {
            return Ok(items);
        }
        loop {
            items.push(self.value(depth)?);
            if self.item_ends(b']', "expected `,` or `]`", "EOF while parsing a list")? {
                return Ok(items);
            }
            if self.peek() == Some(b']') {
                return Err(self.error("trailing comma"));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Map<String, Value>, JsonError> {
        let mut map = Map::new();
        if self.closes(b'}') {
            return Ok(map);
        }
        loop {
            match self.peek() {
                Some(b'"') => self.at += 1,
                Some(b'}') => return Err(self.error("trailing comma")),
                _ => return Err(self.eof_or("key must be a string", "EOF while parsing an object")),
            }
            let key_at = self.at - 1;
            let key = self.string()?;
            if self.refuse_repeated_keys && map.contains_key(&key) {
                self.at = key_at;
                return Err(self.error("repeated key"));
            }
            self.skip_space();
            match self.peek() {
                Some(b':') => self.at += 1,
                _ => return Err(self.eof_or("expected `:`", "EOF while parsing an object")),
            }
            let value = self.value(depth)?;
            // A repeated key keeps its first place and its last value.
            map.insert(key, value);
            if self.item_ends(b'}', "expected `,` or `}`", "EOF while parsing an object")? {
                return Ok(map);
            }
        }
    }

    /// Whether a list or object just opened closes at once (read if so).
    fn closes(&mut self, close: u8) -> bool {
        self.skip_space();
        let closed = self.peek() == Some(close);
        self.at += usize::from(closed);
        closed
    }

    /// After an item: `true` at the closing byte (read), `false` after a
    /// comma (read, with the space behind it).
    fn item_ends(
        &mut self,
        close: u8,
        expected: &'static str,
        eof: &'static str,
    ) -> Result<bool, JsonError> {
        self.skip_space();
        match self.peek() {
            Some(b) if b == close => {
                self.at += 1;
                Ok(true)
            }
            Some(b',') => {
                self.at += 1;
                self.skip_space();
                Ok(false)
            }
            _ => Err(self.eof_or(expected, eof)),
        }
    }

    /// The rest of a string whose opening quote was read.
    fn string(&mut self) -> Result<String, JsonError> {
        let mut out = String::new();
        loop {
            let start = self.at;
            self.skip_while(|b| b != b'"' && b != b'\\' && b >= 0x20);
            // Stopped at an ASCII byte (or the end): a character boundary.
            out.push_str(&self.text[start..self.at]);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => {
                    return Err(self
                        .error("control character (\\u0000-\\u001F) found while parsing a string"))
                }
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let Some(kind) = self.peek() else {
            return Err(self.error("EOF while parsing a string"));
        };
        self.at += 1;
        let escaped = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => return Err(self.error("invalid escape")),
        };
        out.push(escaped);
        Ok(())
    }

    /// The character of a `\u` escape (the `\u` read), surrogate pairs joined.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        if (0xDC00..=0xDFFF).contains(&first) {
            return Err(self.error("lone leading surrogate in hex escape"));
        }
        if !(0xD800..=0xDBFF).contains(&first) {
            return char::from_u32(first).ok_or_else(|| self.error("invalid unicode code point"));
        }
        for expected in [b'\\', b'u'] {
            match self.peek() {
                Some(b) if b == expected => self.at += 1,
                Some(_) => {
                    self.at += 1;
                    return Err(self.error("unexpected end of hex escape"));
                }
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
        let second = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&second) {
            return Err(self.error("lone leading surrogate in hex escape"));
        }
        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
        char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut code = 0;
        for _ in 0..4 {
            let Some(b) = self.peek() else {
                return Err(self.error("EOF while parsing a string"));
            };
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(self.error("invalid escape")),
            };
            self.at += 1;
            code = code * 16 + u32::from(digit);
        }
        Ok(code)
    }

    /// A number: an integer as `u64` (`i64` when negative) where it fits,
    /// else the nearest `f64`; a float too large for `f64` is refused.
    fn number(&mut self) -> Result<Number, JsonError> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let digits_start = self.at;
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error("invalid number"));
                }
            }
            Some(b'1'..=b'9') => self.skip_digits(),
            Some(_) => return Err(self.error("invalid number")),
            None => return Err(self.error("EOF while parsing a value")),
        }
        let integer = &self.text.as_bytes()[digits_start..self.at];
        let mut fraction: &[u8] = &[];
        if self.peek() == Some(b'.') {
            self.at += 1;
            let start = self.at;
            self.skip_digits();
            if self.at == start {
                return Err(self.eof_or("invalid number", "EOF while parsing a value"));
            }
            fraction = &self.text.as_bytes()[start..self.at];
        }
        let mut exponent: Option<i64> = None;
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            let negative_exponent = match self.peek() {
                Some(b'-') => {
                    self.at += 1;
                    true
                }
                Some(b'+') => {
                    self.at += 1;
                    false
                }
                _ => false,
            };
            let start = self.at;
            self.skip_digits();
            if self.at == start {
                return Err(self.eof_or("invalid number", "EOF while parsing a value"));
            }
            // Saturating: past a billion the value is 0 or out of range anyway.
            let magnitude = self.text.as_bytes()[start..self.at]
                .iter()
                .fold(0i64, |n, &d| {
                    (n * 10 + i64::from(d - b'0')).min(1_000_000_000)
                });
            exponent = Some(if negative_exponent {
                -magnitude
            } else {
                magnitude
            });
        }
        if fraction.is_empty() && exponent.is_none() {
            if let Some(number) = integer_number(integer, negative) {
                return Ok(number);
            }
        }
        let magnitude = float::from_decimal(integer, fraction, exponent.unwrap_or(0))
            .ok_or_else(|| self.error("number out of range"))?;
        let value = if negative { -magnitude } else { magnitude };
        Number::from_f64(value).ok_or_else(|| self.error("number out of range"))
    }
}

/// `digits` as an integer `Number` when it fits (`-0` does not: it is a float).
fn integer_number(digits: &[u8], negative: bool) -> Option<Number> {
    let mut n: u64 = 0;
    for &d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if !negative {
        return Some(Number::from(n));
    }
    match 0i64.checked_sub_unsigned(n) {
        Some(0) | None => None,
        Some(negative) => Some(Number::from(negative)),
    }
}
