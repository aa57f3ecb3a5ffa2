//! Bounded text building: decimal numbers and byte strings into a fixed
//! buffer. Pure; unit-tested on the host.
#![allow(unsafe_code)]

use core::mem::MaybeUninit;

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

/// `0x` and the fewest hex digits, as C's `%#zx` would print (but `0x0`).
/// A function, not a method of [`Out`]: every `dyn Out` vtable would carry
/// it, in builds that never print a number in hex.
#[cfg(any(test, feature = "bootstrap"))]
pub fn hex(o: &mut dyn Out, n: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    o.put(b"0x");
    let len = (64 - n.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..len).rev() {
        let d = ((n >> (shift * 4)) & 15) as usize;
        o.put(DIGITS.get(d..d + 1).unwrap_or(b"?"));
    }
}

/// One value for [`fill`].
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Dec(u64),
    /// `0x` and eight hex digits (runc's messages; the init has none).
    #[cfg(any(test, feature = "bootstrap"))]
    Hex(u32),
    Bytes(&'a [u8]),
}

/// Writes `template` with each `{}` replaced by the next of `args` (nothing
/// once they run out): a message is one out-of-line call and a little data,
/// rather than a call per piece at every place that reports it.
#[inline(never)]
pub fn fill(o: &mut dyn Out, template: &str, args: &[Arg<'_>]) {
    let mut args = args.iter();
    let mut rest = template.as_bytes();
    loop {
        let hole = rest.windows(2).position(|w| w == b"{}");
        o.put(rest.get(..hole.unwrap_or(rest.len())).unwrap_or(rest));
        let Some(at) = hole else { return };
        rest = rest.get(at + 2..).unwrap_or(&[]);
        match args.next() {
            Some(Arg::Dec(n)) => o.dec(*n),
            #[cfg(any(test, feature = "bootstrap"))]
            Some(Arg::Hex(v)) => {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                o.put(b"0x");
                for shift in (0..8).rev() {
                    let d = ((v >> (shift * 4)) & 15) as usize;
                    o.put(DIGITS.get(d..d + 1).unwrap_or(b"?"));
                }
            }
            Some(Arg::Bytes(b)) => o.put(b),
            None => {}
        }
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
fn append(buf: &mut [MaybeUninit<u8>], len: &mut usize, overflowed: &mut bool, b: &[u8]) {
    let room = buf.len().saturating_sub(*len);
    if b.len() > room {
        *overflowed = true;
    }
    if let Some(dst) = buf.get_mut(*len..) {
        for (d, s) in dst.iter_mut().zip(b) {
            d.write(*s);
        }
        *len += b.len().min(room);
    }
}

/// A line of at most `N` bytes. Overflow is remembered and shown, never silent.
///
/// The buffer starts uninitialised: only what is written is ever read, so a
/// large `Text` on the stack costs neither a fill nor the pages a fill
/// would touch.
///
/// The length comes first (`repr(C)`), so that a short text in a large
/// buffer touches one page, not also the page at the buffer's far end.
#[repr(C)]
pub struct Text<const N: usize> {
    /// Invariant: `buf[..len]` is initialised and `len <= N`.
    len: usize,
    overflowed: bool,
    buf: [MaybeUninit<u8>; N],
}

impl<const N: usize> Text<N> {
    pub const fn new() -> Self {
        Text {
            len: 0,
            overflowed: false,
            buf: [MaybeUninit::uninit(); N],
        }
    }

    /// The text, ending in `...` if something did not fit.
    pub fn as_bytes(&mut self) -> &[u8] {
        // An overflow filled the buffer, so the mark replaces its last bytes.
        if self.overflowed && N >= 3 && self.len == N {
            if let Some(tail) = self.buf.get_mut(N - 3..) {
                for (d, s) in tail.iter_mut().zip(b"...") {
                    d.write(*s);
                }
            }
        }
        self.bytes()
    }

    /// The bytes written so far, without the overflow mark.
    pub fn bytes(&self) -> &[u8] {
        let init = self.buf.get(..self.len).unwrap_or(&[]);
        // SAFETY: `buf[..len]` is initialised (the field's invariant, kept
        // by `append`, the only writer that moves `len`), and MaybeUninit<u8>
        // has the layout of u8.
        unsafe { &*(init as *const [MaybeUninit<u8>] as *const [u8]) }
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
pub fn json_escape(out: &mut dyn Out, s: &[u8]) {
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
    fn formats_hex_as_runc_logs_a_cpu_mask() {
        let mut v = Vec::new();
        for n in [0, 1, 2, 3, 0x10, u64::MAX] {
            hex(&mut v, n);
            v.put(b" ");
        }
        assert_eq!(v, b"0x0 0x1 0x2 0x3 0x10 0xffffffffffffffff ");
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
    fn fills_templates() {
        let mut v = Vec::new();
        fill(
            &mut v,
            "a {} b {} c {} d {}",
            &[Arg::Dec(42), Arg::Hex(0x10020000), Arg::Bytes(b"x y")],
        );
        assert_eq!(v, b"a 42 b 0x10020000 c x y d ");
        let mut v = Vec::new();
        fill(&mut v, "{}", &[Arg::Dec(0)]);
        assert_eq!(v, b"0");
    }

    #[test]
    fn escapes_json() {
        let mut v = Vec::new();
        json_escape(&mut v, b"a\"b\\c\nd\x01\x7f");
        assert_eq!(v, br#"a\"b\\c\nd\u0001\u007f"#);
    }
}
