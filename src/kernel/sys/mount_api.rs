//! The new mount API (`fsopen`, `fsconfig`, `fsmount`) and `fstatfs`: what
//! the bootstrap needs to build a detached read-only overlayfs around its
//! payload and to recognise one a caller built.
#![allow(unsafe_code)]

use super::*;
use crate::syscalls::{Sysno, sc2, sc3, sc5};
use linux_raw_sys::general as g;

/// A filesystem context (`fsopen`), close-on-exec.
pub fn fsopen(fstype: &CStr) -> Result<OwnedFd, Errno> {
    // SAFETY: fstype is NUL-terminated and lives for the call.
    unsafe {
        sc2(
            Sysno::fsopen,
            fstype.as_ptr() as usize,
            g::FSOPEN_CLOEXEC as usize,
        )
    }
    .map(|fd| OwnedFd(fd as RawFd))
}

/// `fsconfig(ctx, FSCONFIG_SET_STRING, key, value, 0)`.
pub fn fsconfig_string(ctx: RawFd, key: &CStr, value: &[u8]) -> Result<(), Errno> {
    with_cpath(value, |v| {
        // SAFETY: key and v are NUL-terminated and live for the call.
        unsafe {
            sc5(
                Sysno::fsconfig,
                ctx as usize,
                g::fsconfig_command::FSCONFIG_SET_STRING as usize,
                key.as_ptr() as usize,
                v as usize,
                0,
            )
        }
    })?
    .map(drop)
}

/// `fsconfig(ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0)`: makes the superblock.
pub fn fsconfig_create(ctx: RawFd) -> Result<(), Errno> {
    // SAFETY: the command reads no memory.
    unsafe {
        sc5(
            Sysno::fsconfig,
            ctx as usize,
            g::fsconfig_command::FSCONFIG_CMD_CREATE as usize,
            0,
            0,
            0,
        )
    }
    .map(drop)
}

/// A detached mount of the context's superblock with `attrs`
/// (`MOUNT_ATTR_*`), close-on-exec. It belongs to no mount namespace: only
/// descriptors reach it.
pub fn fsmount(ctx: RawFd, attrs: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: integers only.
    unsafe {
        sc3(
            Sysno::fsmount,
            ctx as usize,
            g::FSMOUNT_CLOEXEC as usize,
            attrs as usize,
        )
    }
    .map(|fd| OwnedFd(fd as RawFd))
}

/// `ST_RDONLY` in `statfs.f_flags`: the mount or its superblock is read-only.
/// The same value on every architecture (the kernel's `ST_RDONLY`).
pub const ST_RDONLY: u64 = 1;

/// The filesystem type and flags of the file open at `fd` (an `O_PATH`
/// descriptor will do).
pub fn fstatfs(fd: RawFd) -> Result<(u64, u64), Errno> {
    let mut st = MaybeUninit::<g::statfs>::uninit();
    // SAFETY: st is large enough for the kernel's struct statfs, which the
    // kernel writes whole on success.
    unsafe { sc2(Sysno::fstatfs, fd as usize, st.as_mut_ptr() as usize) }?;
    // SAFETY: written by the successful call above.
    let st = unsafe { st.assume_init() };
    // The fields are longs on three architectures, unsigned ints on s390x.
    #[allow(clippy::unnecessary_cast)]
    Ok((st.f_type as u64, st.f_flags as u64))
}
