//! The `f64` nearest a decimal number, ties to even, as Python's and
//! JavaScript's readers give it. Most numbers an app sends take one exact
//! floating-point operation; the others start from an estimate and step to
//! the right neighbour by comparing the number with the midpoints between
//! neighbours, exactly, in a small big integer.

use std::cmp::Ordering;

/// 10^0 ..= 10^22: the powers of ten an `f64` holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];
/// Integers up to 2^53 are exact in an `f64`.
const EXACT_INTEGERS: u64 = 1 << 53;
/// Beyond this many significant digits, only whether the rest is zero can
/// change the result (a midpoint between two `f64`s has at most 767).
const MAX_DIGITS: usize = 768;
const MAX_FINITE_BITS: u64 = 0x7FEF_FFFF_FFFF_FFFF;

/// The `f64` nearest `integer.fraction × 10^exponent` (ASCII digits), or
/// `None` when that rounds past `f64::MAX`.
pub(super) fn from_decimal(integer: &[u8], fraction: &[u8], exponent: i64) -> Option<f64> {
    let mut digits: Vec<u8> = integer.iter().chain(fraction).copied().collect();
    // Saturated exponents stay far outside the range checks below.
    let mut exponent = exponent - fraction.len() as i64;
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..leading);
    while digits.last() == Some(&b'0') {
        digits.pop();
        exponent += 1;
    }
    let count = digits.len() as i64;
    if count == 0 || count + exponent < -324 {
        return Some(0.0);
    }
    if count + exponent > 310 {
        return None;
    }
    if let Some(exact) = one_operation(&digits, exponent) {
        return Some(exact);
    }
    if digits.len() > MAX_DIGITS {
        // The rest is not all zeros (trailing zeros are gone): a 1 stands for it.
        exponent += (digits.len() - MAX_DIGITS) as i64 - 1;
        digits.truncate(MAX_DIGITS);
        digits.push(b'1');
    }
    nearest(&digits, exponent as i32)
}

/// The result in one correctly rounded operation, when both operands are
/// exact `f64`s.
fn one_operation(digits: &[u8], exponent: i64) -> Option<f64> {
    if digits.len() > 16 {
        return None;
    }
    let value = leading_value(digits);
    if value > EXACT_INTEGERS {
        return None;
    }
    match exponent {
        0..=22 => Some(value as f64 * POW10[exponent as usize]),
        -22..=-1 => Some(value as f64 / POW10[exponent.unsigned_abs() as usize]),
        23..=37 => {
            // 12e30 is 12e8 × 1e22, both exact.
            let scaled = value.checked_mul(10u64.pow(exponent as u32 - 22))?;
            (scaled <= EXACT_INTEGERS).then_some(scaled as f64 * 1e22)
        }
        _ => None,
    }
}

/// The first (at most 19) digits as an integer.
fn leading_value(digits: &[u8]) -> u64 {
    digits
        .iter()
        .take(19)
        .fold(0, |n, &d| n * 10 + u64::from(d - b'0'))
}

/// Step from an estimate to the nearest `f64` of `digits × 10^exponent`.
fn nearest(digits: &[u8], exponent: i32) -> Option<f64> {
    let value = Decimal::new(digits, exponent);
    let mut bits = estimate(digits, exponent).to_bits().min(MAX_FINITE_BITS);
    loop {
        let (significand, binary_exponent) = parts(bits);
        match value.cmp_midpoint(2 * significand + 1, binary_exponent - 1) {
            Ordering::Greater if bits == MAX_FINITE_BITS => return None,
            Ordering::Greater => {
                bits += 1;
                continue;
            }
            // A tie goes to the even significand; past MAX, that is infinity.
            Ordering::Equal if bits & 1 == 1 => {
                return (bits < MAX_FINITE_BITS).then(|| f64::from_bits(bits + 1))
            }
            Ordering::Equal => return Some(f64::from_bits(bits)),
            Ordering::Less => {}
        }
        if bits == 0 {
            return Some(0.0);
        }
        // Below a power of two (not the smallest normal), the neighbour
        // under it is half as far.
        let below = if significand == 1 << 52 && bits >> 52 > 1 {
            value.cmp_midpoint(4 * significand - 1, binary_exponent - 2)
        } else {
            value.cmp_midpoint(2 * significand - 1, binary_exponent - 1)
        };
        match below {
            Ordering::Less => bits -= 1,
            Ordering::Equal => return Some(f64::from_bits(bits - (bits & 1))),
            Ordering::Greater => return Some(f64::from_bits(bits)),
        }
    }
}

/// A few ulps from the answer: the leading digits scaled in steps of 10^22
/// (each step rounds once), so that no step overflows or underflows early.
fn estimate(digits: &[u8], exponent: i32) -> f64 {
    let taken = digits.len().min(19);
    let mut scale = exponent + (digits.len() - taken) as i32;
    let mut estimate = leading_value(digits) as f64;
    while scale > 22 {
        estimate *= 1e22;
        scale -= 22;
    }
    while scale < -22 {
        estimate /= 1e22;
        scale += 22;
    }
    if scale >= 0 {
        estimate * POW10[scale as usize]
    } else {
        estimate / POW10[scale.unsigned_abs() as usize]
    }
}

/// A positive finite `f64`'s bits as `significand × 2^exponent`.
fn parts(bits: u64) -> (u64, i32) {
    let fraction = bits & ((1 << 52) - 1);
    match (bits >> 52) as i32 {
        0 => (fraction, -1074),
        biased => (fraction | 1 << 52, biased - 1075),
    }
}

/// `digits × 10^exponent` kept as `scaled × 2^twos`, with `5^-exponent`
/// ready to scale a midpoint when the exponent is negative.
struct Decimal {
    scaled: Big,
    twos: i32,
    midpoint_fives: Option<Big>,
}

impl Decimal {
    fn new(digits: &[u8], exponent: i32) -> Decimal {
        let mut scaled = Big::from_digits(digits);
        let mut midpoint_fives = None;
        if exponent >= 0 {
            scaled.mul_pow5(exponent.unsigned_abs());
        } else {
            let mut fives = Big(vec![1]);
            fives.mul_pow5(exponent.unsigned_abs());
            midpoint_fives = Some(fives);
        }
        Decimal {
            scaled,
            twos: exponent,
            midpoint_fives,
        }
    }

    /// How the number compares with `odd × 2^twos`.
    fn cmp_midpoint(&self, odd: u64, twos: i32) -> Ordering {
        let mut midpoint = match &self.midpoint_fives {
            Some(fives) => {
                let mut scaled = fives.clone();
                scaled.mul_small(odd);
                scaled
            }
            None => Big(vec![odd]),
        };
        let mut number = self.scaled.clone();
        if self.twos > twos {
            number.shl(self.twos.abs_diff(twos));
        } else {
            midpoint.shl(self.twos.abs_diff(twos));
        }
        number.cmp(&midpoint)
    }
}

/// A non-negative big integer, 64-bit limbs, least significant first.
#[derive(Clone)]
struct Big(Vec<u64>);

impl Big {
    fn from_digits(digits: &[u8]) -> Big {
        let mut big = Big(vec![0]);
        for chunk in digits.chunks(19) {
            big.mul_small(10u64.pow(chunk.len() as u32));
            big.add_small(leading_value(chunk));
        }
        big
    }

    fn mul_small(&mut self, factor: u64) {
        let mut carry = 0u128;
        for limb in &mut self.0 {
            let product = u128::from(*limb) * u128::from(factor) + carry;
            *limb = product as u64;
            carry = product >> 64;
        }
        if carry > 0 {
            self.0.push(carry as u64);
        }
    }

    fn add_small(&mut self, mut addend: u64) {
        for limb in &mut self.0 {
            let (sum, overflow) = limb.overflowing_add(addend);
            *limb = sum;
            if !overflow {
                return;
            }
            addend = 1;
        }
        self.0.push(addend);
    }

    fn mul_pow5(&mut self, mut exponent: u32) {
        // 5^27 is the largest power of five below 2^64.
        while exponent >= 27 {
            self.mul_small(5u64.pow(27));
            exponent -= 27;
        }
        self.mul_small(5u64.pow(exponent));
    }

    fn shl(&mut self, bits: u32) {
        let (limbs, bits) = ((bits / 64) as usize, bits % 64);
        if bits > 0 {
            let mut carry = 0;
            for limb in &mut self.0 {
                let next = *limb >> (64 - bits);
                *limb = *limb << bits | carry;
                carry = next;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        self.0.splice(0..0, std::iter::repeat_n(0, limbs));
    }

    fn significant(&self) -> &[u64] {
        let used = self.0.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1);
        &self.0[..used]
    }

    fn cmp(&self, other: &Big) -> Ordering {
        let (a, b) = (self.significant(), other.significant());
        a.len()
            .cmp(&b.len())
            .then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }
}
