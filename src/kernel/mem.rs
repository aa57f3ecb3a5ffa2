//! The memory intrinsics the compiler emits calls to. There is no libc to
//! provide them. Byte loops through volatile accesses keep LLVM from
//! recognising the loop as a copy and turning it into a call to itself; the
//! buffers nsexec moves are small enough that speed does not matter here.
#![allow(unsafe_code)]

use core::ptr::{read_volatile, write_volatile};

/// # Safety
/// `dst` and `src` are valid for `n` bytes and do not overlap.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n and both ranges are valid for n bytes.
        unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
        i += 1;
    }
    dst
}

/// # Safety
/// `dst` and `src` are valid for `n` bytes; they may overlap.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) {
        // SAFETY: copying forwards never overwrites a source byte not yet read.
        return unsafe { memcpy(dst, src, n) };
    }
    let mut i = n;
    while i > 0 {
        i -= 1;
        // SAFETY: i < n; backwards, because dst is above src.
        unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
    }
    dst
}

/// # Safety
/// `dst` is valid for `n` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n.
        unsafe { write_volatile(dst.add(i), c as u8) };
        i += 1;
    }
    dst
}

/// # Safety
/// `a` and `b` are valid for `n` bytes.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n.
        let (x, y) = unsafe { (read_volatile(a.add(i)), read_volatile(b.add(i))) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// # Safety
/// As for [`memcmp`].
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract.
    unsafe { memcmp(a, b, n) }
}

/// # Safety
/// `s` points to a NUL-terminated string.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: every byte up to and including the NUL is readable.
    while unsafe { read_volatile(s.add(n)) } != 0 {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_move_set_compare() {
        let mut buf = *b"0123456789";
        unsafe {
            memmove(buf.as_mut_ptr().add(2), buf.as_ptr(), 5);
            assert_eq!(&buf, b"0101234789");
            memmove(buf.as_mut_ptr(), buf.as_ptr().add(3), 5);
            assert_eq!(&buf, b"1234734789");
            memset(buf.as_mut_ptr(), b'x' as i32, 3);
            assert_eq!(&buf, b"xxx4734789");
            let mut dst = [0u8; 4];
            memcpy(dst.as_mut_ptr(), b"abcd".as_ptr(), 4);
            assert_eq!(&dst, b"abcd");
            assert_eq!(memcmp(b"abc".as_ptr(), b"abd".as_ptr(), 3), -1);
            assert_eq!(memcmp(b"abc".as_ptr(), b"abd".as_ptr(), 2), 0);
            assert!(bcmp(b"b".as_ptr(), b"a".as_ptr(), 1) > 0);
            assert_eq!(strlen(c"four".as_ptr().cast()), 4);
        }
    }
}
