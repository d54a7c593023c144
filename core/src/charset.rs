//! Byte classes for validation: one table lookup per byte instead of a chain
//! of comparisons, because every URL, header and region is checked on every
//! build of a payload.

/// An HTTP token byte (RFC 9110 §5.6.2): methods and header names.
pub(crate) const TOKEN: u8 = 1;
/// A header value byte: visible ASCII, space, tab.
pub(crate) const HEADER_VALUE: u8 = 1 << 1;
/// A region code byte: lower-case letters, digits, `-`.
pub(crate) const REGION: u8 = 1 << 2;
/// A byte a URL's host and port may contain (non-ASCII: IDNs).
pub(crate) const HOST: u8 = 1 << 3;

static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let byte = b as u8;
        let alnum = byte.is_ascii_alphanumeric();
        let mut class = 0;
        if alnum
            || matches!(
                byte,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            )
        {
            class |= TOKEN;
        }
        if byte == b'\t' || (byte >= b' ' && byte <= b'~') {
            class |= HEADER_VALUE;
        }
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' {
            class |= REGION;
        }
        if alnum || matches!(byte, b'-' | b'.' | b'_' | b':' | b'%') || byte >= 0x80 {
            class |= HOST;
        }
        table[b] = class;
        b += 1;
    }
    table
};

/// Whether `byte` is in `class`.
#[inline]
pub(crate) fn has(byte: u8, class: u8) -> bool {
    CLASSES[usize::from(byte)] & class != 0
}

/// Whether every byte of `text` is in `class`.
#[inline]
pub(crate) fn all(text: &str, class: u8) -> bool {
    text.bytes().all(|b| has(b, class))
}
