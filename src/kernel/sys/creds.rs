//! Capabilities and the flags that decide what an exec grants: what stage 2
//! needs to keep its payload non-dumpable across the exec.
#![allow(unsafe_code)]

use super::*;
use crate::syscalls::{Sysno, sc2};
use linux_raw_sys::general as g;

/// `SECBIT_NOROOT` (linux/securebits.h): uid 0 gains no capabilities at exec.
const SECBIT_NOROOT: usize = 1 << 0;

/// The three capability sets, each as one 64-bit mask.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Caps {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

fn header() -> g::__user_cap_header_struct {
    g::__user_cap_header_struct {
        version: g::_LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    }
}

const NO_DATA: g::__user_cap_data_struct = g::__user_cap_data_struct {
    effective: 0,
    permitted: 0,
    inheritable: 0,
};

/// This thread's capability sets.
pub fn capget() -> Result<Caps, Errno> {
    let mut h = header();
    let mut d = [NO_DATA; 2];
    // SAFETY: a version-3 header and the two data structs version 3 writes.
    unsafe { sc2(Sysno::capget, &raw mut h as usize, d.as_mut_ptr() as usize) }?;
    let join = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
    Ok(Caps {
        effective: join(d[0].effective, d[1].effective),
        permitted: join(d[0].permitted, d[1].permitted),
        inheritable: join(d[0].inheritable, d[1].inheritable),
    })
}

/// Sets this thread's capability sets.
pub fn capset(c: Caps) -> Result<(), Errno> {
    let mut h = header();
    let split = |m: u64| (m as u32, (m >> 32) as u32);
    let (e, p, i) = (split(c.effective), split(c.permitted), split(c.inheritable));
    let d = [
        g::__user_cap_data_struct {
            effective: e.0,
            permitted: p.0,
            inheritable: i.0,
        },
        g::__user_cap_data_struct {
            effective: e.1,
            permitted: p.1,
            inheritable: i.1,
        },
    ];
    // SAFETY: a version-3 header and the two data structs it reads.
    unsafe { sc2(Sysno::capset, &raw mut h as usize, d.as_ptr() as usize) }.map(drop)
}

/// Whether an exec by uid 0 gives back the capabilities this process gives
/// up now: not under `no_new_privs`, nor with `SECBIT_NOROOT`.
pub fn exec_regrants_root_caps() -> Result<bool, Errno> {
    let nnp = prctl(linux_raw_sys::prctl::PR_GET_NO_NEW_PRIVS, 0)?;
    let bits = prctl(linux_raw_sys::prctl::PR_GET_SECUREBITS, 0)?;
    Ok(nnp == 0 && bits & SECBIT_NOROOT == 0)
}
