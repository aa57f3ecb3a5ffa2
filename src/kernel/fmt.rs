//! Bounded text building: decimal numbers and byte strings into a fixed
//! buffer. Pure; unit-tested on the host.

/// Something bytes can be written to.
pub trait Out {
    fn put(&mut self, b: &[u8]);

    fn str(&mut self, s: &str) {
        self.put(s.as_bytes());
    }

    fn dec(&mut self, n: u64) {
        let mut digits = [0u8; 20];
        self.put(decimal(n, &mut digits));
    }

    fn int(&mut self, n: i64) {
        if n < 0 {
            self.put(b"-");
        }
        self.dec(n.unsigned_abs());
    }
}

/// `n` in decimal, in the tail of `digits`. Not generic, so that each kind
/// of [`Out`] does not carry a copy of it.
#[inline(never)]
fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut used = 0;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        used += 1;
        if n == 0 {
            break;
        }
    }
    digits.get(20 - used..).unwrap_or(&[])
}

/// Appends what fits of `b` to the `len` bytes used of `buf`; the one copy
/// of this for every size of [`Text`].
#[inline(never)]
fn append(buf: &mut [u8], len: &mut usize, overflowed: &mut bool, b: &[u8]) {
    let room = buf.len().saturating_sub(*len);
    if b.len() > room {
        *overflowed = true;
    }
    if let Some(dst) = buf.get_mut(*len..) {
        copy(dst, b);
        *len += b.len().min(room);
    }
}

/// A line of at most `N` bytes. Overflow is remembered and shown, never silent.
pub struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflowed: bool,
}

impl<const N: usize> Text<N> {
    pub const fn new() -> Self {
        Text {
            buf: [0; N],
            len: 0,
            overflowed: false,
        }
    }

    /// The text, ending in `...` if something did not fit.
    pub fn as_bytes(&mut self) -> &[u8] {
        if self.overflowed && N >= 3 {
            let start = N - 3;
            if let Some(tail) = self.buf.get_mut(start..) {
                copy(tail, b"...");
            }
            self.len = N;
        }
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// The bytes written so far, without the overflow mark.
    pub fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    pub fn clear(&mut self) {
        self.len = 0;
        self.overflowed = false;
    }
}

impl<const N: usize> Out for Text<N> {
    // Formatting is on error and log paths, where size matters more than
    // speed: every size shares one `append`.
    fn put(&mut self, b: &[u8]) {
        append(&mut self.buf, &mut self.len, &mut self.overflowed, b);
    }
}

/// Copies as much of `src` as fits into `dst`. Unlike `copy_from_slice` it
/// has no length-mismatch panic for the optimiser to prove away.
pub fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Parses a plain non-negative decimal (no sign, no spaces) that fits in `max`.
pub fn parse_dec(s: &[u8], max: u64) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if v > max { None } else { Some(v) }
}

/// Parses an optionally negative decimal within `min..=max`.
pub fn parse_int(s: &[u8], min: i64, max: i64) -> Option<i64> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let mag = parse_dec(digits, 1 << 63)?;
    let v = if neg {
        0i64.checked_sub_unsigned(mag)?
    } else {
        i64::try_from(mag).ok()?
    };
    if v < min || v > max { None } else { Some(v) }
}

/// Writes `s` as the inside of a JSON string: `"`, `\` and control bytes escaped.
pub fn json_escape(out: &mut impl Out, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &c in s {
        match c {
            b'"' => out.put(b"\\\""),
            b'\\' => out.put(b"\\\\"),
            b'\n' => out.put(b"\\n"),
            b'\r' => out.put(b"\\r"),
            b'\t' => out.put(b"\\t"),
            0..=0x1f | 0x7f => out.put(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ]),
            _ => out.put(&[c]),
        }
    }
}

#[cfg(test)]
impl Out for Vec<u8> {
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        let mut v = Vec::new();
        v.dec(0);
        v.put(b" ");
        v.dec(u64::MAX);
        v.put(b" ");
        v.int(i64::MIN);
        assert_eq!(v, b"0 18446744073709551615 -9223372036854775808");
    }

    #[test]
    fn text_marks_overflow() {
        let mut t: Text<8> = Text::new();
        t.str("0123456789");
        assert!(t.overflowed());
        assert_eq!(t.as_bytes(), b"01234...");
    }

    #[test]
    fn parses_decimals_strictly() {
        assert_eq!(parse_dec(b"42", 100), Some(42));
        assert_eq!(parse_dec(b"101", 100), None);
        assert_eq!(parse_dec(b"", 100), None);
        assert_eq!(parse_dec(b"4 2", 100), None);
        assert_eq!(parse_dec(b"-1", 100), None);
        assert_eq!(parse_dec(b"99999999999999999999", u64::MAX), None);
        assert_eq!(parse_int(b"-1000", -1000, 1000), Some(-1000));
        assert_eq!(parse_int(b"-1001", -1000, 1000), None);
        assert_eq!(parse_int(b"-", -1000, 1000), None);
    }

    #[test]
    fn escapes_json() {
        let mut v = Vec::new();
        json_escape(&mut v, b"a\"b\\c\nd\x01\x7f");
        assert_eq!(v, br#"a\"b\\c\nd\u0001\u007f"#);
    }
}
